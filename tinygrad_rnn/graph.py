"""The recorded graph: nodes, the scopes they were made in, and the switches every op reads.

This is the bottom of the package: it imports nothing of the library. A `Node` is what an op leaves
behind for backward and for the pictures: its op, its parent nodes, the arrays its gradient needs
(`saved`), where it was made (`scope`), its shape and dtype. It never holds the op's result for its
own sake, so a program that drops a tensor frees the tensor's array, and a graph kept after
backward() is only structure.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


class _State:
    """Process-wide switches read on every op; kept in one object so the hot path reads one global."""

    __slots__ = ("grad_enabled", "default_dtype", "scope", "detect_anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.default_dtype = np.dtype(np.float32)
        self.scope: Scope | None = None
        self.detect_anomaly = False


STATE = _State()


# ----------------------------------------------------------------------------------------------
# Switches
# ----------------------------------------------------------------------------------------------
@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block no graph is recorded: results are plain leaves without requires_grad."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        yield
    finally:
        STATE.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a `no_grad` block."""
    previous = STATE.grad_enabled
    STATE.grad_enabled = True
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def is_grad_enabled() -> bool:
    return STATE.grad_enabled


def set_default_dtype(dtype) -> None:
    """Dtype given to Python numbers, lists and integer arrays: float32 (the default) or float64."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    STATE.default_dtype = dtype


def get_default_dtype() -> np.dtype:
    return STATE.default_dtype


# ----------------------------------------------------------------------------------------------
# Scopes: which module call (and so which time step) made a node
# ----------------------------------------------------------------------------------------------
class _ScopeCounter:
    """The next `Scope.index`. A fused sequence model reserves the indices its step-by-step replay
    will take (see `reserve_scope_indices`), so a diagram drawn later still orders its calls as
    they ran."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next = 0


_scope_counter = _ScopeCounter()


def reserve_scope_indices(count: int) -> int:
    """Skip `count` scope indices; returns the first, for `scope_indices_from`."""
    base = _scope_counter.next
    _scope_counter.next += count
    return base


@contextmanager
def scope_indices_from(base: int) -> Iterator[None]:
    """Scopes made inside this block take indices from `base` on (indices reserved earlier)."""
    saved = _scope_counter.next
    _scope_counter.next = base
    try:
        yield
    finally:
        _scope_counter.next = saved


class Scope:
    """One call of a module. Every node created during the call points at it (`Node.scope`).

    Scopes nest (an RNN's call contains its cells' calls). `index` grows with every scope ever made,
    so sorting the scopes of one cell by index gives its time steps in the order they ran. `step`
    counts from 0 (pictures and messages add 1).
    """

    __slots__ = ("module", "parent", "index", "step")

    def __init__(self, module, parent: Scope | None, step: int | None = None) -> None:
        self.module = module
        self.parent = parent
        self.index = _scope_counter.next
        _scope_counter.next += 1
        self.step = step

    def chain(self) -> Iterator[Scope]:
        """This scope and its enclosing ones, innermost first (iterative)."""
        scope: Scope | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def __repr__(self) -> str:
        step = "" if self.step is None else f", step={self.step}"
        return f"Scope({type(self.module).__name__}#{self.index}{step})"


@contextmanager
def scope(module, step: int | None = None) -> Iterator[Scope]:
    """Open a scope for `module`: what Module.__call__ does, usable where code runs a module's work
    without calling it, or to mark a part of a program (a phase, a step) for the pictures."""
    previous = STATE.scope
    current = Scope(module, previous, step)
    STATE.scope = current
    try:
        yield current
    finally:
        STATE.scope = previous


# ----------------------------------------------------------------------------------------------
# Nodes
# ----------------------------------------------------------------------------------------------
FREED = object()  # `Node.saved` after a backward without retain_graph: the arrays are gone
NO_OPTIONS: dict = {}  # shared by every node whose op took no keyword options
_order = itertools.count()  # `Node.order`: nodes are made after their parents, so this is topological


class Node:
    """One vertex of the recorded graph.

    - `op`: the primitive's name ("tanh", "linear", ...), None for a leaf.
    - `parents`: the input nodes, a tuple in the op's argument order.
    - `vjps`: the op's vector-Jacobian products, one per input, shared by every node of that op;
      `vjps[k](g, saved)` is the gradient for input k given the upstream gradient g.
    - `saved`: what those need (save-for-backward): tanh keeps its output, a product its operands,
      an addition nothing. `FREED` once a backward has used it (unless retain_graph=True).
    - `options`: the op's keyword options (getitem's index, a reduction's axis), for the pictures.
    - `scope`, `shape`, `dtype`, `requires_grad`: where and what the tensor was; `order`: creation count.
    - `name`: the tensor's name, if it was given one.
    - `retain`: backward() stores this node's gradient in its tensor's `.grad` (leaves always do);
      `tensor` is a weak reference to that tensor (a node never keeps a tensor alive).
    - `grad_norm`: ‖∂L/∂node‖ of the last backward() that reached a retained node (what
      `show_grads` draws; it outlives the tensor), `grad_root`: the `order` of that backward's root.
    - `is_param`: the node of a module's Parameter. `value`: the number a 0-d constant holds.
    - `step_grad_norms`: a sequence node's per-step gradient norms (see engine.Steps).

    Slots, and no per-node closures: a long unroll makes few objects for the cycle collector to visit.
    The slots most nodes never need are left unset when a node is made (their properties read an
    unset slot as its default), so making a node is eleven plain stores.
    """

    __slots__ = ("op", "parents", "vjps", "saved", "options", "scope", "shape", "dtype", "requires_grad",
                 "order", "_name", "_tensor", "_grad", "_param", "_value", "_steps", "_replay", "__weakref__")

    # -- the slots most nodes leave unset -------------------------------------------------------
    @property
    def name(self) -> str | None:
        try:
            return self._name
        except AttributeError:
            return None

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    @property
    def tensor(self):
        """A weak reference to the tensor whose .grad backward() fills, or None (always set)."""
        return self._tensor

    @tensor.setter
    def tensor(self, ref) -> None:
        self._tensor = ref

    @property
    def retain(self) -> bool:
        """An op's node whose gradient backward() keeps (a hidden state; see Tensor.retain_grad)."""
        return self.op is not None and self.tensor is not None

    @property
    def grad_norm(self) -> float | None:
        try:
            return self._grad[0]
        except AttributeError:
            return None

    @property
    def grad_root(self) -> int | None:
        try:
            return self._grad[1]
        except AttributeError:
            return None

    @property
    def step_grad_norms(self):
        """A sequence node (one node for T time steps): ‖∂L/∂state‖ of each step after the last
        backward(), a (T, parts) array (an LSTM's parts: h and c), or None."""
        try:
            return self._steps[0]
        except AttributeError:
            return None

    @property
    def is_param(self) -> bool:
        try:
            return self._param
        except AttributeError:
            return False

    @is_param.setter
    def is_param(self, value: bool) -> None:
        self._param = value

    @property
    def value(self) -> float | None:
        try:
            return self._value
        except AttributeError:
            return None

    @property
    def replay(self):
        """For the output of a fused sequence model: an object whose `expand()` re-records the call
        step by step and maps this call's nodes to their step-by-step counterparts (the pictures
        draw those). None for every other node."""
        try:
            return self._replay
        except AttributeError:
            return None

    # -- derived --------------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        size = 1
        for n in self.shape:
            size *= n
        return size

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def freed(self) -> bool:
        return self.saved is FREED

    @property
    def node(self) -> Node:
        return self

    def __repr__(self) -> str:
        what = self.op or ("parameter" if self.is_param else "leaf")
        name = f" {self.name!r}" if self.name else ""
        return f"Node({what}{name}, shape={self.shape})"


new_node = object.__new__  # Node's __init__ is not used: the makers below and Tensor set the slots
next_order = _order.__next__


def leaf_node(shape: tuple, dtype, requires_grad: bool = False, name: str | None = None, tensor_ref=None,
              value=None) -> Node:
    """The node of a tensor no op made: a parameter, an input, a constant."""
    node = new_node(Node)
    node.op = None
    node.parents = ()
    node.vjps = None
    node.saved = None
    node.options = NO_OPTIONS
    node.scope = STATE.scope
    node.shape = shape
    node.dtype = dtype
    node.requires_grad = requires_grad
    node.order = next_order()
    if name is not None:
        node._name = name
    node._tensor = tensor_ref
    if value is not None:
        node._value = value
    return node
