"""Recurrent cells: exact BPTT for RNNCell against a hand-derived NumPy BPTT, LSTM and GRU against
NumPy implementations of PyTorch's equations and against central differences, PyTorch state-dict
interop, validation and initialisation."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import GRUCell, LSTMCell, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing.strategies import rnn_configs


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def close(actual, expected, rtol=1e-10):
    """Tight comparison, with an absolute floor relative to the largest entry (entries that cancel
    to ~0 cannot have a small relative error)."""
    scale = max(float(np.max(np.abs(expected))), 1e-300) if np.size(expected) else 1.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


# ----------------------------------------------------------------------------------------------
# RNNCell: the engine's BPTT equals BPTT derived by hand
# ----------------------------------------------------------------------------------------------
def numpy_bptt(U, W, b, xs, a0, upstream, nonlinearity):
    """Forward a_t = φ(x_t Uᵀ + a_{t-1} Wᵀ + b), loss L = Σ_t <G_t, a_t>, then backward by hand:
    δ_t = G_t + (φ'(z_{t+1}) ⊙ δ_{t+1}) W, and each step adds its share to dU, dW, db."""
    T = len(xs)
    a, zs, states = a0, [], [a0]
    for t in range(T):
        z = xs[t] @ U.T + a @ W.T + b
        a = np.tanh(z) if nonlinearity == "tanh" else np.maximum(z, 0)
        zs.append(z)
        states.append(a)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dxs, deltas = np.zeros_like(xs), [None] * T
    carry = np.zeros_like(a0)  # gradient reaching a_t from step t+1
    for t in reversed(range(T)):
        delta = upstream[t] + carry
        deltas[t] = delta
        a = states[t + 1]
        dz = delta * (1 - a * a) if nonlinearity == "tanh" else delta * (zs[t] > 0)
        dU += dz.T @ xs[t]
        dW += dz.T @ states[t]
        db += dz.sum(axis=0)
        dxs[t] = dz @ U
        carry = dz @ W
    return states[1:], dU, dW, db, dxs, carry, deltas


@given(rnn_configs(max_batch=4, max_input=5, max_hidden=6, max_steps=30), st.integers(0, 2**32 - 1))
def test_rnncell_bptt_matches_hand_derived(cfg, seed):
    rng = np.random.default_rng(seed)
    B, n, H, T = cfg.batch, cfg.input_size, cfg.hidden_size, cfg.steps
    cell = RNNCell(n, H, nonlinearity=cfg.nonlinearity, dtype=np.float64, rng=rng)
    cell.W.data = rng.standard_normal((H, H)) * 1.1 / np.sqrt(H)  # near the edge of stability
    xs_np = rng.standard_normal((T, B, n))
    a0_np = rng.standard_normal((B, H))
    upstream = rng.standard_normal((T, B, H))

    xs = Tensor(xs_np, requires_grad=True)
    a0 = Tensor(a0_np, requires_grad=True)
    a, states = a0, []
    for t in range(T):  # the textbook loop
        a = cell(xs[t], a)
        states.append(a)
    loss = sum((s * g).sum() for s, g in zip(states, upstream))
    loss.backward()

    ref_states, dU, dW, db, dxs, da0, deltas = numpy_bptt(cell.U.data, cell.W.data, cell.b.data, xs_np, a0_np,
                                                         upstream, cfg.nonlinearity)
    for s, ref in zip(states, ref_states):
        close(s.data, ref)
    close(cell.U.grad, dU)
    close(cell.W.grad, dW)
    close(cell.b.grad, db)
    close(xs.grad, dxs)
    close(a0.grad, da0)
    for s, ref in zip(states, deltas):  # hidden states keep ∂L/∂a_t for the diagrams
        close(s.grad, ref)


def test_rnncell_without_batch_axis_matches_batched():
    cell = RNNCell(3, 4, dtype=np.float64, rng=0)
    x, a = np.random.default_rng(1).standard_normal((2, 3)), np.random.default_rng(2).standard_normal(4)
    single = cell(x[0], a)
    batched = cell(x[:1], a[None])
    assert single.shape == (4,)
    np.testing.assert_array_equal(single.data, batched.data[0])


# ----------------------------------------------------------------------------------------------
# LSTM and GRU: PyTorch's equations written out in NumPy, with PyTorch's separate weights
# ----------------------------------------------------------------------------------------------
def torch_style_weights(gates, n, H, rng):
    return {"weight_ih": rng.standard_normal((gates * H, n)) * 0.5,
            "weight_hh": rng.standard_normal((gates * H, H)) * 0.5,
            "bias_ih": rng.standard_normal(gates * H) * 0.5,
            "bias_hh": rng.standard_normal(gates * H) * 0.5}


def numpy_lstm_step(sd, x, h, c):
    gates = x @ sd["weight_ih"].T + sd["bias_ih"] + h @ sd["weight_hh"].T + sd["bias_hh"]
    i, f, g, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def numpy_gru_step(sd, x, h):
    gi = x @ sd["weight_ih"].T + sd["bias_ih"]
    gh = h @ sd["weight_hh"].T + sd["bias_hh"]
    i_r, i_z, i_n = np.split(gi, 3, axis=-1)
    h_r, h_z, h_n = np.split(gh, 3, axis=-1)
    r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)  # r multiplies W_hn h + b_hn
    return (1 - z) * n + z * h


@pytest.mark.parametrize("batch", [(), (3,)])
@pytest.mark.parametrize("given_state", [False, True])
def test_lstm_forward_matches_pytorch_equations(batch, given_state):
    rng = np.random.default_rng(5)
    n, H, T = 3, 4, 6
    sd = torch_style_weights(4, n, H, rng)
    cell = LSTMCell(n, H, dtype=np.float64)
    cell.load_torch_state_dict(sd)
    xs = rng.standard_normal((T,) + batch + (n,))
    h = rng.standard_normal(batch + (H,)) if given_state else np.zeros(batch + (H,))
    c = rng.standard_normal(batch + (H,)) if given_state else np.zeros(batch + (H,))
    state = (Tensor(h), Tensor(c)) if given_state else None
    for t in range(T):
        state = cell(xs[t], state)
        h, c = numpy_lstm_step(sd, xs[t], h, c)
        assert state[0].shape == batch + (H,) and state[1].shape == batch + (H,)
        close(state[0].data, h, 1e-13)
        close(state[1].data, c, 1e-13)


@pytest.mark.parametrize("batch", [(), (3,)])
@pytest.mark.parametrize("given_state", [False, True])
def test_gru_forward_matches_pytorch_equations(batch, given_state):
    rng = np.random.default_rng(6)
    n, H, T = 3, 4, 6
    sd = torch_style_weights(3, n, H, rng)
    cell = GRUCell(n, H, dtype=np.float64)
    cell.load_torch_state_dict(sd)
    xs = rng.standard_normal((T,) + batch + (n,))
    h = rng.standard_normal(batch + (H,)) if given_state else np.zeros(batch + (H,))
    state = Tensor(h) if given_state else None
    for t in range(T):
        state = cell(xs[t], state)
        h = numpy_gru_step(sd, xs[t], h)
        assert state.shape == batch + (H,)
        close(state.data, h, 1e-13)


def unrolled(cell, names):
    """fn(xs, state..., params...) for gradcheck: the cell's parameters are swapped for the checked
    tensors, and the cell runs over every step of xs."""
    def fn(xs, *rest):
        *state, = rest[:len(rest) - len(names)]
        for name, value in zip(names, rest[len(rest) - len(names):]):
            setattr(cell, name, value)
        s = tuple(state) if isinstance(cell, LSTMCell) else state[0]
        outs = []
        for t in range(xs.shape[0]):
            s = cell(xs[t], s)
            outs.append(s[0] * s[1] if isinstance(cell, LSTMCell) else s)  # both of LSTM's outputs matter
        return sum(o * (k + 1) for k, o in enumerate(outs))
    return fn


@pytest.mark.parametrize("Cell", [LSTMCell, GRUCell])
def test_gated_cells_gradients_match_central_differences(Cell):
    rng = np.random.default_rng(7)
    n, H, B, T = 3, 4, 2, 4
    cell = Cell(n, H, dtype=np.float64, rng=8)
    names = [name for name, _ in cell.named_parameters()]
    assert names == (["U", "W", "b"] if Cell is LSTMCell else ["U", "W", "b", "b_hn"])
    params = [p.data.copy() for p in cell.parameters()]
    xs = rng.standard_normal((T, B, n))
    state = [rng.standard_normal((B, H)) for _ in range(2 if Cell is LSTMCell else 1)]
    assert gradcheck(unrolled(cell, names), [xs, *state, *params], atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("Cell", [LSTMCell, GRUCell])
def test_gated_cells_gradients_without_initial_state(Cell):
    rng = np.random.default_rng(9)
    cell = Cell(2, 3, dtype=np.float64, rng=10)
    names = [name for name, _ in cell.named_parameters()]

    def fn(xs, *params):
        for name, value in zip(names, params):
            setattr(cell, name, value)
        s = cell(xs[0])
        s = cell(xs[1], s)
        return s[0] + s[1] if isinstance(s, tuple) else s

    assert gradcheck(fn, [rng.standard_normal((2, 2))] + [p.data.copy() for p in cell.parameters()],
                     atol=1e-7, rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# PyTorch state dicts, without torch
# ----------------------------------------------------------------------------------------------
def make_cell(kind, n=3, H=4, **kw):
    return {"rnn": lambda: RNNCell(n, H, dtype=np.float64, rng=11, **kw),
            "lstm": lambda: LSTMCell(n, H, dtype=np.float64, rng=12, **kw),
            "gru": lambda: GRUCell(n, H, dtype=np.float64, rng=13, **kw)}[kind]()


@pytest.mark.parametrize("kind,gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_torch_state_dict_names_shapes_and_round_trip(kind, gates):
    cell = make_cell(kind)
    sd = cell.torch_state_dict()
    assert list(sd) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    assert [v.shape for v in sd.values()] == [(gates * 4, 3), (gates * 4, 4), (gates * 4,), (gates * 4,)]
    before = cell.state_dict()
    other = make_cell(kind)
    other.load_torch_state_dict(sd)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    x = np.random.default_rng(0).standard_normal((2, 3))
    out, out2 = cell(x), other(x)
    for a, b in zip(out if isinstance(out, tuple) else (out,), out2 if isinstance(out2, tuple) else (out2,)):
        np.testing.assert_array_equal(a.data, b.data)


def test_rnncell_bias_is_the_sum_of_pytorchs_two():
    cell = make_cell("rnn")
    sd = torch_style_weights(1, 3, 4, np.random.default_rng(14))
    cell.load_torch_state_dict(sd)
    np.testing.assert_array_equal(cell.U.data, sd["weight_ih"])
    np.testing.assert_array_equal(cell.W.data, sd["weight_hh"])
    np.testing.assert_allclose(cell.b.data, sd["bias_ih"] + sd["bias_hh"], rtol=1e-15)
    out = cell.torch_state_dict()
    np.testing.assert_array_equal(out["bias_ih"], cell.b.data)
    np.testing.assert_array_equal(out["bias_hh"], np.zeros(4))


def test_gru_keeps_b_hn_apart():
    cell = make_cell("gru")
    sd = torch_style_weights(3, 3, 4, np.random.default_rng(15))
    cell.load_torch_state_dict(sd)
    H = 4
    np.testing.assert_allclose(cell.b.data[:2 * H], sd["bias_ih"][:2 * H] + sd["bias_hh"][:2 * H], rtol=1e-15)
    np.testing.assert_array_equal(cell.b.data[2 * H:], sd["bias_ih"][2 * H:])
    np.testing.assert_array_equal(cell.b_hn.data, sd["bias_hh"][2 * H:])
    out = cell.torch_state_dict()
    np.testing.assert_array_equal(out["bias_hh"], np.concatenate([np.zeros(2 * H), sd["bias_hh"][2 * H:]]))


def test_cells_without_bias_use_pytorchs_names_without_biases():
    for kind in ("rnn", "lstm", "gru"):
        cell = make_cell(kind, bias=False)
        sd = cell.torch_state_dict()
        assert list(sd) == ["weight_ih", "weight_hh"]
        cell.load_torch_state_dict(sd)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_load_torch_state_dict_checks_everything_before_changing_anything(kind):
    cell = make_cell(kind)
    before = cell.state_dict()
    good = {k: v + 1 for k, v in cell.torch_state_dict().items()}
    bad_dicts = [
        ({k: v for k, v in good.items() if k != "bias_hh"}, KeyError, "bias_hh"),
        ({**good, "weight_ih_l0": good["weight_ih"]}, KeyError, "weight_ih_l0"),
        ({**good, "bias_hh": np.zeros(good["bias_hh"].size + 1)}, ValueError, "bias_hh"),
        ({**good, "weight_hh": good["weight_hh"].T[:, :3]}, ValueError, "weight_hh"),
        ({**good, "bias_ih": np.array(["a"] * good["bias_ih"].size)}, TypeError, "bias_ih"),
    ]
    for sd, error, name in bad_dicts:
        with pytest.raises(error, match=name):
            cell.load_torch_state_dict(sd)
        for key, value in cell.state_dict().items():
            np.testing.assert_array_equal(value, before[key])


# ----------------------------------------------------------------------------------------------
# Validation, state handling, initialisation, time steps
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_wrong_widths_name_expected_and_given_shapes(kind):
    cell = make_cell(kind)
    with pytest.raises(ValueError, match=r"\(batch, 3\).*\(2, 5\)"):
        cell(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"\(2, 4\).*\(2, 3\)"):
        cell(np.zeros((2, 3)), (np.zeros((2, 3)), np.zeros((2, 4))) if kind == "lstm" else np.zeros((2, 3)))


def test_lstm_state_must_be_a_pair():
    cell = make_cell("lstm")
    with pytest.raises(ValueError, match=r"pair \(h, c\)"):
        cell(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="c should have shape"):
        cell(np.zeros((2, 3)), (np.zeros((2, 4)), np.zeros((2, 5))))


def test_missing_state_means_zeros():
    x = np.random.default_rng(17).standard_normal((2, 3))
    for kind in ("rnn", "lstm", "gru"):
        cell = make_cell(kind)
        zeros = np.zeros((2, 4))
        a, b = cell(x), cell(x, (zeros, zeros) if kind == "lstm" else zeros)
        for u, v in zip(a if kind == "lstm" else (a,), b if kind == "lstm" else (b,)):
            np.testing.assert_allclose(u.data, v.data, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("Cell,gates", [(LSTMCell, 4), (GRUCell, 3)])
def test_default_init_is_pytorchs_uniform(Cell, gates):
    cell = Cell(5, 16, rng=0)
    assert cell.U.shape == (gates * 16, 5) and cell.W.shape == (gates * 16, 16)
    for p in cell.parameters():
        assert p.dtype == np.float32
        assert np.all(np.abs(p.data) <= 1 / 4)
        assert np.abs(p.data).max() > 0.2  # spread over the interval, not a tiny scale


@pytest.mark.parametrize("Cell,gates", [(LSTMCell, 4), (GRUCell, 3), (RNNCell, 1)])
def test_orthogonal_recurrent_init_gives_orthogonal_gate_blocks(Cell, gates):
    cell = Cell(3, 8, recurrent_init="orthogonal", rng=1, dtype=np.float64)
    for block in np.split(cell.W.data, gates):
        np.testing.assert_allclose(block.T @ block, np.eye(8), atol=1e-12)
    with pytest.raises(ValueError, match="recurrent_init"):
        Cell(3, 8, recurrent_init="zeros")


def test_seeded_cells_are_reproducible():
    a, b = LSTMCell(3, 4, rng=3), LSTMCell(3, 4, rng=3)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_each_call_is_one_time_step_even_across_a_detach(kind):
    cell = make_cell(kind)
    x = np.ones((1, 3))
    s, steps = None, []
    for t in range(5):
        if t == 3:  # truncated BPTT by hand: the steps keep counting
            s = tuple(p.detach() for p in s) if kind == "lstm" else s.detach()
        s = cell(Tensor(x), s)
        h = s[0] if kind == "lstm" else s
        steps.append(h.scope.step)
        assert h.scope.module is cell
    assert steps == [0, 1, 2, 3, 4]


def test_twenty_thousand_step_unroll_backpropagates_exactly():
    rng = np.random.default_rng(18)
    T, B, n, H = 20_000, 1, 2, 3
    cell = RNNCell(n, H, dtype=np.float64, rng=19)
    xs_np = rng.standard_normal((T, B, n))
    upstream = rng.standard_normal((T, B, H))
    a0 = Tensor(np.zeros((B, H)), requires_grad=True)
    a, states = a0, []
    for t in range(T):
        a = cell(xs_np[t], a)
        states.append(a)
    loss = (F.stack(states) * upstream).sum()
    loss.backward()  # 100,000 nodes deep: an iterative engine
    _, dU, dW, db, _, da0, _ = numpy_bptt(cell.U.data, cell.W.data, cell.b.data, xs_np, np.zeros((B, H)),
                                          upstream, "tanh")
    close(cell.U.grad, dU, 1e-9)
    close(cell.W.grad, dW, 1e-9)
    close(cell.b.grad, db, 1e-9)
    close(a0.grad, da0, 1e-9)
    assert a.scope.step == T - 1


def test_identity_recurrent_init_is_the_irnn_recipe():
    cell = RNNCell(3, 5, nonlinearity="relu", recurrent_init="identity", dtype=np.float64)
    np.testing.assert_array_equal(cell.W.data, np.eye(5))
    with pytest.raises(ValueError, match="recurrent_init"):
        RNNCell(3, 5, recurrent_init="zeros")
