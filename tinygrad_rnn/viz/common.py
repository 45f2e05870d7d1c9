"""What the views share: graph defaults, rows, elided steps, gradient norms, the legend.

The views (unfolded.py, folded.py, opsview.py) build graphviz.Digraph objects: DOT text, for which
no Graphviz program is needed.
"""
from __future__ import annotations

import graphviz

from .contract import INIT, INPUT, NAMED, OUTPUT, ROOT, STATE, Contracted
from .names import state_symbols
from .style import (
    LogScale,
    escape,
    format_norm,
    grad_norm,
    shape_text,
    viridis,
)

# The user's rankdir is the direction of time. In the textbook views Graphviz ranks are the rows
# (x, a, ŷ, L), so time running left to right means rows stacked bottom to top.
ROWS_DIRECTION = {"LR": "BT", "TB": "LR"}
ELIDED = "elided"  # id of the elision node; other rows' elisions are elided_<row>
ROLE_TINT = {INPUT: "input", INIT: "state", STATE: "state", OUTPUT: "output", ROOT: "loss", NAMED: "named"}


def elided_steps(steps: list[int], max_steps: int | None) -> set[int]:
    """The steps left out so that about max_steps/2 first and last steps remain."""
    if max_steps is None or len(steps) <= max_steps:
        return set()
    head, tail = (max_steps + 1) // 2, max_steps // 2
    return set(steps[head:len(steps) - tail])


def new_graph(name: str, rankdir: str) -> graphviz.Digraph:
    dot = graphviz.Digraph(name=name)
    dot.attr("graph", newrank="true", rankdir=rankdir, nodesep="0.3", ranksep="0.45",
             fontname="Helvetica", fontsize="12")
    dot.attr("node", fontname="Times-Roman", fontsize="14", penwidth="1.1")
    dot.attr("edge", fontname="Times-Italic", fontsize="13", arrowsize="0.7", color="#444444")
    return dot


def weights_label(weights, names: list[str]) -> str:
    return ", ".join(names[i] for i in sorted(weights))


def stacked(*lines: str, small_from: int = 1) -> str:
    """Lines of an HTML-like label as table rows, so a subscript never runs into the next line;
    lines from `small_from` on are set smaller."""
    rows = []
    for i, line in enumerate(lines):
        if i >= small_from:
            line = f'<FONT POINT-SIZE="9">{line}</FONT>'
        rows.append(f"<TR><TD>{line}</TD></TR>")
    return '<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="1">' + "".join(rows) + "</TABLE>"


def rows_of(c: Contracted) -> dict[int, int]:
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


def grad_norms(c: Contracted, shown) -> dict[int, float | None]:
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
        state = "a" if len(c.walk.cells) != 1 else escape("/".join(reversed(state_symbols(c.walk.cells[0]))))
        rows.append(f'<TR><TD COLSPAN="2"><B>‖∂L/∂{state}<SUB>t</SUB>‖</B> (log scale)</TD></TR>')
        rows.append(f'<TR><TD COLSPAN="2"><TABLE BORDER="0" CELLSPACING="0"><TR>{cells}</TR></TABLE></TD></TR>')
        rows.append(f'<TR><TD ALIGN="LEFT">{format_norm(10 ** scale.low)}</TD>'
                    f'<TD ALIGN="RIGHT">{format_norm(10 ** scale.high)}</TD></TR>')
    return ('<<TABLE BORDER="1" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="#999999">'
            + "".join(rows) + "</TABLE>>")


def attach_legend(dot: graphviz.Digraph, names: list[str], c: Contracted, scale: LogScale | None) -> None:
    """The legend is the graph's own label (bottom right): it lists each parameter once and takes
    no place in the rows of the figure."""
    if c.params or scale is not None:
        dot.attr("graph", label=_legend(names, c, scale), labelloc="b", labeljust="r", fontsize="11")


