"""Contracting the recorded graph to the tensors a textbook draws: inputs x_t, hidden states a_t
(h_t and c_t for an LSTM), outputs ŷ_t and the loss, with each edge labelled by the shared
weights met on the way (U on x_t -> a_t, W on a_{t-1} -> a_t, V on a_t -> ŷ_t).

How each role is found from the graph alone:
- hidden state: made inside a recurrent-cell call and used outside it (or kept by the cell with
  `retain`, or the root);
- input: data entering a cell call from outside that is no parameter, no constant (0-d) and does
  not depend on a hidden state (or each call's slice of one such tensor of all steps); data joined
  to a fed-back output (`concat([x_t, ŷ_{t-1}])`) is an input too. Slices of one tensor with the
  same index (`xs[t]` read by two cells) are one input, drawn once;
- output ŷ: outside every cell, computed from a hidden state by an op that applies a weight to it
  (plus any bias added right after), and the last such tensor before the loss or the next step;
- tensors the user named, and the root.
Only what reaches the root is kept: where the loss reads some entries of a stack of outputs
(`outs[-1]`), the walk back follows those entries alone (getitem's `index` option).

A weight labels an edge when it multiplies the data on that way: W in linear(a, W, ...) or in
a @ W.T labels the edge from a, not an addend of the same op; biases are listed in the legend only.
Where each key tensor goes in time is timeline.py's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd import Scope
from ..nn.layers import Embedding
from .walk import Walk

INPUT, STATE, INIT, OUTPUT, ROOT, NAMED = "input", "state", "init", "output", "root", "named"



# ops that compute x wᵀ + b (then perhaps φ of it): the weight w labels the way from x
LINEAR_OPS = ("linear", "linear_tanh", "linear_relu")

@dataclass
class Key:
    node: object
    role: str
    step: tuple[int, int] | None = None  # (phase, column from 1); None: outside every step
    sub: int | None = None               # the subscript shown (an initial state shows the step before)
    call: Scope | None = None            # states: the cell call that made it
    group: int | None = None             # states and initial states: index into Contracted.groups
    slot: int = 0                        # states: position among the states one call returns (LSTM: c 0, h 1)
    merged: list = field(default_factory=list)  # other nodes drawn as this one (the same slice of one tensor)


@dataclass
class Contracted:
    walk: Walk
    keys: list[Key]                                   # in graph order
    edges: dict[tuple[int, int], frozenset[int]]      # (key index, key index) -> weight indices
    params: list                                      # every parameter node met, in graph order
    param_index: dict[int, int]                       # id(parameter node) -> index in params
    derived: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(op of params only) -> params
    cells: list = field(default_factory=list)         # the cell modules called, in the order of first call
    cuts: list[tuple[Scope, Scope]] = field(default_factory=list)  # (call, later call) across a detach()
    # filled in by timeline.place:
    groups: list = field(default_factory=list)        # timeline.Group per (cell, phase, direction)
    phases: list[str] = field(default_factory=list)   # phase names, in drawing order
    columns: dict[int, int] = field(default_factory=dict)  # phase -> number of columns
    role_phases: dict[str, set[int]] = field(default_factory=dict)  # role -> phases with such keys


def _inside_embedding(n) -> bool:
    scope = n.scope
    while scope is not None:
        if isinstance(scope.module, Embedding):
            return True
        scope = scope.parent
    return False


def _index_key(index):
    """A hashable stand-in for a getitem index, or None where two indices cannot be compared cheaply."""
    if isinstance(index, (int, np.integer)):
        return ("int", int(index))
    if isinstance(index, slice):
        return ("slice", index.start, index.stop, index.step)
    if index is None or index is Ellipsis:
        return ("special", repr(index))
    if isinstance(index, np.ndarray):
        return ("array", index.dtype.str, index.shape, index.tobytes()) if index.size <= 64 else None
    if isinstance(index, tuple):
        parts = tuple(_index_key(i) for i in index)
        return None if any(p is None for p in parts) else ("tuple", parts)
    return None


def stack_entries(index, axis: int, count: int) -> tuple[int, ...] | None:
    """Which of a stack's `count` entries `stack(...)[index]` reads (stacked along `axis`), or None
    when the index may read all of them (or is not understood)."""
    parts = index if isinstance(index, tuple) else (index,)
    if len(parts) <= axis:
        return None
    for part in parts[:axis]:
        if not (isinstance(part, slice) and part == slice(None)):
            return None
    part = parts[axis]
    if isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        return (int(part) % count,) if -count <= part < count else None
    if isinstance(part, slice):
        return tuple(range(count)[part])
    if isinstance(part, np.ndarray) and part.ndim == 1 and part.dtype.kind in "iu":
        if part.size and (part.min() < -count or part.max() >= count):
            return None
        return tuple(sorted({int(i) % count for i in part}))
    return None


def contract(g: Walk) -> Contracted:
    """The key tensors of the walked graph and the weighted edges between them. Their places in
    time come after, from timeline.place (see reading.read)."""
    nodes, call = g.nodes, g.call
    # The cell modules, in the order they were first called.
    first_call: dict[int, tuple[int, object]] = {}
    for n in nodes:
        c = call[id(n)]
        if c is not None and n.op is not None:
            known = first_call.get(id(c.module))
            if known is None or c.index < known[0]:
                first_call[id(c.module)] = (c.index, c.module)
    cells = [m for _, m in sorted(first_call.values(), key=lambda e: e[0])]

    # Parameters: the cells' own first (cell by cell, in attribute order: U, W, b), then the rest.
    rank: dict[int, int] = {}
    for cell in cells:
        for _, p in cell.named_parameters():
            rank.setdefault(id(p.node), len(rank))
    params = sorted((n for n in nodes if n.is_param), key=lambda p: rank.get(id(p), len(rank)))  # stable
    param_index = {id(p): i for i, p in enumerate(params)}

    # Ops on parameters alone (W.T, V * 2) stand for those parameters: drawn as edge labels, not nodes.
    # An embedding lookup is an op on a parameter alone too, but its result is data (an input).
    derived: dict[int, tuple[int, ...]] = {}
    for n in nodes:
        if n.op is None or _inside_embedding(n):
            continue
        met: list[int] = []
        for p in n.parents:
            if p.is_param:
                met.append(param_index[id(p)])
            elif id(p) in derived:
                met.extend(derived[id(p)])
            elif not (p.op is None and p.ndim == 0):  # a number is fine, anything else is data
                break
        else:
            if met:
                derived[id(n)] = tuple(dict.fromkeys(met))

    def is_data(n) -> bool:
        return not n.is_param and id(n) not in derived and not (n.op is None and n.ndim == 0)

    # Hidden states: made in a cell call and leaving it.
    state_ids: set[int] = set()
    for n in nodes:
        c = call[id(n)]
        if n.op is None or c is None or id(n) in derived:
            continue
        if n.retain or n is g.root or any(call[id(u)] is not c for u in g.consumers[id(n)]):
            state_ids.add(id(n))

    # Which nodes depend on a hidden state (parents come first, so one pass).
    depends: set[int] = set()
    for n in nodes:
        if id(n) in state_ids or any(id(p) in depends for p in n.parents):
            depends.add(id(n))

    # Inputs: data entering a cell call from outside (a leaf is data wherever it was made: an
    # array passed to a cell becomes a leaf inside the call). Where every call slices its own
    # step out of one tensor of all steps, the slices are the inputs x_t. A leaf made by another
    # call of the same cell is a detached state (truncated BPTT): a cut, not an input.
    input_ids: set[int] = set()
    cuts: dict[tuple[int, int], tuple[Scope, Scope]] = {}
    shared: dict[int, bool] = {}  # id(data) -> used by more than one call

    def used_by_several_calls(p) -> bool:
        if id(p) not in shared:
            shared[id(p)] = len({id(call[id(u)]) for u in g.consumers[id(p)]}) > 1
        return shared[id(p)]

    def enter(n, p, c) -> None:
        """Parent p of op n (in call c) entering the call."""
        if p.op is None:
            made_by = call[id(p)]
            if made_by is not None and made_by is not c and made_by.module is c.module:
                cuts[(id(made_by), id(c))] = (made_by, c)
                return
        slice_of_all = n.op == "getitem" and len(n.parents) == 1 and used_by_several_calls(p)
        input_ids.add(id(n) if slice_of_all else id(p))

    for n in nodes:
        c = call[id(n)]
        if n.op is None or c is None:
            continue
        for p in n.parents:
            if id(p) in state_ids or id(p) in input_ids or not is_data(p):
                continue
            if p.op is None or (call[id(p)] is not c and id(p) not in depends):
                enter(n, p, c)
            elif call[id(p)] is None and p.op == "concatenate":
                # concat([x_t, ŷ_{t-1}]): the data joined to what is fed back is an input too
                for q in p.parents:
                    if is_data(q) and id(q) not in depends and id(q) not in state_ids:
                        input_ids.add(id(q))

    # Weights met on the way: a weight counts for the data it multiplies. In linear(x, W, b) that is
    # x (not b, which may be data too: a cell can fuse a_prev Wᵀ + x Uᵀ + b into one node); in
    # matmul and mul, the other operand. A parameter added (a bias) labels no edge.
    def weights_of(p) -> tuple[int, ...]:
        if p.is_param:
            found: tuple[int, ...] = (param_index[id(p)],)
        else:
            found = derived.get(id(p), ())
        return tuple(i for i in found if params[i].ndim >= 2)

    def weights_for(n, i: int) -> frozenset[int]:
        """The weights a path entering op n through its parent i meets at n."""
        parents = n.parents
        if n.op in LINEAR_OPS:
            return frozenset(weights_of(parents[1])) if i == 0 else frozenset()
        if n.op in ("matmul", "mul"):
            return frozenset(w for k, p in enumerate(parents) if k != i for w in weights_of(p))
        return frozenset()

    # Outputs ŷ: a weight applied to something computed from a hidden state, outside the cells.
    def applies_weight(n) -> bool:
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
    # A candidate followed by another one outside the cells (a head of two layers) is not the
    # output; one read back by the next step (ŷ_{t-1} fed to the cell) still is.
    below: set[int] = set()
    for n in reversed(nodes):
        if any(call[id(u)] is None and (id(u) in candidates or id(u) in below) for u in g.consumers[id(n)]):
            below.add(id(n))
    output_ids = {i for i in candidates if i not in below}

    keys: list[Key] = []
    key_of: dict[int, int] = {}
    same_slice: dict[tuple, int] = {}  # (id(sliced node), index) -> key of that input
    for n in nodes:
        i = id(n)
        if i in state_ids:
            key = Key(n, STATE, call=call[i])
        elif i in input_ids:
            if n.op == "getitem" and len(n.parents) == 1:
                index = _index_key(n.options.get("index"))
                if index is not None:
                    first = same_slice.setdefault((id(n.parents[0]), index), len(keys))
                    if first != len(keys):  # xs[t] again: the same x_t, drawn once
                        key_of[i] = first
                        keys[first].merged.append(n)
                        continue
            key = Key(n, INPUT)
        elif n is g.root:
            key = Key(n, ROOT)
        elif i in output_ids:
            key = Key(n, OUTPUT)
        elif n.name is not None and is_data(n):
            key = Key(n, NAMED)
        else:
            continue
        key_of[i] = len(keys)
        keys.append(key)

    edges = _edges(keys, key_of, weights_for, derived)
    keys, edges = _reaching_root(keys, edges)
    result = Contracted(g, keys, edges, params, param_index, derived, cells, list(cuts.values()))
    return result


def _edges(keys, key_of, weights_for, derived) -> dict[tuple[int, int], frozenset[int]]:
    """For each key tensor, walk back through the ops it was made of until other key tensors,
    collecting the weights met on each way. A (node, weights so far) pair is entered once, so
    each op is visited a small, bounded number of times. Where an op takes entries out of a stack
    (`outs[-1]`), only those entries are followed.

    An input computed from data outside the cells (a sequence model may apply U to all steps at
    once and slice x_t Uᵀ out of the product) is walked back to its data too: the weights met
    there label the edges out of it, where the textbook puts U."""
    edges: dict[tuple[int, int], frozenset[int]] = {}
    upstream: dict[int, frozenset[int]] = {}  # key index -> weights met before it (inputs only)
    for j, key in enumerate(keys):
        for start in [key.node, *key.merged]:
            if start.op is None:
                continue
            stack: list[tuple[object, frozenset, tuple | None]] = [(start, frozenset(), None)]
            seen: set[tuple] = set()
            while stack:
                n, carried, entries = stack.pop()
                parents = n.parents if entries is None else [n.parents[k] for k in entries]
                for i, p in enumerate(parents):
                    met = carried | (weights_for(n, i) if entries is None else frozenset())
                    source = key_of.get(id(p))
                    if source is not None:
                        if source != j:
                            edges[(source, j)] = edges.get((source, j), frozenset()) | met
                    elif p.op is None:
                        if key.role == INPUT:  # reached the data this input was computed from
                            upstream[j] = upstream.get(j, frozenset()) | met
                    elif id(p) not in derived:
                        picked = None
                        if n.op == "getitem" and p.op == "stack":
                            picked = stack_entries(n.options.get("index"), p.options.get("axis", 0), len(p.parents))
                        if (id(p), met, picked) not in seen:
                            seen.add((id(p), met, picked))
                            stack.append((p, met, picked))
    for (s, t), w in edges.items():
        if s in upstream:
            edges[(s, t)] = w | upstream[s]
    return dict(sorted(edges.items(), key=lambda e: (e[0][1], e[0][0])))  # by target, then source


def _reaching_root(keys: list[Key], edges: dict) -> tuple[list[Key], dict]:
    """Only the key tensors with a way to the root (the last key): an output the loss does not
    read (ŷ_1 .. ŷ_{T-1} when the loss takes outs[-1]) is left out, with its edges."""
    root = len(keys) - 1
    into: dict[int, list[int]] = {}
    for (s, t) in edges:
        into.setdefault(t, []).append(s)
    reach, stack = {root}, [root]
    while stack:
        for s in into.get(stack.pop(), []):
            if s not in reach:
                reach.add(s)
                stack.append(s)
    if len(reach) == len(keys):
        return keys, edges
    new = {old: i for i, old in enumerate(sorted(reach))}
    kept = [keys[old] for old in sorted(reach)]
    return kept, {(new[s], new[t]): w for (s, t), w in edges.items() if s in new and t in new}
