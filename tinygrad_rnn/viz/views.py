"""The three pictures, built as graphviz.Digraph objects (DOT text; no Graphviz program needed).

- unfolded: the contracted graph (x_t, a_t, ŷ_t, L), one cluster per time step, rows aligned;
- folded: the same recurrence drawn once, the hidden state with a self-loop;
- ops: every primitive op, clustered by time step, parameters drawn once.
"""
from __future__ import annotations

import graphviz

from .contract import INIT, INPUT, NAMED, OUTPUT, ROOT, STATE, Contracted
from .names import key_ids, key_label, key_symbol, param_names, state_symbols
from .style import (
    OKABE_ITO,
    ROLE_COLOURS,
    ROLE_TINTS,
    LogScale,
    escape,
    format_norm,
    grad_norm,
    html_label,
    shape_text,
    symbol,
    text_colour_on,
    viridis,
)

# The user's rankdir is the direction of time. In the textbook views Graphviz ranks are the rows
# (x, a, ŷ, L), so time running left to right means rows stacked bottom to top.
_ROWS_DIRECTION = {"LR": "BT", "TB": "LR"}
ELIDED = "elided"
_ROLE_TINT = {INPUT: "input", INIT: "state", STATE: "state", OUTPUT: "output", ROOT: "loss", NAMED: "named"}


def elided_steps(steps: list[int], max_steps: int | None) -> set[int]:
    """The steps left out so that about max_steps/2 first and last steps remain."""
    if max_steps is None or len(steps) <= max_steps:
        return set()
    head, tail = (max_steps + 1) // 2, max_steps // 2
    return set(steps[head:len(steps) - tail])


def _new_graph(name: str, rankdir: str) -> graphviz.Digraph:
    dot = graphviz.Digraph(name=name)
    dot.attr("graph", newrank="true", rankdir=rankdir, nodesep="0.3", ranksep="0.45",
             fontname="Helvetica", fontsize="12")
    dot.attr("node", fontname="Times-Roman", fontsize="14", penwidth="1.1")
    dot.attr("edge", fontname="Times-Italic", fontsize="13", arrowsize="0.7", color="#444444")
    return dot


def _weights_label(weights, names: list[str]) -> str:
    return ", ".join(names[i] for i in sorted(weights))


def _stacked(*lines: str, small_from: int = 1) -> str:
    """Lines of an HTML-like label as table rows, so a subscript never runs into the next line;
    lines from `small_from` on are set smaller."""
    rows = []
    for i, line in enumerate(lines):
        if i >= small_from:
            line = f'<FONT POINT-SIZE="9">{line}</FONT>'
        rows.append(f"<TR><TD>{line}</TD></TR>")
    return '<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="1">' + "".join(rows) + "</TABLE>"


def _rows(c: Contracted) -> dict[int, int]:
    """Row of each key tensor, bottom to top: inputs, each (layer, slot) of states, outputs, loss."""
    state_rows = sorted({(k.layer, k.slot) for k in c.keys if k.role in (STATE, INIT)})
    index = {r: i + 1 for i, r in enumerate(state_rows)}
    rows = {}
    for j, k in enumerate(c.keys):
        if k.role == INPUT:
            rows[j] = 0
        elif k.role in (STATE, INIT):
            rows[j] = index[(k.layer, k.slot)]
        elif k.role == OUTPUT:
            rows[j] = len(state_rows) + 1
        elif k.role == ROOT:
            rows[j] = len(state_rows) + 2
    return rows


def _grad_norms(c: Contracted, shown) -> dict[int, float | None]:
    states = [j for j, k in enumerate(c.keys) if k.role == STATE and shown(j)]
    if not states:
        raise ValueError("draw_graph(show_grads=True): no hidden states found in this graph "
                         "(no recurrent-cell calls); gradients through time need a cell")
    norms = {j: grad_norm(c.keys[j].node) for j in states}
    if all(n is None for n in norms.values()):
        raise ValueError("draw_graph(show_grads=True): the hidden states have no gradients yet; call "
                         "loss.backward() first (each hidden state then keeps ∂L/∂a_t in .grad)")
    return norms


def _legend(names: list[str], c: Contracted, scale: LogScale | None) -> str:
    rows = ['<TR><TD COLSPAN="2"><B>shared parameters</B></TD></TR>']
    for name, p in zip(names, c.params):
        rows.append(f'<TR><TD ALIGN="LEFT"><I>{escape(name)}</I></TD><TD ALIGN="RIGHT">{shape_text(p.shape)}</TD></TR>')
    if scale is not None:
        cells = "".join(f'<TD BGCOLOR="{viridis(i / 4)}" WIDTH="14"> </TD>' for i in range(5))
        rows.append('<TR><TD COLSPAN="2"><B>‖∂L/∂a<SUB>t</SUB>‖</B> (log scale)</TD></TR>')
        rows.append(f'<TR><TD COLSPAN="2"><TABLE BORDER="0" CELLSPACING="0"><TR>{cells}</TR></TABLE></TD></TR>')
        rows.append(f'<TR><TD ALIGN="LEFT">{format_norm(10 ** scale.low)}</TD>'
                    f'<TD ALIGN="RIGHT">{format_norm(10 ** scale.high)}</TD></TR>')
    return ('<<TABLE BORDER="1" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="#999999">'
            + "".join(rows) + "</TABLE>>")


def _attach_legend(dot: graphviz.Digraph, names: list[str], c: Contracted, scale: LogScale | None) -> None:
    """The legend is the graph's own label (bottom right): it lists each parameter once and takes
    no place in the rows of the figure."""
    if c.params or scale is not None:
        dot.attr("graph", label=_legend(names, c, scale), labelloc="b", labeljust="r", fontsize="11")


def unfolded(c: Contracted, show_grads: bool, max_steps: int | None, rankdir: str) -> graphviz.Digraph:
    keys, ids, names = c.keys, key_ids(c), param_names(c)
    steps = sorted({k.step for k in keys if k.step is not None})
    hidden = elided_steps(steps, max_steps)
    rows = _rows(c)

    def shown(j: int) -> bool:
        return keys[j].step not in hidden

    # Elided steps fold into one "… n steps …" node in the first layer's state row, where the W
    # edges run; any other row passing through them gets a small "⋯" of its own, so that every row
    # stays one chain from left to right (dot keeps the steps in order that way).
    main_row = max((rows[j] for j, k in enumerate(keys) if k.role == STATE and k.layer == 1), default=None)

    def drawn(j: int) -> tuple[str, int | None]:
        """DOT id and row of key j, or of the elision node standing for it."""
        if shown(j):
            return ids[j], rows.get(j)
        r = rows.get(j)
        if r is None or r == main_row:
            return ELIDED, main_row
        return f"{ELIDED}_{r}", r

    def time(j: int) -> float:
        sub = keys[j].sub if shown(j) else min(hidden)
        return float("inf") if sub is None else sub

    merged: dict[tuple[str, str], tuple[frozenset, int | None, int | None]] = {}
    edge_time: dict[tuple[str, str], tuple[float, float]] = {}
    for (s, t), w in c.edges.items():
        if not shown(s) and not shown(t):
            continue  # inside the elided steps
        (a, ra), (b, rb) = drawn(s), drawn(t)
        old = merged.get((a, b))
        merged[(a, b)] = ((old[0] if old else frozenset()) | w, ra, rb)
        edge_time[(a, b)] = min(edge_time.get((a, b), (float("inf"),) * 2), (time(t), time(s)))
    row_elisions = sorted({(r, n) for (a, b), (_, ra, rb) in merged.items()
                           for n, r in ((a, ra), (b, rb)) if n.startswith(ELIDED + "_")})

    norms = _grad_norms(c, shown) if show_grads else {}
    scale = LogScale([n for n in norms.values() if n is not None]) if show_grads else None

    dot = _new_graph("unfolded", _ROWS_DIRECTION[rankdir])
    dot.attr("node", shape="circle", style="filled", margin="0.03", width="0.5")
    if not c.walk.cells:
        dot.node("note", label="no recurrent-cell calls in this graph: nothing to unfold (try view='ops')",
                 shape="plaintext", style="", fontname="Helvetica", fontsize="11")

    def node_attrs(j: int) -> dict:
        k = keys[j]
        label, fill = key_label(c, k), ROLE_TINTS[_ROLE_TINT[k.role]]
        attrs = {}
        if j in norms:
            n = norms[j]
            label = _stacked(label, "no grad" if n is None else format_norm(n))
            fill = OKABE_ITO["grey"] if n is None else scale.colour(n)
            attrs["fontcolor"] = text_colour_on(fill)
            attrs["tooltip"] = f"‖∂L/∂{key_symbol(c, k)}‖ = {'no grad' if n is None else n}"
        if k.role == ROOT:
            attrs["shape"] = "doublecircle" if k.node.size == 1 else "box"
        elif k.role == NAMED:
            attrs["shape"] = "box"
            attrs["style"] = "rounded,filled"
        return {"label": html_label(label), "fillcolor": fill, **attrs}

    by_step: dict[int, list[int]] = {}
    outside: list[int] = []
    for j, k in enumerate(keys):
        if k.step is None:
            outside.append(j)
        elif shown(j):
            by_step.setdefault(k.step, []).append(j)

    # Initial states, boxed (invisibly) like a step, go before step 1. Where dot puts such a box
    # depends on where it is written: first, except when time runs downwards through one-state
    # cells (found by laying out every kind of cell both ways; a test checks it).
    initial = [j for j in outside if keys[j].role == INIT]

    def write_initial() -> None:
        with dot.subgraph(name="cluster_initial") as sub:
            sub.attr(style="invis")
            for j in initial:
                sub.node(ids[j], **node_attrs(j))

    initial_last = bool(initial) and rankdir == "TB" and all(
        len(state_symbols(c.walk.cells[keys[j].layer - 1])) == 1 for j in initial)
    if initial and not initial_last:
        write_initial()
    elision_emitted = False
    for s in steps:
        if s in hidden:
            if not elision_emitted:
                dot.node(ELIDED, label=f"… {len(hidden)} steps …", shape="box", style="dashed,rounded",
                         fontname="Helvetica", fontsize="12", width="0.8", color="#777777")
                for _, node_id in row_elisions:
                    dot.node(node_id, label="⋯", shape="plaintext", style="", fontname="Helvetica", width="0.3")
                elision_emitted = True
            continue
        with dot.subgraph(name=f"cluster_t{s}") as sub:
            sub.attr(label=f"t = {s}", style="rounded", color="#AAAAAA", fontname="Helvetica",
                     fontsize="11", fontcolor="#555555", labeljust="c")
            for j in by_step[s]:
                sub.node(ids[j], **node_attrs(j))
    if initial_last:
        write_initial()
    for j in outside:
        if keys[j].role != INIT:
            dot.node(ids[j], **node_attrs(j))

    # One row per kind of tensor, across all the step clusters (newrank lets rank=same do that),
    # listed in time order with the elision in its place: dot starts from this order.
    middle = min(hidden) if hidden else None
    placed: list[tuple[float, int, str, int]] = []
    for j, r in rows.items():
        if shown(j):
            placed.append((keys[j].sub if keys[j].sub is not None else -1, j, ids[j], r))
    if elision_emitted and main_row is not None:
        placed.append((middle, -1, ELIDED, main_row))
    for r, node_id in row_elisions:
        placed.append((middle, -1, node_id, r))
    row_members: dict[int, list[str]] = {}
    for _, _, node_id, r in sorted(placed):
        row_members.setdefault(r, []).append(node_id)
    for r in sorted(row_members):
        if len(row_members[r]) > 1:
            with dot.subgraph() as same:
                same.attr(rank="same")
                for node_id in row_members[r]:
                    same.node(node_id)

    # The elision nodes of all rows form one column, like a step of their own.
    column = sorted([(r, node_id) for r, node_id in row_elisions]
                    + ([(main_row, ELIDED)] if elision_emitted and main_row is not None else []))
    for (_, upper), (_, lower) in zip(column, column[1:]):
        dot.edge(upper, lower, style="invis")

    for (a, b), (w, ra, rb) in sorted(merged.items(), key=lambda e: edge_time[e[0]]):  # dot starts from this order
        attrs = {"label": _weights_label(w, names)} if w else {}
        if a.startswith(ELIDED) or b.startswith(ELIDED):
            attrs["style"] = "dashed"
            if ra != rb:  # between rows a dashed line stands for several kinds of edges: no label
                attrs.pop("label", None)
        # An edge back down the rows (LSTM: h_{t-1} -> c_t) is written head first with dir=back
        # (drawn the same way round): the rows keep their order, and so dot keeps the steps in order.
        if ra is not None and rb is not None and ra > rb:
            dot.edge(b, a, dir="back", **attrs)
        else:
            dot.edge(a, b, **attrs)

    _attach_legend(dot, names, c, scale)
    return dot


def folded(c: Contracted, show_grads: bool, rankdir: str) -> graphviz.Digraph:
    """One node per kind of tensor (x, a per layer, ŷ, L); the recurrence is a self-loop. With
    show_grads a hidden state shows the smallest and largest ‖∂L/∂a_t‖ over the steps."""
    names, rows = param_names(c), _rows(c)
    norms = _grad_norms(c, lambda j: True) if show_grads else {}
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

    dot = _new_graph("folded", _ROWS_DIRECTION[rankdir])
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
                label = _stacked(label, f"‖∂L/∂{escape(sym)}<SUB>t</SUB>‖: {format_norm(min(values))} … "
                                        f"{format_norm(max(values))}")
                attrs["shape"] = "ellipse"
        dot.node(node_id, label=html_label(label), fillcolor=ROLE_TINTS[_ROLE_TINT[k.role]], **attrs)

    merged: dict[tuple[tuple, tuple], frozenset] = {}
    for (s, t), w in c.edges.items():
        if s in cls and t in cls:
            pair = (cls[s], cls[t])
            merged[pair] = merged.get(pair, frozenset()) | w
    for (a, b), w in merged.items():
        attrs = {"label": _weights_label(w, names)} if w else {}
        if a == b:
            attrs["headport"], attrs["tailport"] = ("e", "e") if rankdir in ("LR", "RL") else ("s", "s")
        elif row_of[a] > row_of[b]:
            attrs["constraint"] = "false"
        dot.edge(ids[a], ids[b], **attrs)
    _attach_legend(dot, names, c, None)
    return dot


def ops(c: Contracted, show_grads: bool, max_steps: int | None, rankdir: str) -> graphviz.Digraph:
    """Every primitive op (name and output shape), clustered by time step."""
    g = c.walk
    names = param_names(c)
    role_of = {id(k.node): k.role for k in c.keys}
    key_of = {id(k.node): k for k in c.keys}
    key_step = {id(k.node): k.step for k in c.keys if k.step is not None}

    # Steps of the ops: a cell call's step; outside the cells, an input's step, or the one step
    # shared by everything an op is computed from (ŷ_t and its bias belong to step t).
    step: dict[int, int | None] = {}
    for n in g.nodes:
        s = key_step.get(id(n))
        if s is None and id(n) not in c.param_index:
            s = g.step_of(n)  # made inside a cell call: an op, or a constant of that step
        if s is None and n._op is not None:
            found = {step.get(id(p)) for p in n._parents if p._op is not None or id(p) in role_of}
            if len(found) == 1:
                s = found.pop()
        step[id(n)] = s
    steps = sorted({s for s in step.values() if s is not None})
    hidden = elided_steps(steps, max_steps)
    norms = _grad_norms(c, lambda j: c.keys[j].step not in hidden) if show_grads else {}
    scale = LogScale([n for n in norms.values() if n is not None]) if show_grads else None
    norm_of = {id(c.keys[j].node): n for j, n in norms.items()}

    dot = _new_graph("ops", rankdir)
    dot.attr("graph", ranksep="0.3", nodesep="0.2")
    dot.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.06,0.03",
             height="0.3")
    dot.attr("edge", arrowsize="0.5")

    ids: dict[int, str] = {}
    for i, n in enumerate(g.nodes):
        ids[id(n)] = ELIDED if step[id(n)] in hidden else f"n{i}"

    def attrs_of(n) -> dict:
        role = role_of.get(id(n))
        shape = shape_text(n.shape)
        if n._op is None and id(n) in c.param_index:
            return {"label": html_label(_stacked(f"<B>{escape(names[c.param_index[id(n)]])}</B>", shape)),
                    "fillcolor": ROLE_COLOURS["parameter"], "shape": "box", "style": "filled"}
        title = key_label(c, key_of[id(n)]) if role else (escape(n.name) if n.name else None)
        if n._op is None:
            if n.ndim == 0 and role is None:
                return {"label": escape(f"{n.data.item():.4g}"), "fillcolor": ROLE_COLOURS["constant"],
                        "shape": "ellipse", "fontsize": "9"}
            return {"label": html_label(_stacked(title or "data", shape)), "fillcolor": ROLE_COLOURS["input"]}
        fill = {STATE: ROLE_COLOURS["state"], INIT: ROLE_COLOURS["state"], OUTPUT: ROLE_COLOURS["output"],
                ROOT: ROLE_COLOURS["loss"], INPUT: ROLE_COLOURS["input"]}.get(role, ROLE_COLOURS["op"])
        lines = [f"{title}: <B>{escape(n._op)}</B>" if title else f"<B>{escape(n._op)}</B>", shape]
        extra = {}
        if id(n) in norm_of:
            norm = norm_of[id(n)]
            lines.append(f'‖∂L/∂·‖ = {"no grad" if norm is None else format_norm(norm)}')
            fill = OKABE_ITO["grey"] if norm is None else scale.colour(norm)
            extra["fontcolor"] = text_colour_on(fill)
        return {"label": html_label(_stacked(*lines, small_from=2)), "fillcolor": fill, **extra}

    by_step: dict[int, list] = {}
    for n in g.nodes:
        s = step[id(n)]
        if s is None:
            dot.node(ids[id(n)], **attrs_of(n))
        elif s not in hidden:
            by_step.setdefault(s, []).append(n)
    elision_emitted = False
    for s in steps:
        if s in hidden:
            if not elision_emitted:
                dot.node(ELIDED, label=f"… {len(hidden)} steps …", shape="box", style="dashed,rounded",
                         fillcolor="white", color="#777777")
                elision_emitted = True
            continue
        with dot.subgraph(name=f"cluster_t{s}") as sub:
            sub.attr(label=f"t = {s}", style="rounded", color="#AAAAAA", fontname="Helvetica", fontsize="11")
            for n in by_step[s]:
                sub.node(ids[id(n)], **attrs_of(n))

    drawn: set[tuple[str, str]] = set()
    for n in g.nodes:
        b = ids[id(n)]
        for p in n._parents:
            a = ids[id(p)]
            if a != b and (a, b) not in drawn:
                drawn.add((a, b))
                dot.edge(a, b, **({"style": "dashed"} if ELIDED in (a, b) else {}))

    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#999999", fontname="Helvetica", fontsize="11")
        entries = [("parameter", "parameter"), ("input", "input"), ("hidden state", "state"),
                   ("output ŷ", "output"), ("loss", "loss"), ("op", "op"), ("constant", "constant")]
        previous = None
        for label, role in entries:
            node_id = f"legend_{role}"
            legend.node(node_id, label=label, fillcolor=ROLE_COLOURS[role])
            if previous:
                legend.edge(previous, node_id, style="invis")
            previous = node_id
    return dot

