"""Vanishing and exploding gradients: sweep the scale ρ of the recurrent weight W = ρ·Q (Q orthogonal).

BPTT multiplies the gradient by Wᵀ diag(tanh') once per step back, so ‖∂L/∂a_t‖ with the loss at
step T behaves like ρ^(T-t): it vanishes for ρ < 1 and grows for ρ > 1 (until tanh saturates). The
cell runs in a plain Python loop; `hidden_grad_norms` reads ‖∂L/∂a_t‖ from the graph.

    python examples/vanishing_gradients.py                     # writes vanishing_gradients.png
    python examples/vanishing_gradients.py --T 20 --rhos 0.5,1.5 -o sweep.svg
"""
import argparse

import numpy as np

from tinygrad_rnn import RNNCell, Tensor
from tinygrad_rnn.diagnostics import hidden_grad_norms, plot_hidden_grad_norms
from tinygrad_rnn.nn.init import orthogonal


def grad_norms(rho: float, args) -> np.ndarray:
    rng = np.random.default_rng(args.seed)
    cell = RNNCell(args.inputs, args.hidden, rng=rng)
    cell.W.data = orthogonal((args.hidden, args.hidden), gain=rho, rng=rng)
    xs = args.input_scale * rng.standard_normal((args.T, 1, args.inputs))
    a, states = None, []
    for t in range(args.T):          # one call per time step: the BPTT graph builds itself
        a = cell(Tensor(xs[t]), a)
        states.append(a)
    v = rng.standard_normal(args.hidden)
    loss = (a * (v / np.linalg.norm(v))).sum()   # read only from the last step
    return hidden_grad_norms(loss, states)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--T", type=int, default=60, help="time steps")
    parser.add_argument("--rhos", default="0.5,0.8,0.9,1.0,1.1,1.5", help="comma-separated scales of W")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--input-scale", type=float, default=0.1, help="small inputs keep tanh near linear")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="vanishing_gradients.png", help="plot file (.png, .svg, .pdf)")
    args = parser.parse_args()

    rhos = [float(r) for r in args.rhos.split(",")]
    results = [(rho, grad_norms(rho, args)) for rho in rhos]
    print(f"‖∂L/∂a_t‖ for a tanh RNN, loss at T = {args.T}, hidden {args.hidden}")
    print(f"{'ρ':>5}{'‖∂L/∂a_1‖':>13}{'‖∂L/∂a_T‖':>13}{'ρ^(T-1)':>12}")
    for rho, norms in results:
        print(f"{rho:>5g}{norms[0]:>13.3e}{norms[-1]:>13.3e}{rho ** (args.T - 1):>12.3e}")
    try:
        plot_hidden_grad_norms([(f"ρ = {rho:g}", norms) for rho, norms in results], path=args.output,
                               title=f"Gradient reaching step t from the loss at T = {args.T}")
        print(f"wrote {args.output}")
    except ImportError as error:
        print(error)


if __name__ == "__main__":
    main()
