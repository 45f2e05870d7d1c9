"""Draw a recurrent network from your own code: the textbook figures, folded and unfolded.

A plain Python loop over an RNNCell is all it takes: every call of the cell is one time step.
Writes four pictures into --out: the unfolded network, the same with ‖∂L/∂a_t‖ after backward,
the folded network (one cell with its self-loop W) and every primitive operation.

    python examples/draw_unrolled.py                  # 4 steps, SVG files in ./figures
    python examples/draw_unrolled.py --T 40 --max-steps 6 --format png
"""
import argparse
from pathlib import Path

import numpy as np

from tinygrad_rnn import Parameter, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph, render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--T", type=int, default=4, help="time steps to unroll")
    parser.add_argument("--max-steps", type=int, default=None, help="elide the middle of a long unroll")
    parser.add_argument("--format", default="svg", choices=["svg", "png", "pdf", "dot"])
    parser.add_argument("--out", default="figures", help="output folder")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    cell = RNNCell(input_size=3, hidden_size=5, rng=rng)
    V = Parameter(rng.uniform(-0.5, 0.5, (2, 5)), name="V")      # output layer ŷ_t = V a_t + c
    c = Parameter(np.zeros(2), name="c")

    a, losses = None, []
    for t in range(1, args.T + 1):
        x = Tensor(rng.standard_normal((1, 3)), name=f"x_{t}")   # "x_3" is drawn as x₃
        a = cell(x, a)
        y_hat = a @ V.T + c
        losses.append(F.mse_loss(y_hat, rng.standard_normal((1, 2))))
    loss = sum(losses[1:], losses[0])
    loss.name = "L"

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pictures = {"unfolded": dict(view="unfolded"), "folded": dict(view="folded"), "ops": dict(view="ops")}
    for name, options in pictures.items():
        written = render(draw_graph(loss, max_steps=args.max_steps, **options), out / f"{name}.{args.format}")
        print(f"wrote {written}")
    loss.backward()   # now each a_t knows ‖∂L/∂a_t‖, and the picture shows it
    written = render(draw_graph(loss, show_grads=True, max_steps=args.max_steps), out / f"grads.{args.format}")
    print(f"wrote {written}")


if __name__ == "__main__":
    main()
