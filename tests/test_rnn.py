"""The RNN sequence model: it equals its cells run by hand, carries state, records its hidden states,
cuts the graph for truncated BPTT, and learns."""
import numpy as np
import pytest

from tinygrad_rnn import RNN, Tensor, grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.nn import detach_state
from tinygrad_rnn.optim import Adam, clip_grad_norm
from tinygrad_rnn.tasks import BASELINE_MSE, adding_batch


def hidden(state, cell):
    return state[0] if cell == "lstm" else state


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnn_equals_its_cells_run_by_hand(cell):
    rng = np.random.default_rng(0)
    T, B, n, H, out = 5, 2, 3, 4, 2
    model = RNN(n, H, out, cell=cell, num_layers=2, dtype=np.float64, rng=1)
    xs = rng.standard_normal((T, B, n))
    X = Tensor(xs, requires_grad=True)
    outputs, state = model(X)
    assert outputs.shape == (T, B, out)
    (outputs * outputs).sum().backward()
    grads = [p.grad.copy() for p in model.parameters()]
    x_grad = X.grad.copy()

    model.zero_grad()
    X2 = Tensor(xs, requires_grad=True)
    s = [None, None]
    ys = []
    for t in range(T):  # the textbook loop: a_t per layer, then ŷ_t = V a_t + c
        s[0] = model.cells[0](X2[t], s[0])
        s[1] = model.cells[1](hidden(s[0], cell), s[1])
        ys.append(hidden(s[1], cell) @ model.V.T + model.c)
    for t in range(T):
        np.testing.assert_array_equal(outputs.data[t], ys[t].data)
    sum((y * y).sum() for y in ys).backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g, p.grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x_grad, X2.grad, rtol=1e-12, atol=1e-14)
    for layer in range(2):
        np.testing.assert_array_equal(hidden(state[layer], cell).data, hidden(s[layer], cell).data)


def test_parameter_names_and_shapes():
    model = RNN(3, 4, 2, cell="gru", num_layers=2, rng=0)
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"cells.0.U": (12, 3), "cells.0.W": (12, 4), "cells.0.b": (12,), "cells.0.b_hn": (4,),
                      "cells.1.U": (12, 4), "cells.1.W": (12, 4), "cells.1.b": (12,), "cells.1.b_hn": (4,),
                      "V": (2, 4), "c": (2,)}
    assert model.V.name == "V" and model.c.name == "c"
    plain = RNN(3, 4)
    assert plain.V is None and [n for n, _ in plain.named_parameters()] == ["cells.0.U", "cells.0.W", "cells.0.b"]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_shapes_with_and_without_batch_axis(cell):
    model = RNN(3, 4, cell=cell, rng=0)
    xs = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    out, state = model(xs)
    assert out.shape == (6, 4) and out.dtype == np.float32
    batched, _ = model(xs[:, None, :])
    assert batched.shape == (6, 1, 4)
    np.testing.assert_allclose(out.data, batched.data[:, 0], rtol=1e-6)
    assert isinstance(state, list) and len(state) == 1
    if cell == "lstm":
        assert state[0][0].shape == state[0][1].shape == (4,)
    else:
        assert state[0].shape == (4,)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_states_attribute_holds_the_top_layer_hidden_states(cell):
    model = RNN(2, 3, 1, cell=cell, num_layers=2, rng=0)
    out, state = model(np.ones((4, 2, 2)))
    assert len(model.states) == 4
    assert model.states[-1] is hidden(state[-1], cell)
    assert [a.scope.step for a in model.states] == [0, 1, 2, 3]
    assert all(a.scope.module is model.cells[-1] for a in model.states)
    out.sum().backward()
    assert all(a.grad is not None and a.grad.shape == (2, 3) for a in model.states)  # for ‖∂L/∂a_t‖


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_carries_a_sequence_across_calls(cell):
    model = RNN(2, 3, 2, cell=cell, num_layers=2, dtype=np.float64, rng=0)
    xs = np.random.default_rng(1).standard_normal((8, 2, 2))
    whole, _ = model(xs)
    first, state = model(xs[:5])
    second, _ = model(xs[5:], detach_state(state))
    np.testing.assert_allclose(np.concatenate([first.data, second.data]), whole.data, rtol=1e-13)
    assert model.states[0].scope.step == 5  # time counts on from the carried state


def test_single_layer_accepts_a_bare_state():
    model = RNN(2, 3, cell="lstm", rng=0)
    zeros = np.zeros((1, 3))
    a, _ = model(np.ones((3, 1, 2)), (zeros, zeros))
    b, _ = model(np.ones((3, 1, 2)))
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_truncated_bptt_cuts_the_graph(cell):
    T, k = 10, 4  # chunks: steps 0-3, 4-7, 8-9
    model = RNN(2, 3, 1, cell=cell, truncate=k, dtype=np.float64, rng=0)
    full = RNN(2, 3, 1, cell=cell, dtype=np.float64, rng=0)
    xs = np.random.default_rng(1).standard_normal((T, 2, 2))
    out, _ = model(xs)
    out_full, _ = full(xs)
    np.testing.assert_array_equal(out.data, out_full.data)  # the forward is unchanged
    loss = (out[T - 1] ** 2).sum()
    grads = grad(loss, model.states)
    for t in range(T):
        norm = np.linalg.norm(grads[t])
        if t < 8:
            assert norm == 0, f"gradient reached a_{t} across the cut"
        else:
            assert norm > 1e-6, f"no gradient at a_{t} inside the last chunk"
    full_grads = grad((out_full[T - 1] ** 2).sum(), full.states)
    assert all(np.linalg.norm(g) > 0 for g in full_grads)
    assert [a.scope.step for a in model.states] == list(range(T))


def test_truncated_bptt_parameter_gradients_equal_a_hand_cut_loop():
    model = RNN(2, 3, 1, truncate=3, dtype=np.float64, rng=0)
    xs = np.random.default_rng(1).standard_normal((7, 2, 2))
    out, _ = model(xs)
    (out * out).sum().backward()
    auto = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    cell, a, loss = model.cells[0], None, 0
    for t in range(7):
        if t in (3, 6):
            a = a.detach()
        a = cell(xs[t], a)
        y = a @ model.V.T + model.c
        loss = loss + (y * y).sum()
    loss.backward()
    for g, p in zip(auto, model.parameters()):
        np.testing.assert_allclose(g, p.grad, rtol=1e-12, atol=1e-14)


def test_detach_state_handles_every_form():
    t = Tensor(np.ones(2), requires_grad=True) * 2
    assert detach_state(None) is None
    assert not detach_state(t).requires_grad
    h, c = detach_state((t, t))
    assert not h.requires_grad and not c.requires_grad
    layers = detach_state([t, (t, t)])
    assert not layers[0].requires_grad and not layers[1][1].requires_grad
    assert t.requires_grad  # the original keeps its graph


def test_invalid_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="cell must be one of"):
        RNN(2, 3, cell="transformer")
    with pytest.raises(ValueError, match="truncate"):
        RNN(2, 3, truncate=0)
    with pytest.raises(ValueError, match="num_layers"):
        RNN(2, 3, num_layers=0)
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(2, 3, cell="lstm", nonlinearity="relu")
    model = RNN(2, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"\(T, batch, 2\).*\(4, 1, 3\)"):
        model(np.zeros((4, 1, 3)))
    with pytest.raises(ValueError, match="T >= 1"):
        model(np.zeros((0, 1, 2)))
    with pytest.raises(ValueError, match="list of 2"):
        model(np.zeros((4, 1, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="3 layers"):
        model(np.zeros((4, 1, 2)), [None, None, None])


def test_relu_rnn_with_identity_recurrence():
    model = RNN(2, 3, cell="rnn", nonlinearity="relu", recurrent_init="identity", rng=0)
    np.testing.assert_array_equal(model.cells[0].W.data, np.eye(3))
    out, _ = model(np.ones((3, 1, 2)))
    assert np.all(out.data >= 0)


# ----------------------------------------------------------------------------------------------
# Learning
# ----------------------------------------------------------------------------------------------
def test_memorises_a_seeded_sequence():
    """Next-symbol prediction on one fixed random sequence: symbols repeat, so the model must use
    its memory of the past, not only the current symbol."""
    rng = np.random.default_rng(0)
    vocab, T = 5, 24
    seq = rng.integers(0, vocab, size=T + 1)
    x = np.eye(vocab, dtype=np.float32)[seq[:-1]]
    model = RNN(vocab, 32, vocab, rng=1)
    opt = Adam(model.parameters(), lr=0.01)
    first = None
    for _ in range(200):
        out, _ = model(x)
        loss = F.cross_entropy(out, seq[1:])
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 1.0
    assert loss.item() < 0.05
    assert np.array_equal(out.data.argmax(axis=1), seq[1:])


def test_gru_solves_the_adding_problem_at_T20():
    rng = np.random.default_rng(0)
    model = RNN(2, 16, 1, cell="gru", rng=1)
    opt = Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        x, y = adding_batch(20, 32, rng)
        out, _ = model(x)
        loss = F.mse_loss(out[-1], y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        opt.step()
    x, y = adding_batch(20, 1000, np.random.default_rng(123))
    out, _ = model(x)
    test_mse = F.mse_loss(out[-1], y).item()
    assert test_mse < 0.1 * BASELINE_MSE, f"test MSE {test_mse:.4f} vs baseline {BASELINE_MSE:.3f}"
