"""Whole-model PyTorch interop for `RNN`, in PyTorch's names, without importing torch.

A `torch.nn.RNN` / `LSTM` / `GRU` with `num_layers=L` names its weights `weight_ih_l{k}`,
`weight_hh_l{k}`, `bias_ih_l{k}` and `bias_hh_l{k}` for k = 0 .. L-1: the names of the matching cell
(`torch.nn.LSTMCell`, ...) with the suffix `_l{k}`. So each layer is converted by its own cell's
`torch_state_dict` / `load_torch_state_dict` (which fold and split PyTorch's two biases), and the
output layer ŷ_t = V a_t + c is an `nn.Linear`'s `linear.weight` (V) and `linear.bias` (c).
"""
from __future__ import annotations

import numpy as np

LINEAR = {"V": "linear.weight", "c": "linear.bias"}


def torch_state_dict(rnn) -> dict[str, np.ndarray]:
    """PyTorch's state dict for this model, as NumPy arrays (copies): `torch.from_numpy` each value."""
    sd = {}
    for layer, cell in enumerate(rnn.cells):
        for name, array in cell.torch_state_dict().items():
            sd[f"{name}_l{layer}"] = array
    if rnn.V is not None:
        sd[LINEAR["V"]], sd[LINEAR["c"]] = rnn.V.data.copy(), rnn.c.data.copy()
    return sd


def load_torch_state_dict(rnn, sd: dict) -> None:
    """Take PyTorch's state dict (NumPy arrays, or CPU tensors straight from `state_dict()`).
    Names, shapes and dtypes are all checked before anything changes."""
    who = f"{type(rnn).__name__}.load_torch_state_dict"
    expected = {name: array.shape for name, array in torch_state_dict(rnn).items()}
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    if missing or unexpected:
        raise KeyError(f"{who}: missing {missing}, unexpected {unexpected} for a "
                       f"{_torch_model(rnn)}{_prefix_hint(unexpected, expected)}")
    arrays = {}
    for name, shape in expected.items():
        array = np.asarray(sd[name])
        if array.dtype.kind not in "iuf":
            raise TypeError(f"{who}: '{name}' has dtype {array.dtype}, expected numbers")
        if array.shape != shape:
            raise ValueError(f"{who}: '{name}' has shape {array.shape}, expected {shape} for a {_torch_model(rnn)}")
        arrays[name] = array
    # everything checked: now change things, each layer through its own cell's conversion
    for layer, cell in enumerate(rnn.cells):
        suffix = f"_l{layer}"
        cell.load_torch_state_dict({k.removesuffix(suffix): v for k, v in arrays.items()
                                    if k.endswith(suffix) and not k.startswith("linear.")})
    if rnn.V is not None:
        rnn.load_state_dict({**rnn.state_dict(), "V": arrays[LINEAR["V"]], "c": arrays[LINEAR["c"]]})


def _torch_model(rnn) -> str:
    """The PyTorch model whose state dict fits, e.g. "torch.nn.LSTM(3, 8, num_layers=2) with an nn.Linear(8, 2) ..."."""
    kind = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[rnn.cell_type]
    bias = "" if rnn.cells[0].b is not None else ", bias=False"
    model = f"torch.nn.{kind}({rnn.input_size}, {rnn.hidden_size}, num_layers={rnn.num_layers}{bias})"
    if rnn.V is None:
        return model
    return f"{model} with an nn.Linear({rnn.hidden_size}, {rnn.output_size}) head named 'linear'"


def _prefix_hint(unexpected: list[str], expected: dict) -> str:
    """A state dict of a torch module holding the LSTM as e.g. `self.lstm` has names 'lstm.weight_ih_l0'."""
    prefixes = {k.split(".", 1)[0] for k in unexpected if "." in k and k.split(".", 1)[1] in expected}
    if not prefixes:
        return ""
    p = sorted(prefixes)[0]
    return f" (names start with '{p}.': pass {{k.removeprefix('{p}.'): v for k, v in sd.items()}})"
