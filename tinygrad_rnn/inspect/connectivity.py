"""`connectivity`: ‖∂ŷ_t/∂x_s‖, how much each earlier input moves the output at step t (Distill,
"Memorization in RNNs", 2019). It is the vanishing gradient seen from the input side: how far back
a model really looks."""
from __future__ import annotations

import numpy as np

from .axes import choose_steps, step_axis
from .pictures import Plot, new_figure
from .recording import Recording
from .scales import shown_char
from .sensitivity import input_output_norms


def connectivity(rec: Recording, t: int | None = None, batch: int = 0) -> Plot:
    """‖∂ŷ_t/∂x_s‖ (Frobenius norm of the Jacobian, sequence `batch`) for s = 1..t, as bars on a log
    axis; t is a step numbered from 1 (default: the last). `.data`: "norms" (t,), "steps" (t,) = s.
    Costs one vector-Jacobian product per output unit."""
    t = rec.steps if t is None else t
    norms = input_output_norms(rec, t, batch)
    steps = np.arange(1, len(norms) + 1)
    fig = new_figure(float(np.clip(2.8 + 0.1 * len(steps), 6.0, 12.0)), 3.4)
    ax = fig.add_subplot()
    ax.bar(steps - 1, np.where(norms > 0, norms, np.nan), width=0.85, color="#0072B2")
    if np.any(norms > 0):
        ax.set_yscale("log")
    ax.set_xlim(-0.6, len(steps) - 0.4)
    step_axis(ax, steps, rec.text)
    ax.set_xlabel("input step s")
    ax.set_ylabel("‖∂ŷ$_t$/∂x$_s$‖")
    read = f" (reading {shown_char(rec.text[t - 1])!r})" if rec.text is not None else ""
    ax.set_title(f"How much each input x$_s$ moves the output at t = {t}{read}", fontsize=10)
    ax.grid(True, axis="y", which="major", alpha=0.3)
    return Plot(fig, {"norms": norms, "steps": steps}, f"connectivity at t = {t}")


def connectivity_map(rec: Recording, steps=None, batch: int = 0) -> Plot:
    """‖∂ŷ_t/∂x_s‖ for several output steps t (rows) and every input step s (columns, NaN after t),
    on a log colour scale: a band along the diagonal is a model that looks only a few steps back.
    `steps`: the output steps t, numbered from 1 (default all). `.data`: "norms" (len(steps), T),
    "steps" (the t of each row), "inputs" (the s of each column)."""
    steps = choose_steps(rec, steps, "connectivity_map")
    norms = np.full((len(steps), rec.steps), np.nan)
    for row, t in enumerate(steps):
        norms[row, :t] = input_output_norms(rec, int(t), batch)

    from matplotlib.colors import LogNorm
    fig = new_figure(float(np.clip(2.8 + 0.11 * rec.steps, 6.0, 12.0)),
                     float(np.clip(1.8 + 0.12 * len(steps), 3.0, 10.0)))
    ax = fig.add_subplot()
    positive = norms[np.isfinite(norms) & (norms > 0)]
    top = float(positive.max()) if positive.size else 1.0
    bottom = max(float(positive.min()) if positive.size else top * 1e-6, top * 1e-8)
    shown = np.where(np.isfinite(norms) & (norms > 0), norms, np.nan)
    image = ax.imshow(np.clip(shown, bottom, None), aspect="auto", interpolation="nearest", cmap="magma",
                      norm=LogNorm(vmin=bottom, vmax=top))
    fig.colorbar(image, ax=ax, label="‖∂ŷ$_t$/∂x$_s$‖ (log scale)", fraction=0.04, pad=0.01)
    inputs = np.arange(1, rec.steps + 1)
    step_axis(ax, inputs, rec.text)
    ax.set_xlabel("input step s")
    every = max(1, int(np.ceil(len(steps) / 24)))
    ax.set_yticks(np.arange(0, len(steps), every), [str(t) for t in steps[::every]])
    ax.set_ylabel("output step t")
    ax.set_title("Connectivity: how much each input x$_s$ moves each output ŷ$_t$", fontsize=10)
    return Plot(fig, {"norms": norms, "steps": steps, "inputs": inputs}, "connectivity map")
