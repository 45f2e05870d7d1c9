"""The recurrent primitives (ops/recurrent.py: one gated-cell step as one node) against float64
central differences, over random batch shapes (none, one or two batch axes, empty batches),
every combination of inputs that need a gradient, and a random upstream gradient."""
from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_ops_grad import check_grads, needs_grad

from tinygrad_rnn import ops


def batch_shapes():
    return hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3)


def values(shape):
    return hnp.arrays(np.float64, shape, elements=st.floats(-2.5, 2.5))


@given(data=st.data(), H=st.integers(1, 3), with_state=st.booleans())
def test_lstm_cell_state(data, H, with_state):
    batch = data.draw(batch_shapes(), label="batch")
    pre = data.draw(values(batch + (4 * H,)), label="pre")
    if with_state:
        c_prev = data.draw(values(batch + (H,)), label="c_prev")
        i, f = 1 / (1 + np.exp(-pre[..., :H])), 1 / (1 + np.exp(-pre[..., H:2 * H]))
        expected = f * c_prev + i * np.tanh(pre[..., 2 * H:3 * H])
        check_grads(data, ops.lstm_cell, pre, c_prev, requires_grad=data.draw(needs_grad(2)), expected=expected)
    else:
        i = 1 / (1 + np.exp(-pre[..., :H]))
        check_grads(data, ops.lstm_cell, pre, expected=i * np.tanh(pre[..., 2 * H:3 * H]))


@given(data=st.data(), H=st.integers(1, 3))
def test_lstm_hidden_state(data, H):
    batch = data.draw(batch_shapes(), label="batch")
    pre = data.draw(values(batch + (4 * H,)), label="pre")
    c = data.draw(values(batch + (H,)), label="c")
    expected = np.tanh(c) / (1 + np.exp(-pre[..., 3 * H:]))
    check_grads(data, ops.lstm_hidden, pre, c, requires_grad=data.draw(needs_grad(2)), expected=expected)


def gru_reference(gx, gh, h_prev, b_hn, H):
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    gh = np.zeros_like(gx) if gh is None else gh
    r = sig(gx[..., :H] + gh[..., :H])
    z = sig(gx[..., H:2 * H] + gh[..., H:2 * H])
    n = np.tanh(gx[..., 2 * H:] + r * (gh[..., 2 * H:] + (0 if b_hn is None else b_hn)))
    return (1 - z) * n + z * (0 if h_prev is None else h_prev)


@given(data=st.data(), H=st.integers(1, 3), has_state=st.booleans(), has_bias=st.booleans())
def test_gru_cell(data, H, has_state, has_bias):
    batch = data.draw(batch_shapes(), label="batch")
    gx = data.draw(values(batch + (3 * H,)), label="gx")
    arrays = [gx]
    gh = h_prev = b_hn = None
    if has_state:
        gh = data.draw(values(batch + (3 * H,)), label="gh")
        h_prev = data.draw(values(batch + (H,)), label="h_prev")
        arrays += [gh, h_prev]
    if has_bias:
        b_hn = data.draw(values((H,)), label="b_hn")
        arrays.append(b_hn)

    def fn(*tensors):
        return ops.gru_cell(*tensors, has_state=has_state, has_bias=has_bias)

    check_grads(data, fn, *arrays, requires_grad=data.draw(needs_grad(len(arrays))),
                expected=gru_reference(gx, gh, h_prev, b_hn, H))


def test_gate_functions_are_the_cells_own():
    """The gates a recording reports are those the step computed with (one set of equations)."""
    pre = np.linspace(-3, 3, 8).reshape(1, 8)
    i, f, g, o = ops.recurrent.lstm_gates(pre)
    sig = 1 / (1 + np.exp(-pre))
    np.testing.assert_allclose(np.concatenate([i, f, o], axis=-1), sig[:, [0, 1, 2, 3, 6, 7]])
    np.testing.assert_allclose(g, np.tanh(pre[:, 4:6]))


@given(data=st.data(), relu=st.booleans())
def test_linear_then_nonlinearity(data, relu):
    """linear_tanh / linear_relu: φ(x wᵀ + b) for an RNN cell's step, b the input part (any batch)."""
    batch = data.draw(batch_shapes().filter(lambda s: len(s) >= 1), label="batch")
    n_in, n_out = data.draw(st.integers(1, 3), label="in"), data.draw(st.integers(1, 3), label="out")
    x = data.draw(values(batch + (n_in,)), label="x")
    w = data.draw(values((n_out, n_in)), label="w")
    b = data.draw(values(batch + (n_out,)) if data.draw(st.booleans()) else values((n_out,)), label="b")
    pre = x @ w.T + b
    if relu:  # away from the kink
        b = b + np.where(np.abs(pre) < 0.1, 0.3, 0.0)
        pre = x @ w.T + b
    op, expected = (ops.linear_relu, np.maximum(pre, 0)) if relu else (ops.linear_tanh, np.tanh(pre))
    check_grads(data, op, x, w, b, requires_grad=data.draw(needs_grad(3)), expected=expected)
