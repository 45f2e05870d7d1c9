"""Listening to what a recurrent cell computes inside a step: an LSTM's gates and cell state, a
GRU's gates. `tinygrad_rnn.inspect` records them this way, so the cells' equations are written once.

    with listen(lambda cell, values: print(type(cell).__name__, sorted(values))):
        cell(x, state)

Cells call `emit` only while someone listens: outside `listen` it costs one list check per step.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

LISTENERS: list[Callable] = []


@contextmanager
def listen(listener: Callable) -> Iterator[None]:
    """Call `listener(cell, values)` after every step of every cell inside this block; `values` maps
    names ("i", "f", "g", "o", "c" for an LSTM; "r", "z", "n" for a GRU) to that step's tensors."""
    LISTENERS.append(listener)
    try:
        yield
    finally:
        LISTENERS.remove(listener)


def emit(cell, values: dict) -> None:
    for listener in list(LISTENERS):
        listener(cell, values)
