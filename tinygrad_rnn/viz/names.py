"""Names for the drawn things: state symbols per cell, labels and DOT ids of key tensors, and the
display names of parameters (by textbook role where the attribute name says nothing)."""
from __future__ import annotations

import re

from ..nn.module import Module
from .contract import INIT, INPUT, NAMED, OUTPUT, ROOT, STATE, Contracted, Key
from .style import escape, symbol, user_name

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_LETTER_SUPERSCRIPT = {"a": "ᵃ", "g": "ᵍ", "h": "ʰ", "s": "ˢ", "z": "ᶻ", "q": "ᑫ", "u": "ᵘ", "c": "ᶜ"}
_FOR_LATER_PHASES = ("s", "z", "q", "u")     # a decoder's state, when its usual symbol is taken
GENERIC = (None, "weight", "bias", "")       # parameter names that say nothing about the role
OUTPUT_BIAS_BESIDE_CELL_STATE = "b_y"        # the output bias where c_t is an LSTM's cell state


def state_symbols(cell) -> tuple[str, ...]:
    """Symbols of the states one call of `cell` returns, in the order they are computed."""
    kind = type(cell).__name__
    if kind == "LSTMCell":
        return ("c", "h")  # c is computed first; h = o ⊙ tanh(c)
    if kind == "GRUCell":
        return ("h",)
    return ("a",)


def assign_symbols(c: Contracted) -> None:
    """Distinct symbols for distinct cells: h forward and g backward in a bidirectional phase, s for a
    decoder whose usual symbol an earlier phase took, primes on a second cell state; the layer as a
    superscript where cells are stacked."""
    used_main: set[str] = set()      # main symbols of the earlier phases
    used_other: set[str] = set()     # every other state symbol so far
    for phase in range(len(c.phases)):
        groups = [g for g in c.groups if g.phase == phase]
        two_ways = any(g.backward for g in groups)
        stacked = any(g.depth > 1 for g in groups)
        renamed: dict[str, str] = {}
        taken_here: set[str] = set()
        taken_rows: set[tuple[str, int]] = set()
        for g in sorted(groups, key=lambda g: (g.backward, g.depth)):
            base = state_symbols(g.module)
            main = ("g" if g.backward else "h") if two_ways else base[-1]
            if main in used_main:
                if main not in renamed:
                    renamed[main] = next(s for s in _FOR_LATER_PHASES if s not in used_main | taken_here)
                main = renamed[main]
            while (main, g.depth if stacked else 0) in taken_rows:  # one cell drawn in two rows
                main += "′"
            taken_rows.add((main, g.depth if stacked else 0))
            taken_here.add(main)
            others = []
            for s in base[:-1]:
                if g.backward or phase > 0:
                    while s in used_other:
                        s += "′"
                others.append(s)
                used_other.add(s)
            g.symbols = (*others, main)
            g.mark = f"({g.depth})" if stacked else None
        used_main |= taken_here


def _state_symbol(c: Contracted, key: Key) -> str:
    symbols = c.groups[key.group].symbols
    return symbols[key.slot] if key.slot < len(symbols) else f"{symbols[-1]}{key.slot}"


def _primes(c: Contracted, key: Key) -> str:
    """Inputs and outputs of a later phase are primed (x′, ŷ′) where an earlier phase has its own."""
    if key.step is None or key.step[0] == 0:
        return ""
    if not c.role_phases:
        for k in c.keys:
            if k.step is not None:
                c.role_phases.setdefault(k.role, set()).add(k.step[0])
    return "′" * sum(1 for p in c.role_phases.get(key.role, ()) if p < key.step[0])


def key_symbol(c: Contracted, key: Key) -> str:
    """The plain symbol of a key tensor (what the folded view shows): x, a, h, c, ŷ, L."""
    if key.role in (STATE, INIT):
        return _state_symbol(c, key)
    if key.role in (INPUT, OUTPUT):
        return {INPUT: "x", OUTPUT: "ŷ"}[key.role] + _primes(c, key)
    return {ROOT: "L"}.get(key.role, key.node.name or "?")


def key_label(c: Contracted, key: Key) -> str:
    """HTML-like label body; a user's own name wins over the automatic one."""
    if key.node.name:
        return user_name(key.node.name)
    if key.role == ROOT and key.node.size != 1:
        return escape("output")
    sup = c.groups[key.group].mark if key.role in (STATE, INIT) else None
    return symbol(key_symbol(c, key), key.sub, sup, italic=key.role != ROOT)


def _ascii(sym: str) -> str:
    return sym.replace("ŷ", "yhat").replace("′", "p")


def key_ids(c: Contracted) -> list[str]:
    """Readable, unique DOT ids: x_1, a_1, yhat_1, L (layers: a1_3, a2_3; later phases: s_1, xp_1)."""
    ids, used = [], set()
    for key in c.keys:
        if key.role in (STATE, INIT):
            group = c.groups[key.group]
            base = _ascii(_state_symbol(c, key)) + (str(group.depth) if group.mark else "")
        elif key.role == NAMED or (key.role == ROOT and key.node.name):
            base = re.sub(r"\W", "_", key.node.name or "t") or "t"
            if base == "note" or base.startswith(("elided", "legend")):  # ids the views use themselves
                base = "t_" + base
        elif key.role == ROOT:
            base = "L"
        else:
            base = _ascii(key_symbol(c, key))
        name = base if key.sub is None or key.role in (NAMED, ROOT) else f"{base}_{key.sub}"
        ids.append(_unused(name, used, "_"))
    return ids


# ----------------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------------
def _users(c: Contracted, p) -> list:
    """The ops that use parameter p, through ops on parameters alone (W.T) too."""
    g = c.walk
    found, stack, seen = [], [p], {id(p)}
    while stack:
        for u in g.consumers[id(stack.pop())]:
            if id(u) in seen:
                continue
            seen.add(id(u))
            (stack if id(u) in c.derived else found).append(u)
    return found


def _roles(c: Contracted) -> list[str | None]:
    """The textbook role of each parameter, from the edges its weight labels (U input→state,
    W state→state in one cell, V state→output) or, for a bias, from where it is added."""
    keys = c.keys
    seen: dict[int, set[str]] = {}
    for (s, t), weights in c.edges.items():
        a, b = keys[s], keys[t]
        if b.role == STATE and a.role == STATE:
            role = "W" if a.group == b.group else "U"
        elif b.role == STATE and a.role in (INIT,):
            role = "W"
        elif b.role == STATE:
            role = "U"
        elif b.role == OUTPUT:
            role = "V"
        else:
            continue
        for w in weights:
            seen.setdefault(w, set()).add(role)
    call = c.walk.call
    roles: list[str | None] = []
    for i, p in enumerate(c.params):
        if i in seen:
            found = seen[i]
            roles.append(next(iter(found)) if len(found) == 1 else None)
        elif p.ndim == 1:
            inside = [u for u in _users(c, p) if call[id(u)] is not None]
            roles.append("b" if inside else "c")
        else:
            roles.append(None)
    return roles


def attribute_names(c: Contracted) -> list[str | None]:
    """Where each parameter lives, as `Class.attribute` of the outermost module call that owns it:
    RNN.cells.0.U, Linear.weight, Model.head.bias."""
    owned: dict[int, dict[int, str]] = {}  # id(module) -> id(parameter node) -> dotted name

    def owner_names(module) -> dict[int, str]:
        if id(module) not in owned:
            owned[id(module)] = {id(q.node): name for name, q in module.named_parameters()}
        return owned[id(module)]

    names: list[str | None] = []
    for p in c.params:
        found = None
        for u in _users(c, p):
            chain, scope = [], u.scope
            while scope is not None:
                chain.append(scope)
                scope = scope.parent
            for s in reversed(chain):  # outermost first
                if isinstance(s.module, Module):
                    name = owner_names(s.module).get(id(p))
                    if name is not None:
                        found = f"{type(s.module).__name__}.{name}"
                        break
            if found:
                break
        names.append(found)
    return names


def param_names(c: Contracted) -> list[str]:
    """Display names of the parameters: the user's own (U, W, V, b_hn), else the textbook role of
    a generic one (a Linear head's weight and bias are V and c). The output bias is b_y where c
    is an LSTM's cell state. Names used by several get the cell's symbol (Uʰ, Uᵍ) or layer (U¹, U²)."""
    roles = _roles(c)
    cell_state_c = any("c" in g.symbols for g in c.groups)
    bases = []
    for p, role in zip(c.params, roles):
        base = p.name if p.name not in GENERIC else (role or "θ")
        if cell_state_c and base == "c" and role == "c":
            base = OUTPUT_BIAS_BESIDE_CELL_STATE
        bases.append(base)
    owners = _owner_groups(c)
    counts: dict[str, int] = {}
    for b in bases:
        counts[b] = counts.get(b, 0) + 1
    names, used = [], set()
    for i, base in enumerate(bases):
        name = base
        if counts[base] > 1 and owners[i] is not None:
            clashing = [owners[k] for k, b in enumerate(bases) if b == base and owners[k] is not None]
            group = c.groups[owners[i]]
            if len({c.groups[o].symbols[-1] for o in clashing}) == len(clashing) and \
                    group.symbols[-1] in _LETTER_SUPERSCRIPT:
                name = base + _LETTER_SUPERSCRIPT[group.symbols[-1]]
            elif group.mark:
                name = base + str(group.depth).translate(_SUPERSCRIPT)
        names.append(_unused(name, used, "#"))
    return names


def _owner_groups(c: Contracted) -> list[int | None]:
    """The group (cell in its phase and direction) whose steps use each parameter, if one does."""
    group_of_call = {id(k.call): k.group for k in c.keys if k.role == STATE}
    call = c.walk.call
    owners: list[int | None] = []
    for p in c.params:
        groups = {group_of_call.get(id(call[id(u)])) for u in _users(c, p) if call[id(u)] is not None}
        groups.discard(None)
        owners.append(min(groups) if len(groups) == 1 else None)
    return owners


def _unused(name: str, used: set, sep: str) -> str:
    """`name`, or `name<sep>2`, `name<sep>3`, ... the first not in `used`; records it as used."""
    unique, n = name, 2
    while unique in used:
        unique, n = f"{name}{sep}{n}", n + 1
    used.add(unique)
    return unique
