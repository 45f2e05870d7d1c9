"""Reading the recorded graph: every tensor behind an output, in order, and which recurrent-cell
call (hence which time step and layer) made each one.

Everything here is iterative (explicit stacks) and only reads the graph.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..autograd import Scope
from ..nn.cells import RecurrentCell
from ..tensor import Tensor


@dataclass
class Walk:
    root: Tensor
    nodes: list[Tensor]                     # parents before the tensors made from them; root last
    position: dict[int, int]                # id(tensor) -> index in `nodes`
    consumers: dict[int, list[Tensor]]      # id(tensor) -> the tensors made from it
    call: dict[int, Scope | None]           # id(tensor) -> innermost recurrent-cell call that made it
    step: dict[int, int] = field(default_factory=dict)    # id(call scope) -> time step, from 1
    layer: dict[int, int] = field(default_factory=dict)   # id(cell module) -> layer, from 1
    cells: list[RecurrentCell] = field(default_factory=list)  # cell modules, bottom layer first

    def step_of(self, t: Tensor) -> int | None:
        call = self.call[id(t)]
        return None if call is None else self.step.get(id(call))


def topo_order(root: Tensor) -> list[Tensor]:
    """All tensors `root` was computed from (leaves and constants too), parents first.

    Depth-first with an explicit stack, so a 100,000-step chain needs no recursion.
    """
    order: list[Tensor] = []
    entered: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
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


def _cell_calls(nodes: list[Tensor]) -> dict[int, Scope | None]:
    """id(tensor) -> the innermost scope of a recurrent cell around its creation (or None).

    Scope chains are short, and each scope is resolved once (memo), so this is linear.
    """
    memo: dict[int, Scope | None] = {}
    calls: dict[int, Scope | None] = {}
    for node in nodes:
        scope = node.scope
        path: list[Scope] = []
        found: Scope | None = None
        while scope is not None:
            if id(scope) in memo:
                found = memo[id(scope)]
                break
            path.append(scope)
            if isinstance(scope.module, RecurrentCell):
                found = scope
                break
            scope = scope.parent
        for s in path:
            memo[id(s)] = found
        calls[id(node)] = found
    return calls


def walk(root: Tensor) -> Walk:
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(root).__name__}")
    root = root.node
    nodes = topo_order(root)
    position = {id(n): i for i, n in enumerate(nodes)}
    consumers: dict[int, list[Tensor]] = {id(n): [] for n in nodes}
    for node in nodes:
        seen: set[int] = set()
        for parent in node.parents:
            if id(parent) not in seen:  # x * x uses x once as far as the picture is concerned
                seen.add(id(parent))
                consumers[id(parent)].append(node)
    g = Walk(root, nodes, position, consumers, _cell_calls(nodes))
    _number_steps(g)
    return g


def _number_steps(g: Walk) -> None:
    """Time steps and layers from the scopes of the cell calls that made ops of the graph.

    A cell records `step` on each call (one more than the call that made its incoming state); when
    those are missing or clash (one cell run over two sequences), the calls are ranked by creation.
    """
    by_module: dict[int, list[Scope]] = {}
    seen: set[int] = set()
    for node in g.nodes:
        call = g.call[id(node)]
        if node.op is None or call is None or id(call) in seen:
            continue  # a leaf made inside a call (a constant, a detached state) is not a step
        seen.add(id(call))
        by_module.setdefault(id(call.module), []).append(call)
    modules = sorted(by_module.values(), key=lambda calls: min(c.index for c in calls))
    for layer, calls in enumerate(modules, start=1):
        calls.sort(key=lambda c: c.index)
        g.cells.append(calls[0].module)
        g.layer[id(calls[0].module)] = layer
        recorded = [c.step for c in calls]
        usable = None not in recorded and len(set(recorded)) == len(recorded)
        for rank, call in enumerate(calls):
            g.step[id(call)] = call.step + 1 if usable else rank + 1
