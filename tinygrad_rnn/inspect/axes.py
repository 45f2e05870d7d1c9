"""Choosing and labelling the steps and units of a picture: steps are numbered from 1 everywhere,
units by their index in the hidden state (from 0, as in `rec.states[..., unit]`)."""
from __future__ import annotations

import numpy as np

from .recording import Recording
from .scales import shown_char

MAX_CHAR_LABELS = 150  # beyond this many steps, only every k-th character is written on the axis


def choose_units(rec: Recording, units, operation: str) -> np.ndarray:
    if units is None:
        return np.arange(rec.hidden)
    chosen = [rec.check_unit(u, operation) for u in np.atleast_1d(np.asarray(units)).tolist()]
    if not chosen:
        raise ValueError(f"{operation}: units is empty")
    return np.array(chosen)


def choose_steps(rec: Recording, steps, operation: str) -> np.ndarray:
    if steps is None:
        return np.arange(1, rec.steps + 1)
    chosen = np.atleast_1d(np.asarray(steps if isinstance(steps, np.ndarray) else list(steps)))
    if chosen.size == 0 or chosen.dtype.kind not in "iu" or chosen.min() < 1 or chosen.max() > rec.steps:
        raise ValueError(f"{operation}: steps are numbered 1 to {rec.steps}, got {chosen.tolist()}")
    return chosen.astype(int)


def step_axis(ax, steps: np.ndarray, text: str | None) -> None:
    """Numbered steps below (from 1, about 20 labels), the characters read at them along the top."""
    every = max(1, int(np.ceil(len(steps) / 20)))
    ticks = np.arange(0, len(steps), every)
    ax.set_xticks(ticks, [str(s) for s in steps[ticks]])
    ax.set_xlabel("time step t")
    if text is not None:
        top = ax.secondary_xaxis("top")
        every = max(1, int(np.ceil(len(steps) / MAX_CHAR_LABELS)))
        ticks = np.arange(0, len(steps), every)
        top.set_xticks(ticks, [shown_char(text[s - 1]) for s in steps[ticks]], fontsize=7 if len(ticks) <= 100 else 5)
        top.tick_params(length=0, pad=1)


def unit_axis(ax, units: np.ndarray) -> None:
    every = max(1, int(np.ceil(len(units) / 32)))
    ticks = np.arange(0, len(units), every)
    ax.set_yticks(ticks, [str(u) for u in units[ticks]], fontsize=7 if len(ticks) > 16 else None)
    ax.set_ylabel("unit")
