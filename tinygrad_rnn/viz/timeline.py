"""Time from the data flow: which column (time step) and which phase each cell call belongs to.

A step is placed by what it reads and what reads it, never by counting a cell's calls:
- a call that reads a state made by an earlier call of the same cell (directly, through a
  fed-back output ŷ_{t-1}, or across a detach()) is the next step of that call's chain;
- two calls that read the same input x_t share its column; so do a call and the call of another
  cell whose states it reads step by step (stacked layers), and two calls whose states one output
  reads (ŷ_t = V [h_t; g_t] + c). A chain whose columns run against another's is a backward
  direction;
- a chain that starts from the final state of another (and reads nothing else of it) is a new
  phase, with columns of its own after the other's (encoder, then decoder);
- chains that nothing relates are phases of their own, in the order they were computed.
Where the graph alone cannot tell, `viz.step(t)` and `viz.phase(name)` (hints.py) settle it.

Everything is computed on chains of calls, so the cost is linear in the size of the graph.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .contract import INIT, INPUT, NAMED, OUTPUT, STATE, Contracted


@dataclass
class Group:
    """The states of one cell in one phase and direction: one row of the picture (per state slot)."""
    module: object
    phase: int
    backward: bool
    depth: int = 1            # 1 + the number of cells below it (stacked layers)
    lane: int = 0             # order among the groups of one depth: forward before backward
    symbols: tuple[str, ...] = ()  # one per state slot (names.assign_symbols)
    mark: str | None = None   # the layer superscript, where layers are stacked


@dataclass
class _Chain:
    calls: list                       # in the order they ran
    direction: int = 1                # +1: columns grow along the chain; -1: a backward direction
    offset: int | None = None         # column of calls[0] (from 0 within its phase)
    block: int | None = None
    hinted: dict[int, int] = field(default_factory=dict)  # position -> column given by a hint

    def column(self, i: int) -> int:
        return self.offset + self.direction * i


def _hint_of(c: Contracted, keys_of_call: dict, call) -> tuple[int | None, str | None]:
    node = c.keys[keys_of_call[id(call)][0]].node
    return c.walk.step_hint[id(node)], c.walk.phase_hint[id(node)]


def place(c: Contracted) -> None:
    keys, edges = c.keys, c.edges
    keys_of_call: dict[int, list[int]] = {}
    calls = []
    for j, k in enumerate(keys):
        if k.role == STATE:
            if id(k.call) not in keys_of_call:
                keys_of_call[id(k.call)] = []
                calls.append(k.call)
            keys_of_call[id(k.call)].append(j)
    calls.sort(key=lambda s: s.index)
    hint = {id(s): _hint_of(c, keys_of_call, s) for s in calls}

    # -- chains: each call after the call of the same cell whose state it reads ---------------
    pred: dict[int, object] = {}
    handoffs: list[tuple[object, object]] = []  # (call, later call) where a phase hint changes

    def link(a, b) -> None:
        if a is b or a.module is not b.module or id(a) not in hint:
            return
        if hint[id(a)][1] != hint[id(b)][1]:
            handoffs.append((a, b))
            return
        if id(b) not in pred or pred[id(b)].index < a.index:
            pred[id(b)] = a

    sources: dict[int, list[int]] = {}
    targets: dict[int, list[int]] = {}
    for (s, t) in edges:
        sources.setdefault(t, []).append(s)
        targets.setdefault(s, []).append(t)
    for (s, t) in edges:
        if keys[s].role == STATE and keys[t].role == STATE:
            link(keys[s].call, keys[t].call)
    for j, k in enumerate(keys):  # ŷ_{t-1} fed back into the next step
        if k.role == OUTPUT:
            for s in sources.get(j, []):
                for t in targets.get(j, []):
                    if keys[s].role == STATE and keys[t].role == STATE:
                        link(keys[s].call, keys[t].call)
    for a, b in c.cuts:
        if id(b) in hint:
            link(a, b)

    chains: list[_Chain] = []
    where: dict[int, tuple[int, int]] = {}  # id(call) -> (chain, position)
    relations: dict[tuple[int, int], list[tuple[int, int, int]]] = {}  # (A, B) -> (i, j, delta)

    neighbours: dict[int, list[int]] = {}

    def relate(a: int, i: int, b: int, j: int, delta: int) -> None:
        if a != b:
            if (a, b) not in relations:
                neighbours.setdefault(a, []).append(b)
                neighbours.setdefault(b, []).append(a)
            relations.setdefault((a, b), []).append((i, j, delta))
            relations.setdefault((b, a), []).append((j, i, -delta))

    for s in calls:
        p = pred.get(id(s))
        if p is not None and id(p) in where:
            ch, pos = where[id(p)]
            if pos == len(chains[ch].calls) - 1:
                where[id(s)] = (ch, pos + 1)
                chains[ch].calls.append(s)
                continue
            chains.append(_Chain([s]))  # a second state read from one step: a branch, one step later
            where[id(s)] = (len(chains) - 1, 0)
            relate(ch, pos, len(chains) - 1, 0, 1)
            continue
        chains.append(_Chain([s]))
        where[id(s)] = (len(chains) - 1, 0)
    for ch in chains:
        for i, s in enumerate(ch.calls):
            if hint[id(s)][0] is not None:
                ch.hinted[i] = hint[id(s)][0]

    def chain_pos(j: int) -> tuple[int, int]:
        return where[id(keys[j].call)]

    # -- relations between chains ---------------------------------------------------------------
    reads: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (A, B): B's calls read A's states
    for (s, t) in edges:
        if keys[s].role == STATE and keys[t].role == STATE:
            (a, i), (b, j) = chain_pos(s), chain_pos(t)
            if a != b:
                reads.setdefault((a, b), []).append((i, j))
    phase_after: list[tuple[int, int]] = []
    stacked_on: dict[int, set[int]] = {}
    for (a, b), pairs in reads.items():
        last = len(chains[a].calls) - 1
        names = {hint[id(chains[a].calls[i])][1] for i, _ in pairs} | {hint[id(chains[b].calls[j])][1]
                                                                        for _, j in pairs}
        starts_from_final = all(i == last for i, _ in pairs) and (last > 0 or len(chains[b].calls) > 1)
        if starts_from_final or len(names) > 1:
            phase_after.append((a, b))
            continue
        stacked_on.setdefault(b, set()).add(a)
        for i, j in pairs:
            relate(a, i, b, j, 0)
    for a, b in handoffs:
        phase_after.append((where[id(a)][0], where[id(b)][0]))
    _initial_states(c, chains, where, sources, targets)
    for j, k in enumerate(keys):
        if k.role in (INPUT, OUTPUT):  # one x_t read by several chains; one ŷ_t reading several
            ends = targets.get(j, []) if k.role == INPUT else sources.get(j, [])
            places = sorted({chain_pos(e) for e in ends if keys[e].role == STATE})
            for (a, i), (b, jj) in zip(places, places[1:]):
                if a != b and hint[id(chains[a].calls[i])][1] == hint[id(chains[b].calls[jj])][1]:
                    relate(a, i, b, jj, 0)

    # -- columns: each block of related chains placed from its first chain ----------------------
    blocks: list[list[int]] = []
    for start in range(len(chains)):
        if chains[start].block is not None:
            continue
        block = len(blocks)
        blocks.append([start])
        _fix(chains[start], None)
        chains[start].block = block
        queue = [start]
        while queue:
            a = queue.pop(0)
            for b in neighbours.get(a, []):
                pairs = relations[(a, b)]
                if chains[b].block is not None:
                    continue
                wanted = [(j, chains[a].column(i) + delta) for i, j, delta in pairs]
                _fix(chains[b], wanted)
                chains[b].block = block
                blocks[block].append(b)
                queue.append(b)
        _orient(c, chains, blocks[block], where)

    # -- phases: blocks in the order their hand-offs and hints say -----------------------------
    named: dict[int, str | None] = {}
    for b, members in enumerate(blocks):
        given = [hint[id(s)][1] for m in members for s in chains[m].calls if hint[id(s)][1] is not None]
        named[b] = given[0] if given else None
    after: dict[int, set[int]] = {b: set() for b in range(len(blocks))}
    for a, b in phase_after:
        if chains[a].block != chains[b].block:
            after[chains[b].block].add(chains[a].block)
    order: list[int] = []
    left = list(range(len(blocks)))  # already in order of first call
    while left:
        ready = next((b for b in left if after[b] <= set(order)), left[0])
        order.append(ready)
        left.remove(ready)
    phases: list[list[int]] = []  # phase -> blocks
    phase_names: list[str | None] = []
    hinted_phase: dict[str | None, int] = {}  # blocks placed by step hints share their phase
    for b in order:
        hinted = all(chains[m].hinted for m in blocks[b])
        if named[b] is not None and named[b] in phase_names:
            phases[phase_names.index(named[b])].append(b)
        elif hinted and named[b] in hinted_phase:
            phases[hinted_phase[named[b]]].append(b)
        else:
            if hinted:
                hinted_phase[named[b]] = len(phases)
            phases.append([b])
            phase_names.append(named[b])
    phase_of_block = {b: p for p, bs in enumerate(phases) for b in bs}
    if len(phases) == 2 and phase_names == [None, None] and any(
            chains[a].block in phases[0] and chains[b].block in phases[1] for a, b in phase_after):
        phase_names = ["encoder", "decoder"]
    c.phases = [name if name is not None else (f"phase {p + 1}" if len(phases) > 1 else "")
                for p, name in enumerate(phase_names)]

    # columns from 0 in each phase; a hinted block keeps the columns its hints give
    for bs in phases:
        for b in bs:
            members = blocks[b]
            if any(chains[m].hinted for m in members):
                continue
            low = min(min(chains[m].column(0), chains[m].column(len(chains[m].calls) - 1)) for m in members)
            for m in members:
                chains[m].offset -= low

    # -- groups: one per cell, phase and direction -----------------------------------------------
    # A second chain of one cell over columns the first already fills (the cell run twice over
    # the same inputs) gets a row of its own.
    group_of: dict[tuple, list[tuple[int, set[int]]]] = {}
    chain_group: dict[int, int] = {}
    for m, ch in enumerate(chains):
        gk = (id(ch.calls[0].module), phase_of_block[ch.block], ch.direction < 0)
        cols = {ch.column(i) for i in range(len(ch.calls))}
        rows = group_of.setdefault(gk, [])
        free = next((r for r in rows if not (r[1] & cols)), None)
        if free is None:
            free = (len(c.groups), set())
            rows.append(free)
            c.groups.append(Group(ch.calls[0].module, gk[1], gk[2]))
        free[1].update(cols)
        chain_group[m] = free[0]
    for m in range(len(chains)):  # chains come in creation order: the cells below come first
        below = [c.groups[chain_group[a]].depth for a in stacked_on.get(m, ())]
        group = c.groups[chain_group[m]]
        group.depth = max(group.depth, 1 + max(below, default=0))
    lanes: dict[tuple[int, int], list[int]] = {}
    for gi, group in sorted(enumerate(c.groups), key=lambda e: (e[1].backward, e[0])):
        lane = lanes.setdefault((group.phase, group.depth), [])
        group.lane = len(lane)
        lane.append(gi)

    # -- the keys ---------------------------------------------------------------------------------
    columns: dict[int, int] = {}
    for j, k in enumerate(keys):
        if k.role == STATE:
            m, i = chain_pos(j)
            p, col = phase_of_block[chains[m].block], chains[m].column(i) + 1
            k.step, k.sub, k.group = (p, col), col, chain_group[m]
            k.slot = keys_of_call[id(k.call)].index(j)
            columns[p] = max(columns.get(p, 0), col)
    for j, k in enumerate(keys):
        if k.role == INIT:
            first = keys[k.group]  # _initial_states left the first state's key index here
            m, _ = chain_pos(k.group)
            k.group = chain_group[m]
            k.sub = first.sub - chains[m].direction
        elif k.role == INPUT:
            steps = sorted(keys[t].step for t in targets.get(j, []) if keys[t].role == STATE)
            if steps:
                k.step = steps[0]
                k.sub = k.step[1]
    for j, k in enumerate(keys):
        if k.role in (OUTPUT, NAMED):
            steps = {keys[s].step for s in sources.get(j, [])}
            steps.discard(None)
            if len(steps) == 1:
                k.step = steps.pop()
                k.sub = k.step[1]
    c.columns = columns


def _fix(chain: _Chain, wanted: list[tuple[int, int]] | None) -> None:
    """Direction and offset of a chain: from its hints, else from the columns other chains want for
    some of its calls (position, column), else forward from column 0."""
    if chain.hinted:
        pos = sorted(chain.hinted)
        chain.direction = -1 if len(pos) > 1 and chain.hinted[pos[1]] < chain.hinted[pos[0]] else 1
        chain.offset = chain.hinted[pos[0]] - chain.direction * pos[0]
        return
    if not wanted:
        chain.direction, chain.offset = 1, 0
        return
    tally: Counter = Counter()
    for direction in (1, -1):
        for j, col in wanted:
            tally[(direction, col - direction * j)] += 1
    if len({j for j, _ in wanted}) < 2:  # one call tells no direction: forward
        j, col = wanted[0]
        chain.direction, chain.offset = 1, col - j
        return
    (chain.direction, chain.offset), _ = max(tally.items(), key=lambda e: (e[1], e[0][0]))


def _orient(c: Contracted, chains: list[_Chain], members: list[int], where) -> None:
    """The chain that ran first is forward, unless the inputs say otherwise: where they are slices
    xs[t] of one tensor and the columns fall as t grows, the whole block is turned round."""
    if len(members) < 2 or any(chains[m].hinted for m in members):
        return
    keys = c.keys
    placed = set()
    for (s, t) in c.edges:
        if keys[s].role == INPUT and keys[t].role == STATE and id(keys[t].call) in where:
            m, i = where[id(keys[t].call)]
            t_index = _slice_position(keys[s].node)
            if m in members and t_index is not None:
                placed.add((t_index, chains[m].column(i)))
    placed = sorted(placed)
    rising = sum(1 for (_, a), (_, b) in zip(placed, placed[1:]) if b > a)
    falling = sum(1 for (_, a), (_, b) in zip(placed, placed[1:]) if b < a)
    if falling > rising:
        for m in members:
            chains[m].direction, chains[m].offset = -chains[m].direction, -chains[m].offset


def _slice_position(node) -> tuple | None:
    """(id of the sliced tensor, t) for an input xs[t] (or xs[t, ...]), else None."""
    if node.op != "getitem" or len(node.parents) != 1:
        return None
    index = node.options.get("index")
    first = index[0] if isinstance(index, tuple) and index else index
    if isinstance(first, int) and not isinstance(first, bool):
        return id(node.parents[0]), first % node.parents[0].shape[0] if node.parents[0].ndim else first
    return None


def _initial_states(c: Contracted, chains: list[_Chain], where, sources, targets) -> None:
    """Inputs that enter a chain's first call the way a previous state does become its initial
    state (a_0); the key index of that first state is parked in `group` until the groups exist."""
    keys = c.keys
    recurrent: dict[int, set[tuple[int, int, frozenset]]] = {}  # chain -> (from slot, to slot, weights)
    slot_in_call: dict[int, int] = {}
    per_call: dict[int, int] = {}
    for j, k in enumerate(keys):
        if k.role == STATE:
            slot_in_call[j] = per_call.get(id(k.call), 0)
            per_call[id(k.call)] = slot_in_call[j] + 1
    for (s, t), w in c.edges.items():
        if keys[s].role == STATE and keys[t].role == STATE:
            (a, i), (b, j) = where[id(keys[s].call)], where[id(keys[t].call)]
            if a == b and i != j:
                recurrent.setdefault(a, set()).add((slot_in_call[s], slot_in_call[t], w))
    for j, k in enumerate(keys):
        if k.role != INPUT:
            continue
        outs = [t for t in targets.get(j, []) if keys[t].role == STATE]
        places = {where[id(keys[t].call)] for t in outs}
        if len(places) != 1:
            continue
        m, pos = places.pop()
        if pos != 0:
            continue
        patterns = recurrent.get(m)
        if not patterns:  # a single step: only the shapes can tell
            cell = chains[m].calls[0].module
            hidden, inp = getattr(cell, "hidden_size", None), getattr(cell, "input_size", None)
            shape = k.node.shape
            slot = 0 if hidden != inp and shape and shape[-1] == hidden else None
        else:
            slots: set[int] | None = None
            for t in outs:
                w = c.edges[(j, t)]
                fits = {a for (a, b, pw) in patterns if b == slot_in_call[t] and pw == w}
                slots = fits if slots is None else slots & fits
            slot = min(slots) if slots else None
        if slot is not None:
            first = min(outs)
            k.role, k.slot, k.step, k.group = INIT, slot, None, first
