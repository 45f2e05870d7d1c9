"""The backward engine: topological order, gradient accumulation, backward over nodes.

It works on `graph.Node`s only and never sees a tensor's data. Nothing here recurses over the
graph. The order is the nodes' creation order, found with a worklist; gradients are kept in a
dictionary only until the node that owns them has passed them on; broadcast gradients are reduced
to each input's shape in exactly one place (`reduce_to_shape`, called from `_accumulate`), where
compact gradients (`IndexedGrad`, `OuterGrad`) are also added up.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from .anomaly import check_backward
from .graph import FREED, STATE, Node


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
    if type(grad) is not np.ndarray:  # NumPy gives scalars for 0-d results; gradients are arrays
        grad = np.asarray(grad)
    if grad.dtype != dtype:
        grad = grad.astype(dtype)
    return grad


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
    """OuterGrad terms waiting for their node, plus a dense part (a gradient that arrived as an
    array, and the terms already folded in).

    Every `FOLD` terms are multiplied out in one product and added to the dense part: the products
    stay large (fast) while the factors kept waiting stay few (a long unroll would otherwise hold
    one gradient per step of every shared weight until the end of backward)."""

    __slots__ = ("lefts", "rights", "dense")
    FOLD = 16

    def __init__(self, dense: np.ndarray | None) -> None:
        self.lefts: list[np.ndarray] = []
        self.rights: list[np.ndarray] = []
        self.dense = dense

    def add(self, term: OuterGrad, dtype) -> None:
        self.lefts.append(term.left)
        self.rights.append(term.right)
        if len(self.lefts) >= self.FOLD:
            self.dense = self.total(dtype)
            self.lefts, self.rights = [], []

    def total(self, dtype) -> np.ndarray:
        if not self.lefts:
            return self.dense
        if len(self.lefts) == 1:
            out = self.lefts[0].T @ self.rights[0]
        else:
            out = np.concatenate(self.lefts).T @ np.concatenate(self.rights)
        if self.dense is not None:
            out += self.dense  # `out` is new
        return out.astype(dtype, copy=False)


class FreedGraphError(RuntimeError):
    """A backward needed arrays that an earlier backward freed (retain_graph=False)."""


class Steps:
    """Saved by an op whose result holds one state per time step (a fused sequence): the nodes of
    its steps (`views`: weak references to "step" nodes that stand for one step's state), and, when
    a backward asks for them (`want_deltas`), `deltas`: the total gradient of every step's state,
    through the recurrence, in the layout of the op's result.

    So `grad(loss, [a_t])` and the `.grad` of a retained step are ∂L/∂a_t as if the recurrence
    had been unrolled node by node. The op's backward fills `deltas` when asked."""

    __slots__ = ("views", "want_deltas", "deltas")
    parts = 1  # states per step, side by side along the last axis (an LSTM's h and c: 2)

    def __init__(self) -> None:
        self.views: list = []
        self.want_deltas = False
        self.deltas = None


def freed_graph_error(node: Node) -> FreedGraphError:
    return FreedGraphError(
        f"backward through a freed graph: the graph behind '{node.op}' (shape {node.shape}) was freed "
        "by an earlier backward()/grad(); pass retain_graph=True to the first call to backpropagate twice")


_by_order = operator.attrgetter("order")  # a C-level sort key


def toposort(root: Node, refuse_freed: bool = False) -> list[Node]:
    """Nodes that require grad and lead to `root`, inputs before the ops that use them.

    A node's inputs exist before it does, so creation order (`Node.order`) is a topological order:
    walk the graph once with a growing list (no recursion, nothing allocated per edge), then sort.
    `refuse_freed`: raise at the first node whose saved arrays an earlier backward freed.
    """
    nodes = [root]
    seen = {root}  # by identity: Node defines no __eq__ (cheaper than id() keys)
    for node in nodes:  # `nodes` grows while it is walked: a breadth-first walk without a queue
        if refuse_freed and node.saved is FREED:
            raise freed_graph_error(node)
        for parent in node.parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    nodes.sort(key=_by_order)
    return nodes


def _accumulate(pending: dict, owned: set, node: Node, grad) -> None:
    """Add `grad` into the gradient waiting for `node`, first reducing a broadcast gradient to the
    node's shape. A buffer we allocated ourselves (`owned`) is added to in place; one that came from
    a vjp (it may be the upstream gradient itself, or an array the forward saved) is never written."""
    current = pending.get(node)
    if type(grad) is OuterGrad:  # keep the factors; summed in a few large products
        if type(current) is not _Terms:
            current = pending[node] = _Terms(current)
        current.add(grad, node.dtype)
        return
    if type(current) is _Terms:  # any other gradient: add the terms up first
        current = pending[node] = current.total(node.dtype)
        owned.add(node)
    if type(grad) is IndexedGrad:
        if node not in owned:  # a buffer of our own, to write the selected elements into
            current = np.zeros(node.shape, node.dtype) if current is None else np.array(current, node.dtype)
            pending[node] = current
            owned.add(node)
        grad.add_to(current)
        return
    if type(grad) is not np.ndarray or grad.shape != node.shape or grad.dtype != node.dtype:
        grad = reduce_to_shape(np.asarray(grad), node.shape, node.dtype)  # broadcasting happened
    if current is None:
        pending[node] = grad
    elif node in owned:
        current += grad
    else:
        pending[node] = np.add(current, grad, dtype=node.dtype, out=np.empty(node.shape, node.dtype))
        owned.add(node)


def _relevant(order: list[Node], targets: set[Node]) -> set[Node]:
    """Nodes on a way from a target to the root: a target, or a node with a relevant parent
    (parents come first in `order`, so one pass)."""
    relevant: set[Node] = set()
    for node in order:
        if node in targets:
            relevant.add(node)
            continue
        for p in node.parents:
            if p in relevant:
                relevant.add(node)
                break
    return relevant


def _check_not_freed(order: list[Node], relevant: set[Node]) -> None:
    """Refuse before any gradient is computed when grad() would need arrays that were freed; a
    freed node whose backward is not needed (a target's own history) is fine."""
    for node in order:
        if node.saved is FREED:
            for p in node.parents:
                if p in relevant:
                    raise freed_graph_error(node)


def run_backward(root: Node, seed: np.ndarray, retain_graph: bool,
                 targets: Sequence[Node] | None = None) -> list[np.ndarray] | None:
    """Propagate `seed` (= dL/droot) backwards through the nodes behind `root`.

    With `targets=None` (backward()): gradients are accumulated into `.grad` of the tensors of
    leaves and retained nodes. With targets (grad()): their gradients are returned and no `.grad` is
    touched; only the part of the graph that leads to a target is visited.
    """
    # Refuse before any .grad changes when the backward would need freed arrays.
    order = toposort(root, refuse_freed=targets is None)
    stepped: dict[Node, list[Node]] = {}  # a sequence node -> the targets that are its steps
    if targets is not None:
        wanted = set(targets)
        for t in targets:
            if t.op == "step":  # ∂L/∂(one step's state) comes out of the sequence node's backward
                sequence = t.parents[0]
                if sequence.saved is FREED:
                    raise freed_graph_error(sequence)
                stepped.setdefault(sequence, []).append(t)
        relevant: set[Node] | None = _relevant(order, wanted | set(stepped))
        _check_not_freed(order, relevant)
        found: dict[Node, np.ndarray] = {}
    else:
        relevant = None

    anomaly = STATE.detect_anomaly
    pending: dict = {root: seed}
    owned: set[Node] = set()
    ndarray = np.ndarray
    try:
        for node in reversed(order):
            grad = pending.pop(node, None)
            if grad is None:  # no path from root carried a gradient here
                continue
            if type(grad) is _Terms:  # a weight's deferred products: one matrix product now
                grad = grad.total(node.dtype)
                owned.add(node)
            if targets is not None:
                if node in wanted:
                    found[node] = grad if node in owned else grad.copy()
            else:
                tensor_ref = node._tensor  # set on leaves that require grad and on retained nodes
                if tensor_ref is not None:
                    _store_grad(node, tensor_ref, grad, node in owned, root)
            vjps = node.vjps
            if vjps is None:
                continue
            saved = node.saved
            if type(vjps) is not tuple:  # a joint backward: every input's gradient from one computation
                if isinstance(saved, Steps):
                    _sequence_backward(node, grad, relevant, pending, owned, anomaly, root,
                                       stepped.get(node), found if targets is not None else None)
                else:
                    _joint_backward(node, grad, relevant, pending, owned, anomaly)
                continue
            for parent, vjp in zip(node.parents, vjps):
                if not parent.requires_grad or (relevant is not None and parent not in relevant):
                    continue  # no work at all for branches that need no gradient
                g = vjp(grad, saved)
                if anomaly:
                    check_backward(node, parent, g)
                # Most edges bring a node its first gradient, a plain array of its own shape and
                # dtype: store it without a call of _accumulate, which handles everything else.
                if type(g) is ndarray and parent not in pending and g.shape == parent.shape \
                        and g.dtype == parent.dtype:
                    pending[parent] = g
                    continue
                _accumulate(pending, owned, parent, g)
    finally:
        if not retain_graph:
            for node in order:  # drop the saved arrays; the structure stays for drawing
                if node.op is not None:
                    node.saved = FREED
    if targets is None:
        return None
    return [found[t] if t in found else np.zeros(t.shape, t.dtype) for t in targets]


def _joint_backward(node: Node, grad, relevant, pending: dict, owned: set, anomaly: bool) -> None:
    """Pass on the gradients of a node whose op computes all its inputs' gradients at once."""
    parents = node.parents
    if relevant is None:
        needs = [p.requires_grad for p in parents]
    else:
        needs = [p.requires_grad and p in relevant for p in parents]
    for parent, g in zip(parents, node.vjps(grad, node.saved, needs)):
        if g is None or not parent.requires_grad or (relevant is not None and parent not in relevant):
            continue
        if anomaly:
            check_backward(node, parent, g)
        _accumulate(pending, owned, parent, g)


def _sequence_backward(node: Node, grad, relevant, pending: dict, owned: set, anomaly: bool, root: Node,
                       target_steps: list[Node] | None, found: dict | None) -> None:
    """A sequence node: its joint backward, and the total gradient of each of its steps for the
    step targets of grad() or, in backward(), for its retained steps (`.grad` and the norm)."""
    saved = node.saved
    if found is not None:
        views = target_steps or []
    else:
        views = [v for v in (ref() for ref in saved.views) if v is not None]
    saved.want_deltas = found is None or bool(views)  # backward() always: the pictures draw every step
    _joint_backward(node, grad, relevant, pending, owned, anomaly)
    deltas, saved.deltas = saved.deltas, None
    if found is None:  # ‖∂L/∂state‖ of every step and part, kept on the node (Node.step_grad_norms)
        T, parts = deltas.shape[0], saved.parts
        per_part = deltas.reshape(T, -1, parts, deltas.shape[-1] // parts)
        norms = np.sqrt(np.einsum("tbph,tbph->tp", per_part, per_part).astype(np.float64))
        node._steps = (norms, root.order)
    for view in views:
        delta = deltas[view.options["index"]]
        if found is not None:
            found[view] = delta.copy()
        elif view._tensor is not None:  # deltas is the engine's own: the steps' slices need no copy
            _store_grad(view, view._tensor, delta, np.shares_memory(delta, deltas), root)


def _store_grad(node: Node, tensor_ref, grad: np.ndarray, owned: bool, root: Node) -> None:
    """`+=` into the tensor's .grad; the first gradient is copied unless the engine allocated it, so
    a .grad never shares memory with data or with another tensor's gradient. A retained node also
    keeps the norm, which outlives its tensor (the pictures draw it)."""
    if node.op is not None:  # (Node.grad_norm, Node.grad_root)
        node._grad = (math.sqrt(float(np.vdot(grad, grad))) if grad.size else 0.0, root.order)
    tensor = tensor_ref()
    if tensor is None:  # the program dropped it: nobody can read this .grad
        return
    if tensor.grad is None:
        tensor.grad = grad if owned else np.array(grad, dtype=node.dtype, copy=True)
    else:
        tensor.grad += grad
