"""What the views share: graph defaults, rows, elided steps, gradient norms, the legend.

The views (unfolded.py, folded.py, opsview.py) build Picture objects (graphviz.Digraph): DOT text,
for which no Graphviz program is needed.
"""
from __future__ import annotations

from .contract import INIT, INPUT, NAMED, OUTPUT, ROOT, STATE, Contracted
from .names import OUTPUT_BIAS_BESIDE_CELL_STATE, attribute_names
from .picture import Picture
from .style import SCALE, escape, format_norm, shape_text, user_name

# The user's rankdir is the direction of time. In the textbook views Graphviz ranks are the rows
# (x, a, ŷ, L), so time running left to right means rows stacked bottom to top.
ROWS_DIRECTION = {"LR": "BT", "TB": "LR"}
ELIDED = "elided"  # id of the elision node; other rows' elisions are elided_<row>
ROLE_TINT = {INPUT: "input", INIT: "state", STATE: "state", OUTPUT: "output", ROOT: "loss", NAMED: "named"}
AUTO_STEPS = 12          # a longer unroll is elided to this many steps unless max_steps says otherwise
AUTO_OPS_NODES = 160     # the ops view keeps about this many nodes of steps when eliding by itself
ALL = "all"


def cluster_id(step: tuple[int, int]) -> str:
    phase, col = step
    return f"cluster_t{col}" if phase == 0 else f"cluster_p{phase + 1}_t{col}"


def elision_id(phase: int, row: int | None = None) -> str:
    base = ELIDED if phase == 0 else f"{ELIDED}_p{phase + 1}"
    return base if row is None else f"{base}_{row}"


def step_label(c: Contracted, step: tuple[int, int]) -> str:
    name = c.phases[step[0]] if step[0] < len(c.phases) else ""
    return f"{name}  t = {step[1]}" if name else f"t = {step[1]}"


def steps_limit(max_steps, per_step: float = 1.0, ops: bool = False) -> tuple[int | None, bool]:
    """(how many steps of each phase to draw, or None for all; whether the limit was chosen here)."""
    if max_steps == ALL:
        return None, False
    if max_steps is not None:
        return max_steps, False
    if ops:
        return max(2, min(AUTO_STEPS, int(AUTO_OPS_NODES // max(per_step, 1.0)))), True
    return AUTO_STEPS, True


def elided_steps(steps, limit: int | None) -> set[tuple[int, int]]:
    """The steps left out so that about limit/2 first and last steps of each phase remain."""
    if limit is None:
        return set()
    by_phase: dict[int, list[tuple[int, int]]] = {}
    for s in sorted(set(steps)):
        by_phase.setdefault(s[0], []).append(s)
    hidden: set[tuple[int, int]] = set()
    for phase_steps in by_phase.values():
        if len(phase_steps) > limit:
            head, tail = (limit + 1) // 2, limit // 2
            hidden.update(phase_steps[head:len(phase_steps) - tail])
    return hidden


def elision_note(c: Contracted, hidden: set, automatic: bool) -> str | None:
    """One line saying which steps are not drawn and how to draw them."""
    if not hidden:
        return None
    parts = []
    for phase in sorted({p for p, _ in hidden}):
        cols = sorted(col for p, col in hidden if p == phase)
        name = c.phases[phase]
        where = f"{name} " if name else ""
        parts.append(f"{where}steps {cols[0]}–{cols[-1]} of {c.columns.get(phase, cols[-1])}")
    how = "elided to keep the picture readable; max_steps='all' draws every step" if automatic \
        else "elided (max_steps); max_steps='all' draws every step"
    return f"{', '.join(parts)} {how}"


def new_graph(name: str, rankdir: str) -> Picture:
    dot = Picture(name=name)
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
    """Row of each key tensor, bottom to top: inputs, the states of each cell (stacked layers
    upwards, a backward direction above its forward one; later phases share the rows), outputs, loss."""
    state_rows = sorted({_row_key(c, k) for k in c.keys if k.role in (STATE, INIT)})
    index = {r: i + 1 for i, r in enumerate(state_rows)}
    rows = {}
    for j, k in enumerate(c.keys):
        if k.role == INPUT:
            rows[j] = 0
        elif k.role in (STATE, INIT):
            rows[j] = index[_row_key(c, k)]
        elif k.role == OUTPUT:
            rows[j] = len(state_rows) + 1
        elif k.role == ROOT:
            rows[j] = len(state_rows) + 2
    return rows


def _row_key(c: Contracted, k) -> tuple[int, int, int]:
    g = c.groups[k.group]
    return g.depth, g.lane, k.slot


def grad_norms(c: Contracted, shown) -> dict[int, float | None]:
    states = [j for j, k in enumerate(c.keys) if k.role == STATE and shown(j)]
    if not states:
        raise ValueError("draw_graph(show_grads=True): no hidden states found in this graph "
                         "(no recurrent-cell calls); gradients through time need a cell")
    norms = {j: c.keys[j].node.grad_norm for j in states}
    if all(n is None for n in norms.values()):
        raise ValueError("draw_graph(show_grads=True): the hidden states have no gradients yet; call "
                         "loss.backward() first (each hidden state then keeps ∂L/∂a_t)")
    return norms


def state_word(c: Contracted) -> str:
    """The symbol of ∂L/∂·_t in the key: the one state symbol drawn, else the word "state"."""
    symbols = {g.symbols[-1] for g in c.groups}
    return f"<I>{escape(symbols.pop())}</I>" if len(symbols) == 1 else "state"


def colour_key_rows(norms, span: int = 3) -> list[str]:
    """Legend rows: one swatch per decade of the norms drawn, with its decade written under it."""
    decades = SCALE.decades(norms)
    if not decades:
        return []
    cells = "".join(f'<TD BGCOLOR="{SCALE.decade_colour(d)}" WIDTH="34" HEIGHT="12"> </TD>' for d in decades)
    texts = "".join(f'<TD><FONT POINT-SIZE="8">{SCALE.decade_text(d)}</FONT></TD>' for d in decades)
    return [f'<TR><TD COLSPAN="{span}"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
            f"<TR>{cells}</TR><TR>{texts}</TR></TABLE></TD></TR>"]


def legend(names: list[str], c: Contracted, norms=None, note: str | None = None, title: str | None = None,
           parameters: bool = True) -> str | None:
    """The legend as one HTML-like table: title, the parameters (symbol, attribute, shape), what the
    state symbols stand for, the colour key of the gradients and what was left out."""
    rows = []
    if title:
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="LEFT"><B>{escape(title)}</B></TD></TR>')
    if parameters and c.params:
        rows.append('<TR><TD COLSPAN="3" ALIGN="LEFT"><B>shared parameters</B></TD></TR>')
        for name, where, p in zip(names, attribute_names(c), c.params):
            # (an empty FONT element is a syntax error for dot: a parameter of no module has no attribute)
            where_text = f'<FONT POINT-SIZE="9">{escape(where)}</FONT>' if where else ""
            rows.append(f'<TR><TD ALIGN="LEFT"><I>{user_name(name)}</I></TD>'
                        f'<TD ALIGN="LEFT">{where_text}</TD>'
                        f'<TD ALIGN="RIGHT">{shape_text(p.shape)}</TD></TR>')
        if OUTPUT_BIAS_BESIDE_CELL_STATE in names:
            rows.append('<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="9">'
                        f'{user_name(OUTPUT_BIAS_BESIDE_CELL_STATE)}: the output bias (the textbook\'s c), '
                        'renamed: c<SUB>t</SUB> is the cell state</FONT></TD></TR>')
    described = _state_rows(c)
    if described:
        rows.append('<TR><TD COLSPAN="3" ALIGN="LEFT"><B>states</B></TD></TR>')
        rows.extend(described)
    if norms is not None:
        drawn = [n for n in norms if n is not None]
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="LEFT"><B>‖∂L/∂{state_word(c)}<SUB>t</SUB>‖</B> '
                    '(fixed log scale, one colour per decade)</TD></TR>')
        rows.extend(colour_key_rows(drawn))
        if drawn:
            rows.append(f'<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="9">drawn: {format_norm(min(drawn))} '
                        f'… {format_norm(max(drawn))}</FONT></TD></TR>')
    if note:
        rows.append(f'<TR><TD COLSPAN="3" ALIGN="LEFT"><FONT POINT-SIZE="9">{escape(note)}</FONT></TD></TR>')
    if not rows:
        return None
    return ('<<TABLE BORDER="1" STYLE="ROUNDED" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" COLOR="#999999">'
            + "".join(rows) + "</TABLE>>")


def _state_rows(c: Contracted) -> list[str]:
    """What each state symbol is, where more than one cell or phase is drawn."""
    if len(c.groups) < 2:
        return []
    rows = []
    for g in sorted(c.groups, key=lambda g: (g.phase, g.depth, g.lane)):
        what = [type(g.module).__name__]
        if g.mark:
            what.append(f"layer {g.depth}")
        if any(o.backward for o in c.groups if o.phase == g.phase):
            what.append("backward, reads x from the end" if g.backward else "forward")
        if c.phases[g.phase]:
            what.append(c.phases[g.phase])
        symbols = ", ".join(f"<I>{escape(s)}</I>" for s in g.symbols)
        rows.append(f'<TR><TD ALIGN="LEFT">{symbols}</TD><TD COLSPAN="2" ALIGN="LEFT">'
                    f'<FONT POINT-SIZE="9">{escape(", ".join(what))}</FONT></TD></TR>')
    return rows


def attach_legend(dot: Picture, label: str | None) -> None:
    """The legend is the graph's own label (bottom right): it takes no place in the rows."""
    if label is not None:
        dot.attr("graph", label=label, labelloc="b", labeljust="r", fontsize="11")
