"""tinygrad_rnn.inspect: recordings equal the model's own numbers, the Jacobian pictures follow the
linear theory exactly, ranking finds a unit built to follow a feature, and each picture draws what
its .data says."""
from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import RNN, GRUCell, LSTMCell, Module, Parameter, RNNCell, Tensor, grad, inspect, no_grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.nn import taps


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def random_inputs(T=6, B=2, inputs=3, seed=0):
    return np.random.default_rng(seed).standard_normal((T, B, inputs))


def mse_of_outputs(outputs):
    return (outputs * outputs).mean()


class LinearCell(Module):
    """a_t = a_{t-1} Wᵀ + x_t Uᵀ: the linear recurrence of the theory, written with Tensor ops."""

    def __init__(self, W, U):
        self.W = Parameter(W, name="W", dtype=np.float64)
        self.U = Parameter(U, name="U", dtype=np.float64)

    def forward(self, x, a_prev=None):
        a = x @ self.U.T
        return a if a_prev is None else a + a_prev @ self.W.T


def scaled_orthogonal(rho, H, seed):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    return rho * Q


# -- record: the model's own numbers ----------------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_recorded_states_equal_the_models_forward(cell, layers):
    model = RNN(3, 5, output_size=4, cell=cell, num_layers=layers, rng=1, dtype=np.float64)
    xs = random_inputs()
    rec = inspect.record(model, xs)
    outputs, _ = model(xs)  # the model's own forward, on its default (fused) path
    np.testing.assert_allclose(rec.states, np.stack([s.data for s in model.states]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rec.outputs, outputs.data, rtol=1e-12, atol=1e-12)
    assert rec.states.shape == (6, 2, 5) and rec.cell == type(model.cells[-1]).__name__


def test_lstm_gates_are_the_ones_of_its_equations():
    """c_t = f c_{t-1} + i g and h_t = o tanh(c_t) with the recorded gates and the model's states, and
    step 1's gates recomputed from the weights (h_0 = 0), in PyTorch's block order i, f, g, o."""
    model = RNN(3, 4, output_size=2, cell="lstm", rng=2, dtype=np.float64)
    xs = random_inputs(seed=3)
    rec = inspect.record(model, xs)
    g = rec.gates
    assert sorted(g) == ["c", "f", "g", "i", "o"] and all(v.shape == (6, 2, 4) for v in g.values())
    previous = np.vstack([np.zeros((1, 2, 4)), g["c"][:-1]])
    np.testing.assert_allclose(g["c"], g["f"] * previous + g["i"] * g["g"], atol=1e-12)
    np.testing.assert_allclose(rec.states, g["o"] * np.tanh(g["c"]), atol=1e-12)
    cell = model.cells[0]
    pre = xs[0] @ cell.U.data.T + cell.b.data
    i, f, gg, o = np.split(pre, 4, axis=-1)
    np.testing.assert_allclose(g["i"][0], sigmoid(i), atol=1e-12)
    np.testing.assert_allclose(g["f"][0], sigmoid(f), atol=1e-12)
    np.testing.assert_allclose(g["g"][0], np.tanh(gg), atol=1e-12)
    np.testing.assert_allclose(g["o"][0], sigmoid(o), atol=1e-12)


def test_gru_gates_are_the_ones_of_its_equations():
    model = RNN(3, 4, cell="gru", rng=4, dtype=np.float64)
    xs = random_inputs(seed=5)
    rec = inspect.record(model, xs)
    g = rec.gates
    assert sorted(g) == ["n", "r", "z"]
    previous = np.vstack([np.zeros((1, 2, 4)), rec.states[:-1]])
    np.testing.assert_allclose(rec.states, (1 - g["z"]) * g["n"] + g["z"] * previous, atol=1e-12)
    cell = model.cells[0]
    pre = xs[0] @ cell.U.data.T + cell.b.data
    r, z, n = np.split(pre, 3, axis=-1)
    np.testing.assert_allclose(g["r"][0], sigmoid(r), atol=1e-12)
    np.testing.assert_allclose(g["z"][0], sigmoid(z), atol=1e-12)
    np.testing.assert_allclose(g["n"][0], np.tanh(n + sigmoid(r) * cell.b_hn.data), atol=1e-12)


def test_two_layers_record_the_top_layer_gates():
    model = RNN(3, 4, cell="lstm", num_layers=2, rng=6, dtype=np.float64)
    rec = inspect.record(model, random_inputs(seed=7))
    np.testing.assert_allclose(rec.states, rec.gates["o"] * np.tanh(rec.gates["c"]), atol=1e-12)


@pytest.mark.parametrize("Cell", [RNNCell, LSTMCell, GRUCell])
def test_a_cell_is_unrolled_over_xs(Cell):
    cell = Cell(3, 4, rng=8, dtype=np.float64)
    xs = random_inputs(seed=9)
    rec = inspect.record(cell, xs)
    state, expected = None, []
    for t in range(len(xs)):
        state = cell(Tensor(xs[t]), state)
        expected.append((state[0] if isinstance(state, tuple) else state).data)
    np.testing.assert_allclose(rec.states, np.stack(expected), atol=1e-12)
    np.testing.assert_allclose(rec.outputs, rec.states)  # a cell's outputs are its states
    assert bool(rec.gates) == (Cell is not RNNCell)


def test_recorded_gradients_equal_grad():
    model = RNN(3, 5, output_size=2, cell="gru", rng=10, dtype=np.float64)
    xs = random_inputs(seed=11)
    targets = np.random.default_rng(12).standard_normal((6, 2, 2))

    def loss_fn(outputs):
        return F.mse_loss(outputs, targets)

    rec = inspect.record(model, xs, loss_fn=loss_fn)
    outputs, _ = model(xs)
    loss = loss_fn(outputs)
    expected = grad(loss, model.states)
    np.testing.assert_allclose(rec.grads, np.stack(expected), rtol=1e-10, atol=1e-14)
    assert rec.loss == pytest.approx(loss.item(), rel=1e-12)
    assert all(p.grad is None for p in model.parameters())  # record never touches .grad


def test_record_leaves_the_model_as_it_was():
    model = RNN(3, 4, rng=0)
    inspect.record(model, random_inputs())
    assert "fused" not in vars(model) and model.fused is True
    model.fused = False  # a choice of the user's is kept
    inspect.record(model, random_inputs())
    assert vars(model)["fused"] is False
    assert taps.LISTENERS == []


def test_record_works_inside_no_grad_and_for_one_sequence():
    model = RNN(3, 4, output_size=2, rng=0)
    with no_grad():
        rec = inspect.record(model, random_inputs()[:, 0], loss_fn=mse_of_outputs)
    assert rec.states.shape == (6, 1, 4) and rec.grads.shape == (6, 1, 4)


def test_record_refuses_bad_input():
    model = RNN(3, 4)
    with pytest.raises(ValueError, match=r"\(T, batch, input\)"):
        inspect.record(model, np.zeros(3))
    with pytest.raises(ValueError, match="2 characters but xs has 6 steps"):
        inspect.record(model, random_inputs(), text="ab")
    with pytest.raises(ValueError, match="one-element Tensor"):
        inspect.record(model, random_inputs(), loss_fn=lambda outputs: outputs)
    with pytest.raises(ValueError, match="expected xs of shape"):
        inspect.record(model, random_inputs(inputs=5))


# -- Jacobians: the linear theory, exactly --------------------------------------------------------
@given(rho=st.floats(0.4, 1.6), H=st.integers(1, 5), T=st.integers(2, 10), seed=st.integers(0, 2**16))
def test_jacobian_spectrum_of_a_linear_recurrence_is_rho_to_the_lag(rho, H, T, seed):
    """W = ρQ: ∂a_T/∂a_t = W^(T-t), so every singular value is ρ^(T-t), and ρ(W) = ρ."""
    cell = LinearCell(scaled_orthogonal(rho, H, seed), np.random.default_rng(seed + 1).standard_normal((H, 2)))
    rec = inspect.record(cell, np.random.default_rng(seed + 2).standard_normal((T, 2, 2)))
    spectrum = inspect.jacobian_spectrum(rec)
    lag = spectrum.data["lag"]
    np.testing.assert_array_equal(lag, np.arange(T))
    expected = np.repeat((rho ** lag)[:, None], H, axis=1)
    np.testing.assert_allclose(spectrum.data["singular_values"], expected, rtol=1e-9, atol=0)
    assert float(spectrum.data["rho"]) == pytest.approx(rho, rel=1e-9)
    np.testing.assert_allclose(spectrum.data["line"], rho ** lag, rtol=1e-12)
    assert float(spectrum.data["fitted_rate"]) == pytest.approx(rho, rel=1e-9)


@given(rho=st.floats(0.4, 1.6), H=st.integers(1, 5), T=st.integers(1, 10), seed=st.integers(0, 2**16))
def test_connectivity_of_a_linear_recurrence_follows_the_same_law(rho, H, T, seed):
    """∂a_t/∂x_s = W^(t-s) U = ρ^(t-s) Q^(t-s) U, whose norm is ρ^(t-s) ‖U‖ (Q keeps norms)."""
    U = np.random.default_rng(seed + 1).standard_normal((H, 3))
    rec = inspect.record(LinearCell(scaled_orthogonal(rho, H, seed), U),
                         np.random.default_rng(seed + 2).standard_normal((T, 2, 3)))
    t = T if seed % 2 else max(1, T // 2)  # the last step, or one in the middle
    picture = inspect.connectivity(rec, t)
    s = np.arange(1, t + 1)
    np.testing.assert_array_equal(picture.data["steps"], s)
    np.testing.assert_allclose(picture.data["norms"], rho ** (t - s) * np.linalg.norm(U), rtol=1e-9)


def test_connectivity_map_rows_are_connectivity_at_each_step():
    rec = inspect.record(RNN(2, 3, output_size=2, cell="lstm", rng=3, dtype=np.float64), random_inputs(T=5, inputs=2))
    picture = inspect.connectivity_map(rec, steps=[2, 5])
    assert picture.data["norms"].shape == (2, 5)
    np.testing.assert_allclose(picture.data["norms"][0, :2], inspect.connectivity(rec, 2).data["norms"])
    assert np.isnan(picture.data["norms"][0, 2:]).all()
    np.testing.assert_allclose(picture.data["norms"][1], inspect.connectivity(rec, 5).data["norms"])


def test_state_jacobians_of_a_tanh_rnn_match_the_chain_rule():
    """∂a_T/∂a_{T-1} = diag(1 - a_T²) W for a_t = tanh(x Uᵀ + a_{t-1} Wᵀ + b): checked from the VJPs."""
    cell = RNNCell(2, 4, rng=5, dtype=np.float64)
    rec = inspect.record(cell, random_inputs(T=4, inputs=2))
    lags, J = inspect.state_jacobians(rec, batch=1)
    a_T = rec.states[-1, 1]
    np.testing.assert_allclose(J[0], np.eye(4))
    np.testing.assert_allclose(J[1], np.diag(1 - a_T ** 2) @ cell.W.data, atol=1e-12)
    spectrum = inspect.jacobian_spectrum(rec)
    assert float(spectrum.data["rho"]) == pytest.approx(np.max(np.abs(np.linalg.eigvals(cell.W.data))))


def test_gated_cells_draw_a_fitted_rate_line():
    rec = inspect.record(RNN(2, 3, cell="gru", rng=1, dtype=np.float64), random_inputs(T=8, inputs=2))
    spectrum = inspect.jacobian_spectrum(rec, max_lag=5)
    assert spectrum.data["singular_values"].shape == (6, 3)
    rate = float(spectrum.data["rho"])
    assert 0 < rate and np.allclose(spectrum.data["line"], rate ** np.arange(6))
    labels = [line.get_label() for line in spectrum.figure.axes[0].get_lines()]
    assert any("fitted rate" in label for label in labels)


# -- features and ranking ---------------------------------------------------------------------------
def test_feature_helpers():
    text = 'a "bc" (d)\nxy. Z'
    np.testing.assert_array_equal(inspect.inside_quotes(text)[:7], [0, 0, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(inspect.inside_brackets(text)[6:11], [0, 1, 1, 0, 0])
    np.testing.assert_array_equal(inspect.position_in_line(text)[9:13], [10, 0, 1, 2])
    np.testing.assert_array_equal(inspect.position_in_word(text)[:5], [1, 0, 0, 1, 2])
    np.testing.assert_array_equal(inspect.position_in_sentence(text)[11:], [1, 2, 0, 1, 2])
    np.testing.assert_array_equal(inspect.inside_quotes("“x” y"), [1, 1, 0, 0, 0])


CHARS = 'abc "\n'


class QuoteTracker(Module):
    """Unit 2 is built to be 1 inside quotes (it flips at every quote character); the other units
    are random tanh units of the input and the state, and unit 4 fires at the quote characters
    themselves, a close but wrong answer."""

    def __init__(self, H=6, seed=0):
        rng = np.random.default_rng(seed)
        self.U = Parameter(rng.standard_normal((H, len(CHARS))), dtype=np.float64)
        self.W = Parameter(0.5 * rng.standard_normal((H, H)), dtype=np.float64)
        self.H = H
        self.quote = np.zeros(len(CHARS))
        self.quote[CHARS.index('"')] = 1
        self.keep = np.ones(H)
        self.keep[2] = 0

    def forward(self, x, a_prev=None):
        a_prev = Tensor(np.zeros((x.shape[0], self.H))) if a_prev is None else a_prev
        q = x @ Tensor(self.quote)[:, None]  # (batch, 1): 1 at a quote character
        noise = (x @ self.U.T + a_prev @ self.W.T).tanh() * self.keep
        toggled = a_prev + q * (1 - 2 * a_prev)  # s_t = s_{t-1} xor q_t, on unit 2 only
        flag = q * Tensor(np.eye(self.H)[4])  # unit 4: the quote character itself
        return noise * (1 - Tensor(np.eye(self.H)[4])) + toggled * Tensor(np.eye(self.H)[2]) + flag


def one_hot_text(text):
    ids = np.array([CHARS.index(c) for c in text])
    return np.eye(len(CHARS))[ids][:, None, :]


def test_a_unit_built_to_track_quotes_is_ranked_first():
    text = 'ab "abc" c "a b\nc" aa "b" cab "ccc a" b\nabc "x'.replace("x", "a")
    rec = inspect.record(QuoteTracker(), one_hot_text(text), text=text)
    np.testing.assert_allclose(rec.states[:, 0, 2], inspect.inside_quotes(text))  # as built
    ranking = inspect.rank_units(rec, inspect.inside_quotes)
    assert ranking[0] == 2
    assert sorted(ranking.tolist()) == list(range(6))
    r = inspect.unit_correlations(rec, inspect.inside_quotes)
    assert r[2] == pytest.approx(1.0) and np.all(np.abs(np.delete(r, 2)) < 0.9)
    np.testing.assert_array_equal(inspect.rank_units(rec, inspect.inside_quotes(text)), ranking)  # an array too


def test_ranking_counts_a_unit_that_follows_upside_down():
    rec = inspect.record(RNNCell(2, 3, rng=0, dtype=np.float64), random_inputs(T=20, B=1, inputs=2))
    feature = -rec.states[:, 0, 1] + 0.01 * np.arange(20)
    assert inspect.rank_units(rec, feature)[0] == 1
    assert inspect.unit_correlations(rec, feature)[1] < -0.9


def test_ranking_refuses_what_cannot_be_ranked():
    rec = inspect.record(RNNCell(2, 3, rng=0), random_inputs(T=5, inputs=2), text="abcde")
    with pytest.raises(ValueError, match="same at every step"):
        inspect.rank_units(rec, inspect.inside_quotes)
    with pytest.raises(ValueError, match=r"one value per step, shape \(5,\)"):
        inspect.rank_units(rec, np.zeros(4))
    without_text = inspect.record(RNNCell(2, 3, rng=0), random_inputs(T=5, inputs=2))
    with pytest.raises(ValueError, match="needs the text"):
        inspect.rank_units(without_text, inspect.inside_quotes)


# -- the pictures draw what .data says -----------------------------------------------------------
@pytest.fixture(scope="module")
def lstm_recording():
    text = "ab ba\nabba"
    model = RNN(3, 4, output_size=3, cell="lstm", rng=0, dtype=np.float64)
    return inspect.record(model, random_inputs(T=len(text), B=2), loss_fn=mse_of_outputs, text=text)


def test_heatmap_of_states_gates_and_grads(lstm_recording):
    rec = lstm_recording
    states = inspect.heatmap(rec)
    np.testing.assert_array_equal(states.data["values"], rec.states[:, 0].T)
    np.testing.assert_array_equal(states.data["steps"], np.arange(1, 11))
    ax = states.figure.axes[0]
    assert ax.get_xticklabels()[0].get_text() == "1"  # steps are numbered from 1
    (top,) = ax.child_axes  # the characters read, along the top
    assert [t.get_text() for t in top.get_xticklabels()] == list("ab␣ba↵abba")
    forget = inspect.heatmap(rec, "f", units=[3, 1], steps=range(2, 6), batch=1)
    np.testing.assert_array_equal(forget.data["values"], rec.gates["f"][1:5, 1][:, [3, 1]].T)
    grads = inspect.heatmap(rec, "grads")
    np.testing.assert_array_equal(grads.data["values"], np.abs(rec.grads[:, 0].T))
    assert type(grads.figure.axes[0].images[0].norm).__name__ == "LogNorm"


def test_heatmap_errors_name_the_problem(lstm_recording):
    with pytest.raises(ValueError, match="has no 'z'"):
        inspect.heatmap(lstm_recording, "z")
    with pytest.raises(IndexError, match="unit 4 is out of range: the model has 4 hidden units"):
        inspect.heatmap(lstm_recording, units=[4])
    with pytest.raises(ValueError, match="steps are numbered 1 to 10"):
        inspect.heatmap(lstm_recording, steps=[0, 1])
    no_grads = inspect.record(RNN(3, 4), random_inputs())
    with pytest.raises(ValueError, match="loss_fn"):
        inspect.heatmap(no_grads, "grads")


def test_gate_saturation_counts_the_fractions(lstm_recording):
    picture = inspect.gate_saturation(lstm_recording)
    assert sorted(picture.data) == ["f", "i", "o"]
    f = lstm_recording.gates["f"].reshape(-1, 4)
    np.testing.assert_allclose(picture.data["f"], np.stack([(f < 0.1).mean(0), (f > 0.9).mean(0)], axis=1))
    assert len(picture.figure.axes) == 3


def test_gate_saturation_of_a_plain_rnn_uses_its_tanh_states():
    rec = inspect.record(RNN(3, 4, rng=0), 3 * random_inputs())
    picture = inspect.gate_saturation(rec)
    a = rec.states.reshape(-1, 4)
    np.testing.assert_allclose(picture.data["states"], np.stack([(a < -0.9).mean(0), (a > 0.9).mean(0)], axis=1))
    relu = inspect.record(RNN(3, 4, nonlinearity="relu", rng=0), random_inputs())
    with pytest.raises(ValueError, match="no sigmoid gates"):
        inspect.gate_saturation(relu)


def test_text_view_colours_each_character(lstm_recording):
    view = inspect.text_view(lstm_recording, "ab ba\nabba", 2)
    np.testing.assert_array_equal(view.data["values"], lstm_recording.states[:, 0, 2])
    assert view.html.count("<span style=\"background:rgb(") == 10
    assert "unit 2" in view.html and "↵" in view.html
    # the strongest positive value gets the darkest red
    darkest = int(np.argmax(view.data["values"]))
    colours = [part.split(")")[0] for part in view.html.split("background:rgb(")[1:11]]
    red = [int(c.split(",")[1]) for c in colours]  # the green channel falls as red deepens
    assert red[darkest] == min(red[t] for t in range(10) if view.data["values"][t] >= 0)
    with pytest.raises(ValueError, match="3 characters but the recording has 10 steps"):
        inspect.text_view(lstm_recording, "abc", 0)
    with pytest.raises(IndexError, match="unit 7 is out of range"):
        inspect.text_view(lstm_recording, None, 7)


def test_pictures_save_what_they_show(lstm_recording, tmp_path):
    heat = inspect.heatmap(lstm_recording)
    path = heat.save(tmp_path / "heat.png")
    image = mpimg.imread(path)
    assert image.shape[0] > 100 and image.std() > 0.05  # an image, not a blank page
    heat.save(tmp_path / "heat.svg")
    assert (tmp_path / "heat.svg").read_text().startswith("<?xml")
    with pytest.raises(ValueError, match="cannot write heat.html"):
        heat.save(tmp_path / "heat.html")
    page = inspect.text_view(lstm_recording, None, 1).save(tmp_path / "unit.html")
    assert "<!DOCTYPE html>" in page.read_text(encoding="utf-8")
    assert heat._repr_png_().startswith(b"\x89PNG")


def test_report_is_one_self_contained_page(lstm_recording):
    page = inspect.report(lstm_recording, title="LSTM <test>", units=[1])
    assert "LSTM &lt;test&gt;" in page
    assert page.count('<img src="data:image/png;base64,') >= 7
    assert page.count('<p class="look">') == page.count("<img ")  # a sentence under every picture
    for attribute in ("src=", "href="):  # nothing but inline images
        for value in page.split(attribute)[1:]:
            assert value.startswith('"data:image/png;base64,'), value[:40]
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert "Not in this input, so not ranked: inside quotes, inside brackets" in page
