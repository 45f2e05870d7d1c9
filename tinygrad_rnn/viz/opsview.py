"""The ops view: every primitive op with its output shape (like torchviz), still clustered by time
step; parameters drawn once, in colour-blind-safe colours apart from inputs, states and the loss.
With gradients, a hidden state keeps its role's colour: its norm is a second line, with a swatch."""
from __future__ import annotations

from .common import (
    cluster_id,
    colour_key_rows,
    elided_steps,
    elision_id,
    elision_note,
    grad_norms,
    new_graph,
    stacked,
    state_word,
    step_label,
    steps_limit,
)
from .contract import INIT, INPUT, OUTPUT, ROOT, STATE, Contracted
from .names import key_label, param_names
from .picture import Picture
from .style import ROLE_COLOURS, SCALE, escape, format_norm, html_label, shape_text


def _norm_line(norm: float | None) -> str:
    """‖∂L/∂·‖ with a swatch of its decade's colour beside it: the node keeps its role's fill."""
    if norm is None:
        return "‖∂L/∂·‖: no grad"
    return (f'<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0"><TR><TD BGCOLOR="{SCALE.colour(norm)}" BORDER="1" '
            f'WIDTH="14" HEIGHT="9"> </TD><TD>‖∂L/∂·‖ = {format_norm(norm)}</TD></TR></TABLE>')


def _steps(c: Contracted) -> dict[int, tuple | None]:
    """The step of every node: a cell call's step; outside the cells, the one step of what an op
    is computed from (ŷ_t and its bias belong to step t; a running sum of losses to the later of
    its two steps); a leaf outside the cells, the one step of the ops that read it."""
    g = c.walk
    key_step = {id(k.node): k.step for k in c.keys if k.step is not None}
    for k in c.keys:
        for n in k.merged:
            if k.step is not None:
                key_step[id(n)] = k.step
    call_step = {id(k.call): k.step for k in c.keys if k.role == STATE}
    step: dict[int, tuple | None] = {}
    for n in g.nodes:
        s = key_step.get(id(n))
        if s is None and id(n) not in c.param_index:
            call = g.call[id(n)]
            s = call_step.get(id(call)) if call is not None else None
        if s is None and n.op is not None:
            found = [step.get(id(p)) for p in n.parents]
            found = [f for f in found if f is not None]
            if len(set(found)) == 1:
                s = found[0]
            elif found and len(found) <= 2:
                s = max(found)
        step[id(n)] = s
    for n in g.nodes:  # leaves outside the cells (targets, masks): with the ops that read them
        if n.op is None and step[id(n)] is None and id(n) not in c.param_index:
            found = {step.get(id(u)) for u in g.consumers[id(n)]}
            if len(found) == 1:
                step[id(n)] = found.pop()
    return step


def ops(c: Contracted, show_grads: bool, max_steps, rankdir: str, title: str | None = None) -> Picture:
    """Every primitive op (name and output shape), clustered by time step."""
    g = c.walk
    names = param_names(c)
    role_of = {id(k.node): k.role for k in c.keys}
    key_of = {id(k.node): k for k in c.keys}
    step = _steps(c)
    steps = sorted({s for s in step.values() if s is not None})
    per_step = sum(1 for s in step.values() if s is not None) / max(len(steps), 1)
    limit, automatic = steps_limit(max_steps, per_step, ops=True)
    hidden = elided_steps(steps, limit)
    norms = grad_norms(c, lambda j: c.keys[j].step not in hidden) if show_grads else {}
    norm_of = {id(c.keys[j].node): n for j, n in norms.items()}

    dot = new_graph("ops", rankdir)
    dot.attr("graph", ranksep="0.3", nodesep="0.2")
    dot.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10", margin="0.06,0.03",
             height="0.3")
    dot.attr("edge", arrowsize="0.5")

    ids: dict[int, str] = {}
    for i, n in enumerate(g.nodes):
        s = step[id(n)]
        ids[id(n)] = elision_id(s[0]) if s in hidden else f"n{i}"

    def attrs_of(n) -> dict:
        role = role_of.get(id(n))
        shape = shape_text(n.shape)
        if n.op is None and id(n) in c.param_index:
            return {"label": html_label(stacked(f"<B>{escape(names[c.param_index[id(n)]])}</B>", shape)),
                    "fillcolor": ROLE_COLOURS["parameter"], "shape": "box", "style": "filled"}
        title_ = key_label(c, key_of[id(n)]) if role else (escape(n.name) if n.name else None)
        if n.op is None:
            if n.ndim == 0 and role is None:
                value = n.value
                text = f"{value:.4g}" if value is not None else "scalar"
                return {"label": escape(text), "fillcolor": ROLE_COLOURS["constant"], "shape": "ellipse",
                        "fontsize": "9"}
            return {"label": html_label(stacked(title_ or "data", shape)), "fillcolor": ROLE_COLOURS["input"]}
        fill = {STATE: ROLE_COLOURS["state"], INIT: ROLE_COLOURS["state"], OUTPUT: ROLE_COLOURS["output"],
                ROOT: ROLE_COLOURS["loss"], INPUT: ROLE_COLOURS["input"]}.get(role, ROLE_COLOURS["op"])
        lines = [f"{title_}: <B>{escape(n.op)}</B>" if title_ else f"<B>{escape(n.op)}</B>", shape]
        if id(n) in norm_of:
            lines.append(_norm_line(norm_of[id(n)]))
        return {"label": html_label(stacked(*lines, small_from=2)), "fillcolor": fill}

    by_step: dict[tuple, list] = {}
    for n in g.nodes:
        s = step[id(n)]
        if s is None:
            dot.node(ids[id(n)], **attrs_of(n))
        elif s not in hidden:
            by_step.setdefault(s, []).append(n)
    written: set[int] = set()
    for s in steps:
        if s in hidden:
            if s[0] not in written:
                count = sum(1 for h in hidden if h[0] == s[0])
                dot.node(elision_id(s[0]), label=f"… {count} steps …", shape="box", style="dashed,rounded",
                         fillcolor="white", color="#777777")
                written.add(s[0])
            continue
        with dot.subgraph(name=cluster_id(s)) as sub:
            sub.attr(label=step_label(c, s), style="rounded", color="#AAAAAA", fontname="Helvetica", fontsize="11")
            for n in by_step[s]:
                sub.node(ids[id(n)], **attrs_of(n))

    drawn: set[tuple[str, str]] = set()
    for n in g.nodes:
        b = ids[id(n)]
        for p in n.parents:
            a = ids[id(p)]
            if a != b and (a, b) not in drawn:
                drawn.add((a, b))
                dot.edge(a, b, **({"style": "dashed"} if "elided" in a or "elided" in b else {}))

    _legend(dot, c, list(norms.values()) if show_grads else None, elision_note(c, hidden, automatic), title)
    dot.view_name, dot.per_step = "ops", per_step
    dot.fixed_nodes = max(0, dot.node_count() - int(per_step * (len(steps) - len(hidden))))
    return dot


def _legend(dot, c: Contracted, norms, note: str | None, title: str | None) -> None:
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
        rows = []
        if title:
            rows.append(f'<TR><TD ALIGN="LEFT"><B>{escape(title)}</B></TD></TR>')
        if norms is not None:
            drawn = [n for n in norms if n is not None]
            rows.append(f'<TR><TD ALIGN="LEFT">swatch on a state: ‖∂L/∂{state_word(c)}<SUB>t</SUB>‖, '
                        'fixed log scale, one colour per decade</TD></TR>')
            rows.extend(colour_key_rows(drawn, span=1))
        if note:
            rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{escape(note)}</FONT></TD></TR>')
        if rows:
            legend.node("legend_notes", label='<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">'
                        + "".join(rows) + "</TABLE>>", shape="plaintext", style="")
            legend.edge(previous, "legend_notes", style="invis")

