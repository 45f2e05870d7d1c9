"""Recurrent cells. Calling a cell is one time step: the graph records each call as its own scope
with its step number, which is how diagrams find the time steps of a plain Python loop."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor
from . import init
from .module import Module, Parameter


def _first_tensor(state):
    if isinstance(state, Tensor):
        return state
    if isinstance(state, (tuple, list)):
        for s in state:
            if isinstance(s, Tensor):
                return s
    return None


class RecurrentCell(Module):
    """Base of RNNCell, LSTMCell and GRUCell: `cell(x, state)` is one time step.

    The step number is read from the graph: one more than the step of the call of this cell that
    made the incoming state, else 0. Hidden states keep their gradient after backward()
    (`retain_grad`), so diagrams and diagnostics can show ‖∂L/∂a_t‖.
    """

    input_size: int
    hidden_size: int

    def __call__(self, *args, **kwargs):
        out = super().__call__(*args, **kwargs)
        for t in (out if isinstance(out, tuple) else (out,)):
            if t.requires_grad and t._op is not None:
                t._retain = True
        return out

    def _scope_step(self, args, kwargs) -> int | None:
        state = args[1] if len(args) > 1 else next(iter(kwargs.values()), None)
        first = _first_tensor(state)
        if first is not None and first._scope is not None:
            for scope in first._scope.chain():
                if scope.module is self and scope.step is not None:
                    return scope.step + 1
        return 0

    def _check_input(self, x) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input of shape (batch, {self.input_size}) "
                             f"or ({self.input_size},), got {x.shape}")
        return x

    def _check_state(self, state, x: Tensor, what: str) -> Tensor | None:
        if state is None:
            return None
        state = as_tensor(state, x)
        expected = x.shape[:-1] + (self.hidden_size,)
        if state.shape != expected:
            raise ValueError(f"{type(self).__name__}: {what} should have shape {expected} for input "
                             f"{x.shape}, got {state.shape}")
        return state

    def zero_state(self, x: Tensor) -> np.ndarray:
        return np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(RecurrentCell):
    """a = φ(x Uᵀ + a_prev Wᵀ + b), the textbook recurrence with U (hidden, input),
    W (hidden, hidden), b (hidden,). φ is tanh or relu.

    `recurrent_init`: "uniform" (PyTorch's default, U(±1/sqrt(hidden))), "orthogonal", or
    "identity" (the IRNN recipe of Le et al. 2015, usually with nonlinearity="relu").
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", bias: bool = True,
                 recurrent_init: str = "uniform", rng=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.U = Parameter(init.uniform((hidden_size, input_size), bound, rng, dtype), name="U")
        self.W = Parameter(_recurrent_weight(recurrent_init, hidden_size, bound, rng, dtype), name="W")
        self.b = Parameter(init.uniform((hidden_size,), bound, rng, dtype), name="b") if bias else None
        # PyTorch keeps two biases; only their sum matters, so b = b_ih + b_hh here.

    def forward(self, x, a_prev=None) -> Tensor:
        x = self._check_input(x)
        a_prev = self._check_state(a_prev, x, "a_prev")
        pre = ops.linear(x, self.U) if self.b is None else ops.linear(x, self.U, self.b)
        if a_prev is not None:  # a missing state means zeros, whose term vanishes
            pre = pre + ops.linear(a_prev, self.W)
        return pre.tanh() if self.nonlinearity == "tanh" else pre.relu()

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}"


def _recurrent_weight(kind: str, hidden: int, bound: float, rng, dtype) -> np.ndarray:
    if kind == "uniform":
        return init.uniform((hidden, hidden), bound, rng, dtype)
    if kind == "orthogonal":
        return init.orthogonal((hidden, hidden), rng=rng, dtype=dtype)
    if kind == "identity":
        return init.identity((hidden, hidden), dtype=dtype)
    raise ValueError(f"recurrent_init must be 'uniform', 'orthogonal' or 'identity', got {kind!r}")
