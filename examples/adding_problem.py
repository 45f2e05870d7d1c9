"""The adding problem (Le et al. 2015): RNN vs LSTM vs GRU at one sequence length T.

Each sequence has T steps of (value, marker); the answer, read after the last step, is the sum of
the two marked values, one in each half. Answering 1 always gives an MSE of 1/6 ≈ 0.167: a model
only beats that baseline if its gradient carries the first mark's value across the sequence.

    python examples/adding_problem.py                # T = 30, under two minutes
    python examples/adding_problem.py --T 50 --steps 800
"""
import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is faster
import numpy as np

from tinygrad_rnn import RNN, no_grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.optim import Adam, clip_grad_norm
from tinygrad_rnn.tasks import BASELINE_MSE, adding_batch


def train(cell: str, args) -> tuple[float, float]:
    """Train one model; returns its MSE on 1000 fresh sequences and the seconds it took."""
    rng = np.random.default_rng(args.seed)
    model = RNN(2, args.hidden, output_size=1, cell=cell, rng=rng)
    optimizer = Adam(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    for _ in range(args.steps):
        xs, target = adding_batch(args.T, args.batch, rng)
        outputs, _ = model(xs)
        loss = F.mse_loss(outputs[-1], target)  # only the answer after the last step counts
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        optimizer.step()
    seconds = time.perf_counter() - start
    xs, target = adding_batch(args.T, 1000, np.random.default_rng(args.seed + 1))
    with no_grad():
        outputs, _ = model(xs)
        return F.mse_loss(outputs[-1], target).item(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--T", type=int, default=30, help="sequence length")
    parser.add_argument("--steps", type=int, default=400, help="training steps per model")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated: rnn, lstm, gru")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"Adding problem, T = {args.T}, {args.steps} steps of {args.batch} sequences, hidden {args.hidden}")
    print(f"{'cell':<6}{'final MSE':>11}{'/ baseline':>12}{'seconds':>9}")
    for cell in args.cells.split(","):
        mse, seconds = train(cell, args)
        print(f"{cell.upper():<6}{mse:>11.4f}{mse / BASELINE_MSE:>12.2f}{seconds:>9.1f}")
    print(f"baseline (always answer 1): MSE {BASELINE_MSE:.4f}; a ratio well below 1 means the model "
          "learned to carry the marked values")


if __name__ == "__main__":
    main()
