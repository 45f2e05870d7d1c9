"""The folded view: the recurrence drawn once, as in the textbook's left-hand figure: x -> a (U),
a -> a (W, the self-loop), a -> ŷ (V), ŷ -> L."""
from __future__ import annotations

import graphviz

from .common import ROLE_TINT, ROWS_DIRECTION, attach_legend, grad_norms, new_graph, rows_of, stacked, weights_label
from .contract import INPUT, OUTPUT, ROOT, STATE, Contracted
from .names import key_label, key_symbol, param_names
from .style import ROLE_TINTS, escape, format_norm, html_label, symbol


def folded(c: Contracted, show_grads: bool, rankdir: str) -> graphviz.Digraph:
    """One node per kind of tensor (x, a per layer, ŷ, L); the recurrence is a self-loop. With
    show_grads a hidden state shows the smallest and largest ‖∂L/∂a_t‖ over the steps."""
    names, rows = param_names(c), rows_of(c)
    norms = grad_norms(c, lambda j: True) if show_grads else {}
    multi = len(c.walk.cells) > 1
    cls: dict[int, tuple] = {}
    for j, k in enumerate(c.keys):
        if k.role == INPUT:
            cls[j] = ("x",)
        elif k.role == STATE:
            cls[j] = ("state", k.layer, k.slot)
        elif k.role == OUTPUT:
            cls[j] = ("yhat",)
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
        node_id = {"x": "x", "yhat": "yhat", "L": "L"}.get(key[0]) or sym + (str(k.layer) if multi else "")
        ids[key] = node_id
        row_of[key] = rows[j]
        sup = f"({k.layer})" if multi and k.role == STATE else None
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
        elif row_of[a] > row_of[b]:  # back down the rows (LSTM: h -> c): written head first
            dot.edge(ids[b], ids[a], dir="back", **attrs)
            continue
        dot.edge(ids[a], ids[b], **attrs)
    attach_legend(dot, names, c, None)
    return dot
