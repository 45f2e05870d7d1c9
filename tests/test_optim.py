"""Optimizers against updates computed by hand from PyTorch's formulas, over several steps."""
import math

import numpy as np
import pytest

from tinygrad_rnn import Parameter, Tensor
from tinygrad_rnn.optim import SGD, Adagrad, Adam, clip_grad_norm

P0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
GRADS = [np.array([[0.1, -0.2, 0.3], [0.4, 0.0, -0.6]]),
         np.array([[-0.5, 0.5, 1.0], [0.2, -0.1, 0.0]]),
         np.array([[0.05, 0.3, -0.2], [-0.4, 0.7, 0.1]]),
         np.array([[1.0, -1.0, 0.5], [0.0, 0.2, 0.3]])]


def run(opt_cls, **kw):
    p = Parameter(P0.copy())
    opt = opt_cls([p], **kw)
    history = []
    for g in GRADS:
        p.grad = g.copy()
        opt.step()
        history.append(p.data.copy())
    return history


def test_sgd_plain():
    p, expected = P0.copy(), []
    for g in GRADS:
        p = p - 0.1 * g
        expected.append(p)
    for got, want in zip(run(SGD, lr=0.1), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)


def test_sgd_momentum():
    p, v, expected = P0.copy(), np.zeros_like(P0), []
    for g in GRADS:
        v = 0.9 * v + g
        p = p - 0.05 * v
        expected.append(p)
    for got, want in zip(run(SGD, lr=0.05, momentum=0.9), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
    # by hand for the first two steps of one entry: v1 = g1, v2 = 0.9 g1 + g2
    first, second = run(SGD, lr=0.05, momentum=0.9)[:2]
    assert first[0, 0] == pytest.approx(0.5 - 0.05 * 0.1)
    assert second[0, 0] == pytest.approx(0.5 - 0.05 * 0.1 - 0.05 * (0.9 * 0.1 - 0.5))


def test_adam_with_bias_correction():
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-6
    p, m, v, expected = P0.copy(), np.zeros_like(P0), np.zeros_like(P0), []
    for t, g in enumerate(GRADS, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        expected.append(p)
    for got, want in zip(run(Adam, lr=lr, betas=(b1, b2), eps=eps), expected):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    # the first step of Adam moves every entry with a nonzero gradient by about lr
    first = run(Adam, lr=lr)[0]
    moved = np.abs(first - P0)[GRADS[0] != 0]
    np.testing.assert_allclose(moved, lr, rtol=1e-4)


def test_adagrad():
    lr, eps = 0.1, 1e-8
    p, s, expected = P0.copy(), np.zeros_like(P0), []
    for g in GRADS:
        s = s + g * g
        p = p - lr * g / (np.sqrt(s) + eps)
        expected.append(p)
    for got, want in zip(run(Adagrad, lr=lr, eps=eps), expected):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("opt_cls", [SGD, Adam, Adagrad])
def test_params_without_grad_are_skipped_and_their_state_waits(opt_cls):
    a, b = Parameter(P0.copy()), Parameter(P0.copy())
    opt = opt_cls([a, b], lr=0.1) if opt_cls is not SGD else SGD([a, b], lr=0.1, momentum=0.5)
    a.grad = GRADS[0].copy()
    opt.step()  # b has no gradient: it does not move
    np.testing.assert_array_equal(b.data, P0)
    b.grad = GRADS[0].copy()
    a.grad = None
    a_before = a.data.copy()
    opt.step()
    np.testing.assert_array_equal(a.data, a_before)
    # b's first step equals a's first step: its state did not advance while it was skipped
    np.testing.assert_allclose(b.data, run_one(opt_cls), rtol=1e-15)


def run_one(opt_cls):
    p = Parameter(P0.copy())
    opt = opt_cls([p], lr=0.1) if opt_cls is not SGD else SGD([p], lr=0.1, momentum=0.5)
    p.grad = GRADS[0].copy()
    opt.step()
    return p.data


def test_updates_are_in_place_and_keep_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    data = p.data
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert p.data is data and p.dtype == np.float32
    np.testing.assert_allclose(p.data, 0.9, rtol=1e-6)


def test_zero_grad_and_duplicates():
    p = Parameter(np.ones(2))
    opt = SGD([p, p], lr=1.0)  # listed twice, updated once
    assert len(opt.params) == 1
    p.grad = np.ones(2)
    opt.step()
    np.testing.assert_array_equal(p.data, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_hyperparameters_are_validated():
    p = [Parameter(np.ones(2))]
    refused = [
        (lambda: SGD(p, lr=0), "lr"),
        (lambda: SGD(p, lr=-1), "lr"),
        (lambda: SGD(p, lr=float("nan")), "lr"),
        (lambda: SGD(p, lr=0.1, momentum=-0.1), "momentum"),
        (lambda: SGD(p, lr=0.1, momentum=1.0), "momentum"),
        (lambda: Adam(p, betas=(0.9, 1.0)), r"betas\[1\]"),
        (lambda: Adam(p, betas=(-0.1, 0.9)), r"betas\[0\]"),
        (lambda: Adam(p, betas=0.9), "pair"),
        (lambda: Adam(p, eps=-1e-8), "eps"),
        (lambda: Adagrad(p, lr=0), "lr"),
        (lambda: Adagrad(p, eps=-1), "eps"),
        (lambda: SGD([], lr=0.1), "empty"),
    ]
    for make, match in refused:
        with pytest.raises(ValueError, match=match):
            make()
    with pytest.raises(TypeError, match="number"):
        SGD(p, lr="0.1")
    with pytest.raises(TypeError, match="tensors"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(p[0], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        SGD([Tensor(np.ones(2))], lr=0.1)


def test_a_gradient_of_the_wrong_shape_is_refused():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"grad has shape \(3,\)"):
        opt.step()


@pytest.mark.parametrize("opt_cls", [SGD, Adam, Adagrad])
def test_state_dict_resumes_exactly(opt_cls):
    kw = {"lr": 0.05, "momentum": 0.9} if opt_cls is SGD else {"lr": 0.05}
    straight = run(opt_cls, **kw)[-1]
    p = Parameter(P0.copy())
    opt = opt_cls([p], **kw)
    for g in GRADS[:2]:
        p.grad = g.copy()
        opt.step()
    saved, data = opt.state_dict(), p.data.copy()
    q = Parameter(data)
    resumed = opt_cls([q], **kw)
    resumed.load_state_dict(saved)
    for g in GRADS[2:]:
        q.grad = g.copy()
        resumed.step()
    np.testing.assert_array_equal(q.data, straight)


def test_optimizer_load_state_dict_checks_first():
    p = Parameter(P0.copy())
    opt = Adam([p])
    p.grad = GRADS[0].copy()
    opt.step()
    good = opt.state_dict()
    assert set(good) == {"0.exp_avg", "0.exp_avg_sq", "0.step"}
    before = {k: v.copy() for k, v in good.items()}
    for bad, error in [({**good, "1.exp_avg": good["0.exp_avg"]}, KeyError),
                       ({**good, "0.momentum": good["0.exp_avg"]}, KeyError),
                       ({**good, "0.exp_avg": np.zeros(3)}, ValueError),
                       ({k: v for k, v in good.items() if k != "0.step"}, KeyError)]:
        with pytest.raises(error):
            opt.load_state_dict(bad)
        for k, v in opt.state_dict().items():
            np.testing.assert_array_equal(v, before[k])


# ----------------------------------------------------------------------------------------------
# clip_grad_norm
# ----------------------------------------------------------------------------------------------
def test_clip_grad_norm_scales_and_returns_the_norm_before_clipping():
    a, b, c = Parameter(np.zeros(2)), Parameter(np.zeros((2, 2))), Parameter(np.zeros(1))
    a.grad = np.array([3.0, 0.0])
    b.grad = np.array([[0.0, 4.0], [0.0, 12.0]])  # joint norm sqrt(9 + 16 + 144) = 13; c has no grad
    total = clip_grad_norm([a, b, c], max_norm=1.3)
    assert isinstance(total, float) and total == pytest.approx(13.0, rel=1e-15)
    scale = 1.3 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3.0 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(b.grad, np.array([[0.0, 4.0], [0.0, 12.0]]) * scale, rtol=1e-15)
    new_norm = math.sqrt(np.sum(a.grad ** 2) + np.sum(b.grad ** 2))
    assert new_norm == pytest.approx(1.3, rel=1e-6) and new_norm < 1.3
    assert c.grad is None


def test_clip_grad_norm_leaves_small_gradients_alone():
    a = Parameter(np.zeros(2))
    a.grad = np.array([0.3, 0.4])
    assert clip_grad_norm([a], 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, [0.3, 0.4])
    assert clip_grad_norm([Parameter(np.zeros(2))], 1.0) == 0.0  # no gradients at all
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([a], 0.0)
