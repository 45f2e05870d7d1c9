"""hidden_grad_norms: ‖∂L/∂a_t‖ through time, checked exactly on a linear recurrence, and the plot."""
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import RNN, Module, Parameter, RecurrentCell, Tensor, grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.diagnostics import hidden_grad_norms, plot_hidden_grad_norms


class LinearRecurrence(RecurrentCell):
    """a_t = a_{t-1} Wᵀ: no input, no nonlinearity, so ∂L/∂a_t = v W^(T-t) exactly."""

    def __init__(self, W):
        self.input_size = self.hidden_size = W.shape[0]
        self.W = Parameter(W, name="W", dtype=np.float64)

    def forward(self, x, a_prev):
        return a_prev @ self.W.T


def scaled_orthogonal(rho, H, seed):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((H, H)))
    return rho * Q


@given(rho=st.floats(0.3, 1.7), H=st.integers(1, 6), T=st.integers(1, 15), seed=st.integers(0, 2**16))
def test_linear_recurrence_gives_rho_to_the_distance(rho, H, T, seed):
    """W = ρQ with Q orthogonal: ‖∂L/∂a_t‖ = ‖v‖ ρ^(T-t), vanishing for ρ < 1, exploding for ρ > 1."""
    rng = np.random.default_rng(seed + 1)
    cell = LinearRecurrence(scaled_orthogonal(rho, H, seed))
    a = Tensor(rng.standard_normal(H), dtype=np.float64)
    states = []
    for _ in range(T):
        a = cell(None, a)
        states.append(a)
    v = rng.standard_normal(H)
    loss = (a * v).sum()
    norms = hidden_grad_norms(loss, states)
    t = np.arange(1, T + 1)
    np.testing.assert_allclose(norms, np.linalg.norm(v) * rho ** (T - t), rtol=1e-10, atol=0)


@given(rho=st.floats(0.3, 1.7), T=st.integers(1, 10))
def test_plain_ops_inside_one_module_call(rho, T):
    """The same recurrence written as plain ops inside a single module call."""
    H, seed = 3, 7

    class Unrolled(Module):
        def __init__(self):
            self.W = Parameter(scaled_orthogonal(rho, H, seed), dtype=np.float64)

        def forward(self, a):
            states = []
            for _ in range(T):
                a = a @ self.W.T
                states.append(a)
            return states

    states = Unrolled()(Tensor(np.ones(H), dtype=np.float64))
    v = np.arange(1.0, H + 1)
    norms = hidden_grad_norms((states[-1] * v).sum(), states)
    np.testing.assert_allclose(norms, np.linalg.norm(v) * rho ** (T - np.arange(1, T + 1)), rtol=1e-10)


def test_backward_still_works_and_grads_are_untouched():
    rng = np.random.default_rng(0)
    model = RNN(3, 4, output_size=2, rng=0)
    outputs, _ = model(rng.standard_normal((6, 2, 3)))
    loss = F.mse_loss(outputs, rng.standard_normal(outputs.shape))
    norms = hidden_grad_norms(loss, model.states)
    assert norms.shape == (6,) and norms.dtype == np.float64
    assert all(s.grad is None for s in model.states)
    assert all(p.grad is None for p in model.parameters())
    expected = [np.linalg.norm(g) for g in grad(loss, model.states, retain_graph=True)]
    np.testing.assert_allclose(norms, expected, rtol=1e-6)
    loss.backward()  # the graph was kept
    np.testing.assert_allclose([np.linalg.norm(s.grad) for s in model.states], norms, rtol=1e-5)


def test_lstm_pairs_count_as_their_h():
    rng = np.random.default_rng(0)
    model = RNN(3, 4, cell="lstm", rng=0)
    outputs, [(h, c)] = model(rng.standard_normal((3, 1, 3)))
    loss = outputs.sum()
    assert hidden_grad_norms(loss, [(h, c)])[0] == pytest.approx(hidden_grad_norms(loss, [h])[0])


def test_a_state_the_loss_ignores_gets_zero():
    cell = LinearRecurrence(np.eye(2))
    a1 = cell(None, Tensor(np.ones(2), requires_grad=True))
    unrelated = cell(None, Tensor(np.ones(2), requires_grad=True))
    np.testing.assert_array_equal(hidden_grad_norms(a1.sum(), [a1, unrelated]), [np.sqrt(2), 0.0])
    with pytest.raises(TypeError, match="state 0"):
        hidden_grad_norms(a1.sum(), [np.ones(2)])


def test_plot_writes_a_file_and_compares_series(tmp_path):
    path = tmp_path / "gradflow.svg"
    ax = plot_hidden_grad_norms([("ρ = 0.5", 0.5 ** np.arange(5)[::-1]), ("ρ = 1.5", 1.5 ** np.arange(5)[::-1])],
                                path=path)
    assert path.read_text().lstrip().startswith("<?xml")
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["ρ = 0.5", "ρ = 1.5"]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4, 5]


def test_plot_into_given_axes():
    from matplotlib.figure import Figure
    ax = Figure().add_subplot()
    assert plot_hidden_grad_norms(np.array([1e-3, 1e-1, 1.0]), ax=ax) is ax
    assert len(ax.get_lines()) == 1


def test_plot_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match=r'pip install "tinygrad_rnn\[plot\]"'):
        plot_hidden_grad_norms(np.ones(3))
