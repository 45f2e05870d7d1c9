"""Reading the recorded graph: every node behind an output, in order, who reads each one, and which
recurrent-cell call (and which time-step hint) made it.

Only the graph-node interface is read (`output.node`, and on a node `op`, `parents`, `options`,
`name`, `scope`, `shape`, `ndim`, `size`, `retain`, `is_param`, `value`, `grad_norm`). Everything
here is iterative (explicit stacks) and only reads the graph.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..autograd import Scope
from ..nn.cells import RecurrentCell
from ..tensor import Tensor
from .hints import PhaseMark, StepMark


@dataclass
class Walk:
    root: object                            # the output's graph node
    nodes: list                             # parents before the nodes made from them; root last
    position: dict[int, int]                # id(node) -> index in `nodes`
    consumers: dict[int, list]              # id(node) -> the nodes made from it
    call: dict[int, Scope | None]           # id(node) -> innermost recurrent-cell call that made it
    step_hint: dict[int, int | None]        # id(node) -> step given by a `viz.step` hint (from 0)
    phase_hint: dict[int, str | None]       # id(node) -> phase named by a `viz.phase`/`viz.step` hint


def topo_order(root) -> list:
    """All nodes `root` was computed from (leaves and constants too), parents first.

    Depth-first with an explicit stack, so a 100,000-step chain needs no recursion.
    """
    order: list = []
    entered: set[int] = set()
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in entered:
            continue
        entered.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):  # reversed: parents are entered in their own order
            if id(parent) not in entered:
                stack.append((parent, False))
    return order


def _scope_facts(nodes: list) -> tuple[dict, dict, dict]:
    """For each node: the innermost recurrent-cell call around its creation, the innermost step
    hint and the innermost phase hint (each or None).

    Scope chains are short and each scope is resolved once (memo), so this is linear.
    """
    memo: dict[int, tuple] = {}
    calls, steps, phases = {}, {}, {}
    for node in nodes:
        scope = node.scope
        path: list[Scope] = []
        found = (None, None, None)
        while scope is not None:
            if id(scope) in memo:
                found = memo[id(scope)]
                break
            path.append(scope)
            scope = scope.parent
        # resolve the unresolved part of the chain, outermost first
        call, step, phase = found
        for s in reversed(path):
            module = s.module
            if isinstance(module, RecurrentCell):
                call = s
            elif isinstance(module, StepMark):
                step, phase = s.step, module.phase if module.phase is not None else phase
            elif isinstance(module, PhaseMark):
                phase = module.name
            memo[id(s)] = (call, step, phase)
        call, step, phase = memo[id(node.scope)] if node.scope is not None else (None, None, None)
        calls[id(node)], steps[id(node)], phases[id(node)] = call, step, phase
    return calls, steps, phases


class _Rewired:
    """A node seen with some of its parents replaced by their step-by-step counterparts."""

    __slots__ = ("_node", "parents")

    def __init__(self, node, parents: tuple) -> None:
        self._node, self.parents = node, parents

    def __getattr__(self, name):
        return getattr(self._node, name)

    @property
    def node(self):
        return self


def _unfused(root):
    """The graph behind `root` with every fused sequence call (one node per layer for T steps)
    replaced by the same call recorded step by step (`node.replay`: nn/rnn.py's Replay), so a
    fused model is drawn exactly as its plain loop. Calls are replayed in the order they ran."""
    replays = {id(n.replay): n.replay for n in topo_order(root) if n.replay is not None}
    if not replays:
        return root
    mapping: dict = {}
    for replay in sorted(replays.values(), key=lambda r: r.order):
        mapping.update(replay.expand())
    seen: dict[int, object] = {}  # id(node) -> the node, or its rewired stand-in
    entered: set[int] = set()
    stack = [(mapping.get(root, root), False)]
    while stack:  # post-order over the graph as seen through `mapping`, without recursion
        node, parents_done = stack.pop()
        if parents_done:
            parents = tuple(seen[id(mapping.get(p, p))] for p in node.parents)
            same = all(a is b for a, b in zip(parents, node.parents))
            seen[id(node)] = node if same else _Rewired(node, parents)
            continue
        if id(node) in entered:
            continue
        entered.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            parent = mapping.get(parent, parent)
            if id(parent) not in entered:
                stack.append((parent, False))
    return seen[id(mapping.get(root, root))]


def walk(root) -> Walk:
    """The one place that turns an output into the list of graph nodes behind it."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(root).__name__}")
    root = _unfused(root.node)
    nodes = topo_order(root)
    position = {id(n): i for i, n in enumerate(nodes)}
    consumers: dict[int, list] = {id(n): [] for n in nodes}
    for node in nodes:
        seen: set[int] = set()
        for parent in node.parents:
            if id(parent) not in seen:  # x * x uses x once as far as the picture is concerned
                seen.add(id(parent))
                consumers[id(parent)].append(node)
    calls, steps, phases = _scope_facts(nodes)
    return Walk(root, nodes, position, consumers, calls, steps, phases)
