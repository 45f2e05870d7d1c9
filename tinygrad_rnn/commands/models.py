"""The model every task trains: one recurrent layer with an output layer, ŷ_t = V a_t + c."""
from __future__ import annotations

from ..nn import RNN


def build_model(cell: str, input_size: int, hidden: int, output_size: int, seed: int) -> RNN:
    """A fresh model whose initial weights depend only on `seed`."""
    return RNN(input_size, hidden, output_size=output_size, cell=cell, rng=seed)


def cell_name(cell: str) -> str:
    """"an RNN", "an LSTM", "a GRU": for messages."""
    return ("a " if cell == "gru" else "an ") + cell.upper()
