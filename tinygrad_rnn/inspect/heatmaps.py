"""`heatmap`: one recorded quantity as an image of units × time steps (see-rnn's pictures)."""
from __future__ import annotations

import numpy as np

from .axes import choose_steps, choose_units, step_axis, unit_axis
from .pictures import Plot, new_figure
from .recording import Recording
from .scales import scale_for


def heatmap(rec: Recording, what: str = "states", units=None, steps=None, batch: int = 0) -> Plot:
    """Units (rows) × time steps (columns) of `what`: "states", "grads" (|∂L/∂a_t| on a log colour
    scale, since gradients span orders of magnitude) or a gate name of `rec.gates`.

    `units`: unit indices to show, in that order (default all). `steps`: the steps to show, numbered
    from 1 (default 1..T). `batch`: which sequence of the batch. The step axis is numbered from 1;
    with `rec.text`, the input characters run along the top.
    `.data`: "values" (units, steps) as drawn, "units", "steps".
    """
    values = rec.values(what)
    batch = rec.check_batch(batch, "heatmap")
    units = choose_units(rec, units, "heatmap")
    steps = choose_steps(rec, steps, "heatmap")
    image = values[steps - 1, batch][:, units].T.astype(np.float64)
    if what == "grads":
        image = np.abs(image)

    fig = new_figure(float(np.clip(2.8 + 0.11 * len(steps), 6.0, 12.0)),
                     float(np.clip(1.7 + 0.09 * len(units), 2.8, 10.0)))
    ax = fig.add_subplot()
    name = rec.describe(what)
    if what == "grads":
        from matplotlib.colors import LogNorm
        top = float(image.max()) if image.size and image.max() > 0 else 1.0
        positive = image[image > 0]
        bottom = max(float(positive.min()) if positive.size else top * 1e-6, top * 1e-8)
        shown = ax.imshow(np.where(image > 0, image, bottom), aspect="auto", interpolation="nearest",
                          cmap="magma", norm=LogNorm(vmin=bottom, vmax=top))
        label = "|∂L/∂a$_t$| (log scale)"
    else:
        scale = scale_for(image)
        shown = ax.imshow(image, aspect="auto", interpolation="nearest", cmap=scale.cmap,
                          vmin=scale.vmin, vmax=scale.limit)
        label = name
    fig.colorbar(shown, ax=ax, label=label, fraction=0.04, pad=0.01)
    step_axis(ax, steps, rec.text)
    unit_axis(ax, units)
    ax.set_title(f"{name}: units × time" + ("" if rec.batch == 1 else f" (sequence {batch})"))
    return Plot(fig, {"values": image, "units": units, "steps": steps}, f"heatmap of {what}")
