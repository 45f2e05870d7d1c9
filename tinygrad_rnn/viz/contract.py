"""Contracting the recorded graph to the tensors a textbook draws: inputs x_t, hidden states a_t
(h_t and c_t for an LSTM), outputs ŷ_t and the loss, with each edge labelled by the shared
weights met on the way (U on x_t -> a_t, W on a_{t-1} -> a_t, V on a_t -> ŷ_t).

How each role is found from the graph alone:
- hidden state: made inside a recurrent-cell call and used outside it (or kept by the cell with
  `_retain`, or the root);
- input: a tensor entering a cell call from outside that is no parameter, no constant (0-d) and
  does not depend on a hidden state (or each call's slice of one such tensor of all steps); an
  input that plays the part of a previous state (it meets the same weights as the recurrence
  does) is an initial state a_0;
- output ŷ: outside every cell, computed from a hidden state by an op that applies a weight to it
  (plus any bias added right after), and the last such tensor before the loss;
- tensors the user named, and the root.

A weight labels an edge when it multiplies the data on that way: W in linear(a, W, ...) or in
a @ W.T labels the edge from a, not an addend of the same op; biases are listed in the legend only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..nn.layers import Embedding
from ..nn.module import Parameter
from ..tensor import Tensor
from .walk import Walk

INPUT, STATE, INIT, OUTPUT, ROOT, NAMED = "input", "state", "init", "output", "root", "named"


@dataclass
class Key:
    node: Tensor
    role: str
    step: int | None = None      # time step for the cluster (None: outside every step)
    layer: int | None = None     # states and initial states: which cell module
    slot: int = 0                # states: position among the states one call returns (LSTM: c 0, h 1)
    sub: int | None = None       # the subscript shown (an initial state shows the step before)


@dataclass
class Contracted:
    walk: Walk
    keys: list[Key]                                   # in graph order
    edges: dict[tuple[int, int], frozenset[int]]      # (key index, key index) -> weight indices
    params: list[Parameter]                           # every parameter met, in graph order
    param_index: dict[int, int]                       # id(parameter) -> index in params
    derived: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(op of params only) -> params


def is_param(t) -> bool:
    return t.is_param


def _inside_embedding(n: Tensor) -> bool:
    scope = n.scope
    while scope is not None:
        if isinstance(scope.module, Embedding):
            return True
        scope = scope.parent
    return False


def contract(g: Walk) -> Contracted:
    nodes, call = g.nodes, g.call
    # Parameters: the cells' own first (layer by layer, in attribute order: U, W, b), then the rest.
    rank: dict[int, int] = {}
    for cell in g.cells:
        for value in vars(cell).values():
            if isinstance(value, Parameter):
                rank.setdefault(id(value.node), len(rank))
    params = sorted((n for n in nodes if is_param(n)), key=lambda p: rank.get(id(p), len(rank)))  # stable sort
    param_index = {id(p): i for i, p in enumerate(params)}

    # Ops on parameters alone (W.T, V * 2) stand for those parameters: drawn as edge labels, not nodes.
    # An embedding lookup is an op on a parameter alone too, but its result is data (an input).
    derived: dict[int, tuple[int, ...]] = {}
    for n in nodes:
        if n.op is None or _inside_embedding(n):
            continue
        met: list[int] = []
        for p in n.parents:
            if is_param(p):
                met.append(param_index[id(p)])
            elif id(p) in derived:
                met.extend(derived[id(p)])
            elif not (p.op is None and p.ndim == 0):  # a number is fine, anything else is data
                break
        else:
            if met:
                derived[id(n)] = tuple(dict.fromkeys(met))

    def is_data(t: Tensor) -> bool:
        return not is_param(t) and id(t) not in derived and not (t.op is None and t.ndim == 0)

    # Hidden states: made in a cell call and leaving it.
    state_ids: set[int] = set()
    for n in nodes:
        c = call[id(n)]
        if n.op is None or c is None or id(n) in derived:
            continue
        if n.retain or n is g.root or any(call[id(u)] is not c for u in g.consumers[id(n)]):
            state_ids.add(id(n))

    # Which tensors depend on a hidden state (parents come first, so one pass).
    depends: set[int] = set()
    for n in nodes:
        if id(n) in state_ids or any(id(p) in depends for p in n.parents):
            depends.add(id(n))

    # Inputs: data entering a cell call from outside (a leaf is data wherever it was made: an
    # array passed to a cell becomes a leaf inside the call). Where every call slices its own
    # step out of one tensor of all steps, the slices are the inputs x_t.
    input_ids: set[int] = set()
    shared: dict[int, bool] = {}  # id(data) -> used by more than one call

    def used_by_several_calls(p: Tensor) -> bool:
        if id(p) not in shared:
            shared[id(p)] = len({id(call[id(u)]) for u in g.consumers[id(p)]}) > 1
        return shared[id(p)]

    for n in nodes:
        c = call[id(n)]
        if n.op is None or c is None:
            continue
        for p in n.parents:
            if id(p) in state_ids or id(p) in input_ids or not is_data(p):
                continue
            if p.op is None or (call[id(p)] is not c and id(p) not in depends):
                slice_of_all = n.op == "getitem" and len(n.parents) == 1 and used_by_several_calls(p)
                input_ids.add(id(n) if slice_of_all else id(p))

    # Weights met on the way: a weight counts for the data it multiplies. In linear(x, W, b) that is
    # x (not b, which may be data too: a cell can fuse a_prev Wᵀ + x Uᵀ + b into one node); in
    # matmul and mul, the other operand. A parameter added (a bias) labels no edge.
    def weights_of(p: Tensor) -> tuple[int, ...]:
        if is_param(p):
            found: tuple[int, ...] = (param_index[id(p)],)
        else:
            found = derived.get(id(p), ())
        return tuple(i for i in found if params[i].ndim >= 2)

    def weights_for(n: Tensor, i: int) -> frozenset[int]:
        """The weights a path entering op n through its parent i meets at n."""
        parents = n.parents
        if n.op == "linear":
            return frozenset(weights_of(parents[1])) if i == 0 else frozenset()
        if n.op in ("matmul", "mul"):
            return frozenset(w for k, p in enumerate(parents) if k != i for w in weights_of(p))
        return frozenset()

    # Outputs ŷ: a weight applied to something computed from a hidden state, outside the cells.
    def applies_weight(n: Tensor) -> bool:
        return any(weights_for(n, i) for i, p in enumerate(n.parents) if is_data(p))

    candidates: set[int] = set()
    for n in nodes:
        if (n.op is None or call[id(n)] is not None or id(n) in state_ids or id(n) in derived
                or id(n) not in depends or not applies_weight(n)):
            continue
        out = n
        while True:  # take in a bias added right after (x @ V.T + c)
            users = g.consumers[id(out)]
            if len(users) != 1 or call[id(users[0])] is not None:
                break
            others = [p for p in users[0].parents if p is not out]
            if not others or any(is_data(p) for p in others):
                break
            out = users[0]
        candidates.add(id(out))
    below: set[int] = set()  # has a candidate among its descendants
    for n in reversed(nodes):
        if any(id(u) in candidates or id(u) in below for u in g.consumers[id(n)]):
            below.add(id(n))
    output_ids = {i for i in candidates if i not in below}

    keys: list[Key] = []
    for n in nodes:
        i = id(n)
        if i in state_ids:
            keys.append(Key(n, STATE, layer=g.layer[id(call[i].module)]))
        elif i in input_ids:
            keys.append(Key(n, INPUT))
        elif n is g.root:
            keys.append(Key(n, ROOT))
        elif i in output_ids:
            keys.append(Key(n, OUTPUT))
        elif n.name is not None and is_data(n):
            keys.append(Key(n, NAMED))
    key_of = {id(k.node): j for j, k in enumerate(keys)}

    edges = _edges(keys, key_of, weights_for, derived)
    result = Contracted(g, keys, edges, params, param_index, derived)
    _place(result, key_of)
    return result


def _edges(keys, key_of, weights_for, derived) -> dict[tuple[int, int], frozenset[int]]:
    """For each key tensor, walk back through the ops it was made of until other key tensors,
    collecting the weights met on each way. A (tensor, weights so far) pair is entered once, so
    each op is visited a small, bounded number of times.

    An input computed from data outside the cells (a sequence model may apply U to all steps at
    once and slice x_t Uᵀ out of the product) is walked back to its data too: the weights met
    there label the edges out of it, where the textbook puts U."""
    edges: dict[tuple[int, int], frozenset[int]] = {}
    upstream: dict[int, frozenset[int]] = {}  # key index -> weights met before it (inputs only)
    for j, key in enumerate(keys):
        if key.node.op is None:
            continue
        stack = [(key.node, frozenset())]
        seen: set[tuple[int, frozenset[int]]] = set()
        while stack:
            n, carried = stack.pop()
            for i, p in enumerate(n.parents):
                met = carried | weights_for(n, i)
                source = key_of.get(id(p))
                if source is not None:
                    edges[(source, j)] = edges.get((source, j), frozenset()) | met
                elif p.op is None:
                    if key.role == INPUT:  # reached the data this input was computed from
                        upstream[j] = upstream.get(j, frozenset()) | met
                elif id(p) not in derived and (id(p), met) not in seen:
                    seen.add((id(p), met))
                    stack.append((p, met))
    for (s, t), w in edges.items():
        if s in upstream:
            edges[(s, t)] = w | upstream[s]
    return dict(sorted(edges.items(), key=lambda e: (e[0][1], e[0][0])))  # by target, then source


def _place(c: Contracted, key_of: dict[int, int]) -> None:
    """Steps, layers and slots of the key tensors; initial states told apart from inputs."""
    g, keys = c.walk, c.keys
    sources: dict[int, list[int]] = {}
    targets: dict[int, list[int]] = {}
    for (s, t) in c.edges:
        sources.setdefault(t, []).append(s)
        targets.setdefault(s, []).append(t)

    # States: step of their call; slot = order among the states of the same call.
    per_call: dict[int, int] = {}
    for k in keys:
        if k.role == STATE:
            call = g.call[id(k.node)]
            k.step = k.sub = g.step[id(call)]
            k.slot = per_call.get(id(call), 0)
            per_call[id(call)] = k.slot + 1

    # Weights on the recurrence of each layer: (from slot, to slot) -> weights, from state to state.
    recurrent: dict[int, set[tuple[int, int, frozenset[int]]]] = {}
    for (s, t), w in c.edges.items():
        a, b = keys[s], keys[t]
        if a.role == STATE and b.role == STATE and a.layer == b.layer and a.step != b.step:
            recurrent.setdefault(a.layer, set()).add((a.slot, b.slot, w))

    for j, k in enumerate(keys):
        if k.role != INPUT:
            continue
        outs = [keys[t] for t in targets.get(j, []) if keys[t].role == STATE]
        if not outs:
            continue
        k.step = min(o.step for o in outs)
        k.sub = k.step
        slot = _initial_slot(j, outs, targets.get(j, []), c, recurrent, g)
        if slot is not None:
            k.role, k.layer, k.slot, k.sub, k.step = INIT, outs[0].layer, slot, k.step - 1, None

    # Outputs and named tensors sit in a step when everything they come from does.
    for j, k in enumerate(keys):
        if k.role in (OUTPUT, NAMED):
            steps = {keys[s].step for s in sources.get(j, [])}
            steps.discard(None)
            if len(steps) == 1:
                k.step = k.sub = steps.pop()


def _initial_slot(j, outs, target_ids, c: Contracted, recurrent, g) -> int | None:
    """The state slot an input stands for, if it enters its cell the way a previous state does."""
    layers = {o.layer for o in outs}
    if len(layers) != 1:
        return None
    layer = layers.pop()
    patterns = recurrent.get(layer)
    if not patterns:  # a single step: only the shapes can tell
        cell = g.cells[layer - 1]
        hidden, inp = getattr(cell, "hidden_size", None), getattr(cell, "input_size", None)
        shape = c.keys[j].node.shape
        return 0 if hidden != inp and shape and shape[-1] == hidden else None
    slots: set[int] | None = None
    for t in target_ids:
        o = c.keys[t]
        if o.role != STATE:
            continue
        w = c.edges[(j, t)]
        fits = {a for (a, b, pw) in patterns if b == o.slot and pw == w}
        slots = fits if slots is None else slots & fits
    return min(slots) if slots else None
