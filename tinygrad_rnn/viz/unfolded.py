"""The unfolded view: the textbook figure of a recurrent network unrolled through time.

Rows, bottom to top: inputs x_t, the hidden states (one row per layer and per state, e.g. c_t and
h_t), outputs ŷ_t, the loss. Columns: one cluster `cluster_t{k}` per time step. Edges carry the
weights met on the way (U, W, V).

dot decides the left-to-right order of the steps itself; what keeps it in time order (checked by
a test that lays out every kind of cell with dot): each row is a chain of edges in time order,
edges back down the rows are written head first (dir=back), rows and edges are written in time
order, and elided steps become one column of elision nodes, one per row.
"""
from __future__ import annotations

import graphviz

from .common import (
    ELIDED,
    ROLE_TINT,
    ROWS_DIRECTION,
    attach_legend,
    elided_steps,
    grad_norms,
    new_graph,
    rows_of,
    stacked,
    weights_label,
)
from .contract import INIT, NAMED, ROOT, STATE, Contracted
from .names import key_ids, key_label, key_symbol, param_names, state_symbols
from .style import OKABE_ITO, ROLE_TINTS, LogScale, format_norm, html_label, text_colour_on


def unfolded(c: Contracted, show_grads: bool, max_steps: int | None, rankdir: str) -> graphviz.Digraph:
    return _Unfolded(c, show_grads, max_steps, rankdir).draw()


class _Unfolded:
    def __init__(self, c: Contracted, show_grads: bool, max_steps: int | None, rankdir: str) -> None:
        self.c, self.rankdir = c, rankdir
        self.keys, self.ids, self.names = c.keys, key_ids(c), param_names(c)
        self.steps = sorted({k.step for k in self.keys if k.step is not None})
        self.hidden = elided_steps(self.steps, max_steps)
        self.rows = rows_of(c)
        # The "… n steps …" node sits in the first layer's (last) state row, where the W edges run.
        self.main_row = max((self.rows[j] for j, k in enumerate(self.keys) if k.role == STATE and k.layer == 1),
                            default=None)
        self.edges, self.edge_time = self._merge_edges()
        self.row_elisions = sorted({(r, n) for (a, b), (_, ra, rb) in self.edges.items()
                                    for n, r in ((a, ra), (b, rb)) if n.startswith(ELIDED + "_")})
        self.norms = grad_norms(c, self.shown) if show_grads else {}
        self.scale = LogScale([n for n in self.norms.values() if n is not None]) if show_grads else None

    def shown(self, j: int) -> bool:
        return self.keys[j].step not in self.hidden

    def _drawn(self, j: int) -> tuple[str, int | None]:
        """DOT id and row of key j, or of the elision node standing for it (one per row)."""
        r = self.rows.get(j)
        if self.shown(j):
            return self.ids[j], r
        if r is None or r == self.main_row:
            return ELIDED, self.main_row
        return f"{ELIDED}_{r}", r

    def _merge_edges(self):
        """Edges between drawn nodes, labels merged where elided steps fold into one node; and
        each edge's time (head's step, tail's step), the order they are written in."""
        middle = min(self.hidden) if self.hidden else 0

        def time(j: int) -> float:
            sub = self.keys[j].sub if self.shown(j) else middle
            return float("inf") if sub is None else sub

        merged: dict[tuple[str, str], tuple[frozenset, int | None, int | None]] = {}
        when: dict[tuple[str, str], tuple[float, float]] = {}
        for (s, t), w in self.c.edges.items():
            if not self.shown(s) and not self.shown(t):
                continue  # inside the elided steps
            (a, ra), (b, rb) = self._drawn(s), self._drawn(t)
            old = merged.get((a, b))
            merged[(a, b)] = ((old[0] if old else frozenset()) | w, ra, rb)
            when[(a, b)] = min(when.get((a, b), (float("inf"), float("inf"))), (time(t), time(s)))
        return merged, when

    # -- drawing -------------------------------------------------------------------------------
    def draw(self) -> graphviz.Digraph:
        dot = new_graph("unfolded", ROWS_DIRECTION[self.rankdir])
        dot.attr("node", shape="circle", style="filled", margin="0.03", width="0.5")
        if not self.c.walk.cells:
            dot.node("note", label="no recurrent-cell calls in this graph: nothing to unfold (try view='ops')",
                     shape="plaintext", style="", fontname="Helvetica", fontsize="11")
        self._nodes(dot)
        self._rows(dot)
        self._edges(dot)
        attach_legend(dot, self.names, self.c, self.scale)
        return dot

    def _node_attrs(self, j: int) -> dict:
        k = self.keys[j]
        label, fill = key_label(self.c, k), ROLE_TINTS[ROLE_TINT[k.role]]
        attrs = {}
        if j in self.norms:
            n = self.norms[j]
            label = stacked(label, "no grad" if n is None else format_norm(n))
            fill = OKABE_ITO["grey"] if n is None else self.scale.colour(n)
            attrs["fontcolor"] = text_colour_on(fill)
            attrs["tooltip"] = f"‖∂L/∂{key_symbol(self.c, k)}‖ = {'no grad' if n is None else n}"
        if k.role == ROOT:
            attrs["shape"] = "doublecircle" if k.node.size == 1 else "box"
        elif k.role == NAMED:
            attrs["shape"] = "box"
            attrs["style"] = "rounded,filled"
        return {"label": html_label(label), "fillcolor": fill, **attrs}

    def _nodes(self, dot: graphviz.Digraph) -> None:
        keys, ids = self.keys, self.ids
        by_step: dict[int, list[int]] = {}
        outside: list[int] = []
        for j, k in enumerate(keys):
            if k.step is None:
                outside.append(j)
            elif self.shown(j):
                by_step.setdefault(k.step, []).append(j)

        # Initial states, boxed (invisibly) like a step, go before step 1. Where dot puts such a
        # box depends on where it is written: first, except when time runs downwards through
        # one-state cells (found by laying out every kind of cell both ways).
        initial = [j for j in outside if keys[j].role == INIT]
        initial_last = self.rankdir == "TB" and all(
            len(state_symbols(self.c.walk.cells[keys[j].layer - 1])) == 1 for j in initial)

        def write_initial() -> None:
            if initial:
                with dot.subgraph(name="cluster_initial") as sub:
                    sub.attr(style="invis")
                    for j in initial:
                        sub.node(ids[j], **self._node_attrs(j))

        if not initial_last:
            write_initial()
        elision_written = False
        for s in self.steps:
            if s in self.hidden:
                if not elision_written:
                    dot.node(ELIDED, label=f"… {len(self.hidden)} steps …", shape="box", style="dashed,rounded",
                             fontname="Helvetica", fontsize="12", width="0.8", color="#777777")
                    for _, node_id in self.row_elisions:
                        dot.node(node_id, label="⋯", shape="plaintext", style="", fontname="Helvetica", width="0.3")
                    elision_written = True
                continue
            with dot.subgraph(name=f"cluster_t{s}") as sub:
                sub.attr(label=f"t = {s}", style="rounded", color="#AAAAAA", fontname="Helvetica",
                         fontsize="11", fontcolor="#555555", labeljust="c")
                for j in by_step[s]:
                    sub.node(ids[j], **self._node_attrs(j))
        if initial_last:
            write_initial()
        for j in outside:
            if keys[j].role != INIT:
                dot.node(ids[j], **self._node_attrs(j))

    def _elision_column(self) -> list[tuple[int, str]]:
        """(row, id) of the elision nodes, bottom row first."""
        if not self.hidden or self.main_row is None:
            return []
        return sorted(self.row_elisions + [(self.main_row, ELIDED)])

    def _rows(self, dot: graphviz.Digraph) -> None:
        """One rank=same group per row across all the step clusters (newrank makes that work),
        in time order with the elision in its place: dot starts from this order."""
        middle = min(self.hidden) if self.hidden else 0
        placed: list[tuple[float, int, str, int]] = []
        for j, r in self.rows.items():
            if self.shown(j):
                sub = self.keys[j].sub
                placed.append((-1 if sub is None else sub, j, self.ids[j], r))
        placed += [(middle, -1, node_id, r) for r, node_id in self._elision_column()]
        members: dict[int, list[str]] = {}
        for _, _, node_id, r in sorted(placed):
            members.setdefault(r, []).append(node_id)
        for r in sorted(members):
            if len(members[r]) > 1:
                with dot.subgraph() as same:
                    same.attr(rank="same")
                    for node_id in members[r]:
                        same.node(node_id)

    def _edges(self, dot: graphviz.Digraph) -> None:
        column = self._elision_column()  # the elision nodes stack like a step of their own
        for (_, lower), (_, upper) in zip(column, column[1:]):
            dot.edge(lower, upper, style="invis")
        for (a, b), (w, ra, rb) in sorted(self.edges.items(), key=lambda e: self.edge_time[e[0]]):
            attrs = {"label": weights_label(w, self.names)} if w else {}
            if a.startswith(ELIDED) or b.startswith(ELIDED):
                attrs["style"] = "dashed"
                if ra != rb:  # between rows a dashed line stands for several kinds of edges: no label
                    attrs.pop("label", None)
            if ra is not None and rb is not None and ra > rb:  # back down the rows (LSTM: h_{t-1} -> c_t)
                dot.edge(b, a, dir="back", **attrs)
            else:
                dot.edge(a, b, **attrs)
