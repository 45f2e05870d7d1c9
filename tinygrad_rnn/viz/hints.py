"""Hints for the diagrams, for the rare graph whose time steps the data flow cannot tell.

    from tinygrad_rnn.viz import phase, step

    for t in range(T):
        with step(t):                  # what is computed here belongs to column t (drawn t = t+1)
            h = cell(x[t], h)
    with phase("decoder"):             # a phase of its own, drawn after the ones before it
        ...

A plain loop needs neither: columns come from what each step reads and what reads it. A hint is
one scope around the code it names (`tinygrad_rnn.autograd.scope` with a marker as its module):
the engine records it on every node made inside, and nothing else changes.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..autograd import scope


class StepMark:
    """The module of a `step` hint's scope; the scope's `step` is the column (from 0)."""

    __slots__ = ("phase",)

    def __init__(self, phase: str | None) -> None:
        self.phase = phase

    def __repr__(self) -> str:
        return "step hint" if self.phase is None else f"step hint ({self.phase})"


class PhaseMark:
    """The module of a `phase` hint's scope."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"phase hint ({self.name})"


@contextmanager
def step(t: int, phase: str | None = None) -> Iterator[None]:
    """Draw what is computed inside this block in time step `t` of its phase.

    `t` counts from 0, like a loop index; pictures number steps from 1, so step(0) is drawn as
    t = 1. `phase` also names the phase (see `phase`)."""
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        raise ValueError(f"viz.step: t must be a whole number >= 0 (a loop index), got {t!r}")
    if phase is not None and (not isinstance(phase, str) or not phase):
        raise ValueError(f"viz.step: phase must be a non-empty string or None, got {phase!r}")
    with scope(StepMark(phase), step=t):
        yield


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Draw the recurrent steps computed inside this block as a phase of their own (columns of
    their own, after the earlier phases, labelled with `name`), e.g. an encoder and a decoder that
    share one cell."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"viz.phase: name must be a non-empty string, got {name!r}")
    with scope(PhaseMark(name)):
        yield
