"""The folded view: the recurrence drawn once, as in the textbook's left-hand figure: x -> a (U),
a -> a (W, the self-loop), a -> ŷ (V), ŷ -> L."""
from __future__ import annotations

from .common import (
    ROLE_TINT,
    ROWS_DIRECTION,
    attach_legend,
    grad_norms,
    legend,
    new_graph,
    rows_of,
    stacked,
    weights_label,
)
from .contract import INPUT, OUTPUT, ROOT, STATE, Contracted
from .names import key_label, key_symbol, param_names
from .picture import Picture
from .style import ROLE_TINTS, escape, format_norm, html_label, symbol


def folded(c: Contracted, show_grads: bool, rankdir: str, title: str | None = None) -> Picture:
    """One node per kind of tensor (x, each cell's states, ŷ, L); the recurrence is a self-loop.
    With show_grads a hidden state shows the smallest and largest ‖∂L/∂a_t‖ over the steps."""
    names, rows = param_names(c), rows_of(c)
    norms = grad_norms(c, lambda j: True) if show_grads else {}
    cls: dict[int, tuple] = {}
    for j, k in enumerate(c.keys):
        if k.role == INPUT:
            cls[j] = ("x", key_symbol(c, k))
        elif k.role == STATE:
            cls[j] = ("state", k.group, k.slot)
        elif k.role == OUTPUT:
            cls[j] = ("yhat", key_symbol(c, k))
        elif k.role == ROOT:
            cls[j] = ("L",)

    dot = new_graph("folded", ROWS_DIRECTION[rankdir])
    dot.attr("node", shape="circle", style="filled", width="0.5")
    ids: dict[tuple, str] = {}
    row_of: dict[tuple, int] = {}
    for j, key in cls.items():
        if key in ids:
            continue
        k = c.keys[j]
        sym = key_symbol(c, k)
        ascii_sym = sym.replace("ŷ", "yhat").replace("′", "p")
        if k.role == STATE:
            group = c.groups[k.group]
            node_id = ascii_sym + (str(group.depth) if group.mark else "")
            sup = group.mark
        else:
            node_id, sup = {"x": ascii_sym, "yhat": ascii_sym, "L": "L"}[key[0]], None
        ids[key] = node_id
        row_of[key] = rows[j]
        attrs = {"shape": "doublecircle"} if k.role == ROOT else {}
        label = key_label(c, k) if k.role == ROOT else symbol(sym, None, sup)
        if norms and k.role == STATE:
            values = [n for j2, n in norms.items() if cls[j2] == key and n is not None]
            if values:
                label = stacked(label, f"‖∂L/∂{escape(sym)}<SUB>t</SUB>‖: {format_norm(min(values))} … "
                                        f"{format_norm(max(values))}")
                attrs["shape"] = "ellipse"
        dot.node(node_id, label=html_label(label), fillcolor=ROLE_TINTS[ROLE_TINT[k.role]], **attrs)

    merged: dict[tuple[tuple, tuple], frozenset] = {}
    for (s, t), w in c.edges.items():
        if s in cls and t in cls:
            pair = (cls[s], cls[t])
            merged[pair] = merged.get(pair, frozenset()) | w
    for (a, b), w in merged.items():
        attrs = {"label": weights_label(w, names)} if w else {}
        if a == b:
            attrs["headport"], attrs["tailport"] = ("e", "e") if rankdir == "LR" else ("s", "s")
        elif row_of[a] > row_of[b]:  # back down the rows (LSTM: h -> c; ŷ fed back): written head first
            dot.edge(ids[b], ids[a], dir="back", **attrs)
            continue
        dot.edge(ids[a], ids[b], **attrs)
    attach_legend(dot, legend(names, c, title=title))
    dot.view_name = "folded"
    return dot
