"""The ops view: every primitive op with its output shape (like torchviz), still clustered by time
step; parameters drawn once, in colour-blind-safe colours apart from inputs, states and the loss."""
from __future__ import annotations

import graphviz

from .common import ELIDED, elided_steps, grad_norms, new_graph, stacked
from .contract import INIT, INPUT, OUTPUT, ROOT, STATE, Contracted
from .names import key_label, param_names
from .style import OKABE_ITO, ROLE_COLOURS, LogScale, escape, format_norm, html_label, shape_text, text_colour_on


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
        if s is None and n.op is not None:
            found = {step.get(id(p)) for p in n.parents if p.op is not None or id(p) in role_of}
            if len(found) == 1:
                s = found.pop()
        step[id(n)] = s
    steps = sorted({s for s in step.values() if s is not None})
    hidden = elided_steps(steps, max_steps)
    norms = grad_norms(c, lambda j: c.keys[j].step not in hidden) if show_grads else {}
    scale = LogScale([n for n in norms.values() if n is not None]) if show_grads else None
    norm_of = {id(c.keys[j].node): n for j, n in norms.items()}

    dot = new_graph("ops", rankdir)
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
        if n.op is None and id(n) in c.param_index:
            return {"label": html_label(stacked(f"<B>{escape(names[c.param_index[id(n)]])}</B>", shape)),
                    "fillcolor": ROLE_COLOURS["parameter"], "shape": "box", "style": "filled"}
        title = key_label(c, key_of[id(n)]) if role else (escape(n.name) if n.name else None)
        if n.op is None:
            if n.ndim == 0 and role is None:
                return {"label": escape(f"{n.value:.4g}"), "fillcolor": ROLE_COLOURS["constant"],
                        "shape": "ellipse", "fontsize": "9"}
            return {"label": html_label(stacked(title or "data", shape)), "fillcolor": ROLE_COLOURS["input"]}
        fill = {STATE: ROLE_COLOURS["state"], INIT: ROLE_COLOURS["state"], OUTPUT: ROLE_COLOURS["output"],
                ROOT: ROLE_COLOURS["loss"], INPUT: ROLE_COLOURS["input"]}.get(role, ROLE_COLOURS["op"])
        lines = [f"{title}: <B>{escape(n.op)}</B>" if title else f"<B>{escape(n.op)}</B>", shape]
        extra = {}
        if id(n) in norm_of:
            norm = norm_of[id(n)]
            lines.append(f'‖∂L/∂·‖ = {"no grad" if norm is None else format_norm(norm)}')
            fill = OKABE_ITO["grey"] if norm is None else scale.colour(norm)
            extra["fontcolor"] = text_colour_on(fill)
        return {"label": html_label(stacked(*lines, small_from=2)), "fillcolor": fill, **extra}

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
        for p in n.parents:
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
