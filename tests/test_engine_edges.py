"""Regression tests for the engine's edge cases: arrays the caller changes after the forward, 0-d
tensors, gradients that must be arrays, pow at base 0, grad() after backward, integer data, and
layers' size arguments."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_rnn import RNN, Embedding, GRUCell, Linear, LSTMCell, RNNCell, Tensor, grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.diagnostics import hidden_grad_norms


# -- caller-owned arrays are not kept by reference ------------------------------------------------
def test_an_index_array_changed_after_the_forward_changes_no_gradient():
    x = Tensor(np.arange(4.0), requires_grad=True)
    idx = np.array([0, 1])
    y = x[idx]
    idx[:] = 3
    (y * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 0.0, 0.0])


def test_an_index_inside_a_tuple_and_a_mask_are_copied_too():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    rows, mask = np.array([1, 0]), np.array([True, False, True])
    y, z = x[rows, 0], x[:, mask]
    rows[:] = 0
    mask[:] = True
    (y.sum() + z.sum()).backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])


def test_embedding_and_cross_entropy_targets_changed_after_the_forward():
    emb = Embedding(4, 2, rng=0)
    ids = np.array([0, 2])
    out = emb(ids)
    ids[:] = 3
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.sum(axis=1), [2.0, 0.0, 2.0, 0.0])

    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    targets = np.array([0, 1])
    loss = F.cross_entropy(logits, targets)
    targets[:] = 2
    loss.backward()
    np.testing.assert_allclose(logits.grad, [[-1 / 3, 1 / 6, 1 / 6], [1 / 6, -1 / 3, 1 / 6]])


def test_a_boolean_mask_operand_changed_after_the_forward_changes_no_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    mask = np.array([True, False, True])
    y = x * mask            # mul keeps its operands for backward: the mask is copied first
    mask[:] = False
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])


def test_a_float_array_is_shared_like_a_tensor_made_of_it():
    """Float data is not copied (as Tensor(a) and torch.from_numpy): what an op saved is read at
    backward time. This pins the documented behaviour (docs/api.md, Tensor)."""
    data = np.array([1.0, 2.0])
    t = Tensor(data)
    assert np.shares_memory(t.data, data)
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * data
    data[:] = 10.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])


# -- 0-d tensors -----------------------------------------------------------------------------------
def test_zero_d_index_and_product_share_one_gradient():
    x = Tensor(np.array(2.0), requires_grad=True)
    (x[None].sum() + x * 3.0).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == () and x.grad == 4.0


def test_every_gradient_is_an_ndarray_for_zero_d_inputs():
    x = Tensor(np.array(1.5), requires_grad=True)
    y = Tensor(np.array(-0.5), requires_grad=True)
    out = (x * y + x.exp()) / y
    gx, gy = grad(out, [x, y], retain_graph=True)
    for g in (gx, gy):
        assert type(g) is np.ndarray and g.shape == () and g.dtype == np.float64
    out.backward()
    assert type(x.grad) is np.ndarray and type(y.grad) is np.ndarray
    np.testing.assert_allclose(x.grad, gx)


# -- pow at base 0 -----------------------------------------------------------------------------------
def test_pow_exponent_gradient_at_base_zero_follows_pytorch():
    a = Tensor(np.array([0.0, 0.0, 0.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([-1.0, 0.0, 2.0, -1.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (a ** b).backward(np.ones(4))
    # d(a^b)/db = a^b log a: -inf at 0 with a negative exponent, 0 where the exponent is >= 0
    np.testing.assert_array_equal(b.grad[:3], [-np.inf, 0.0, 0.0])
    np.testing.assert_allclose(b.grad[3], 0.5 * np.log(2.0))


def test_a_number_exponent_keeps_only_the_base():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x ** 2
    assert y.op == "power"
    base, exponent = y.node.saved
    assert base is x.data and exponent == 2.0   # no copy of the result is kept


# -- grad() after backward ---------------------------------------------------------------------------
def test_grad_of_a_target_whose_own_history_was_freed():
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    h = (x * x).tanh()
    h.sum().backward()
    (g,) = grad((h * 3.0).sum(), [h])
    np.testing.assert_array_equal(g, [3.0, 3.0])


def test_a_freed_part_that_is_really_needed_is_refused_before_anything_changes():
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * x).tanh()
    h.sum().backward()
    before = x.grad.copy()
    with pytest.raises(RuntimeError, match="freed graph"):
        ((h * w).sum() + (w * w).sum()).backward()   # needs h's history, freed above
    np.testing.assert_array_equal(x.grad, before)
    assert w.grad is None                              # w's own branch was not applied either
    with pytest.raises(RuntimeError, match="freed graph"):
        grad((h * 3.0).sum(), [x])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hidden_grad_norms_before_and_after_backward_agree(cell):
    rnn = RNN(3, 4, output_size=2, cell=cell, rng=0)
    out, _ = rnn(np.random.default_rng(0).standard_normal((6, 2, 3)))
    loss = F.mse_loss(out[-1], np.zeros((2, 2)))
    before = hidden_grad_norms(loss, rnn.states)
    loss.backward()
    after = hidden_grad_norms(loss, rnn.states)
    np.testing.assert_allclose(after, before, rtol=1e-5)
    assert before[0] < before[-1]


def test_hidden_grad_norms_after_another_loss_backward_is_refused():
    rnn = RNN(3, 4, output_size=2, rng=0)
    out, _ = rnn(np.ones((3, 1, 3)))
    loss, other = out.sum(), (out * out).sum()
    other.backward()
    with pytest.raises(RuntimeError, match="hidden_grad_norms"):
        hidden_grad_norms(loss, rnn.states)


# -- integer data ------------------------------------------------------------------------------------
def test_integer_arrays_and_numpy_integers_may_require_grad():
    t = Tensor(np.array([1, 2]), requires_grad=True)
    s = Tensor(np.int64(3), requires_grad=True)
    assert t.dtype == s.dtype == np.float32
    (t * s).sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 3.0])
    assert s.grad == 3.0


def test_a_parameter_made_of_a_list_takes_the_default_dtype():
    from tinygrad_rnn import Parameter
    assert Parameter([1.0, 2.0]).dtype == np.float32
    assert Parameter(np.ones(2)).dtype == np.float64   # float arrays keep theirs


# -- sizes -----------------------------------------------------------------------------------------
def test_a_linear_layer_with_no_outputs_runs_forward_and_backward():
    layer = Linear(3, 0, rng=0)
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = layer(x)
    assert out.shape == (2, 0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    assert layer.weight.grad.shape == (0, 3) and layer.bias.grad.shape == (0,)


@pytest.mark.parametrize("make, name, error", [
    (lambda: Linear(0, 3), "in_features", ValueError),
    (lambda: Linear(3, -1), "out_features", ValueError),
    (lambda: RNNCell(3, 0), "hidden_size", ValueError),
    (lambda: RNNCell(3, -2), "hidden_size", ValueError),
    (lambda: RNNCell(0, 8), "input_size", ValueError),
    (lambda: RNNCell(3.0, 8), "input_size", TypeError),
    (lambda: LSTMCell(3, 0), "hidden_size", ValueError),
    (lambda: GRUCell(True, 4), "input_size", TypeError),
    (lambda: Embedding(0, 4), "num_embeddings", ValueError),
    (lambda: RNN(3, 4, num_layers=0), "num_layers", ValueError),
    (lambda: RNN(3, 4, output_size=0), "output_size", ValueError),
])
def test_layers_refuse_bad_sizes_naming_the_argument(make, name, error):
    with pytest.raises(error, match=name) as info:
        make()
    assert "\n" not in str(info.value)
