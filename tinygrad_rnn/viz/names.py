"""Names for the drawn things: DOT ids, labels of key tensors and display names of parameters."""
from __future__ import annotations

import re

from .contract import INIT, INPUT, NAMED, OUTPUT, ROOT, STATE, Contracted, Key
from .style import escape, symbol, user_name

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def state_symbols(cell) -> tuple[str, ...]:
    """Symbols of the states one call of `cell` returns, in the order they are computed."""
    kind = type(cell).__name__
    if kind == "LSTMCell":
        return ("c", "h")  # c is computed first; h = o ⊙ tanh(c)
    if kind == "GRUCell":
        return ("h",)
    return ("a",)


def _state_symbol(c: Contracted, key: Key) -> str:
    symbols = state_symbols(c.walk.cells[key.layer - 1])
    return symbols[key.slot] if key.slot < len(symbols) else f"{symbols[0]}{key.slot}"


def _layer_mark(c: Contracted, key: Key) -> str | None:
    return f"({key.layer})" if len(c.walk.cells) > 1 else None


def key_symbol(c: Contracted, key: Key) -> str:
    """The plain symbol of a key tensor (what the folded view shows): x, a, h, c, ŷ, L."""
    if key.role in (STATE, INIT):
        return _state_symbol(c, key)
    return {INPUT: "x", OUTPUT: "ŷ", ROOT: "L"}.get(key.role, key.node.name or "?")


def key_label(c: Contracted, key: Key) -> str:
    """HTML-like label body; a user's own name wins over the automatic one."""
    if key.node.name:
        return user_name(key.node.name)
    if key.role == ROOT and key.node.size != 1:
        return escape("output")
    sup = _layer_mark(c, key) if key.role in (STATE, INIT) else None
    return symbol(key_symbol(c, key), key.sub, sup, italic=key.role != ROOT)


def key_ids(c: Contracted) -> list[str]:
    """Readable, unique DOT ids: x_1, a_1, yhat_1, L (layers: a1_3, a2_3)."""
    ids, used = [], set()
    multi = len(c.walk.cells) > 1
    for key in c.keys:
        if key.role in (STATE, INIT):
            base = _state_symbol(c, key) + (str(key.layer) if multi else "")
        elif key.role == NAMED or (key.role == ROOT and key.node.name):
            base = re.sub(r"\W", "_", key.node.name or "t") or "t"
            if base == "note" or base.startswith(("elided", "legend")):  # ids the views use themselves
                base = "t_" + base
        else:
            base = {INPUT: "x", OUTPUT: "yhat", ROOT: "L"}[key.role]
        name = base if key.sub is None or key.role in (NAMED, ROOT) else f"{base}_{key.sub}"
        ids.append(_unused(name, used, "_"))
    return ids


def param_names(c: Contracted) -> list[str]:
    """Display names of the parameters; names used by several (one per layer) get the layer: U¹, U²."""
    owner: dict[int, int] = {}
    for layer, cell in enumerate(c.walk.cells, start=1):
        for value in vars(cell).values():
            if getattr(value, "is_param", False):
                owner.setdefault(id(value.node), layer)
    bases = [p.name or "θ" for p in c.params]
    counts: dict[str, int] = {}
    for b in bases:
        counts[b] = counts.get(b, 0) + 1
    names, used = [], set()
    for p, base in zip(c.params, bases):
        name = base
        if counts[base] > 1 and id(p) in owner:
            name = base + str(owner[id(p)]).translate(_SUPERSCRIPT)
        names.append(_unused(name, used, "#"))
    return names


def _unused(name: str, used: set, sep: str) -> str:
    """`name`, or `name<sep>2`, `name<sep>3`, ... the first not in `used`; records it as used."""
    unique, n = name, 2
    while unique in used:
        unique, n = f"{name}{sep}{n}", n + 1
    used.add(unique)
    return unique
