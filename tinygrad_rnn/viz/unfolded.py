"""The unfolded view: the textbook figure of a recurrent network unrolled through time.

Rows, bottom to top: inputs x_t, the hidden states (one row per cell and per state, e.g. c_t and
h_t; a backward direction above its forward one), outputs ŷ_t, the loss. Columns: one cluster per
time step (`cluster_t{k}`; a later phase's are `cluster_p{n}_t{k}`). Edges carry the weights met
on the way (U, W, V).

dot decides the left-to-right order of the steps itself; what keeps it in time order (checked by
a test that lays out every kind of cell with dot): each row is a chain of nodes in time order,
edges back down the rows are written head first (dir=back), rows and edges are written in time
order, and elided steps become one column of elision nodes, one per row.
"""
from __future__ import annotations

from .common import (
    ROLE_TINT,
    ROWS_DIRECTION,
    attach_legend,
    cluster_id,
    elided_steps,
    elision_id,
    elision_note,
    grad_norms,
    legend,
    new_graph,
    rows_of,
    stacked,
    step_label,
    steps_limit,
    weights_label,
)
from .contract import INIT, NAMED, ROOT, STATE, Contracted
from .names import key_ids, key_label, key_symbol, param_names
from .picture import Picture
from .style import OKABE_ITO, ROLE_TINTS, SCALE, format_norm, html_label, text_colour_on

CIRCLE = "0.5"             # every circle one size (a label never makes its node bigger)
CIRCLE_WITH_NORM = "0.78"  # room for the norm under the symbol


def unfolded(c: Contracted, show_grads: bool, max_steps, rankdir: str, title: str | None = None) -> Picture:
    return _Unfolded(c, show_grads, max_steps, rankdir, title).draw()


class _Unfolded:
    def __init__(self, c: Contracted, show_grads: bool, max_steps, rankdir: str, title: str | None) -> None:
        self.c, self.rankdir, self.title = c, rankdir, title
        self.keys, self.ids, self.names = c.keys, key_ids(c), param_names(c)
        self.steps = sorted({k.step for k in self.keys if k.step is not None})
        limit, self.automatic = steps_limit(max_steps)
        self.hidden = elided_steps(self.steps, limit)
        self.hidden_phases = sorted({p for p, _ in self.hidden})
        self.rows = rows_of(c)
        # The "… n steps …" node sits in the first state row, where the W edges run.
        self.main_row = min((self.rows[j] for j, k in enumerate(self.keys) if k.role == STATE), default=None)
        self.edges, self.edge_time = self._merge_edges()
        self.row_elisions = sorted({(r, n) for (a, b), (_, ra, rb) in self.edges.items()
                                    for n, r in ((a, ra), (b, rb)) if n.startswith("elided") and r != self.main_row})
        self.norms = grad_norms(c, self.shown) if show_grads else {}

    def shown(self, j: int) -> bool:
        return self.keys[j].step not in self.hidden

    def _middle(self, phase: int) -> tuple[int, float]:
        return phase, min(col for p, col in self.hidden if p == phase) - 0.5

    def _drawn(self, j: int) -> tuple[str, int | None]:
        """DOT id and row of key j, or of the elision node standing for it (one per row and phase)."""
        r = self.rows.get(j)
        if self.shown(j):
            return self.ids[j], r
        phase = self.keys[j].step[0]
        if r is None or r == self.main_row:
            return elision_id(phase), self.main_row
        return elision_id(phase, r), r

    def _time(self, j: int) -> tuple:
        k = self.keys[j]
        if not self.shown(j):
            return self._middle(k.step[0])
        if k.step is not None:
            return k.step
        if k.role == INIT:
            return (0, k.sub) if k.sub is not None and k.sub <= 0 else (len(self.c.phases), 0)
        return (float("inf"), 0)

    def _merge_edges(self):
        """Edges between drawn nodes, labels merged where elided steps fold into one node; and
        each edge's time (head's step, tail's step), the order they are written in."""
        merged: dict[tuple[str, str], tuple[frozenset, int | None, int | None]] = {}
        when: dict[tuple[str, str], tuple] = {}
        for (s, t), w in self.c.edges.items():
            if not self.shown(s) and not self.shown(t) and self.keys[s].step[0] == self.keys[t].step[0]:
                continue  # inside the elided steps of one phase
            (a, ra), (b, rb) = self._drawn(s), self._drawn(t)
            if a == b:
                continue
            old = merged.get((a, b))
            merged[(a, b)] = ((old[0] if old else frozenset()) | w, ra, rb)
            time = (self._time(t), self._time(s))
            when[(a, b)] = min(when.get((a, b), time), time)
        return merged, when

    # -- drawing -------------------------------------------------------------------------------
    def draw(self) -> Picture:
        dot = new_graph("unfolded", ROWS_DIRECTION[self.rankdir])
        width = CIRCLE_WITH_NORM if self.norms else CIRCLE
        dot.attr("node", shape="circle", style="filled", margin="0.02", width=width, height=width,
                 fixedsize="shape")
        if not self.c.groups:
            dot.node("note", label="no recurrent-cell calls in this graph: nothing to unfold (try view='ops')",
                     shape="plaintext", style="", fontname="Helvetica", fontsize="11", fixedsize="false")
        self._nodes(dot)
        self._rows(dot)
        self._edges(dot)
        note = elision_note(self.c, self.hidden, self.automatic)
        attach_legend(dot, legend(self.names, self.c, list(self.norms.values()) if self.norms else None, note,
                                  self.title))
        drawn_steps = len(self.steps) - len(self.hidden)
        dot.view_name = "unfolded"
        dot.per_step = (len(self.keys) / max(len(self.steps), 1)) if self.steps else 0.0
        dot.fixed_nodes = max(0, dot.node_count() - int(dot.per_step * drawn_steps))
        return dot

    def _node_attrs(self, j: int) -> dict:
        k = self.keys[j]
        label, fill = key_label(self.c, k), ROLE_TINTS[ROLE_TINT[k.role]]
        attrs = {}
        if j in self.norms:
            n = self.norms[j]
            label = stacked(label, "no grad" if n is None else format_norm(n))
            fill = OKABE_ITO["grey"] if n is None else SCALE.colour(n)
            attrs["fontcolor"] = text_colour_on(fill)
            attrs["tooltip"] = f"‖∂L/∂{key_symbol(self.c, k)}‖ = {'no grad' if n is None else n}"
        if k.role == ROOT:
            if k.node.size == 1:
                attrs["shape"] = "doublecircle"
            else:
                attrs.update(shape="box", fixedsize="false")
        elif k.role == NAMED or (k.node.name and len(k.node.name) > 4):
            attrs.update(shape="box", style="rounded,filled", fixedsize="false", height="0.4")
        return {"label": html_label(label), "fillcolor": fill, **attrs}

    def _elision_nodes(self, dot, phase: int) -> None:
        count = sum(1 for p, _ in self.hidden if p == phase)
        dot.node(elision_id(phase), label=f"… {count} steps …", shape="box", style="dashed,rounded",
                 fontname="Helvetica", fontsize="12", width="0.8", height="0.4", fixedsize="false", color="#777777")
        for _, node_id in self._elision_column(phase):
            if node_id != elision_id(phase):
                dot.node(node_id, label="⋯", shape="plaintext", style="", fontname="Helvetica",
                         width="0.3", height="0.3")

    def _nodes(self, dot) -> None:
        keys, ids = self.keys, self.ids
        by_step: dict[tuple, list[int]] = {}
        outside: list[int] = []
        for j, k in enumerate(keys):
            if k.step is None:
                outside.append(j)
            elif self.shown(j):
                by_step.setdefault(k.step, []).append(j)

        # Initial states, boxed (invisibly) like a step, go before step 1 (a backward direction's
        # after the last step). Where dot puts such a box depends on where it is written: first,
        # except when time runs downwards through one-state cells (found by laying out every kind
        # of cell both ways).
        initial = [j for j in outside if keys[j].role == INIT and (keys[j].sub or 0) <= 0]
        final = [j for j in outside if keys[j].role == INIT and (keys[j].sub or 0) > 0]
        initial_last = self.rankdir == "TB" and all(
            len(self.c.groups[keys[j].group].symbols) == 1 for j in initial)

        def write(name: str, members: list[int]) -> None:
            if members:
                with dot.subgraph(name=name) as sub:
                    sub.attr(style="invis")
                    for j in members:
                        sub.node(ids[j], **self._node_attrs(j))

        if not initial_last:
            write("cluster_initial", initial)
        written: set[int] = set()
        for s in self.steps:
            if s in self.hidden:
                if s[0] not in written:
                    self._elision_nodes(dot, s[0])
                    written.add(s[0])
                continue
            with dot.subgraph(name=cluster_id(s)) as sub:
                sub.attr(label=step_label(self.c, s), style="rounded", color="#AAAAAA", fontname="Helvetica",
                         fontsize="11", fontcolor="#555555", labeljust="c")
                for j in by_step[s]:
                    sub.node(ids[j], **self._node_attrs(j))
        if initial_last:
            write("cluster_initial", initial)
        write("cluster_final", final)
        for j in outside:
            if keys[j].role != INIT:
                dot.node(ids[j], **self._node_attrs(j))

    def _elision_column(self, phase: int) -> list[tuple[int, str]]:
        """(row, id) of one phase's elision nodes, bottom row first."""
        if phase not in self.hidden_phases or self.main_row is None:
            return []
        mine = [(r, n) for r, n in self.row_elisions if n.startswith(elision_id(phase) + "_")
                and n.count("_p") == (1 if phase else 0)]
        return sorted(mine + [(self.main_row, elision_id(phase))])

    def _rows(self, dot) -> None:
        """One rank=same group per row across all the step clusters (newrank makes that work),
        in time order with the elisions in their place: dot starts from this order."""
        placed: list[tuple[tuple, int, str, int]] = []
        for j, r in self.rows.items():
            if self.shown(j):
                placed.append((self._time(j), j, self.ids[j], r))
        for phase in self.hidden_phases:
            placed += [(self._middle(phase), -1, node_id, r) for r, node_id in self._elision_column(phase)]
        members: dict[int, list[str]] = {}
        for _, _, node_id, r in sorted(placed, key=lambda e: (e[0], e[1])):
            members.setdefault(r, []).append(node_id)
        for r in sorted(members):
            if len(members[r]) > 1:
                with dot.subgraph() as same:
                    same.attr(rank="same")
                    for node_id in members[r]:
                        same.node(node_id)

    def _edges(self, dot) -> None:
        for phase in self.hidden_phases:
            column = self._elision_column(phase)  # the elision nodes stack like a step of their own
            for (_, lower), (_, upper) in zip(column, column[1:]):
                dot.edge(lower, upper, style="invis")
        self._stack_rows(dot)
        for (a, b), (w, ra, rb) in sorted(self.edges.items(), key=lambda e: self.edge_time[e[0]]):
            attrs = {"label": weights_label(w, self.names)} if w else {}
            if a.startswith("elided") or b.startswith("elided"):
                attrs["style"] = "dashed"
                if ra != rb:  # between rows a dashed line stands for several kinds of edges: no label
                    attrs.pop("label", None)
            head_time, tail_time = self.edge_time[(a, b)]
            if ra is not None and rb is not None and ra > rb:  # back down the rows (LSTM: h_{t-1} -> c_t)
                dot.edge(b, a, dir="back", **attrs)
            elif ra == rb and tail_time > head_time:  # back in time along a row (a backward direction)
                dot.edge(b, a, dir="back", **attrs)
            else:
                dot.edge(a, b, **attrs)

    def _stack_rows(self, dot) -> None:
        """Within a step, state rows no edge joins (h_t and g_t of two directions) are stacked by
        an invisible edge, so that each keeps a row of its own."""
        joined = {frozenset((a, b)) for (a, b) in self.edges}
        by_step: dict[tuple, list[tuple[int, str]]] = {}
        for j, k in enumerate(self.keys):
            if k.role == STATE and self.shown(j):
                by_step.setdefault(k.step, []).append((self.rows[j], self.ids[j]))
        for members in by_step.values():
            members.sort()
            for (ra, a), (rb, b) in zip(members, members[1:]):
                if ra != rb and frozenset((a, b)) not in joined:
                    dot.edge(a, b, style="invis", weight="4")
