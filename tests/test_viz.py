"""The pictures: DOT structure of the unfolded, folded and ops views, gradients on the states,
elision of long unrolls, large graphs without recursion, and rendering with and without `dot`."""
import logging
import re
import shutil
import sys

import graphviz
import numpy as np
import pytest

from tinygrad_rnn import RNN, GRUCell, Linear, LSTMCell, Parameter, RNNCell, Tensor, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph, render
from tinygrad_rnn.viz import rendering as render_module

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
STATE = {"rnn": "a", "lstm": "h", "gru": "h"}  # the symbol of the state that carries W
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def with_rnn(kind, T=4, batch=2, seed=0, **options):
    rng = np.random.default_rng(seed)
    model = RNN(3, 4, output_size=2, cell=kind, rng=seed, **options)
    outputs, _ = model(rng.standard_normal((T, batch, 3)))
    return F.mse_loss(outputs, rng.standard_normal(outputs.shape)), model


def with_loop(kind, T=4, batch=2, seed=0):
    """A hand-written unroll: a cell called in a Python loop, ŷ_t = V a_t + c, summed losses."""
    rng = np.random.default_rng(seed)
    cell = CELLS[kind](3, 4, rng=seed)
    V = Parameter(rng.standard_normal((2, 4)) * 0.5, name="V")
    c = Parameter(np.zeros(2), name="c")
    state, loss, states = None, 0.0, []
    for _ in range(T):
        x = Tensor(rng.standard_normal((batch, 3)))
        state = cell(x, state)
        a = state[0] if kind == "lstm" else state
        states.append(a)
        loss = loss + F.mse_loss(ops.linear(a, V, c), rng.standard_normal((batch, 2)))
    return loss, states


def edges(source: str) -> dict[tuple[str, str], str]:
    """(from, to) -> label ('' when none) of every edge in DOT text, as drawn: an edge written
    `b -> a [dir=back]` is drawn from a to b."""
    found = {}
    for tail, head, attrs in re.findall(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", source, re.M):
        m = re.search(r"label=(\"[^\"]*\"|[^ \]]+)", attrs or "")
        if "dir=back" in (attrs or ""):
            tail, head = head, tail
        found[(tail, head)] = m.group(1).strip('"') if m else ""
    return found


def clusters(source: str) -> list[str]:
    return re.findall(r"subgraph (cluster_t\d+) \{", source)


# ----------------------------------------------------------------------------------------------
# unfolded
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("build", [with_rnn, with_loop], ids=["RNN", "loop"])
def test_unfolded_is_the_textbook_figure(kind, build):
    T = 4
    loss, _ = build(kind, T=T)
    source = draw_graph(loss).source
    e = edges(source)
    s = STATE[kind]
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    for k in range(1, T + 1):
        assert f'label="t = {k}"' in source
        assert e[(f"x_{k}", f"{s}_{k}")] == "U"            # input weights between x_t and a_t
        assert e[(f"{s}_{k}", f"yhat_{k}")] == "V"         # output weights between a_t and ŷ_t
        assert e[(f"yhat_{k}", "L")] == ""
        if k > 1:
            assert e[(f"{s}_{k - 1}", f"{s}_{k}")] == "W"  # the recurrence, step to step
    assert (f"{s}_0", f"{s}_1") not in e  # a zero initial state is not drawn
    # parameters are edge labels and legend rows, never per-step nodes
    for name in ("U", "W", "V"):
        assert source.count(f"<I>{name}</I>") == 1
        assert not re.search(rf"^\s*{name} \[", source, re.M)
    # rows: all x_t, all a_t, all ŷ_t aligned across the clusters
    assert "newrank=true" in source
    rows = re.findall(r"\{\s*rank=same\s+([^}]*)\}", source)
    assert ("\n".join(f"x_{k}" for k in range(1, T + 1))) in [r.strip().replace("\t", "") for r in rows]


def test_unfolded_labels_use_subscripts_and_hats():
    loss, _ = with_rnn("rnn", T=2)
    source = draw_graph(loss).source
    assert "<I>x</I><SUB>1</SUB>" in source
    assert "<I>a</I><SUB>2</SUB>" in source
    assert "<I>ŷ</I><SUB>2</SUB>" in source


def test_lstm_draws_both_states():
    loss, _ = with_rnn("lstm", T=3)
    e = edges(draw_graph(loss).source)
    assert e[("c_1", "c_2")] == ""      # the cell state's additive path meets no weight
    assert e[("h_1", "c_2")] == "W"
    assert e[("c_2", "h_2")] == ""
    assert e[("x_2", "c_2")] == "U"


def test_two_layers_get_rows_and_layer_names():
    loss, _ = with_rnn("rnn", T=3, num_layers=2)
    source = draw_graph(loss).source
    e = edges(source)
    assert e[("x_2", "a1_2")] == "U¹"
    assert e[("a1_2", "a2_2")] == "U²"   # the lower layer's state is the upper layer's input
    assert e[("a1_1", "a1_2")] == "W¹"
    assert e[("a2_1", "a2_2")] == "W²"
    assert e[("a2_2", "yhat_2")] == "V"
    assert clusters(source) == ["cluster_t1", "cluster_t2", "cluster_t3"]


def test_plain_matmuls_and_a_given_initial_state():
    """A cell written with @ and .T, started from a given state: a_0 -> a_1 carries W too."""
    from tinygrad_rnn import RecurrentCell

    class Tiny(RecurrentCell):
        def __init__(self):
            self.input_size, self.hidden_size = 3, 4
            self.U = Parameter(np.ones((4, 3)) * 0.1, name="U")
            self.W = Parameter(np.eye(4) * 0.5, name="W")

        def forward(self, x, a_prev):
            return (Tensor(x) @ self.U.T + a_prev @ self.W.T).tanh()

    cell, a = Tiny(), Tensor(np.ones(4))
    for _ in range(3):
        a = cell(np.ones(3), a)
    e = edges(draw_graph(a.sum()).source)
    assert e[("a_0", "a_1")] == "W"
    assert e[("a_2", "a_3")] == "W"
    assert e[("x_3", "a_3")] == "U"


def test_user_names_win():
    cell = RNNCell(3, 4, rng=0)
    a = None
    for t in range(2):
        a = cell(Tensor(np.ones((1, 3)), name=f"word_{t}"), a)
    a.name = "summary"
    source = draw_graph(a.sum()).source
    assert "<I>word</I><SUB>0</SUB>" in source and "<I>word</I><SUB>1</SUB>" in source
    assert "label=<summary>" in source


def test_truncated_bptt_keeps_counting_steps():
    loss, _ = with_rnn("rnn", T=6, truncate=2)
    source = draw_graph(loss).source
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, 7)]
    e = edges(source)
    assert ("a_2", "a_3") not in e and ("a_3", "a_4") in e  # the cut shows as a missing W edge


def test_rankdir_is_the_direction_of_time():
    loss, _ = with_rnn("rnn", T=2)
    assert "rankdir=BT" in draw_graph(loss, rankdir="LR").source   # rows bottom to top, time left to right
    assert "rankdir=LR" in draw_graph(loss, rankdir="TB").source
    assert "rankdir=RL" in draw_graph(loss, view="ops", rankdir="RL").source
    with pytest.raises(ValueError, match="LR, TB"):
        draw_graph(loss, rankdir="RL")  # the textbook views: time runs left to right or downwards


def test_bad_arguments_are_named():
    loss, _ = with_rnn("rnn", T=2)
    with pytest.raises(ValueError, match="view"):
        draw_graph(loss, view="flat")
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(loss, rankdir="XY")
    with pytest.raises(ValueError, match="max_steps"):
        draw_graph(loss, max_steps=0)
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph(np.ones(3))


def test_a_graph_without_cells_says_so():
    x = Tensor(np.ones(3), requires_grad=True)
    source = draw_graph((x * 2).sum()).source
    assert "no recurrent-cell calls" in source
    assert "cluster_t" not in source


# ----------------------------------------------------------------------------------------------
# folded
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("build", [with_rnn, with_loop], ids=["RNN", "loop"])
def test_folded_has_the_self_loop(kind, build):
    loss, _ = build(kind, T=5)
    source = draw_graph(loss, view="folded").source
    e = edges(source)
    s = STATE[kind]
    assert e[(s, s)] == "W"
    assert e[("x", s)] == "U"
    assert e[(s, "yhat")] == "V"
    assert e[("yhat", "L")] == ""
    assert "cluster_t" not in source
    assert len(re.findall(r"^\s*\w+ \[label=", source, re.M)) == (5 if kind == "lstm" else 4)


# ----------------------------------------------------------------------------------------------
# ops
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_ops_view_clusters_every_op_and_draws_parameters_once(kind):
    loss, model = with_rnn(kind, T=3)
    source = draw_graph(loss, view="ops").source
    assert clusters(source) == ["cluster_t1", "cluster_t2", "cluster_t3"]
    for name, p in model.named_parameters():
        shown = "b_y" if (kind, p.name) == ("lstm", "c") else p.name  # c_t is the LSTM's cell state
        assert source.count(f"<B>{shown}</B>") == 1, name
    step_ops = {"rnn": ["tanh"], "lstm": ["lstm_cell", "lstm_hidden"], "gru": ["gru_cell"]}[kind]
    assert "<B>linear</B>" in source and all(f"<B>{op}</B>" in source for op in step_ops)
    assert "cluster_legend" in source
    for colour in ("#E69F00", "#56B4E9", "#009E73", "#D55E00"):  # Okabe-Ito: params, inputs, states, loss
        assert colour in source


def test_ops_view_elides_and_shows_grads():
    loss, _ = with_rnn("rnn", T=12)
    loss.backward()
    source = draw_graph(loss, view="ops", max_steps=4, show_grads=True).source
    assert clusters(source) == ["cluster_t1", "cluster_t2", "cluster_t11", "cluster_t12"]
    assert "… 8 steps …" in source
    assert source.count("‖∂L/∂·‖") == 4


# ----------------------------------------------------------------------------------------------
# gradients through time
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [with_rnn, with_loop], ids=["RNN", "loop"])
def test_show_grads_labels_each_state_with_its_norm(build):
    loss, _ = build("rnn", T=5)
    with pytest.raises(ValueError, match="backward"):
        draw_graph(loss, show_grads=True)
    loss.backward()
    dot = draw_graph(loss, show_grads=True)
    source = dot.source
    from tinygrad_rnn.viz.contract import STATE as ROLE
    from tinygrad_rnn.viz.reading import read
    from tinygrad_rnn.viz.style import format_norm
    states = [k.node for k in read(loss).keys if k.role == ROLE]
    assert len(states) == 5
    fills = set()
    for k, a in enumerate(states, start=1):
        norm = a.grad_norm
        line = next(ln for ln in source.splitlines() if ln.strip().startswith(f"a_{k} "))
        assert format_norm(norm) in line
        fills.add(re.search(r'fillcolor="(#\w+)"', line).group(1))
    assert len(fills) > 1                      # coloured by the norm
    assert "fixed log scale" in source         # with a colour key


def test_show_grads_makes_vanishing_visible():
    """With a small recurrent weight the early states get tiny gradients: a dark colour first, a
    bright one last, each the colour of its decade on the fixed scale."""
    from tinygrad_rnn.viz.style import SCALE, text_colour_on
    rng = np.random.default_rng(1)
    cell = RNNCell(2, 3, recurrent_init="identity", rng=1)
    cell.W.data *= 0.2
    a, states = None, []
    for _ in range(6):
        a = cell(rng.standard_normal((1, 2)), a)
        states.append(a)
    loss = a.sum()
    loss.backward()
    source = draw_graph(loss, show_grads=True).source
    first = next(ln for ln in source.splitlines() if ln.strip().startswith("a_1 "))
    last = next(ln for ln in source.splitlines() if ln.strip().startswith("a_6 "))
    norms = {k: float(np.linalg.norm(s.grad)) for k, s in ((1, states[0]), (6, states[-1]))}
    assert f'fillcolor="{SCALE.colour(norms[1])}"' in first
    assert f'fillcolor="{SCALE.colour(norms[6])}"' in last
    assert SCALE.decade(norms[1]) <= SCALE.decade(norms[6]) - 3     # three decades apart at least
    assert text_colour_on(SCALE.colour(norms[1])) == "white"        # dark: the small end of viridis


def test_folded_view_shows_the_range_of_grads():
    loss, model = with_rnn("rnn", T=3)
    with pytest.raises(ValueError, match="backward"):
        draw_graph(loss, view="folded", show_grads=True)
    loss.backward()
    from tinygrad_rnn.viz.style import format_norm
    norms = [float(np.linalg.norm(a.grad)) for a in model.states]
    source = draw_graph(loss, view="folded", show_grads=True).source
    assert f"{format_norm(min(norms))} … {format_norm(max(norms))}" in source


# ----------------------------------------------------------------------------------------------
# long unrolls
# ----------------------------------------------------------------------------------------------
def test_max_steps_keeps_first_and_last_steps_and_one_elision_node():
    loss, _ = with_rnn("rnn", T=20)
    source = draw_graph(loss, max_steps=5).source
    assert clusters(source) == ["cluster_t1", "cluster_t2", "cluster_t3", "cluster_t19", "cluster_t20"]
    assert source.count("… 15 steps …") == 1
    e = edges(source)
    assert e[("a_3", "elided")] == "W" and e[("elided", "a_19")] == "W"
    assert ("elided_2", "L") in e  # the ŷ row passes through a "⋯" of its own
    assert "a_10" not in source
    assert clusters(draw_graph(loss, max_steps=20).source) == [f"cluster_t{k}" for k in range(1, 21)]


def test_a_3000_step_unroll_draws_without_recursion():
    limit = sys.getrecursionlimit()
    cell = RNNCell(2, 3, rng=0)
    xs = np.random.default_rng(0).standard_normal((3000, 2))
    a = None
    for t in range(3000):
        a = cell(xs[t], a)
    loss = a.sum()
    assert 3000 > limit  # a recursive walk over the steps could not finish
    full = draw_graph(loss, max_steps="all").source
    assert len(clusters(full)) == 3000 and "cluster_t3000" in full
    assert len(clusters(draw_graph(loss, view="ops", max_steps=6).source)) == 6
    assert "… 2994 steps …" in draw_graph(loss, max_steps=6).source
    assert "a -> a" in draw_graph(loss, view="folded").source
    assert sys.getrecursionlimit() == limit
    loss.backward()  # drawing left the graph usable


def test_drawing_does_not_change_the_graph():
    loss, _ = with_rnn("lstm", T=3)
    from tinygrad_rnn.viz.walk import topo_order
    nodes = topo_order(loss.node)

    def snapshot():
        return [(id(n), n.op, tuple(id(p) for p in n.parents), n.name, n.retain, n.requires_grad,
                 n.grad_norm, n.freed, id(n.scope)) for n in nodes]

    before = snapshot()
    for view in ("unfolded", "folded", "ops"):
        draw_graph(loss, view=view, max_steps=2)
    assert snapshot() == before
    loss.backward()


def test_the_digraph_shows_in_jupyter():
    loss, _ = with_rnn("rnn", T=2)
    dot = draw_graph(loss)
    assert isinstance(dot, graphviz.Digraph)
    assert hasattr(dot, "_repr_mimebundle_")


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------
@needs_dot
def test_render_svg_png_pdf(tmp_path):
    loss, _ = with_rnn("lstm", T=3)
    svg = render(draw_graph(loss), tmp_path / "rnn.svg")
    assert svg == tmp_path / "rnn.svg" and "<svg" in svg.read_text()
    assert render(loss, tmp_path / "rnn.png", view="folded").read_bytes()[:4] == b"\x89PNG"
    assert render(draw_graph(loss, view="ops"), tmp_path / "ops.pdf").read_bytes()[:4] == b"%PDF"


def test_render_dot_text_needs_no_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to run here
    loss, _ = with_rnn("rnn", T=2)
    out = render(loss, tmp_path / "rnn.dot")
    assert out.read_text(encoding="utf-8") == draw_graph(loss).source


def test_missing_dot_writes_dot_text_and_says_how_to_install(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    loss, _ = with_rnn("rnn", T=2)
    with caplog.at_level(logging.WARNING, logger="tinygrad_rnn.viz"):
        out = render(draw_graph(loss), tmp_path / "figure.svg")
    assert out == tmp_path / "figure.dot"
    assert out.read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "figure.svg").exists()
    [record] = caplog.records
    assert "apt-get install graphviz" in record.getMessage() and "brew install graphviz" in record.getMessage()


def test_dot_vanishing_from_path_is_handled_too(tmp_path, monkeypatch, caplog):
    """`which` finds dot but running it fails (graphviz.ExecutableNotFound): same fallback."""
    monkeypatch.setattr(render_module, "dot_available", lambda: True)
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _ = with_rnn("rnn", T=2)
    with caplog.at_level(logging.WARNING, logger="tinygrad_rnn.viz"):
        out = render(loss, tmp_path / "figure.png")
    assert out.suffix == ".dot" and out.exists()
    assert "install Graphviz" in caplog.text


def test_render_refuses_unknown_suffixes(tmp_path):
    loss, _ = with_rnn("rnn", T=2)
    with pytest.raises(ValueError, match=r"\.svg"):
        render(loss, tmp_path / "figure.jpg")


def test_linear_output_layer_in_a_loop():
    """A Linear module as the output layer: its weight is V by its role (the legend names it)."""
    cell, head = RNNCell(3, 4, rng=0), Linear(4, 2, rng=1)
    a, loss = None, 0.0
    for _ in range(3):
        a = cell(np.ones((1, 3)), a)
        loss = loss + head(a).sum()
    source = draw_graph(loss).source
    e = edges(source)
    assert e[("a_2", "yhat_2")] == "V"
    assert e[("a_1", "a_2")] == "W"
    assert "Linear.weight" in source and "Linear.bias" in source and "<I>c</I>" in source


def test_embedded_tokens_are_the_inputs():
    from tinygrad_rnn import Embedding
    emb, cell = Embedding(10, 3, rng=0), RNNCell(3, 4, rng=0)
    tokens = np.array([[1], [4], [7]])  # (T, batch)
    a = None
    for t in range(3):
        a = cell(emb(tokens[t]), a)
    e = edges(draw_graph(a.sum()).source)
    assert e[("x_2", "a_2")] == "U" and e[("a_1", "a_2")] == "W"


def test_hidden_states_straight_into_the_loss():
    rng = np.random.default_rng(0)
    model = RNN(3, 4, rng=0)  # no output layer: the outputs are the hidden states
    outputs, _ = model(rng.standard_normal((3, 1, 3)))
    e = edges(draw_graph(F.mse_loss(outputs, np.zeros(outputs.shape))).source)
    assert e[("a_3", "L")] == "" and e[("a_2", "a_3")] == "W"
    assert not any(head.startswith("yhat") for _, head in e)


class HalvingCell(RNNCell):
    """An RNN cell whose step makes a constant (0.5) inside its call."""

    def recur(self, gx, a_prev):
        return 0.5 * super().recur(gx, a_prev)


def test_ops_view_elides_the_constants_of_elided_steps_too():
    cell = HalvingCell(3, 4, rng=0)
    a = None
    for _ in range(10):
        a = cell(np.ones((2, 3)), a)
    loss = a.sum()
    source = draw_graph(loss, view="ops", max_steps=4).source
    constants = re.findall(r'label=0.5 fillcolor="#DDDDDD"', source)
    assert len(constants) == 4


@needs_dot
@pytest.mark.parametrize("kind, layers, max_steps, rankdir", [
    ("lstm", 1, None, "LR"), ("lstm", 2, 4, "LR"), ("rnn", 2, 5, "TB"), ("gru", 2, 4, "LR"), ("lstm", 1, 7, "TB"),
])
def test_dot_keeps_every_row_in_time_order(kind, layers, max_steps, rankdir):
    """Laid out by dot, each row (x_t, each state, ŷ_t, with the elision in its place) runs in
    time order: the picture reads left to right (or top to bottom) like the textbook figure."""
    loss, _ = with_rnn(kind, T=12, num_layers=layers)
    assert_rows_in_time_order(draw_graph(loss, max_steps=max_steps, rankdir=rankdir), rankdir)


@needs_dot
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_dot_keeps_a_given_initial_state_first(kind, rankdir):
    cell = CELLS[kind](3, 4, rng=0)
    state = (np.zeros((1, 4)), np.zeros((1, 4))) if kind == "lstm" else np.zeros((1, 4))
    loss = 0.0
    for t in range(6):
        state = cell(np.full((1, 3), 0.1 * t), state)
        loss = loss + (state[0] if kind == "lstm" else state).sum()
    dot = draw_graph(loss, rankdir=rankdir)
    assert f"{STATE[kind]}_0 [" in dot.source
    assert_rows_in_time_order(dot, rankdir)


def assert_rows_in_time_order(dot, rankdir):
    position = {}
    for line in dot.pipe(format="plain").decode().splitlines():
        parts = line.split()
        if parts[0] == "node":
            position[parts[1].strip('"')] = (float(parts[2]), float(parts[3]))
    rows = re.findall(r"\{\s*rank=same\s+([^}]*)\}", dot.source)
    assert len(rows) >= 2
    across = []
    for row in rows:
        names = row.split()
        along = [position[n][0] if rankdir == "LR" else -position[n][1] for n in names]
        assert along == sorted(along), names
        across.append(position[names[0]][1] if rankdir == "LR" else position[names[0]][0])
    assert across == sorted(across)  # and the rows stack in order: x_t first, the outputs last


def test_user_names_cannot_clash_with_the_views_own_nodes():
    cell = RNNCell(3, 4, rng=0)
    a = None
    for _ in range(12):
        a = cell(np.ones((1, 3)), a)
    out = (a * 2.0)
    out.name = "elided"
    source = draw_graph(out.sum(), max_steps=4).source
    assert source.count("\telided [") == 1 and "\tt_elided [" in source


@pytest.mark.parametrize("slice_inside", [False, True])
def test_a_sequence_model_that_projects_all_inputs_at_once(slice_inside):
    """x_t Uᵀ + b computed for all steps in one product outside the cells, each step run inside a
    scope of the cell (no call), with a_prev Wᵀ added in the same fused node: still the textbook
    figure, U where the input enters."""
    from tinygrad_rnn.autograd import scope
    cell = RNNCell(3, 4, rng=0)
    xs = Tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    gx = ops.linear(xs, cell.U, cell.b)              # (T, batch, hidden), every step at once
    a, loss = None, 0.0
    for t in range(5):
        part = None if slice_inside else gx[t]
        with scope(cell, step=t):
            part = gx[t] if slice_inside else part
            a = (part if a is None else ops.linear(a, cell.W, part)).tanh()
        loss = loss + a.sum()
    source = draw_graph(loss).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, 6)]
    for k in range(1, 6):
        assert e[(f"x_{k}", f"a_{k}")] == "U"
        if k > 1:
            assert e[(f"a_{k - 1}", f"a_{k}")] == "W"
