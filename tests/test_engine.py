"""The backward engine on the graph shapes users hit: reuse, fan-out, long chains, freeing."""
import sys

import numpy as np
import pytest

from tinygrad_rnn import Tensor, grad, no_grad


def test_reused_node_accumulates():
    a = Tensor([1.0, -2.0], requires_grad=True)
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])


def test_fan_out_sums_every_path():
    x = Tensor(3.0, requires_grad=True, dtype=np.float64)
    y = x * x          # used by two consumers
    z = y * x + y.exp()
    z.backward()
    expected = 3 * 3.0**2 + np.exp(9.0) * 2 * 3.0
    assert np.isclose(x.grad, expected)


def test_long_chain_needs_no_recursion():
    assert sys.getrecursionlimit() <= 10_000
    x = Tensor(1.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_second_backward_through_freed_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed"):
        loss.backward()


def test_retain_graph_allows_second_backward_and_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * x.data)


def test_non_scalar_backward_names_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward()


def test_grad_of_intermediates_leaves_dot_grad_alone():
    x = Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    h = x.tanh()
    loss = (h * h).sum()
    gx, gh = grad(loss, [x, h])
    np.testing.assert_allclose(gh, 2 * h.data)
    np.testing.assert_allclose(gx, 2 * h.data * (1 - h.data ** 2))
    assert x.grad is None


def test_no_grad_records_nothing():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.parents == ()


def test_backward_on_tensor_without_grad_says_so():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()
