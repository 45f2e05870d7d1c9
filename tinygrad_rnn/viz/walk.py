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


def walk(root) -> Walk:
    """The one place that turns an output into the list of graph nodes behind it."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(root).__name__}")
    root = root.node
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
