"""Recurrent cells. Calling a cell is one time step: the graph records each call as its own scope
with its step number, which is how diagrams find the time steps of a plain Python loop."""
from __future__ import annotations

import math
import weakref

import numpy as np

from .. import ops
from ..graph import STATE, Scope
from ..tensor import Tensor, apply, as_tensor
from . import init
from .module import Module, Parameter, check_size
from .taps import LISTENERS, emit


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
        # Module.__call__ (a scope for this call, with its step number), written out: one frame
        # less on every step of a loop
        previous = STATE.scope
        STATE.scope = Scope(self, previous, self._scope_step(args, kwargs))
        try:
            out = self.forward(*args, **kwargs)
        finally:
            STATE.scope = previous
        for t in (out if type(out) is tuple else (out,)):
            if t.requires_grad and t._node.op is not None:
                t._node.tensor = weakref.ref(t)  # retained: backward() keeps ∂L/∂a_t (see Node.retain)
        return out

    def _scope_step(self, args, kwargs) -> int | None:
        state = args[1] if len(args) > 1 else next(iter(kwargs.values()), None)
        first = _first_tensor(state)
        if first is not None and first._node.scope is not None:
            for scope in first._node.scope.chain():
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

    def project(self, x: Tensor, gx: np.ndarray | None = None) -> Tensor:
        """The input's part of every gate, x Uᵀ + b: `forward(x, state)` is `recur(project(x), state)`.

        `gx`: that product's value when the caller already has it. A sequence model that knows the
        whole input computes x_t Uᵀ + b for all T steps in one matrix product and passes each step
        its slice; the graph is the same node either way (so are diagrams and gradients).
        """
        # apply(op, ...) rather than ops.linear(...): one Python frame less on every step
        if self.b is None:
            return apply(ops.linear, (x, self.U), {"out": gx})
        return apply(ops.linear, (x, self.U, self.b), {"out": gx})

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"

    # -- PyTorch interop: weight_ih (G·H, input), weight_hh (G·H, H), bias_ih, bias_hh (G·H,) ----
    gates = 1  # G: 1 for RNNCell, 4 for LSTMCell, 3 for GRUCell

    def load_torch_state_dict(self, sd: dict) -> None:
        """Take the state dict of PyTorch's matching cell, as NumPy arrays (`t.numpy()` of each
        tensor). Names, shapes and dtypes are all checked before anything changes."""
        name = f"{type(self).__name__}.load_torch_state_dict"
        G, H = self.gates, self.hidden_size
        shapes = {"weight_ih": (G * H, self.input_size), "weight_hh": (G * H, H)}
        if getattr(self, "b", None) is not None:
            shapes.update(bias_ih=(G * H,), bias_hh=(G * H,))
        missing = [k for k in shapes if k not in sd]
        unexpected = [k for k in sd if k not in shapes]
        if missing or unexpected:
            raise KeyError(f"{name}: missing {missing}, unexpected {unexpected} (expected {list(shapes)})")
        arrays = {}
        for key, shape in shapes.items():
            array = np.asarray(sd[key])
            if array.shape != shape:
                raise ValueError(f"{name}: '{key}' has shape {array.shape}, expected {shape}")
            if array.dtype.kind not in "iuf":
                raise TypeError(f"{name}: '{key}' has dtype {array.dtype}, expected numbers")
            arrays[key] = array.astype(np.float64)
        self.load_state_dict(self._from_torch(arrays))

    def _from_torch(self, arrays: dict) -> dict:
        """PyTorch's arrays (checked) -> this cell's state dict. PyTorch keeps two biases whose
        sum is all that matters, so b = bias_ih + bias_hh (GRUCell differs: see there)."""
        new = {"U": arrays["weight_ih"], "W": arrays["weight_hh"]}
        if self.b is not None:
            new["b"] = arrays["bias_ih"] + arrays["bias_hh"]
        return new

    def torch_state_dict(self) -> dict[str, np.ndarray]:
        """The state dict of PyTorch's matching cell, as NumPy arrays (`torch.from_numpy` each):
        b goes to bias_ih, and bias_hh is zeros."""
        sd = {"weight_ih": self.U.data.copy(), "weight_hh": self.W.data.copy()}
        if self.b is not None:
            sd["bias_ih"], sd["bias_hh"] = self.b.data.copy(), np.zeros_like(self.b.data)
        return sd


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
        input_size = check_size("RNNCell", "input_size", input_size)
        hidden_size = check_size("RNNCell", "hidden_size", hidden_size)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size, self.nonlinearity = input_size, hidden_size, nonlinearity
        self.U = Parameter(init.uniform((hidden_size, input_size), bound, rng, dtype), name="U")
        self.W = Parameter(_recurrent_weight(recurrent_init, hidden_size, bound, rng, dtype), name="W")
        self.b = Parameter(init.uniform((hidden_size,), bound, rng, dtype), name="b") if bias else None
        # PyTorch keeps two biases; only their sum matters, so b = b_ih + b_hh here.

    def forward(self, x, a_prev=None, *, gx=None) -> Tensor:
        x = self._check_input(x)
        a_prev = self._check_state(a_prev, x, "a_prev")
        return self.recur(self.project(x, gx), a_prev)

    def recur(self, gx: Tensor, a_prev: Tensor | None) -> Tensor:
        """The step given the input's part gx = x Uᵀ + b (see `project`)."""
        # φ(a_prev Wᵀ + gx) as one node (gx enters as the addend); no state: zeros, no product
        if a_prev is None:
            return gx.tanh() if self.nonlinearity == "tanh" else gx.relu()
        return apply(ops.linear_tanh if self.nonlinearity == "tanh" else ops.linear_relu, (a_prev, self.W, gx))

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


def _gate_weights(kind: str, gates: int, hidden: int, bound: float, rng, dtype) -> np.ndarray:
    """Recurrent weights of a gated cell, (gates * hidden, hidden): one block per gate, so
    "orthogonal" makes every gate's block orthogonal (a (4H, H) matrix cannot be orthogonal itself)."""
    if kind == "uniform":
        return init.uniform((gates * hidden, hidden), bound, rng, dtype)
    return np.concatenate([_recurrent_weight(kind, hidden, bound, rng, dtype) for _ in range(gates)])


def _init_gated(cell, input_size: int, hidden_size: int, bias: bool, recurrent_init: str, rng, dtype):
    """U, W and b of a gated cell, gate blocks stacked (PyTorch's init U(±1/sqrt(hidden)) for U and
    b). Returns the generator and the bound, for any further parameter."""
    input_size = check_size(type(cell).__name__, "input_size", input_size)
    hidden_size = check_size(type(cell).__name__, "hidden_size", hidden_size)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    bound = 1 / math.sqrt(hidden_size)
    g = cell.gates * hidden_size
    cell.input_size, cell.hidden_size = input_size, hidden_size
    cell.U = Parameter(init.uniform((g, input_size), bound, rng, dtype), name="U")
    cell.W = Parameter(_gate_weights(recurrent_init, cell.gates, hidden_size, bound, rng, dtype), name="W")
    cell.b = Parameter(init.uniform((g,), bound, rng, dtype), name="b") if bias else None
    return rng, bound


class LSTMCell(RecurrentCell):
    """PyTorch's LSTM cell: `h, c = cell(x, state=None)` with state = (h_prev, c_prev).

        i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of the four slices of  x Uᵀ + h_prev Wᵀ + b
        c = f ⊙ c_prev + i ⊙ g,    h = o ⊙ tanh(c)

    Parameters, gates stacked in PyTorch's order i, f, g, o: `U` (4·hidden, input) = weight_ih,
    `W` (4·hidden, hidden) = weight_hh, `b` (4·hidden,) = bias_ih + bias_hh (only the sum matters).
    `recurrent_init`: "uniform" (PyTorch's U(±1/sqrt(hidden))) or "orthogonal" (one orthogonal block
    per gate).
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrent_init: str = "uniform",
                 rng=None, dtype=None) -> None:
        _init_gated(self, input_size, hidden_size, bias, recurrent_init, rng, dtype)

    def forward(self, x, state=None, *, gx=None) -> tuple[Tensor, Tensor]:
        x = self._check_input(x)
        if state is None:
            h_prev = c_prev = None
        else:
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError("LSTMCell: state must be a pair (h, c) or None")
            h_prev = self._check_state(state[0], x, "h")
            c_prev = self._check_state(state[1], x, "c")
        return self.recur(self.project(x, gx), (h_prev, c_prev))

    def recur(self, gx: Tensor, state: tuple) -> tuple[Tensor, Tensor]:
        """The step given the input's part gx = x Uᵀ + b (see `project`) and a checked state
        (h_prev, c_prev), either of which may be None (zeros)."""
        h_prev, c_prev = state
        pre = gx if h_prev is None else ops.linear(h_prev, self.W, gx)  # no state: zeros, no term
        # The gates' elementwise work as two nodes, c and h (ops/recurrent.py has the equations
        # and their gradients), instead of a dozen elementwise ones.
        c = ops.lstm_cell(pre) if c_prev is None else ops.lstm_cell(pre, c_prev)
        h = ops.lstm_hidden(pre, c)
        if LISTENERS:  # tinygrad_rnn.inspect is recording
            i, f, g, o = (Tensor(a) for a in ops.recurrent.lstm_gates(pre.data))
            emit(self, {"i": i, "f": f, "g": g, "o": o, "c": c})
        return h, c

    def zero_state(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        return super().zero_state(x), super().zero_state(x)


class GRUCell(RecurrentCell):
    """PyTorch's GRU cell: `h = cell(x, h_prev=None)`.

        r = σ(x U_rᵀ + h_prev W_rᵀ + b_r),   z = σ(x U_zᵀ + h_prev W_zᵀ + b_z)
        n = tanh(x U_nᵀ + b_n + r ⊙ (h_prev W_nᵀ + b_hn)),   h = (1 − z) ⊙ n + z ⊙ h_prev

    Note that r multiplies (h_prev W_nᵀ + b_hn), as in PyTorch (not the original paper), so b_hn
    cannot be folded into b_n. Parameters, gates stacked in PyTorch's order r, z, n:
    `U` (3·hidden, input) = weight_ih, `W` (3·hidden, hidden) = weight_hh, `b` (3·hidden,) = bias_ih
    plus the r and z parts of bias_hh, and `b_hn` (hidden,) = the n part of bias_hh.
    `recurrent_init`: "uniform" (PyTorch's U(±1/sqrt(hidden))) or "orthogonal" (one orthogonal block
    per gate).
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrent_init: str = "uniform",
                 rng=None, dtype=None) -> None:
        rng, bound = _init_gated(self, input_size, hidden_size, bias, recurrent_init, rng, dtype)
        self.b_hn = Parameter(init.uniform((hidden_size,), bound, rng, dtype), name="b_hn") if bias else None

    def forward(self, x, h_prev=None, *, gx=None) -> Tensor:
        x = self._check_input(x)
        h_prev = self._check_state(h_prev, x, "h_prev")
        return self.recur(self.project(x, gx), h_prev)

    def recur(self, gx: Tensor, h_prev: Tensor | None) -> Tensor:
        """The step given the input's part gx = x Uᵀ + b (see `project`)."""
        # The gates' elementwise work as one node (ops/recurrent.py has the equations and their
        # gradients); without a state, h_prev Wᵀ is zeros and takes no product.
        bias = () if self.b_hn is None else (self.b_hn,)
        if h_prev is None:
            h = ops.gru_cell(gx, *bias, has_state=False, has_bias=bool(bias))
        else:
            h = ops.gru_cell(gx, ops.linear(h_prev, self.W), h_prev, *bias, has_bias=bool(bias))
        if LISTENERS:  # tinygrad_rnn.inspect is recording
            gh = None if h_prev is None else h_prev.data @ self.W.data.T
            r, z, n, _ = ops.recurrent.gru_gates(gx.data, gh, None if self.b_hn is None else self.b_hn.data)
            emit(self, {"r": Tensor(r), "z": Tensor(z), "n": Tensor(n)})
        return h

    def _from_torch(self, arrays: dict) -> dict:
        new = {"U": arrays["weight_ih"], "W": arrays["weight_hh"]}
        if self.b is not None:
            H = self.hidden_size
            new["b"] = arrays["bias_ih"] + np.concatenate([arrays["bias_hh"][:2 * H], np.zeros(H)])
            new["b_hn"] = arrays["bias_hh"][2 * H:]
        return new

    def torch_state_dict(self) -> dict[str, np.ndarray]:
        """torch.nn.GRUCell's state dict as NumPy arrays: b goes to bias_ih, b_hn to the n part of
        bias_hh (its r and z parts are zeros)."""
        sd = {"weight_ih": self.U.data.copy(), "weight_hh": self.W.data.copy()}
        if self.b is not None:
            H = self.hidden_size
            sd["bias_ih"] = self.b.data.copy()
            sd["bias_hh"] = np.concatenate([np.zeros(2 * H, self.b_hn.dtype), self.b_hn.data])
        return sd
