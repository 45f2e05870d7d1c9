"""`RNN`: a recurrent cell unrolled over a sequence in a plain Python loop, with an optional output
layer ŷ_t = V a_t + c."""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from .. import ops
from ..tensor import Tensor, as_tensor
from . import init
from .cells import GRUCell, LSTMCell, RNNCell
from .module import Module, Parameter, check_size

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def detach_state(state):
    """The same state with the graph cut (truncated BPTT between calls): a tensor, an LSTM pair
    (h, c), or a list of either (one per layer, as `RNN` returns). None stays None."""
    def cut(s):
        return s.detach() if isinstance(s, Tensor) else s

    if isinstance(state, list):
        return [tuple(cut(p) for p in s) if isinstance(s, tuple) else cut(s) for s in state]
    if isinstance(state, tuple):
        return tuple(cut(p) for p in state)
    return cut(state)


class RNN(Module):
    """A stack of `num_layers` recurrent cells run over a sequence: `outputs, state = rnn(xs, state=None)`.

    - `xs`: (T, batch, input_size), or (T, input_size) for a single sequence.
    - At each step t the cells run bottom to top, each called like a user would call it, so every
      call is one time step of the graph (diagrams and diagnostics find the steps by themselves).
    - `outputs`: a tensor (T, batch, output_size) of ŷ_t = V a_t + c with `output_size`, else the
      top layer's hidden states (T, batch, hidden_size). Without a batch axis, (T, ...).
    - `state`: a list with one entry per layer, in the cell's own form: a tensor (batch, hidden) for
      "rnn" and "gru", a pair (h, c) for "lstm". None means zeros; with one layer the bare entry is
      accepted too. Pass the returned state to the next call to continue a sequence (through
      `detach_state` to cut the graph between the calls).

    Attributes: `cells` (bottom layer first), `V` (output_size, hidden_size) and `c` (output_size,)
    when there is an output layer (else None), and `states`: the last forward's top-layer hidden
    states a_1..a_T, a list of T tensors still in the graph, for diagnostics such as
    `hidden_grad_norms(loss, rnn.states)`.

    `truncate=k`: truncated BPTT. The carried state is detached after every k steps, so each output's
    gradient flows back only to the start of its chunk of k steps.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int | None = None, cell: str = "rnn",
                 num_layers: int = 1, nonlinearity: str = "tanh", truncate: int | None = None, bias: bool = True,
                 recurrent_init: str = "uniform", rng=None, dtype=None) -> None:
        if cell not in CELLS:
            raise ValueError(f"RNN: cell must be one of {list(CELLS)}, got {cell!r}")
        input_size = check_size("RNN", "input_size", input_size)
        hidden_size = check_size("RNN", "hidden_size", hidden_size)
        num_layers = check_size("RNN", "num_layers", num_layers)
        if output_size is not None:
            output_size = check_size("RNN", "output_size", output_size)
        if truncate is not None:
            truncate = check_size("RNN", "truncate", truncate)
        if cell != "rnn" and nonlinearity != "tanh":
            raise ValueError(f"RNN: nonlinearity applies to cell='rnn' only, got {nonlinearity!r} for {cell!r}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.cell_type, self.num_layers, self.truncate = cell, num_layers, truncate
        options = dict(bias=bias, recurrent_init=recurrent_init, rng=rng, dtype=dtype)
        if cell == "rnn":
            options["nonlinearity"] = nonlinearity
        self.cells = [CELLS[cell](input_size if layer == 0 else hidden_size, hidden_size, **options)
                      for layer in range(num_layers)]
        self.V = self.c = None
        if output_size is not None:  # PyTorch's Linear init: U(±1/sqrt(fan_in))
            bound = 1 / math.sqrt(hidden_size)
            self.V = Parameter(init.uniform((output_size, hidden_size), bound, rng, dtype), name="V")
            self.c = Parameter(init.uniform((output_size,), bound, rng, dtype), name="c")
        self.states: list[Tensor] = []

    def forward(self, xs, state=None):
        xs = as_tensor(xs)
        if xs.ndim not in (2, 3) or xs.shape[-1] != self.input_size or xs.shape[0] == 0:
            raise ValueError(f"RNN: expected xs of shape (T, batch, {self.input_size}) or (T, {self.input_size}) "
                             f"with T >= 1, got {xs.shape}")
        state = self._initial_state(state)
        gx = self._input_products(xs) if self.fused else None
        outputs, self.states = [], []
        for t in range(xs.shape[0]):
            if self.truncate is not None and t > 0 and t % self.truncate == 0:
                state = detach_state(state)  # truncated BPTT: no gradient flows past this point
            inp = xs[t] if xs.requires_grad else xs.data[t]  # a constant's slice needs no graph op
            for layer, cell in enumerate(self.cells):
                state[layer] = cell(inp, state[layer], gx=None if layer or gx is None else gx[t])
                inp = state[layer][0] if self.cell_type == "lstm" else state[layer]
            self.states.append(inp)
            if not self.fused:
                outputs.append(inp if self.V is None else ops.linear(inp, self.V, self.c))
        if self.fused:
            outputs = self._output_layer(self.states)
        return F.stack(outputs), state

    # -- the fused path: what fused RNN libraries do, with the same graph ----------------------
    # Only the recurrence needs a loop. The first layer's x_t Uᵀ + b and the output layer's V a_t + c
    # are each one matrix product over all T steps; every step's node (a `linear` of x_t, or of a_t)
    # is then made from its slice, so diagrams and gradients see the same graph as the plain loop,
    # and the weights' gradients are summed by the engine in one product too (autograd.OuterGrad).
    # `fused = False` computes every step's products on their own (tests compare the two).
    fused = True

    def _input_products(self, xs: Tensor) -> np.ndarray:
        """x_t Uᵀ + b of the first layer for every t, shape (T, [batch,] gates·hidden)."""
        cell = self.cells[0]
        flat = xs.data.reshape(-1, xs.shape[-1]) @ cell.U.data.T
        if cell.b is not None:
            flat += cell.b.data
        return flat.reshape(xs.shape[:-1] + (-1,))

    def _output_layer(self, hs: list[Tensor]) -> list[Tensor]:
        """ŷ_t = V a_t + c for every t from one product; each ŷ_t still a node of its own."""
        if self.V is None:
            return hs
        stacked = np.stack([h.data for h in hs])
        flat = stacked.reshape(-1, stacked.shape[-1]) @ self.V.data.T
        flat += self.c.data
        ys = flat.reshape(stacked.shape[:-1] + (-1,))
        return [ops.linear(h, self.V, self.c, out=y) for h, y in zip(hs, ys)]

    def _initial_state(self, state) -> list:
        if state is None:
            return [None] * self.num_layers
        if not isinstance(state, list):
            if self.num_layers != 1:
                raise ValueError(f"RNN: state must be a list of {self.num_layers} per-layer states, "
                                 f"got {type(state).__name__}")
            state = [state]
        if len(state) != self.num_layers:
            raise ValueError(f"RNN: state has {len(state)} layers, the model has {self.num_layers}")
        return list(state)

    def extra_repr(self) -> str:
        out = "" if self.output_size is None else f", output_size={self.output_size}"
        return (f"{self.input_size}, {self.hidden_size}{out}, cell={self.cell_type!r}, "
                f"num_layers={self.num_layers}, truncate={self.truncate}")

    # -- PyTorch interop: the names of torch.nn.RNN / LSTM / GRU, and linear.* for V and c (nn/interop.py)
    def load_torch_state_dict(self, sd: dict) -> None:
        """Take a `torch.nn.RNN`/`LSTM`/`GRU` state dict of the same num_layers (`weight_ih_l0`, ...),
        plus `linear.weight`/`linear.bias` for V and c; all checked before anything changes."""
        from .interop import load_torch_state_dict
        load_torch_state_dict(self, sd)

    def torch_state_dict(self) -> dict[str, np.ndarray]:
        """This model in PyTorch's names and shapes, as NumPy arrays (the inverse of the above)."""
        from .interop import torch_state_dict
        return torch_state_dict(self)
