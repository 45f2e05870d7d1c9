"""`tinygrad-rnn gradflow`: how ‖∂L/∂a_t‖ shrinks or grows going back through time.

The recurrent weight is set to ρ·Q with Q orthogonal (for LSTM and GRU, every gate's block), and the
loss is read from the last hidden state only, so ‖∂L/∂a_t‖ shows how much of the gradient at step T
reaches step t. For a tanh RNN it falls at least like ρ^(T-t) (tanh' ≤ 1 shrinks it further);
LSTM and GRU at initialisation, with their gates half open, pass back a share set by the gates
rather than by ρ alone: the comparison shows the untrained cells as they are.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..diagnostics import hidden_grad_norms, plot_hidden_grad_norms
from ..nn import RNN, init
from .errors import CLIError
from .outputs import PLOT_HINT
from .sparkline import log_range, sparkline

INPUTS = 8
TABLE_ROWS = 8
PLOT_FORMATS = (".png", ".svg", ".pdf")


def grad_norms(cell: str, steps: int, rho: float, hidden: int, seed: int) -> np.ndarray:
    """‖∂L/∂a_t‖ for t = 1..T, with L = v·a_T for a fixed random unit vector v."""
    rng = np.random.default_rng(seed)
    model = RNN(INPUTS, hidden, cell=cell, rng=rng)
    layer = model.cells[0]
    gates = layer.W.shape[0] // hidden
    layer.W.data = np.concatenate([init.orthogonal((hidden, hidden), gain=rho, rng=rng)
                                   for _ in range(gates)]).astype(layer.W.dtype)
    data = np.random.default_rng(seed + 1)  # the same sequence and readout for every cell
    xs = data.standard_normal((steps, 1, INPUTS)).astype(np.float32)
    v = data.standard_normal(hidden).astype(np.float32)
    model(xs)
    loss = (model.states[-1] * (v / np.linalg.norm(v))).sum()
    return np.asarray(hidden_grad_norms(loss, model.states), dtype=np.float64)


def run(args) -> int:
    out = Path(args.output)
    if out.suffix.lower() not in PLOT_FORMATS:
        raise CLIError(f"cannot plot to {out}: the suffix must be one of {', '.join(PLOT_FORMATS)}")
    if not out.parent.is_dir():
        raise CLIError(f"the folder {out.parent} does not exist")
    cells = ["rnn", "lstm", "gru"] if args.compare else [args.cell]
    norms = {c: grad_norms(c, args.steps, args.rho, args.hidden, args.seed) for c in cells}

    print(f"‖∂L/∂a_t‖ with L read at the last step T = {args.steps}, recurrent weight ρ·Q with ρ = {args.rho:g} "
          f"(Q orthogonal), hidden {args.hidden}")
    print(_table(norms, args.steps))
    lo, hi = log_range([list(n) for n in norms.values()])
    print(f"\nlog scale, t = 1 … {args.steps}, from 1e{lo:.1f} (▁) to 1e{hi:.1f} (█):")
    for cell, values in norms.items():
        print(f"  {cell.upper():<4} {sparkline(list(values), lo, hi)}")
    for cell, values in norms.items():
        ratio = values[0] / values[-1] if values[-1] > 0 else float("nan")
        print(f"  {cell.upper():<4} ‖∂L/∂a_1‖ / ‖∂L/∂a_T‖ = {ratio:.3g}", end="")
        print(f"   (ρ^(T-1) = {args.rho ** (args.steps - 1):.3g})" if cell == "rnn" else "")
    note = _plot(out, norms, args)
    print(note or f"\nWrote {out}")
    return 0


def _table(norms: dict, steps: int) -> str:
    rows = sorted({int(round(t)) for t in np.linspace(1, steps, min(TABLE_ROWS, steps))})
    header = "     t  " + "".join(f"{cell.upper():>12}" for cell in norms)
    lines = [header]
    for t in rows:
        lines.append(f"{t:>6}  " + "".join(f"{values[t - 1]:>12.3e}" for values in norms.values()))
    return "\n".join(lines)


def _plot(path: Path, norms: dict, args) -> str | None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return f"\nno plot: matplotlib is not installed ({PLOT_HINT})"
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = plot_hidden_grad_norms([(cell.upper(), values) for cell, values in norms.items()], ax=fig.add_subplot(),
                                title=f"Gradient reaching each step from the loss at T = {args.steps}")
    if "rnn" in norms and norms["rnn"][-1] > 0:  # the linear prediction, for comparison
        t = np.arange(1, args.steps + 1)
        ax.plot(t, norms["rnn"][-1] * args.rho ** (args.steps - t), "k:", linewidth=1,
                label=f"ρ^(T−t), ρ = {args.rho:g}")
        ax.legend(frameon=False)
    fig.savefig(path, dpi=120)
    return None
