"""`RNN`: a stack of recurrent layers over a sequence, with an optional output layer ŷ_t = V a_t + c.

Two paths give the same outputs and gradients (tests/test_rnn_paths.py holds them to it):
- fused (the default): each layer's whole sequence is one graph node (ops/sequence.py), its
  forward a NumPy loop and its backward the BPTT written out by hand;
- `fused = False`: the cells are called step by step, as a user's own loop calls them.
Either way `rnn.states` holds a_1..a_T, whose gradients are the totals through the recurrence, and
the diagrams draw the same textbook figure (viz expands a fused call: `Replay` below).
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from .. import functional as F
from .. import ops
from ..graph import STATE, enable_grad, reserve_scope_indices, scope, scope_indices_from
from ..tensor import Tensor, as_tensor
from . import init
from .cells import GRUCell, LSTMCell, RNNCell
from .module import Module, Parameter, check_size

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
SEQUENCES = {"rnn": ops.rnn_sequence, "lstm": ops.lstm_sequence, "gru": ops.gru_sequence}


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
    """A stack of `num_layers` recurrent cells run over a sequence:
    `outputs, state = rnn(xs, state=None, lengths=None)`.

    - `xs`: (T, batch, input_size), or (batch, T, input_size) with `batch_first=True` (as PyTorch),
      or (T, input_size) for a single sequence.
    - `outputs`: ŷ_t = V a_t + c for every t with `output_size`, else the top layer's hidden states;
      shaped like xs with the last axis output_size (or hidden_size).
    - `state`: a list with one entry per layer, in the cell's own form: a tensor (batch, hidden) for
      "rnn" and "gru", a pair (h, c) for "lstm". None means zeros; with one layer the bare entry is
      accepted too. Pass the returned state to the next call to continue a sequence (through
      `detach_state` to cut the graph between the calls).
    - `lengths`: one length per sequence of the batch (1 ≤ length ≤ T), for a batch of sequences of
      different lengths padded to T: each sequence gets exactly what running it alone gives. Its
      outputs past its length are zeros, its returned state is the state at its own last step, its
      gradients are its own; the steps of sequences that have ended take no work.

    Attributes: `cells` (bottom layer first), `V` (output_size, hidden_size) and `c` (output_size,)
    when there is an output layer (else None), and `states`: the last forward's top-layer hidden
    states a_1..a_T (an LSTM's h), a list of T tensors (batch, hidden) in the graph, for diagnostics
    such as `hidden_grad_norms(loss, rnn.states)`: `grad()` of one of them is the total ∂L/∂a_t,
    through the recurrence. Past a sequence's length its state stays at its last step.

    `truncate=k`: truncated BPTT. The carried state is detached after every k steps, so each output's
    gradient flows back only to the start of its chunk of k steps.
    `dropout=p`: in training mode, each layer's outputs but the last are zeroed with probability p
    and scaled by 1/(1 − p), as torch.nn.RNN does; the masks are drawn from the model's generator
    (`rng`, seeded at construction), so a seeded model draws the same masks every run.
    `fused`: False runs the cells step by step (the reference the fused path is tested against).
    """

    fused = True

    def __init__(self, input_size: int, hidden_size: int, output_size: int | None = None, cell: str = "rnn",
                 num_layers: int = 1, nonlinearity: str = "tanh", truncate: int | None = None, bias: bool = True,
                 recurrent_init: str = "uniform", dropout: float = 0.0, batch_first: bool = False, rng=None,
                 dtype=None) -> None:
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
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"RNN: dropout must be a probability in [0, 1), got {dropout!r}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"RNN: batch_first must be True or False, got {batch_first!r}")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.cell_type, self.num_layers, self.truncate = cell, num_layers, truncate
        self.dropout, self.batch_first = float(dropout), batch_first
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
        self.rng = rng  # dropout masks come from here
        self.states: list[Tensor] = []

    # -- the call -------------------------------------------------------------------------------
    def forward(self, xs, state=None, lengths=None):
        xs = as_tensor(xs)
        batched = xs.ndim == 3
        if xs.ndim not in (2, 3) or xs.shape[-1] != self.input_size or 0 in xs.shape[:-1]:
            layout = "(batch, T, {0})" if self.batch_first else "(T, batch, {0})"
            raise ValueError(f"RNN: expected xs of shape {layout.format(self.input_size)} or "
                             f"(T, {self.input_size}) with T >= 1, got {xs.shape}")
        if batched and self.batch_first:
            xs = _swap_time_and_batch(xs)
        T, B = xs.shape[0], xs.shape[1] if batched else 1
        lengths = _check_lengths(lengths, T, B, batched)
        state = self._initial_state(state, B, batched)
        masks = self._dropout_masks(T, B, xs.dtype)
        if self.fused:
            outputs, final, self.states = self._fused_forward(xs, state, lengths, masks, batched)
        else:
            outputs, final, self.states = self._plain_forward(xs, state, lengths, masks, batched)
        if batched and self.batch_first:
            outputs = _swap_time_and_batch(outputs)
        return outputs, final

    # -- the fused path: one node per layer and sequence ----------------------------------------
    def _fused_forward(self, xs: Tensor, state: list, lengths, masks, batched: bool):
        """Each layer's sequence node reads the layer below's whole result. A single sequence runs
        as a batch of one; a batch of different lengths runs sorted longest first (the order
        torch.nn.utils.rnn.pack_padded_sequence uses), then is put back in its own order."""
        given_xs, given_state = xs, state
        if not batched:
            xs = _add_batch_axis(xs)
            state = [None if s is None else tuple(map(_add_batch_axis, s)) if isinstance(s, tuple)
                     else _add_batch_axis(s) for s in state]
        T, H = xs.shape[0], self.hidden_size
        order = inverse = active = None
        if lengths is not None and np.any(np.diff(lengths) > 0):  # sort longest first (packed order)
            order = np.argsort(-lengths, kind="stable")
            inverse = np.argsort(order)
        if lengths is not None:
            sorted_lengths = lengths if order is None else lengths[order]
            active = tuple(int(n) for n in (sorted_lengths[None, :] > np.arange(T)[:, None]).sum(axis=1))
        # which rows of a sequence node the caller's batch entries are: all of them in order, the
        # sorted-back order, or the one entry of a single sequence
        rows = (inverse,) if inverse is not None else () if batched else (0,)
        inp = xs if order is None else _rows(xs, order, axis=1)
        lstm = self.cell_type == "lstm"
        final, sequences = [], []
        for layer, cell in enumerate(self.cells):
            given = state[layer]
            parts = [] if given is None else ([given[0], given[1]] if lstm else [given])
            if order is not None:
                parts = [_rows(p, order, axis=0) for p in parts]
            bias = [] if cell.b is None else ([cell.b, cell.b_hn] if self.cell_type == "gru" else [cell.b])
            options = dict(has_state=bool(parts), has_bias=bool(bias), truncate=self.truncate, active=active)
            if self.cell_type == "rnn":
                options["nonlinearity"] = cell.nonlinearity
            seq = SEQUENCES[self.cell_type](inp, *parts, cell.U, cell.W, *bias, **options)
            sequences.append(seq)
            last = (T - 1,) + rows
            if lstm:
                final.append((ops.step(seq, index=last + (Ellipsis, slice(0, H))),
                              ops.step(seq, index=last + (Ellipsis, slice(H, 2 * H)))))
                inp = ops.getitem(seq, index=(Ellipsis, slice(0, H)))
            else:
                final.append(ops.step(seq, index=last))
                inp = seq
            if masks is not None and layer < self.num_layers - 1:
                inp = inp * (masks[layer] if order is None else masks[layer][:, order])
        states = self._step_views(seq, rows, state[-1], T, H)
        final[-1] = (states[-1], final[-1][1]) if lstm else states[-1]  # the top state is a_T itself
        top = inp if order is None else _rows(inp, inverse, axis=1)
        outputs = top if self.V is None else ops.linear(top, self.V, self.c)
        if lengths is not None and np.any(lengths < T):
            outputs = outputs * _running(lengths, T, outputs.dtype)[..., None]  # zeros past each length
        if not batched:
            outputs = outputs.reshape(T, outputs.shape[-1])
        if outputs.requires_grad:  # how the pictures draw this call (from its output or its states)
            replay = Replay(self, given_xs, given_state, lengths, masks is not None, batched, outputs, final,
                            states, sequences)
            for node in [outputs.node] + [q.node for q in sequences]:
                node._replay = replay
        return outputs, final, states

    def _step_views(self, seq: Tensor, rows: tuple, given_state, T: int, H: int) -> list[Tensor]:
        """a_1..a_T of the top layer as "step" nodes of its sequence node, each in a scope of the top
        cell with its step number (so a diagram and an anomaly name the step), retained so backward
        leaves each its total gradient (engine.Steps)."""
        cell = self.cells[-1]
        first = _next_step(cell, given_state)
        part = (Ellipsis, slice(0, H)) if self.cell_type == "lstm" else ()
        views, saved = [], seq.node.saved
        for t in range(T):
            with scope(cell, step=first + t):
                view = ops.step(seq, index=(t,) + rows + part)
            if view.requires_grad:
                view.node.tensor = weakref.ref(view)
                saved.views.append(weakref.ref(view.node))
            views.append(view)
        return views

    # -- the plain path: the cells called step by step ------------------------------------------
    def _plain_forward(self, xs: Tensor, state: list, lengths, masks, batched: bool, on_step=None):
        T = xs.shape[0]
        lstm = self.cell_type == "lstm"
        running = None if lengths is None else _running(lengths, T, xs.dtype)[..., None]
        state = list(state)
        outputs, states = [], []
        for t in range(T):
            if self.truncate is not None and t > 0 and t % self.truncate == 0:
                state = detach_state(state)  # truncated BPTT: no gradient flows past this point
            inp = xs[t] if xs.requires_grad else xs.data[t]  # a constant's slice needs no graph op
            for layer, cell in enumerate(self.cells):
                new = cell(inp, state[layer])
                if on_step is not None:
                    on_step(layer, t, new)
                if running is not None and t > 0 and not running[t].all():
                    new = _keep_finished(new, state[layer], running[t], lstm)
                state[layer] = new
                inp = new[0] if lstm else new
                if masks is not None and layer < self.num_layers - 1:
                    inp = inp * (masks[layer][t] if batched else masks[layer][t, 0])
            states.append(inp)
            out = inp if self.V is None else ops.linear(inp, self.V, self.c)
            outputs.append(out if running is None else out * running[t])
        return F.stack(outputs), state, states

    # -- helpers --------------------------------------------------------------------------------
    def _dropout_masks(self, T: int, B: int, dtype) -> list[np.ndarray] | None:
        """One mask (T, B, H) per layer that feeds another, scaled by 1/(1 − p); None when off."""
        if not (self.training and self.dropout > 0 and self.num_layers > 1):
            return None
        keep = 1.0 - self.dropout
        return [(self.rng.random((T, B, self.hidden_size)) < keep).astype(dtype) / dtype.type(keep)
                for _ in range(self.num_layers - 1)]

    def _initial_state(self, state, B: int, batched: bool) -> list:
        if state is None:
            return [None] * self.num_layers
        if not isinstance(state, list):
            if self.num_layers != 1:
                raise ValueError(f"RNN: state must be a list of {self.num_layers} per-layer states, "
                                 f"got {type(state).__name__}")
            state = [state]
        if len(state) != self.num_layers:
            raise ValueError(f"RNN: state has {len(state)} layers, the model has {self.num_layers}")
        checked = []
        for layer, s in enumerate(state):
            if s is None:
                checked.append(None)
                continue
            if self.cell_type == "lstm":
                if not isinstance(s, (tuple, list)) or len(s) != 2:
                    raise ValueError(f"RNN: layer {layer}'s state must be a pair (h, c) for an LSTM")
                checked.append(tuple(self._check_part(p, B, batched, layer) for p in s))
            else:
                checked.append(self._check_part(s, B, batched, layer))
        return checked

    def _check_part(self, s, B: int, batched: bool, layer: int) -> Tensor:
        s = as_tensor(s)
        expected = (B, self.hidden_size) if batched else (self.hidden_size,)
        if s.shape != expected:
            raise ValueError(f"RNN: layer {layer}'s state has shape {s.shape}, expected {expected}")
        return s

    def extra_repr(self) -> str:
        out = "" if self.output_size is None else f", output_size={self.output_size}"
        extras = "".join(f", {k}={v!r}" for k, v in (("dropout", self.dropout), ("batch_first", self.batch_first))
                         if v)
        return (f"{self.input_size}, {self.hidden_size}{out}, cell={self.cell_type!r}, "
                f"num_layers={self.num_layers}, truncate={self.truncate}{extras}")

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


class Replay:
    """How a fused call is drawn: `expand()` records the same call again the plain way (the cells
    called step by step, on zeros of the same shapes: the structure, not the values, is what a
    picture needs) and maps this call's output, final states and `states` to their step-by-step
    counterparts. Each step's ‖∂L/∂state‖ from the fused backward is put on its counterpart.

    The replay's module calls take scope indices reserved when the call ran, so a picture orders
    them as they happened among the program's other calls.

    It holds the model and the nodes this call made weakly (they hold it: no reference cycle, so a
    dropped graph is freed at once), and the call's inputs strongly (they are the call's parents)."""

    def __init__(self, model: RNN, xs: Tensor, state: list, lengths, dropout: bool, batched: bool,
                 outputs: Tensor, final: list, states: list[Tensor], sequences: list[Tensor]) -> None:
        self.model, self.lengths, self.dropout, self.batched = weakref.ref(model), lengths, dropout, batched
        self.xs = (xs.node, xs.shape, xs.dtype)
        self.state = [None if s is None else tuple(p.node for p in s) if isinstance(s, tuple) else s.node
                      for s in state]
        self.outputs = weakref.ref(outputs.node)
        self.final = [weakref.ref(p.node) for f in final for p in (f if isinstance(f, tuple) else (f,))]
        self.states = [weakref.ref(v.node) for v in states]
        self.sequences = [weakref.ref(q.node) for q in sequences]
        self.order = outputs.node.order
        self.scopes = reserve_scope_indices(xs.shape[0] * model.num_layers)

    def expand(self) -> dict:
        """{node of this call: its step-by-step counterpart}; empty if the model is gone."""
        model = self.model()
        if model is None:
            return {}
        xs_node, shape, dtype = self.xs
        xs = _shadow(xs_node, shape, dtype)
        state = [None if s is None else tuple(_shadow(p, p.shape, p.dtype) for p in s) if isinstance(s, tuple)
                 else _shadow(s, s.shape, s.dtype) for s in self.state]
        T, B = shape[0], shape[1] if self.batched else 1
        masks = [np.ones((T, B, model.hidden_size), dtype)] * (model.num_layers - 1) if self.dropout else None
        previous = STATE.scope
        STATE.scope = self.sequences[-1]().scope  # the call of the model that ran the fused path
        try:
            with enable_grad(), scope_indices_from(self.scopes):
                outputs, final, states = model._plain_forward(xs, state, self.lengths, masks, self.batched,
                                                              on_step=self._norms_onto)
        finally:
            STATE.scope = previous
        flat = [n for f in final for n in (f if isinstance(f, tuple) else (f,))]
        pairs = [(self.outputs, outputs)] + list(zip(self.final, flat)) + list(zip(self.states, states))
        return {ref(): t.node for ref, t in pairs if ref() is not None}

    def _norms_onto(self, layer: int, t: int, new) -> None:
        """Give a replayed step's states the norms the fused backward left for that step."""
        sequence = self.sequences[layer]()
        norms = sequence.step_grad_norms  # (T, parts): an LSTM's result holds [h | c]
        if norms is None:
            return
        for part, tensor in enumerate(new if isinstance(new, tuple) else (new,)):
            tensor.node._grad = (float(norms[t, part]), sequence._steps[1])


def _shadow(node, shape, dtype) -> Tensor:
    """A tensor of zeros standing for `node` in a replay: ops on it record `node` as their parent."""
    t = Tensor._leaf(np.zeros(shape, dtype))
    t._node = node
    t.requires_grad = node.requires_grad
    return t


def _check_lengths(lengths, T: int, B: int, batched: bool) -> np.ndarray | None:
    if lengths is None:
        return None
    if not batched:
        raise ValueError("RNN: lengths= needs a batch of sequences, xs (T, batch, input)")
    array = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if array.shape != (B,) or (array.size and array.dtype.kind not in "iuf") or not np.all(array == np.round(array)):
        raise ValueError(f"RNN: lengths must be {B} whole numbers (one per sequence), got {lengths!r}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 1 or array.max() > T):
        raise ValueError(f"RNN: every length must be between 1 and T = {T}, got {array.tolist()}")
    return array


def _running(lengths: np.ndarray, T: int, dtype) -> np.ndarray:
    """(T, B): 1 where sequence b is still running at step t, else 0."""
    return (np.arange(T)[:, None] < lengths[None, :]).astype(dtype)


def _keep_finished(new, old, running: np.ndarray, lstm: bool):
    """The new state where a sequence still runs, its old one where it has ended (a mask (B, 1))."""
    stopped = 1 - running
    if lstm:
        return tuple(n * running + o * stopped for n, o in zip(new, old))
    return new * running + old * stopped


def _next_step(cell, state) -> int:
    """The step number a call continuing from `state` takes (0 for a fresh start), as a cell's own
    call counts on from the state it is given."""
    first = state[0] if isinstance(state, tuple) else state
    if isinstance(first, Tensor) and first.node.scope is not None:
        for s in first.node.scope.chain():
            if s.module is cell and s.step is not None:
                return s.step + 1
    return 0


def _rows(t: Tensor, index: np.ndarray, axis: int) -> Tensor:
    where = (slice(None),) * axis + (index,)
    return t[where] if t.requires_grad else as_tensor(t.data[where])


def _swap_time_and_batch(t: Tensor) -> Tensor:
    return t.transpose(0, 1) if t.requires_grad else as_tensor(np.swapaxes(t.data, 0, 1))


def _add_batch_axis(t: Tensor) -> Tensor:
    """(T, n) -> (T, 1, n) for inputs, (n,) -> (1, n) for states: a batch of one."""
    shape = t.shape[:-1] + (1,) + t.shape[-1:]
    return t.reshape(shape) if t.requires_grad else as_tensor(t.data.reshape(shape))
