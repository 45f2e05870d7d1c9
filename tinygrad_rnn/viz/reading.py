"""From an output to what the views draw: walk the graph, contract it to the textbook's tensors,
place them in time, and give each its symbol. One step per module, in this order."""
from __future__ import annotations

from .contract import Contracted, contract
from .names import assign_symbols
from .timeline import place
from .walk import walk


def read(output) -> Contracted:
    c = contract(walk(output))
    place(c)
    assign_symbols(c)
    return c
