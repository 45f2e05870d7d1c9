"""The model every task trains (built in `tinygrad_rnn.runs`, which rebuilds it from a checkpoint),
and how messages name its cell."""
from __future__ import annotations

from ..runs import build_model

__all__ = ["build_model", "cell_name"]


def cell_name(cell: str) -> str:
    """"an RNN", "an LSTM", "a GRU": for messages."""
    return ("a " if cell == "gru" else "an ") + cell.upper()
