"""The backward engine: graph-recording switches, scopes, topological order, backward and grad().

Nothing here recurses over the graph. The order is found with an explicit worklist and the order
of creation, gradients are kept in a dictionary only until the node that owns them has passed them
on, and broadcast gradients are reduced to each input's shape in exactly one place
(`reduce_to_shape`, called from `_accumulate`), where sparse gradients (`IndexedGrad`, `OuterGrad`)
are also added up.
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only for type hints: tensor.py imports this module
    from .tensor import Tensor


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
_scope_ids = itertools.count()


class Scope:
    """One call of a module. Every node created during the call points at it (`Tensor._scope`).

    Scopes nest (an RNN's call contains its cells' calls). `index` grows with every scope ever made,
    so sorting the scopes of one cell by index gives its time steps in the order they ran.
    """

    __slots__ = ("module", "parent", "index", "step")

    def __init__(self, module, parent: Scope | None, step: int | None = None) -> None:
        self.module = module
        self.parent = parent
        self.index = next(_scope_ids)
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
    """Open a scope for `module`: what Module.__call__ does, usable where a model runs a cell's
    step without calling it (a fused sequence model still wants its time steps in the diagram)."""
    previous = STATE.scope
    current = Scope(module, previous, step)
    STATE.scope = current
    try:
        yield current
    finally:
        STATE.scope = previous


# ----------------------------------------------------------------------------------------------
# The engine
# ----------------------------------------------------------------------------------------------
def reduce_to_shape(grad: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Undo NumPy broadcasting: sum the gradient back to the input's shape (ranks may differ).

    Leading axes that broadcasting added are summed away, then axes where the input had size 1.
    """
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra > 0:  # np.add.reduce: what ndarray.sum calls, without its Python-level wrapper
            grad = np.add.reduce(grad, axis=tuple(range(extra)))
        ones = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if ones:
            grad = np.add.reduce(grad, axis=ones, keepdims=True)
        if grad.shape != shape:  # a vjp returned something of the wrong shape: a bug, say it loudly
            raise RuntimeError(f"gradient of shape {grad.shape} cannot be reduced to input shape {shape}")
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


def _graph_freed_error(node: Tensor) -> RuntimeError:
    return RuntimeError(
        f"backward through a freed graph: the graph behind '{node._op}' (shape {node.shape}) was freed "
        "by an earlier backward()/grad(); pass retain_graph=True to the first call to backpropagate twice")


def toposort(root: Tensor) -> list[Tensor]:
    """Nodes that require grad and lead to `root`, inputs before the ops that use them.

    A tensor's inputs exist before it does, so the order in which tensors were made (`_created`,
    a counter) is a topological order: walk the graph once with a growing list (no recursion,
    nothing allocated per edge), then sort by it.
    """
    nodes: list[Tensor] = [root]
    seen: set[Tensor] = {root}  # by identity: Tensor defines no __eq__ (cheaper than id() keys)
    for node in nodes:  # `nodes` grows while it is walked: a breadth-first walk without a queue
        if node._vjps is None and node._op is not None:
            raise _graph_freed_error(node)
        for parent in node._parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    nodes.sort(key=_creation_order)
    return nodes


_creation_order = operator.attrgetter("_created")  # a C-level sort key


class IndexedGrad:
    """A gradient that is zero except at `index`: what indexing (`t[idx]`) passes back.

    The engine adds `values` into the input's gradient buffer in place, so taking T slices of a
    (T, B, H) tensor costs O(T·B·H) in backward, not T full-size zero arrays.
    """

    __slots__ = ("shape", "dtype", "index", "values", "basic")

    def __init__(self, shape: tuple, dtype, index, values: np.ndarray, basic: bool) -> None:
        self.shape, self.dtype, self.index, self.values, self.basic = shape, dtype, index, values, basic

    def add_to(self, full: np.ndarray) -> None:
        if self.basic:  # ints and slices select each element once
            full[self.index] += self.values
        else:           # integer arrays and masks may repeat an element: accumulate
            np.add.at(full, self.index, self.values)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        full = np.zeros(self.shape, dtype or self.dtype)
        self.add_to(full)
        return full


class OuterGrad:
    """The gradient leftᵀ @ right of a weight used as x wᵀ, kept as its two factors (one row per
    batch entry). A weight shared by T time steps receives T of these: the engine sums them with
    one product of the stacked factors when the weight's gradient is needed, instead of T small
    products and T additions of a full (out, in) matrix."""

    __slots__ = ("left", "right")

    def __init__(self, left: np.ndarray, right: np.ndarray) -> None:
        self.left, self.right = left, right

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self.left.T @ self.right, dtype=dtype)


class _Terms:
    """OuterGrad terms waiting for their node, plus a dense part if one arrived first."""

    __slots__ = ("lefts", "rights", "dense")

    def __init__(self, dense: np.ndarray | None) -> None:
        self.lefts: list[np.ndarray] = []
        self.rights: list[np.ndarray] = []
        self.dense = dense

    def total(self, dtype) -> np.ndarray:
        if len(self.lefts) == 1:
            out = self.lefts[0].T @ self.rights[0]
        else:
            out = np.concatenate(self.lefts).T @ np.concatenate(self.rights)
        if self.dense is not None:
            out += self.dense  # `out` is new
        return out.astype(dtype, copy=False)


def _accumulate(pending: dict, owned: set, node: Tensor, grad) -> None:
    """Add `grad` into the gradient waiting for `node`, first reducing a broadcast gradient to the
    node's shape. A buffer we allocated ourselves (`owned`) is added to in place; one that came from
    a vjp (it may be the upstream gradient itself) is never written. Both are keyed by the tensor
    itself (identity: Tensor defines no __eq__)."""
    current = pending.get(node)
    data = node.data
    if type(grad) is OuterGrad:  # keep the factors; summed in one product when needed
        if type(current) is not _Terms:
            current = pending[node] = _Terms(current)
        current.lefts.append(grad.left)
        current.rights.append(grad.right)
        return
    if type(current) is _Terms:  # any other gradient: add the terms up first
        current = pending[node] = current.total(data.dtype)
        owned.add(node)
    if type(grad) is IndexedGrad:
        if node not in owned:  # a buffer of our own, to write the selected elements into
            current = np.zeros(data.shape, data.dtype) if current is None else current.astype(data.dtype)
            pending[node] = current
            owned.add(node)
        grad.add_to(current)
        return
    if grad.shape != data.shape or grad.dtype != data.dtype:  # broadcasting happened
        grad = reduce_to_shape(grad, data.shape, data.dtype)
    if current is None:
        pending[node] = grad
    elif node in owned:
        current += grad
    else:
        summed = current + grad
        pending[node] = summed if type(summed) is np.ndarray else np.asarray(summed)
        owned.add(node)


def run_backward(root: Tensor, seed: np.ndarray, retain_graph: bool,
                 targets: Sequence[Tensor] | None = None) -> list[np.ndarray] | None:
    """Propagate `seed` (= dL/droot) backwards.

    With `targets=None` (backward()): gradients are accumulated into `.grad` of leaves and of
    tensors marked with `retain_grad()`. With targets (grad()): their gradients are returned and
    no `.grad` is touched; only the part of the graph that leads to a target is visited.
    """
    order = toposort(root)
    # Tensors are keys (by identity: Tensor defines no __eq__), which hashes faster than id().
    if targets is not None:
        wanted = set(targets)
        # a node matters if it is a target or one of its parents matters (parents come first)
        relevant: set[Tensor] | None = set()
        for node in order:
            if node in wanted or any(p in relevant for p in node._parents):
                relevant.add(node)
        found: dict[Tensor, np.ndarray] = {}
    else:
        relevant = None

    anomaly = STATE.detect_anomaly
    pending: dict[Tensor, np.ndarray] = {root: seed}
    owned: set[Tensor] = set()
    ndarray = np.ndarray
    try:
        for node in reversed(order):
            grad = pending.pop(node, None)
            if grad is None:  # no path from root carried a gradient here
                continue
            if type(grad) is _Terms:  # a weight's deferred products: one matrix product now
                grad = grad.total(node.data.dtype)
                owned.add(node)
            if targets is not None:
                if node in wanted:
                    found[node] = grad if node in owned else grad.copy()
            elif node._op is None or node._retain:
                _store_grad(node, grad, node in owned)
            vjps = node._vjps
            if vjps is None:
                continue
            for parent, vjp in zip(node._parents, vjps):
                if not parent.requires_grad or (relevant is not None and parent not in relevant):
                    continue  # no work at all for branches that need no gradient
                g = vjp(grad)
                if anomaly:
                    _check_finite_grad(node, parent, g)
                # Most edges bring a node its first gradient, a plain array of its own shape and
                # dtype: store it without a call of _accumulate, which handles everything else.
                if type(g) is ndarray and parent not in pending:
                    data = parent.data
                    if g.shape == data.shape and g.dtype == data.dtype:
                        pending[parent] = g
                        continue
                _accumulate(pending, owned, parent, g)
    finally:
        if not retain_graph:
            for node in order:  # drop the saved arrays; the structure stays for drawing
                if node._op is not None:
                    node._vjps = None
    if targets is None:
        return None
    return [found[t] if t in found else np.zeros_like(t.data) for t in targets]


def grad(output, inputs, grad_output=None, retain_graph: bool = False):
    """Gradients of `output` with respect to each of `inputs` (leaves or intermediates, e.g. every
    hidden state a_t), as a list of arrays. `.grad` is not touched. An input that `output` does not
    depend on gets zeros."""
    from .tensor import Tensor  # tensor.py imports this module

    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be tensors, got {type(t).__name__}")
    if not output.requires_grad:
        raise RuntimeError(f"grad: output (shape {output.shape}) does not require grad")
    seed = output._seed(grad_output, "grad()")
    return run_backward(output, seed, retain_graph, targets=inputs)


def _store_grad(node: Tensor, grad: np.ndarray, owned: bool) -> None:
    """`+=` into node.grad; the first gradient is copied unless the engine allocated it, so a
    .grad never shares memory with data or with another tensor's gradient."""
    if node.grad is None:
        node.grad = grad if owned else np.array(grad, dtype=node.data.dtype, copy=True)
    else:
        node.grad += grad


def _check_finite_grad(node: Tensor, parent: Tensor, grad: np.ndarray) -> None:
    if not np.all(np.isfinite(grad)):
        from .anomaly import describe_node  # imported lazily: only on the error path
        raise FloatingPointError(
            f"detect_anomaly: backward of {describe_node(node)} produced a non-finite gradient "
            f"for an input of shape {parent.shape}")
