"""Every recurrent architecture of Goodfellow et al. (2016), ch. 10, written as plain loops (and with
`RNN` where it applies), drawn as the textbook draws it: the DOT text's columns, one x_t per column,
distinct state symbols, recurrent edges in the right direction, phases and what feeds the loss."""
import re
import shutil

import numpy as np
import pytest
from test_viz import clusters, edges

from tinygrad_rnn import RNN, Linear, LSTMCell, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.viz import draw_graph, phase, step

T = 4


def inputs(T=T, seed=0, size=3):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal((1, size))) for _ in range(T)], \
           [Tensor(rng.standard_normal((1, 2))) for _ in range(T)]


def nodes_in(source: str, cluster: str) -> list[str]:
    """DOT ids of the nodes written inside one cluster."""
    body = re.search(rf"subgraph {cluster} \{{(.*?)\n\t\}}", source, re.S).group(1)
    return re.findall(r"^\t\t(\w+) \[", body, re.M)


def into(e: dict, head: str) -> set[str]:
    return {a for (a, b) in e if b == head}


def bidirectional(shared_inputs=True):
    xs, ys = inputs()
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((1, 3)) for _ in range(T)]
    fwd, bwd, head = RNNCell(3, 4, rng=0), RNNCell(3, 4, rng=1), Linear(8, 2, rng=2)
    h = g = None
    hs, gs = [], []
    for t in range(T):
        h = fwd(xs[t] if shared_inputs else data[t], h)
        hs.append(h)
    for t in reversed(range(T)):
        g = bwd(xs[t] if shared_inputs else data[t], g)
        gs.insert(0, g)
    return sum(F.mse_loss(head(F.concat([h, g], axis=-1)), y) for h, g, y in zip(hs, gs, ys))


# ----------------------------------------------------------------------------------------------
# one chain (fig. 10.3), stacked layers (fig. 10.13)
# ----------------------------------------------------------------------------------------------
def test_one_chain_with_a_linear_head_is_figure_10_3():
    xs, ys = inputs()
    cell, head = RNNCell(3, 4, rng=0), Linear(4, 2, rng=1)
    a, loss = None, 0.0
    for x, y in zip(xs, ys):
        a = cell(x, a)
        loss = loss + F.mse_loss(head(a), y)
    source = draw_graph(loss).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    for k in range(1, T + 1):
        assert [n for n in nodes_in(source, f"cluster_t{k}") if n.startswith("x")] == [f"x_{k}"]
        assert e[(f"x_{k}", f"a_{k}")] == "U" and e[(f"a_{k}", f"yhat_{k}")] == "V"
        assert (f"yhat_{k}", "L") in e
        if k > 1:
            assert e[(f"a_{k - 1}", f"a_{k}")] == "W"
    assert "Linear.weight" in source and "RNNCell.W" in source   # the legend names each attribute


@pytest.mark.parametrize("build", ["loop", "RNN"])
def test_stacked_layers_are_rows_of_one_column(build):
    xs, ys = inputs()
    if build == "RNN":
        rnn = RNN(3, 4, output_size=2, num_layers=2, rng=0)
        outs, _ = rnn(np.concatenate([x.data for x in xs])[:, None])
        loss = F.mse_loss(outs, np.zeros(outs.shape))
    else:
        lower, upper, head = RNNCell(3, 4, rng=0), RNNCell(4, 4, rng=1), Linear(4, 2, rng=2)
        a1 = a2 = None
        loss = 0.0
        for x, y in zip(xs, ys):
            a1 = lower(x, a1)
            a2 = upper(a1, a2)
            loss = loss + F.mse_loss(head(a2), y)
    source = draw_graph(loss).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    for k in range(1, T + 1):
        assert {f"x_{k}", f"a1_{k}", f"a2_{k}", f"yhat_{k}"} <= set(nodes_in(source, f"cluster_t{k}"))
        assert e[(f"a1_{k}", f"a2_{k}")] == "U²"
        if k > 1:
            assert e[(f"a1_{k - 1}", f"a1_{k}")] == "W¹" and e[(f"a2_{k - 1}", f"a2_{k}")] == "W²"
    assert "<I>a</I><SUP>(2)</SUP><SUB>3</SUB>" in source


# ----------------------------------------------------------------------------------------------
# bidirectional (fig. 10.11)
# ----------------------------------------------------------------------------------------------
def test_bidirectional_h_forward_g_backward_in_the_columns_of_their_inputs():
    source = draw_graph(bidirectional()).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    for k in range(1, T + 1):
        members = nodes_in(source, f"cluster_t{k}")
        assert [n for n in members if n.startswith("x")] == [f"x_{k}"]   # each x_t once, in its column
        assert {f"h_{k}", f"g_{k}", f"yhat_{k}"} <= set(members)
        assert e[(f"x_{k}", f"h_{k}")] == "Uʰ" and e[(f"x_{k}", f"g_{k}")] == "Uᵍ"
        assert into(e, f"yhat_{k}") == {f"h_{k}", f"g_{k}"}               # ŷ_t reads both directions
        if k > 1:
            assert e[(f"h_{k - 1}", f"h_{k}")] == "Wʰ"                   # forward: left to right
            assert e[(f"g_{k}", f"g_{k - 1}")] == "Wᵍ"                   # backward: right to left
            assert (f"g_{k - 1}", f"g_{k}") not in e
    assert "<I>h</I><SUB>1</SUB>" in source and "<I>g</I><SUB>1</SUB>" in source
    assert "<I>ŷ</I><SUB>4</SUB>" in source
    assert "backward" in source    # the legend says which is which


def test_bidirectional_over_arrays_finds_its_columns_from_the_outputs():
    """x_t given as arrays becomes a new tensor in each cell call (so it is drawn per direction), but
    ŷ_t reading h_t and g_t still puts the backward steps in the right columns."""
    e = edges(draw_graph(bidirectional(shared_inputs=False)).source)
    for k in range(1, T + 1):
        assert into(e, f"yhat_{k}") == {f"h_{k}", f"g_{k}"}
        if k > 1:
            assert (f"g_{k}", f"g_{k - 1}") in e and (f"h_{k - 1}", f"h_{k}") in e


def test_a_hint_places_what_the_graph_cannot_tell():
    """Only the two final states are read (a sequence classifier) and the inputs are arrays: nothing
    in the graph ties the backward steps to columns, so `viz.step` does."""
    rng = np.random.default_rng(0)
    data = [rng.standard_normal((1, 3)) for _ in range(T)]
    fwd, bwd = RNNCell(3, 4, rng=0), RNNCell(3, 4, rng=1)
    h = g = None
    for t in range(T):
        with step(t):
            h = fwd(data[t], h)
    for t in reversed(range(T)):
        with step(t):
            g = bwd(data[t], g)
    source = draw_graph(F.concat([h, g], axis=-1).sum()).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    assert "h_4" in nodes_in(source, "cluster_t4") and "g_1" in nodes_in(source, "cluster_t1")
    assert (f"g_{T}", f"g_{T - 1}") in e and ("h_1", "h_2") in e


# ----------------------------------------------------------------------------------------------
# encoder-decoder (fig. 10.12)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("context", ["every step", "initial state"])
def test_encoder_decoder_is_two_phases(context):
    xs, ys = inputs()
    encoder, decoder, head = RNNCell(3, 4, rng=0), RNNCell(4, 4, rng=1), Linear(4, 2, rng=2)
    h = None
    for x in xs:
        h = encoder(x, h)
    s, loss = (None, 0.0) if context == "every step" else (h, 0.0)
    for y in ys[:3]:
        s = decoder(h if context == "every step" else Tensor(np.zeros((1, 4))), s)
        loss = loss + F.mse_loss(head(s), y)
    source = draw_graph(loss).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, 5)]  # the encoder's columns first
    assert re.findall(r"subgraph (cluster_p2_t\d+)", source) == ["cluster_p2_t1", "cluster_p2_t2", "cluster_p2_t3"]
    assert source.index("cluster_t4") < source.index("cluster_p2_t1")
    assert 'label="encoder  t = 1"' in source and 'label="decoder  t = 3"' in source
    assert "s_1" in nodes_in(source, "cluster_p2_t1") and "yhat_3" in nodes_in(source, "cluster_p2_t3")
    assert ("s_1", "s_2") in e and ("s_2", "s_3") in e
    if context == "every step":      # the context C = a_4 is read by every decoder step
        assert {("a_4", f"s_{k}") for k in (1, 2, 3)} <= set(e)
    else:                            # the decoder starts from the encoder's final state
        assert e[("a_4", "s_1")] == "Wˢ" and ("a_4", "s_2") not in e
    assert not any(b == "L" and a.startswith(("a", "x")) for a, b in e)


def test_a_phase_hint_splits_one_cell_into_encoder_and_decoder():
    xs, _ = inputs()
    cell = RNNCell(3, 4, rng=0)
    h = None
    with phase("read"):
        for x in xs:
            h = cell(x, h)
    with phase("write"):
        for x in xs[:2]:
            h = cell(x, h)
    source = draw_graph(h.sum()).source
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, 5)]
    assert 'label="read  t = 4"' in source and 'label="write  t = 2"' in source
    assert ("a_4", "s_1") in edges(source)


# ----------------------------------------------------------------------------------------------
# recurrence from the output (fig. 10.4)
# ----------------------------------------------------------------------------------------------
def test_output_to_hidden_recurrence_draws_every_input_and_output():
    xs, ys = inputs()
    cell, head = RNNCell(3 + 2, 4, rng=0), Linear(4, 2, rng=1)
    o, loss = Tensor(np.zeros((1, 2))), 0.0
    for x, y in zip(xs, ys):
        a = cell(F.concat([x, o], axis=-1))
        o = head(a)
        loss = loss + F.mse_loss(o, y)
    source = draw_graph(loss).source
    e = edges(source)
    assert clusters(source) == [f"cluster_t{k}" for k in range(1, T + 1)]
    for k in range(1, T + 1):
        members = nodes_in(source, f"cluster_t{k}")
        assert f"x_{k}" in members and f"yhat_{k}" in members
        assert e[(f"x_{k}", f"a_{k}")] == "U" and e[(f"a_{k}", f"yhat_{k}")] == "V"
        assert (f"yhat_{k}", "L") in e
        if k > 1:
            assert e[(f"yhat_{k - 1}", f"a_{k}")] == "U"      # the feedback edge, one step later
            assert (f"a_{k - 1}", f"a_{k}") not in e          # no hidden-to-hidden recurrence


# ----------------------------------------------------------------------------------------------
# a single output at the end (fig. 10.5)
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("pick", ["outs[-1]", "per-step list", "outs[-2:]"])
def test_only_what_the_loss_reads_feeds_it(cell, pick):
    rng = np.random.default_rng(0)
    rnn = RNN(3, 4, output_size=2, cell=cell, rng=0)
    outs, _ = rnn(rng.standard_normal((T, 1, 3)))
    if pick == "outs[-1]":
        loss, read = F.mse_loss(outs[-1], np.zeros((1, 2))), [T]
    elif pick == "per-step list":  # what the adding task's loss does
        loss, read = F.mse_loss([outs[t] for t in range(T)][-1], np.zeros((1, 2))), [T]
    else:
        loss, read = F.mse_loss(outs[-2:], np.zeros((2, 1, 2))), [T - 1, T]
    e = edges(draw_graph(loss).source)
    assert into(e, "L") == {f"yhat_{k}" for k in read}
    assert not any(b.startswith("yhat") and int(b.split("_")[1]) not in read for _, b in e)
    state = "h" if cell == "lstm" else "a"
    assert (f"{state}_1", f"{state}_2") in e   # the whole chain is still drawn


def test_a_hand_loop_with_the_loss_on_the_last_output():
    xs, _ = inputs()
    cell, head = LSTMCell(3, 4, rng=0), Linear(4, 2, rng=1)
    state = None
    for x in xs:
        state = cell(x, state)
    e = edges(draw_graph(head(state[0]).sum()).source)
    assert into(e, "L") == {f"yhat_{T}"}
    assert ("c_1", "c_2") in e and ("h_3", "h_4") in e


def test_steps_count_from_one_and_a_given_state_is_step_zero():
    xs, _ = inputs()
    cell = RNNCell(3, 4, rng=0)
    a = Tensor(np.zeros((1, 4)))
    for x in xs:
        a = cell(x, a)
    source = draw_graph(a.sum()).source
    assert clusters(source)[0] == "cluster_t1" and 'label="t = 1"' in source and "t = 0" not in source
    assert edges(source)[("a_0", "a_1")] == "W"


def test_one_cell_run_twice_over_the_same_inputs_gets_two_rows():
    xs, _ = inputs()
    cell = RNNCell(3, 4, rng=0)
    a = b = None
    for x in xs:
        a = cell(x, a)
    for x in xs[:2]:
        b = cell(x, b)
    source = draw_graph(a.sum() + b.sum()).source
    e = edges(source)
    assert {"a_1", "ap_1", "x_1"} <= set(nodes_in(source, "cluster_t1"))
    assert ("a_1", "a_2") in e and ("ap_1", "ap_2") in e and ("x_2", "ap_2") in e
    assert "<I>a′</I><SUB>2</SUB>" in source


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def positions(dot) -> dict[str, tuple[float, float]]:
    found = {}
    for line in dot.pipe(format="plain").decode().splitlines():
        parts = line.split()
        if parts[0] == "node":
            found[parts[1].strip('"')] = (float(parts[2]), float(parts[3]))
    return found


@needs_dot
def test_laid_out_by_dot_the_columns_read_left_to_right():
    """The columns come out in time order: each row of the bidirectional figure, and the encoder's
    steps before the decoder's."""
    at = positions(draw_graph(bidirectional()))
    for row in ("x", "h", "g", "yhat"):
        xs = [at[f"{row}_{k}"][0] for k in range(1, T + 1)]
        assert xs == sorted(xs), row
    assert all(at[f"g_{k}"][1] > at[f"h_{k}"][1] for k in range(1, T + 1))  # g's row above h's
    xs, ys = inputs()
    encoder, decoder = RNNCell(3, 4, rng=0), RNNCell(4, 4, rng=1)
    h = None
    for x in xs:
        h = encoder(x, h)
    s = None
    for _ in range(3):
        s = decoder(h, s)
    at = positions(draw_graph(s.sum()))
    order = [at[f"a_{k}"][0] for k in range(1, T + 1)] + [at[f"s_{k}"][0] for k in (1, 2, 3)]
    assert order == sorted(order)
