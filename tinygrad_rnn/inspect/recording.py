"""`record`: run a model once and keep what happened inside it, step by step and unit by unit.

The cells' equations are not repeated here. Hidden states come from the model itself (`RNN.states`,
or the return value of each call of a cell), gates from the cells' own listeners (`nn.taps`), and
gradients from the library's `grad()`. The recording also keeps the graph it was made from, so
the pictures that need vector-Jacobian products (`jacobian_spectrum`, `connectivity`) can run them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..autograd import enable_grad, grad
from ..nn import RNN
from ..nn.taps import listen
from ..tensor import Tensor

GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
              "c": "cell state c", "r": "reset gate r", "z": "update gate z", "n": "candidate n",
              "grads": "|∂L/∂a_t|"}


@dataclass
class RecordedGraph:
    """The tensors of the recorded forward pass, still in the graph (kept for vector-Jacobian products).

    `inputs`: one (T, batch, input) tensor with requires_grad=True; the model read its slices.
    `states`: a_1..a_T, one (batch, H) tensor per step. `outputs`: ŷ_1..ŷ_T, one tensor per step.
    """

    inputs: Tensor
    states: list[Tensor]
    outputs: list[Tensor]


@dataclass
class Recording:
    """What `record` kept. Arrays are time-major: index t - 1 holds step t.

    - `states` (T, batch, H): the hidden state a_t after each step (an LSTM's h_t).
    - `gates`: name -> (T, batch, H): an LSTM's "i", "f", "g", "o" and its cell state "c", a GRU's
      "r", "z", "n"; empty for a plain RNN (its only activation is the state itself).
    - `grads` (T, batch, H): ∂L/∂a_t when `record` was given a loss function, else None.
    - `inputs` (T, batch, input), `outputs` (T, batch, output): what the model read and returned
      (a cell's outputs are its states).
    - `loss`: the loss as a float, or None. `text`: the characters of batch entry 0, when given.
    - `cell`: the class name of the recorded cell ("RNNCell", "LSTMCell", ...), `nonlinearity`
      ("tanh", "relu", or None when the cell has none of its own), `recurrent_weight`: a copy of the
      cell's recurrent matrix W, or None when it has none.
    - `graph`: the recorded tensors (see `RecordedGraph`).
    """

    states: np.ndarray
    gates: dict[str, np.ndarray]
    grads: np.ndarray | None
    inputs: np.ndarray
    outputs: np.ndarray
    loss: float | None
    text: str | None
    cell: str
    nonlinearity: str | None
    recurrent_weight: np.ndarray | None
    graph: RecordedGraph = field(repr=False)

    @property
    def steps(self) -> int:
        return self.states.shape[0]

    @property
    def batch(self) -> int:
        return self.states.shape[1]

    @property
    def hidden(self) -> int:
        return self.states.shape[2]

    def values(self, what: str) -> np.ndarray:
        """The (T, batch, H) array named `what`: "states", "grads" or the name of a gate."""
        if what == "states":
            return self.states
        if what == "grads":
            if self.grads is None:
                raise ValueError("this recording has no gradients: call record(model, xs, loss_fn=...) "
                                 "with a loss function to keep ∂L/∂a_t")
            return self.grads
        if what in self.gates:
            return self.gates[what]
        known = ["states", "grads", *self.gates]
        raise ValueError(f"the recording has no {what!r} (it has {', '.join(map(repr, known))}"
                         f"{'; a plain RNN has no gates' if not self.gates else ''})")

    def describe(self, what: str) -> str:
        """A reader's name for `what`: "hidden state h" (gated cells) or "a", "forget gate f", ..."""
        if what == "states":
            return "hidden state h" if self.gates else "hidden state a"
        return GATE_NAMES.get(what, what)

    def check_batch(self, batch: int, operation: str) -> int:
        if not isinstance(batch, (int, np.integer)) or not 0 <= batch < self.batch:
            raise IndexError(f"{operation}: batch entry {batch} is out of range for a recording of "
                             f"batch size {self.batch}")
        return int(batch)

    def check_unit(self, unit: int, operation: str) -> int:
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < self.hidden:
            raise IndexError(f"{operation}: unit {unit} is out of range: the model has {self.hidden} "
                             f"hidden units, 0 to {self.hidden - 1}")
        return int(unit)

    def __repr__(self) -> str:
        gates = f", gates {sorted(self.gates)}" if self.gates else ""
        grads = ", with ∂L/∂a_t" if self.grads is not None else ""
        return (f"Recording({self.cell}: {self.steps} steps, batch {self.batch}, {self.hidden} units"
                f"{gates}{grads})")


def record(model_or_cell, xs, loss_fn: Callable | None = None, text: str | None = None) -> Recording:
    """Run `model_or_cell` over `xs` once and keep its states, gates and (with `loss_fn`) ∂L/∂a_t.

    - `model_or_cell`: an `RNN` (any cell, any number of layers: the top layer is recorded), or a
      cell unrolled over xs here: anything called as `cell(x_t, state)` that returns the new state
      (a tensor, or a tuple whose first entry is the hidden state, as LSTMCell's (h, c)), with
      state None at the first step. RNNCell, LSTMCell, GRUCell and cells of your own all work.
    - `xs`: (T, batch, input), or (T, input) for a single sequence (recorded as batch 1), an array
      or a Tensor.
    - `loss_fn(outputs) -> loss`: called with the outputs as one (T, batch, output) tensor (a cell's
      outputs are its hidden states); the recording then holds ∂loss/∂a_t from `grad()`.
    - `text`: the characters of the sequence (batch entry 0), for the pictures' axes and text views.
    """
    inputs = _input_tensor(xs, model_or_cell)
    T = inputs.shape[0]
    if text is not None and len(text) != T:
        raise ValueError(f"record: text has {len(text)} characters but xs has {T} steps")
    target = model_or_cell.cells[-1] if isinstance(model_or_cell, RNN) else model_or_cell
    emitted: list[dict] = []

    def keep_gates(cell, values: dict) -> None:
        if cell is target:  # an RNN's lower layers emit too; the recording follows the top one
            emitted.append({name: np.array(v.data, copy=True) for name, v in values.items()})

    with enable_grad(), listen(keep_gates):
        if isinstance(model_or_cell, RNN):
            states, outputs = _run_model(model_or_cell, inputs)
        else:
            states, outputs = _run_cell(model_or_cell, inputs)
    gates = {}
    if emitted:
        if len(emitted) != T:
            raise RuntimeError(f"record: the cell reported its gates {len(emitted)} times in {T} steps")
        gates = {name: np.stack([step[name] for step in emitted]) for name in emitted[0]}

    loss_value = grads = None
    if loss_fn is not None:
        from .. import functional as F
        with enable_grad():  # record may be called inside no_grad()
            loss = loss_fn(F.stack(outputs))
        if not isinstance(loss, Tensor) or loss.size != 1:
            shape = loss.shape if isinstance(loss, Tensor) else type(loss).__name__
            raise ValueError(f"record: loss_fn must return a one-element Tensor, got {shape}")
        if not loss.requires_grad:
            raise ValueError("record: the loss does not depend on the model (it does not require grad)")
        loss_value = float(loss.item())
        grads = np.stack(grad(loss, states, retain_graph=True))

    weight = getattr(target, "W", None)
    return Recording(
        states=np.stack([s.data for s in states]), gates=gates, grads=grads,
        inputs=np.array(inputs.data, copy=True), outputs=np.stack([y.data for y in outputs]),
        loss=loss_value, text=text, cell=type(target).__name__,
        nonlinearity=getattr(target, "nonlinearity", None),
        recurrent_weight=None if weight is None else np.array(np.asarray(weight.data), copy=True),
        graph=RecordedGraph(inputs, states, outputs))


def _input_tensor(xs, model) -> Tensor:
    """xs as one (T, batch, input) tensor that requires grad (for ‖∂ŷ_t/∂x_s‖), in the model's dtype."""
    data = xs.data if isinstance(xs, Tensor) else np.asarray(xs)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"record: xs must hold numbers, got dtype {data.dtype}")
    if data.ndim == 2:
        data = data[:, None, :]
    if data.ndim != 3 or data.shape[0] == 0:
        raise ValueError(f"record: xs must have shape (T, batch, input) or (T, input) with T >= 1, "
                         f"got {np.shape(xs)}")
    params = model.parameters() if hasattr(model, "parameters") else []
    dtype = params[0].dtype if params else (data.dtype if data.dtype.kind == "f" else np.float32)
    return Tensor(np.array(data, dtype=dtype, copy=True), requires_grad=True, name="x")


def _run_model(model: RNN, inputs: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    # The fused path computes the input and output products of all steps at once; recording needs
    # each step's cell call and output node, which `fused = False` guarantees.
    had_own = "fused" in vars(model)
    before = vars(model).get("fused")
    model.fused = False
    try:
        outputs, _ = model(inputs)
    finally:
        if had_own:
            model.fused = before
        else:
            del model.fused
    T = inputs.shape[0]
    return list(model.states), [outputs[t] for t in range(T)]


def _run_cell(cell, inputs: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    name = type(cell).__name__
    if not callable(cell):
        raise TypeError(f"record: expected an RNN or a cell, got {name}")
    state, states = None, []
    for t in range(inputs.shape[0]):
        state = cell(inputs[t], state)
        h = state[0] if isinstance(state, (tuple, list)) and state else state
        if not isinstance(h, Tensor):
            raise TypeError(f"record: {name}(x, state) must return a Tensor or a tuple (h, ...) of Tensors, "
                            f"got {type(state).__name__} at step {t + 1}")
        states.append(h)
    return states, states
