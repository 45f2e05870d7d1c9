"""The ops PyTorch users reach for (SPEC "More ops"): composites against NumPy references and central
differences, the losses against PyTorch's formulas (written out here in NumPy), comparisons and
masks, dropout, NumPy's functions on a Tensor, PyTorch's spellings, and the edge-shape defects
(0-d tensors, empty tensors, axes out of range).

The primitives themselves (activations, where, maximum, minimum, min, expand, binary_cross_entropy)
have their property tests in test_ops_grad.py, which also provides `check_grads`.
"""
import math
import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_ops_grad import check_grads, needs_grad

import tinygrad_rnn
from tinygrad_rnn import Tensor, nn, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.ops.core import AxisError
from tinygrad_rnn.ops.special import erf, erfc, normal_cdf
from tinygrad_rnn.testing import gradcheck
from tinygrad_rnn.testing import strategies as tst


# ---------------------------------------------------------------------------------------------
# PyTorch's formulas, in NumPy (classes last, as the library takes them)
# ---------------------------------------------------------------------------------------------
def np_log_softmax(a, axis=-1):
    m = a.max(axis=axis, keepdims=True) if a.size else 0
    return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def torch_cross_entropy(logits, targets, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    """torch.nn.functional.cross_entropy with class-index targets: logp = log_softmax(x);
    nll_i = −logp[i, t_i] and smooth_i = −Σ_c logp[i, c], both 0 where t_i == ignore_index;
    loss_i = (1 − ε) nll_i + (ε / C) smooth_i; "mean" divides Σ loss_i by the number of rows not
    ignored (NaN when every row is ignored)."""
    classes = logits.shape[-1]
    logp = np_log_softmax(logits).reshape(-1, classes)
    t = np.asarray(targets).reshape(-1)
    kept = t != ignore_index
    safe = np.where(kept, t, 0)
    nll = np.where(kept, -logp[np.arange(t.size), safe], 0.0)
    smooth = np.where(kept, -logp.sum(axis=1), 0.0)
    loss = (1 - label_smoothing) * nll + label_smoothing / classes * smooth
    if reduction == "none":
        return loss.reshape(np.shape(targets))
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore"):
        return loss.sum() / kept.sum()


def torch_cross_entropy_probs(logits, probs, reduction="mean", label_smoothing=0.0):
    """With probability targets: loss_i = −Σ_c logp[i, c] ((1 − ε) y[i, c] + ε / C); "mean"
    divides by the number of rows."""
    classes = logits.shape[-1]
    y = probs * (1 - label_smoothing) + label_smoothing / classes
    loss = -(np_log_softmax(logits) * y).sum(axis=-1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean() if loss.size else np.nan}[reduction]


def torch_bce(p, y):
    """binary_cross_entropy: each log clamped at −100."""
    with np.errstate(divide="ignore"):
        return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log(1 - p), -100))


def torch_bce_with_logits(x, y, pos_weight=None):
    """binary_cross_entropy_with_logits, PyTorch's stable form: with m = max(−x, 0),
    (1 − y) x + w (log(e^(−m) + e^(−x−m)) + m), w = 1 + (pos_weight − 1) y."""
    m = np.maximum(-x, 0)
    w = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    return (1 - y) * x + w * (np.log(np.exp(-m) + np.exp(-x - m)) + m)


def reduce_like_torch(loss, reduction):
    return {"none": loss, "sum": np.sum(loss), "mean": np.mean(loss) if np.size(loss) else np.nan}[reduction]


REDUCTION = st.sampled_from(["mean", "sum", "none"])


# ---------------------------------------------------------------------------------------------
# cross_entropy, nll_loss
# ---------------------------------------------------------------------------------------------
@st.composite
def class_problems(draw, min_classes=1):
    """Logits (..., C) with any leading shape (0-d: one example (C,); (T, B): a sequence model's)
    and integer targets of the leading shape."""
    lead = draw(st.one_of(tst.shapes(0, 2, max_side=3), st.just((0,))), label="leading shape")
    classes = draw(st.integers(min_classes, 5), label="classes")
    logits = draw(tst.arrays(lead + (classes,)), label="logits")
    targets = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, classes - 1)), label="targets")
    return logits, targets


@given(data=st.data())
def test_cross_entropy_with_class_indices(data):
    logits, targets = data.draw(class_problems(), label="problem")
    reduction = data.draw(REDUCTION, label="reduction")
    smoothing = data.draw(st.sampled_from([0.0, 0.1, 0.25, 1.0]), label="label_smoothing")
    ignore = data.draw(st.sampled_from([None, -100, 0]), label="ignore_index")
    if ignore == -100 and targets.size:  # padding: some rows get the ignored value
        pad = data.draw(hnp.arrays(bool, targets.shape), label="padded rows")
        targets = np.where(pad, -100, targets)
    kept = targets.size if ignore is None else int(np.sum(targets != ignore))
    assume(reduction != "mean" or kept > 0)  # every row ignored: NaN, tested below
    expected = torch_cross_entropy(logits, targets, reduction, -100 if ignore is None else ignore, smoothing)
    as_tensor = data.draw(st.booleans(), label="targets as a Tensor")
    t = Tensor(targets.astype(np.float64)) if as_tensor else targets
    check_grads(data, lambda x: F.cross_entropy(x, t, reduction=reduction, ignore_index=ignore,
                                                label_smoothing=smoothing),
                logits, constants=(targets,), expected=expected)


@given(data=st.data())
def test_cross_entropy_with_probability_targets(data):
    logits, _ = data.draw(class_problems(), label="problem")
    raw = data.draw(tst.arrays(logits.shape, values=tst.ValueRange(0.05, 1.0)), label="weights")
    probs = raw / raw.sum(axis=-1, keepdims=True)
    reduction = data.draw(REDUCTION, label="reduction")
    smoothing = data.draw(st.sampled_from([0.0, 0.2]), label="label_smoothing")
    assume(reduction != "mean" or logits.size)
    expected = torch_cross_entropy_probs(logits, probs, reduction, smoothing)
    check_grads(data, lambda x, y: F.cross_entropy(x, y, reduction=reduction, label_smoothing=smoothing),
                logits, probs, requires_grad=data.draw(needs_grad(2)), expected=expected)


def test_cross_entropy_on_a_sequence_equals_the_rows_flattened():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((5, 3, 7)), rng.integers(0, 7, size=(5, 3))
    a, b = Tensor(logits, requires_grad=True), Tensor(logits.reshape(15, 7), requires_grad=True)
    F.cross_entropy(a, targets).backward()
    F.cross_entropy(b, targets.reshape(15)).backward()
    np.testing.assert_allclose(a.grad.reshape(15, 7), b.grad, rtol=1e-12)


def test_cross_entropy_ignore_index_means_over_the_kept_rows_only():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [1.0, -2.0, 3.0]])
    targets = np.array([0, -100, 2])
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, targets, ignore_index=-100)
    logp = np_log_softmax(logits)
    np.testing.assert_allclose(loss.item(), -(logp[0, 0] + logp[2, 2]) / 2, rtol=1e-12)
    loss.backward()
    np.testing.assert_array_equal(x.grad[1], 0.0)  # the padded row gets no gradient
    per_row = F.cross_entropy(Tensor(logits), targets, reduction="none", ignore_index=-100)
    np.testing.assert_allclose(per_row.data, [-logp[0, 0], 0.0, -logp[2, 2]], rtol=1e-12)


def test_cross_entropy_of_only_ignored_rows_is_nan_as_in_pytorch():
    loss = F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-1, -1]), ignore_index=-1)
    assert np.isnan(loss.item())
    assert F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([-1, -1]), ignore_index=-1, reduction="sum").item() == 0


def test_cross_entropy_label_smoothing_formula():
    """ε = 0.1 over C = 4 classes: (1 − ε)(−log p_t) + (ε / C) Σ_c (−log p_c)."""
    logits = np.array([1.0, 2.0, 0.5, -1.0])
    logp = np_log_softmax(logits)
    expected = 0.9 * -logp[1] + 0.1 / 4 * -logp.sum()
    np.testing.assert_allclose(F.cross_entropy(Tensor(logits), np.array(1), label_smoothing=0.1).item(),
                               expected, rtol=1e-12)


LOSSES_WITH_TARGETS = {  # name: (loss of x and a target array, the target)
    "cross_entropy indices": (F.cross_entropy, np.array([2, 0])),
    "cross_entropy ignore_index": (lambda x, t: F.cross_entropy(x, t, ignore_index=0), np.array([2, 0])),
    "cross_entropy probabilities": (F.cross_entropy, np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])),
    "nll_loss": (F.nll_loss, np.array([1, 2])),
    "binary_cross_entropy": (lambda x, t: F.binary_cross_entropy(x.sigmoid(), t), np.array([[0.0, 1, 0.5], [1, 1, 0]])),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, np.array([[0.0, 1, 0.5], [1, 1, 0]])),
    "mse_loss": (F.mse_loss, np.array([[0.0, 1, 0.5], [1, 1, 0]])),
    "gather": (lambda x, t: F.gather(x, 1, t).sum(), np.array([[2, 2], [0, 1]])),
}


@pytest.mark.parametrize("name", list(LOSSES_WITH_TARGETS))
def test_losses_do_not_keep_the_callers_targets(name):
    """The caller reuses their target array after the forward (the next batch): no gradient changes."""
    loss_of, targets = LOSSES_WITH_TARGETS[name]
    x = Tensor(np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0]]), requires_grad=True)
    original = targets.copy()
    loss = loss_of(x, targets)
    targets[...] = 1 - targets if targets.dtype.kind == "f" else 1
    loss.backward()
    fresh = Tensor(x.data.copy(), requires_grad=True)
    loss_of(fresh, original).backward()
    np.testing.assert_array_equal(x.grad, fresh.grad)


@pytest.mark.parametrize("call, pattern", [
    (lambda x: F.cross_entropy(x, np.array([[0, 7], [1, 1]])), r"target 7 at row \(0, 1\).*3 classes"),
    (lambda x: F.cross_entropy(x, np.array([[0, -100], [1, 1]])), r"target -100 at row \(0, 1\).*ignore_index"),
    (lambda x: F.cross_entropy(x, np.zeros((2, 3), np.int64)), r"targets must have shape \(2, 2\).*\(2, 2, 3\)"),
    (lambda x: F.cross_entropy(x, np.zeros((2, 2), np.int64), reduction="avg"), "reduction"),
    (lambda x: F.cross_entropy(x, np.zeros((2, 2), np.int64), label_smoothing=1.5), "label_smoothing"),
    (lambda x: F.cross_entropy(x, np.ones((2, 2, 3)) / 3, ignore_index=0), "ignore_index"),
    (lambda x: F.cross_entropy(Tensor(2.0), np.array(0)), "0-d"),
    (lambda x: F.nll_loss(x, np.zeros(2, np.int64)), r"nll_loss: targets must have shape \(2, 2\)"),
])
def test_losses_name_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(Tensor(np.zeros((2, 2, 3))))


def test_cross_entropy_refuses_fractional_class_indices():
    with pytest.raises(TypeError, match="whole numbers"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.5, 1.0]))


@given(data=st.data())
def test_nll_loss(data):
    log_probs, targets = data.draw(class_problems(), label="problem")
    reduction = data.draw(REDUCTION, label="reduction")
    ignore = data.draw(st.sampled_from([None, 0]), label="ignore_index")
    kept = targets.size if ignore is None else int(np.sum(targets != ignore))
    assume(reduction != "mean" or kept > 0)
    classes = log_probs.shape[-1]
    rows, t = log_probs.reshape(-1, classes), targets.reshape(-1)
    picked = np.where(t != ignore, -rows[np.arange(t.size), t], 0.0) if ignore is not None else \
        -rows[np.arange(t.size), t]
    expected = {"none": picked.reshape(targets.shape), "sum": picked.sum(),
                "mean": picked.sum() / kept if kept else np.nan}[reduction]
    check_grads(data, lambda x: F.nll_loss(x, targets, reduction=reduction, ignore_index=ignore), log_probs,
                constants=(targets,), expected=expected)


def test_nll_loss_of_log_softmax_is_cross_entropy():
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((4, 6)), rng.integers(0, 6, size=4)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(Tensor(logits)), targets).item(),
                               F.cross_entropy(Tensor(logits), targets).item(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Binary cross-entropy, mse_loss
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_binary_cross_entropy(data):
    shape = data.draw(tst.edge_shapes(), label="shape")
    p = data.draw(tst.arrays(shape, values="probability"), label="p")
    y = data.draw(tst.arrays(shape, values=tst.ValueRange(0.0, 1.0)), label="y")
    reduction = data.draw(REDUCTION, label="reduction")
    assume(reduction != "mean" or p.size)
    if data.draw(st.booleans(), label="weight"):
        w = data.draw(tst.arrays(shape), label="weight")
        expected = reduce_like_torch(torch_bce(p, y) * w, reduction)
        fn = lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction)  # noqa: E731
    else:
        expected = reduce_like_torch(torch_bce(p, y), reduction)
        fn = lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction)  # noqa: E731
    check_grads(data, fn, p, y, requires_grad=data.draw(needs_grad(2)), expected=expected)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_as_pytorch():
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    loss.backward(np.ones(4))
    # PyTorch's gradient (p − y) / max(p (1 − p), 1e-12): finite where the true slope is infinite
    np.testing.assert_allclose(p.grad, [-1e12, 1e12, 0.0, 0.0])
    with pytest.raises(ValueError, match="binary_cross_entropy.*\\[0, 1\\]"):
        F.binary_cross_entropy(Tensor([1.5]), np.array([1.0]))


@given(data=st.data())
def test_binary_cross_entropy_with_logits(data):
    shape = data.draw(tst.edge_shapes(min_dims=1), label="shape")
    x = data.draw(tst.arrays(shape), label="x")
    y = data.draw(tst.arrays(shape, values=tst.ValueRange(0.0, 1.0)), label="y")
    reduction = data.draw(REDUCTION, label="reduction")
    assume(reduction != "mean" or x.size)
    pos_weight = data.draw(st.one_of(st.none(), tst.arrays(shape[-1:], values=tst.ValueRange(0.5, 3.0))),
                           label="pos_weight")
    expected = reduce_like_torch(torch_bce_with_logits(x, y, pos_weight), reduction)
    check_grads(data, lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                                      pos_weight=pos_weight),
                x, y, requires_grad=data.draw(needs_grad(2)), expected=expected)


def test_binary_cross_entropy_with_logits_is_finite_at_1000():
    x = Tensor(np.array([-1000.0, 1000.0, -1000.0, 1000.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
        loss.backward()
    np.testing.assert_allclose(loss.item(), 2000.0)
    np.testing.assert_allclose(x.grad, [-1.0, 1.0, 0.0, 0.0])  # σ(x) − y


def test_mse_loss_reductions():
    pred, target = np.array([[1.0, 2.0], [3.0, 5.0]]), np.zeros((2, 2))
    np.testing.assert_allclose(F.mse_loss(Tensor(pred), target, reduction="none").data, pred ** 2)
    assert F.mse_loss(Tensor(pred), target, reduction="sum").item() == 39.0
    assert F.mse_loss(Tensor(pred), target).item() == 39.0 / 4


# ---------------------------------------------------------------------------------------------
# logsumexp, var, std, argmax, argmin, min
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_logsumexp(data):
    a = data.draw(tst.arrays(tst.edge_shapes()), label="a")
    axis = data.draw(tst.axes(a.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    with np.errstate(divide="ignore"):
        expected = np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))  # moderate values: exact enough
    form = data.draw(st.sampled_from(["method", "F", "dim"]), label="form")
    fn = {"method": lambda t: t.logsumexp(axis, keepdims), "F": lambda t: F.logsumexp(t, axis=axis, keepdims=keepdims),
          "dim": lambda t: t.logsumexp(dim=axis, keepdim=keepdims)}[form]
    check_grads(data, fn, a, expected=expected)


def test_logsumexp_is_stable_and_minus_inf_over_nothing():
    x = Tensor(np.array([[1000.0, 1000.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(x.logsumexp(axis=1).data, [1000 + math.log(2), -1000 + math.log(2)])
    empty = Tensor(np.zeros((2, 0)), requires_grad=True)
    out = empty.logsumexp(dim=1)
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf])
    out.backward(np.ones(2))
    assert isinstance(empty.grad, np.ndarray) and empty.grad.shape == (2, 0)


@given(data=st.data())
def test_var_and_std(data):
    a = data.draw(tst.arrays(tst.edge_shapes()), label="a")
    axis = data.draw(tst.axes(a.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    spelling = data.draw(st.sampled_from(["default", "correction=0", "correction=1", "ddof=0", "ddof=1",
                                          "unbiased=False"]), label="correction")
    c = 0 if spelling in ("correction=0", "ddof=0", "unbiased=False") else 1
    kwargs = {} if spelling == "default" else {spelling.split("=")[0]: eval(spelling.split("=")[1])}
    n = a.size if axis is None else int(np.prod([a.shape[i] for i in np.atleast_1d(axis)]))
    assume(n - c > 0)
    which = data.draw(st.sampled_from(["var", "std"]), label="which")
    expected = getattr(np, which)(a, axis=axis, ddof=c, keepdims=keepdims)
    if which == "std":
        assume(np.all(expected > 1e-3))  # √ is steep at 0
    dim_form = data.draw(st.booleans(), label="dim=")
    if dim_form:
        fn = lambda t: getattr(t, which)(dim=axis, keepdim=keepdims, **kwargs)  # noqa: E731
    else:
        fn = lambda t: getattr(F, which)(t, axis=axis, keepdims=keepdims, **kwargs)  # noqa: E731
    check_grads(data, fn, a, expected=expected)


def test_var_follows_pytorch_by_default_and_numpy_through_numpy():
    data = np.array([1.0, 2.0, 4.0])
    t = Tensor(data)
    np.testing.assert_allclose(t.var().item(), np.var(data, ddof=1))   # PyTorch: correction=1
    np.testing.assert_allclose(np.var(t).item(), np.var(data))           # NumPy: ddof=0
    np.testing.assert_allclose(np.std(t, ddof=1).item(), np.std(data, ddof=1))
    with pytest.raises(TypeError, match="one of"):
        t.var(ddof=1, correction=1)
    with np.errstate(all="ignore"):  # N − correction ≤ 0: NaN where the sum is 0, inf otherwise (PyTorch)
        assert np.isnan(Tensor([3.0]).var().item())
        assert np.isinf(t.var(correction=5).item())


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_argmin(name, data):
    a = data.draw(tst.arrays(tst.edge_shapes(), values="max"), label="a")
    axis = data.draw(st.one_of(st.none(), st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    reference = getattr(np, name)
    empty_axis = a.size == 0 and (axis is None or a.ndim == 0 or a.shape[axis] == 0)
    if empty_axis:
        with pytest.raises(ValueError, match=name):
            getattr(Tensor(a), name)(axis)
        return
    expected = reference(a, axis=None if a.ndim == 0 else axis, keepdims=keepdims)
    for got in (getattr(Tensor(a), name)(axis, keepdims), getattr(F, name)(Tensor(a), dim=axis, keepdim=keepdims),
                reference(Tensor(a), axis=axis, keepdims=keepdims)):
        assert isinstance(got, np.ndarray) and got.dtype.kind == "i"
        np.testing.assert_array_equal(got, expected)


def test_max_and_min_share_the_gradient_between_ties():
    t = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]], requires_grad=True)
    t.min(axis=1).backward(np.array([1.0, 4.0]))
    np.testing.assert_array_equal(t.grad, [[1, 0, 0], [0, 2, 2]])


@pytest.mark.parametrize("fn", [F.maximum, F.minimum])
def test_maximum_and_minimum_split_the_gradient_at_ties(fn):
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([1.0, 0.0, 5.0], requires_grad=True)
    fn(a, b).backward(np.array([2.0, 2.0, 2.0]))
    a_wins = [1.0, 2.0, 0.0] if fn is F.maximum else [1.0, 0.0, 2.0]  # the tie at 0 is shared: 1 each
    np.testing.assert_array_equal(a.grad, a_wins)
    np.testing.assert_array_equal(b.grad, 2.0 - np.array(a_wins))


# ---------------------------------------------------------------------------------------------
# Shapes: squeeze, unsqueeze, flatten, split, chunk, view, permute
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_squeeze_unsqueeze_flatten(data):
    a = data.draw(tst.arrays(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)), label="a")
    form = data.draw(st.sampled_from(["squeeze all", "squeeze axis", "unsqueeze", "flatten", "flatten part"]))
    if form == "squeeze all":
        check_grads(data, lambda t: t.squeeze(), a, expected=np.squeeze(a))
    elif form == "squeeze axis":
        ones = [i for i, n in enumerate(a.shape) if n == 1]
        assume(ones)
        axis = data.draw(st.sampled_from(ones)) - data.draw(st.sampled_from([0, a.ndim]))
        check_grads(data, lambda t: t.squeeze(dim=axis), a, expected=np.squeeze(a, axis))
    elif form == "unsqueeze":
        axis = data.draw(st.integers(-a.ndim - 1, a.ndim), label="axis")
        check_grads(data, lambda t: t.unsqueeze(axis), a, expected=np.expand_dims(a, axis))
    elif form == "flatten":
        check_grads(data, lambda t: t.flatten(), a, expected=a.reshape(-1))
    else:
        assume(a.ndim >= 2)
        start = data.draw(st.integers(0, a.ndim - 1), label="start")
        end = data.draw(st.integers(start, a.ndim - 1), label="end")
        shape = a.shape[:start] + (int(np.prod(a.shape[start:end + 1])),) + a.shape[end + 1:]
        check_grads(data, lambda t: F.flatten(t, start, end - a.ndim), a, expected=a.reshape(shape))


def test_squeeze_leaves_a_named_axis_of_another_size_alone_as_pytorch():
    t = Tensor(np.zeros((2, 1, 3)))
    assert t.squeeze(0).shape == (2, 1, 3) and t.squeeze(1).shape == (2, 3) and t.squeeze((0, 1)).shape == (2, 3)
    with pytest.raises(ValueError, match="squeeze"):
        np.squeeze(t, 0)  # NumPy's meaning through NumPy's function
    assert Tensor(5.0).flatten().shape == (1,) and Tensor(5.0).unsqueeze(0).shape == (1,)


def torch_split_sizes(n, size):
    return [min(size, n - s) for s in range(0, n, size)] or [0]


@given(data=st.data())
def test_split_and_chunk(data):
    a = data.draw(tst.arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)), label="a")
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    n = a.shape[axis]
    form = data.draw(st.sampled_from(["split size", "split sections", "chunk"]), label="form")
    if form == "split size":
        size = data.draw(st.integers(1, 5), label="size")
        sizes = torch_split_sizes(n, size)
        cut = lambda t: t.split(size, dim=axis)  # noqa: E731
    elif form == "split sections":
        sizes = data.draw(st.lists(st.integers(0, n), min_size=1, max_size=4).filter(lambda s: sum(s) == n) if n
                          else st.just([0, 0]), label="sections")
        cut = lambda t: F.split(t, sizes, axis=axis)  # noqa: E731
    else:
        chunks = data.draw(st.integers(1, 6), label="chunks")
        sizes = torch_split_sizes(n, -(-n // chunks)) if n else [0]
        cut = lambda t: t.chunk(chunks, axis)  # noqa: E731
    pieces = np.split(a, np.cumsum(sizes)[:-1], axis=axis)
    got = cut(Tensor(a))
    assert [p.shape for p in got] == [p.shape for p in pieces]
    weights = np.arange(1.0, len(sizes) + 1)  # each piece scaled differently: a gradient mix-up shows

    def joined(t):
        return F.concat([p * w for p, w in zip(cut(t), weights)], axis=axis)
    check_grads(data, joined, a, expected=np.concatenate([p * w for p, w in zip(pieces, weights)], axis=axis))


def test_chunk_cuts_gate_blocks_and_may_give_fewer_pieces_as_pytorch():
    pre = Tensor(np.arange(24.0).reshape(2, 12))
    i, f, g, o = pre.chunk(4, dim=-1)
    np.testing.assert_array_equal(g.data, pre.data[:, 6:9])
    assert [p.shape[0] for p in Tensor(np.zeros(5)).chunk(4)] == [2, 2, 1]  # ceil(5 / 4) = 2 per piece
    with pytest.raises(ValueError, match="add up"):
        Tensor(np.zeros(5)).split([2, 2])


def test_view_and_permute():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal(t.view(4, -1).data, a.reshape(4, 6))
    np.testing.assert_array_equal(t.view((6, 4)).data, a.reshape(6, 4))
    p = t.permute(2, 0, 1)
    np.testing.assert_array_equal(p.data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(t.permute((2, 0, 1)).data, p.data)
    g = np.random.default_rng(0).standard_normal(p.shape)
    p.backward(g)
    np.testing.assert_array_equal(t.grad, np.transpose(g, (1, 2, 0)))


def test_pytorch_spellings_of_axis_and_keepdims():
    a = np.arange(6.0).reshape(2, 3)
    t = Tensor(a)
    for method in ("sum", "mean", "max", "min"):
        np.testing.assert_array_equal(getattr(t, method)(dim=1, keepdim=True).data,
                                      getattr(np, method)(a, axis=1, keepdims=True))
        with pytest.raises(TypeError, match="axis= or dim="):
            getattr(t, method)(axis=0, dim=1)
    np.testing.assert_allclose(t.softmax(dim=0).data, F.softmax(t, axis=0).data)
    np.testing.assert_allclose(F.log_softmax(t, dim=0).data, t.log_softmax(0).data)
    assert F.stack([t, t], dim=2).shape == (2, 3, 2) and F.concat([t, t], dim=1).shape == (2, 6)


# ---------------------------------------------------------------------------------------------
# gather, one_hot
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_gather(data):
    a = data.draw(tst.arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)), label="a")
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1), label="dim")
    axis = dim % a.ndim
    shape = tuple(data.draw(st.integers(0, 4)) if d == axis else data.draw(st.integers(0, n))
                  for d, n in enumerate(a.shape))
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, a.shape[axis] - 1)), label="index")
    expected = np.empty(shape)
    for pos in np.ndindex(*shape):  # torch.gather, one element at a time
        source = list(pos)
        source[axis] = index[pos]
        expected[pos] = a[tuple(source)]
    form = data.draw(st.sampled_from(["F", "method"]), label="form")
    fn = (lambda t: F.gather(t, dim, index)) if form == "F" else (lambda t: t.gather(dim, index))
    check_grads(data, fn, a, constants=(index,), expected=expected)


def test_gather_checks_its_index():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="index 3 is out of range"):
        F.gather(x, 1, np.array([[3], [0]]))
    with pytest.raises(ValueError, match="does not fit"):
        F.gather(x, 1, np.array([0, 1]))
    with pytest.raises(AxisError):
        F.gather(x, 2, np.array([[0], [0]]))


def test_one_hot():
    idx = np.array([[0, 2], [1, 1]])
    out = F.one_hot(idx, 3)
    np.testing.assert_array_equal(out.data, np.eye(3)[idx])
    assert out.dtype == tinygrad_rnn.get_default_dtype() and not out.requires_grad
    assert F.one_hot(Tensor([0.0, 4.0])).shape == (2, 5)  # -1: one more than the largest index
    assert F.one_hot(np.zeros((0, 2), np.int64), 4).shape == (0, 2, 4)
    assert F.one_hot(np.array([1]), 2, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match="empty|no indices"):
        F.one_hot(np.zeros(0, np.int64))


# ---------------------------------------------------------------------------------------------
# Comparisons and masks
# ---------------------------------------------------------------------------------------------
COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", COMPARISONS)
@given(data=st.data())
def test_comparisons_give_boolean_tensors_without_a_graph(op, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_side=0), label="shapes")
    few = st.sampled_from([-1.0, 0.0, 1.0, 2.0])  # few values: ties and equalities are common
    a, b = (data.draw(hnp.arrays(np.float64, s, elements=few), label=k) for s, k in zip(shapes.input_shapes, "ab"))
    ta = Tensor(a, requires_grad=True)
    other = data.draw(st.sampled_from(["tensor", "array", "number", "reflected array", "reflected number"]))
    if other == "tensor":
        got, expected = op(ta, Tensor(b, requires_grad=True)), op(a, b)
    elif other == "array":
        got, expected = op(ta, b), op(a, b)
    elif other == "number":
        got, expected = op(ta, 1.0), op(a, 1.0)
    elif other == "reflected array":
        got, expected = op(b, ta), op(b, a)
    else:
        got, expected = op(1.0, ta), op(1.0, a)
    assert isinstance(got, Tensor) and got.dtype == bool
    assert not got.requires_grad and got.is_leaf
    np.testing.assert_array_equal(got.data, expected)


def test_masks_index_and_select():
    x = Tensor(np.array([-1.0, 2.0, -3.0, 4.0]), requires_grad=True)
    positive = x > 0
    picked = x[positive]
    np.testing.assert_array_equal(picked.data, [2.0, 4.0])
    (picked * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 0, 2])
    with pytest.raises(TypeError, match="boolean"):
        F.where(Tensor([1.0, 0.0]), x, 0.0)
    with pytest.raises(TypeError):
        Tensor([True, False], requires_grad=True)


def test_equality_with_other_objects_and_truth_values():
    t = Tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711 - the point of the test
    with pytest.raises(TypeError):
        t < None  # noqa: B015
    assert bool(Tensor(3.0) > 2) and not bool(Tensor([0.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t > 0)


def test_boolean_tensor_index_is_a_mask_defect_3():
    np.testing.assert_array_equal(Tensor([10.0, 20.0])[Tensor([True, False])].data, [10.0])
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = m[Tensor([False, True]), 1:]
    np.testing.assert_array_equal(out.data, [[4.0, 5.0]])
    out.sum().backward()
    np.testing.assert_array_equal(m.grad, [[0, 0, 0], [0, 1, 1]])


# ---------------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_statistics(p):
    x = Tensor(np.ones((400, 250)))
    y = F.dropout(x, p, generator=np.random.default_rng(0)).data
    n = y.size
    dropped = np.mean(y == 0)
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)  # five standard deviations of a binomial
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p))         # survivors scaled: the mean is kept
    assert abs(y.mean() - 1) < 5 * math.sqrt(p / (1 - p) / n)
    rows = (y == 0).mean(axis=1)  # independent draws: no row is much off either
    assert rows.std() < 3 * math.sqrt(p * (1 - p) / 250)


def test_dropout_uses_the_same_mask_in_forward_and_backward():
    rng = np.random.default_rng(1)
    data = rng.uniform(1, 2, size=(30, 40))
    x = Tensor(data, requires_grad=True)
    y = F.dropout(x, 0.4)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    np.testing.assert_allclose(x.grad, g * (y.data / data))  # the forward's factor, 0 or 1 / 0.6
    assert set(np.round(np.unique(y.data / data), 12)) == {0.0, round(1 / 0.6, 12)}


def test_dropout_is_seedable():
    x = Tensor(np.ones(1000))
    tinygrad_rnn.manual_seed(7)
    first = F.dropout(x, 0.5).data
    tinygrad_rnn.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    assert not np.array_equal(F.dropout(x, 0.5).data, first)  # the generator moved on
    np.testing.assert_array_equal(F.dropout(x, 0.5, generator=3).data, F.dropout(x, 0.5, generator=3).data)
    a = F.dropout(x, 0.5, generator=np.random.default_rng(4)).data
    np.testing.assert_array_equal(a, F.dropout(x, 0.5, generator=np.random.default_rng(4)).data)
    layer, again = nn.Dropout(0.5, generator=11), nn.Dropout(0.5, generator=11)
    np.testing.assert_array_equal(layer(x).data, again(x).data)
    assert not np.array_equal(layer(x).data, layer(x).data)  # a seeded layer still draws anew on each call


def test_dropout_off_in_eval_and_at_the_edges():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    layer = nn.Dropout(0.5)
    assert layer.training and layer(x) is not x
    layer.eval()
    assert layer(x) is x  # identity, no node
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    zeros = F.dropout(x, 1.0)
    np.testing.assert_array_equal(zeros.data, 0.0)
    assert F.dropout(Tensor(np.zeros((0, 3))), 0.5).shape == (0, 3) and F.dropout(Tensor(2.0), 0.5).shape == ()
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="dropout"):
            F.dropout(x, bad)
        with pytest.raises(ValueError, match="Dropout"):
            nn.Dropout(bad)
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25)" and nn.Dropout(0.3).parameters() == []
    assert tinygrad_rnn.Dropout is nn.Dropout


# ---------------------------------------------------------------------------------------------
# NumPy's functions on a Tensor
# ---------------------------------------------------------------------------------------------
NUMPY_OPS = {  # name: (NumPy call on the tensor, the same on the array)
    "np.sum": lambda x: np.sum(x), "np.sum axis": lambda x: np.sum(x, axis=0, keepdims=True),
    "np.mean": lambda x: np.mean(x, 1), "np.max": lambda x: np.max(x, axis=1), "np.amin": lambda x: np.amin(x),
    "np.var": lambda x: np.var(x), "np.std ddof": lambda x: np.std(x, axis=0, ddof=1),
    "np.exp": np.exp, "np.log": lambda x: np.log(np.abs(x) + 1), "np.tanh": np.tanh,
    "np.sqrt": lambda x: np.sqrt(x * x + 1),
    "np.square": np.square, "np.reciprocal": lambda x: np.reciprocal(x + 5), "np.power": lambda x: np.power(x, 3),
    "np.maximum": lambda x: np.maximum(x, 0.25), "np.minimum": lambda x: np.minimum(0.25, x),
    "np.negative": np.negative, "np.matmul": lambda x: np.matmul(x, np.ones((3, 2))),
    "np.dot": lambda x: np.dot(np.ones((2, 4)), x), "np.reshape": lambda x: np.reshape(x, (3, 2, 2)),
    "np.transpose": np.transpose, "np.swapaxes": lambda x: np.swapaxes(x, 0, 1),
    "np.ravel": np.ravel, "np.expand_dims": lambda x: np.expand_dims(x, 1),
    "np.squeeze": lambda x: np.squeeze(np.expand_dims(x, 0), 0),
    "np.broadcast_to": lambda x: np.broadcast_to(x, (2, 4, 3)),
    "np.concatenate": lambda x: np.concatenate([x, np.ones((1, 3)), x]),
    "np.concatenate None": lambda x: np.concatenate([x, x], axis=None),
    "np.stack": lambda x: np.stack([x, 2 * x], axis=-1), "np.clip": lambda x: np.clip(x, -0.5, 0.5),
    "np.where": lambda x: np.where(x > 0, x, 0.5 * x),
    "np.take_along_axis": lambda x: np.take_along_axis(x, np.array([[2], [0], [1], [1]]), axis=1),
    "np.split": lambda x: np.split(x, [1, 3])[1], "np.split sections": lambda x: np.split(x, 2)[1],
    "ndarray + t": lambda x: np.ones(3) + x, "ndarray - t": lambda x: np.ones(3) - x,
    "ndarray * t": lambda x: np.arange(3.0) * x, "ndarray / t": lambda x: np.ones(3) / (x + 5),
    "ndarray ** t": lambda x: np.full(3, 2.0) ** x, "ndarray @ t": lambda x: np.ones((2, 4)) @ x,
}


@pytest.mark.parametrize("name", list(NUMPY_OPS))
def test_numpy_functions_act_as_the_op(name):
    call = NUMPY_OPS[name]
    rng = np.random.default_rng(2)
    a = rng.uniform(-1, 1, size=(4, 3))
    t = Tensor(a, requires_grad=True)
    out = call(t)
    assert isinstance(out, Tensor) and out.requires_grad, f"{name} gave {type(out).__name__}"
    np.testing.assert_allclose(out.data, call(a), rtol=1e-12)
    assert gradcheck(call, [a], atol=1e-6, rtol=1e-5)


def test_numpy_functions_without_a_gradient_work_on_the_data():
    t = Tensor(np.array([[1.0, -2.0], [3.0, 0.0]]), requires_grad=True)
    assert np.shape(t) == (2, 2) and np.ndim(t) == 2 and np.size(t) == 4 and np.size(t, 1) == 2
    np.testing.assert_array_equal(np.argmax(t, axis=1), [0, 0])
    assert np.allclose(t, t.data) and np.array_equal(t, t.data) and np.count_nonzero(t) == 3
    np.testing.assert_array_equal(np.zeros_like(t), np.zeros((2, 2)))
    for mask in (np.isfinite(t), np.isclose(t, 0.0), np.logical_not(t > 0)):
        assert isinstance(mask, Tensor) and mask.dtype == bool
    np.testing.assert_allclose(np.asarray(t), t.data)


@pytest.mark.parametrize("call, pattern", [
    (lambda t: np.sum(t, out=np.zeros(())), r"numpy.sum\(.*out=\).*use t.sum"),
    (lambda t: np.sin(t), r"numpy.sin.*t.data"),
    (lambda t: np.exp(t, dtype=np.float32), r"numpy.exp.*use t.exp\(\)"),
    (lambda t: np.add.reduce(t), r"numpy.add.reduce.*use t.sum"),
    (lambda t: np.maximum.accumulate(t), r"maximum.accumulate.*t.data"),
    (lambda t: np.cumsum(t), r"numpy.cumsum"),
    (lambda t: np.copy(t), r"numpy.copy.*t.detach\(\)"),
    (lambda t: np.where(t > 0), r"np.nonzero"),
])
def test_numpy_functions_that_would_lose_the_gradient_name_what_to_use(call, pattern):
    with pytest.raises(TypeError, match=pattern):
        call(Tensor(np.ones(3), requires_grad=True))


def test_one_element_tensors_convert_to_numbers():
    loss = Tensor([1.5, 2.5], requires_grad=True).sum()
    assert float(loss) == 4.0 and int(loss) == 4
    np.testing.assert_array_equal(np.array([loss, loss * 2]), [4.0, 8.0])  # a list of 0-d tensors
    with pytest.raises(ValueError, match="one element"):
        float(Tensor([1.0, 2.0]))


def test_writing_a_tensor_into_an_array_in_place_is_refused():
    a = np.zeros(3)
    with pytest.raises(TypeError, match="in place"):
        a += Tensor(np.ones(3))
    np.testing.assert_array_equal(a, 0.0)


def test_array_on_the_left_keeps_the_gradient_and_the_dtype():
    t = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    out = np.array([3.0, 4.0], np.float32) * t + np.float32(2) * t
    out.sum().backward()
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    np.testing.assert_array_equal(t.grad, [5.0, 6.0])


# ---------------------------------------------------------------------------------------------
# erf (NumPy has none): against math.erf
# ---------------------------------------------------------------------------------------------
def test_erf_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 2001), [0.0, -0.0, 1e-300, 5e-8, 26.0, -26.0, np.inf, -np.inf]])
    np.testing.assert_array_equal(erf(x), [math.erf(v) for v in x])
    np.testing.assert_array_equal(erfc(x), [math.erfc(v) for v in x])
    assert np.isnan(erf(np.nan)) and erf(np.float32(0.5)).dtype == np.float64
    assert erf(np.zeros((2, 0))).shape == (2, 0) and erf(1.0).shape == ()
    np.testing.assert_allclose(erf(np.array([0.5, 1.0, 2.0])), [0.5204998778130465, 0.8427007929497149,
                                                                0.9953222650189527], rtol=0, atol=1e-16)
    # Φ far in the lower tail keeps its digits (½ erfc, not ½ (1 + erf), which would be 0)
    np.testing.assert_allclose(normal_cdf(-10.0), 7.619853024160527e-24, rtol=1e-14)


def test_gelu_is_accurate_in_float64_and_keeps_float32():
    x = np.linspace(-8, 8, 161)
    # x Φ(x) with PyTorch's argument x · (1/√2); as ½ erfc, which keeps its digits far below 0, where
    # ½ (1 + erf) cancels
    expected = [v * 0.5 * math.erfc(-(v * math.sqrt(0.5))) for v in x]
    np.testing.assert_allclose(F.gelu(Tensor(x)).data, expected, rtol=1e-15, atol=1e-300)
    assert F.gelu(Tensor(x.astype(np.float32))).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# Edge shapes: 0-d tensors (defect 5), empty tensors (6), axes out of range (2, 10)
# ---------------------------------------------------------------------------------------------
ZERO_D = {
    "sum(0)": lambda t: t.sum(0), "sum(-1)": lambda t: t.sum(-1), "mean(0)": lambda t: t.mean(0),
    "max(0)": lambda t: t.max(0), "min(-1)": lambda t: t.min(-1), "softmax()": lambda t: t.softmax(),
    "log_softmax()": lambda t: t.log_softmax(), "logsumexp(0)": lambda t: t.logsumexp(0),
    "var(correction=0)": lambda t: t.var(0, correction=0), "squeeze(0)": lambda t: t.squeeze(0),
    "unsqueeze(0)": lambda t: t.unsqueeze(0), "flatten()": lambda t: t.flatten(), "expand(3)": lambda t: t.expand(3),
    "t[None].sum() + 3t": lambda t: t[None].sum() + t * 3.0, "gelu": F.gelu, "where": lambda t: F.where(t > 0, t, -t),
    "maximum": lambda t: F.maximum(t, 0.5), "gather": lambda t: t.gather(0, np.array(0)),
    "cross_entropy": lambda t: F.cross_entropy(t.unsqueeze(0), np.array(0)),
}


@pytest.mark.parametrize("name", list(ZERO_D))
def test_0d_tensors(name):
    """NumPy and PyTorch accept these on 0-d tensors: so does the library, and every gradient is an
    array (never a NumPy scalar)."""
    fn = ZERO_D[name]
    t = Tensor(np.array(2.0), requires_grad=True)
    out = fn(t)
    assert isinstance(out.data, np.ndarray)
    out.backward(np.ones(out.shape))
    assert type(t.grad) is np.ndarray and t.grad.shape == ()
    assert gradcheck(fn, [np.array(2.0)])


def test_0d_reductions_give_numpys_values_defect_5():
    t = Tensor(2.0)
    for got in (t.sum(0), t.sum(-1), t.max(0), t.min(0)):
        assert got.shape == () and got.item() == 2.0
    assert t.softmax().item() == 1.0 and t.argmax(0) == 0
    with pytest.raises(AxisError):
        t.sum(1)


EMPTY = {  # name: (function, input shape, result shape)
    "softmax(-1) of (2, 0)": (lambda t: t.softmax(-1), (2, 0), (2, 0)),
    "log_softmax(0) of (0, 3)": (lambda t: t.log_softmax(0), (0, 3), (0, 3)),
    "max(axis=1) of (0, 2)": (lambda t: t.max(axis=1), (0, 2), (0,)),
    "min(axis=0) of (2, 0)": (lambda t: t.min(axis=0), (2, 0), (0,)),
    "logsumexp(1) of (0, 2)": (lambda t: t.logsumexp(1), (0, 2), (0,)),
    "var(0) of (3, 0)": (lambda t: t.var(0), (3, 0), (0,)),
    "leaky_relu": (F.leaky_relu, (0, 3), (0, 3)), "softplus": (F.softplus, (0,), (0,)), "elu": (F.elu, (2, 0), (2, 0)),
    "gelu": (F.gelu, (0,), (0,)), "silu": (F.silu, (0, 1), (0, 1)),
    "where": (lambda t: F.where(t > 0, t, 0.0), (0, 2), (0, 2)), "maximum": (lambda t: F.maximum(t, t * 2), (0,), (0,)),
    "expand": (lambda t: t.expand(4, 0), (1, 0), (4, 0)), "squeeze": (lambda t: t.squeeze(), (0, 1), (0,)),
    "unsqueeze": (lambda t: t.unsqueeze(-1), (0,), (0, 1)), "flatten": (lambda t: t.flatten(), (2, 0, 3), (0,)),
    "split": (lambda t: t.split(1, dim=1)[0], (0, 2), (0, 1)), "chunk": (lambda t: t.chunk(3)[0], (0, 2), (0, 2)),
    "gather": (lambda t: t.gather(0, np.zeros((0, 2), np.int64)), (3, 2), (0, 2)),
    "dropout": (lambda t: F.dropout(t, 0.5), (0, 4), (0, 4)),
    "cross_entropy none": (lambda t: F.cross_entropy(t, np.zeros(0, np.int64), reduction="none"), (0, 3), (0,)),
    "cross_entropy sum": (lambda t: F.cross_entropy(t, np.zeros(0, np.int64), reduction="sum"), (0, 3), ()),
    "bce_with_logits sum": (lambda t: F.binary_cross_entropy_with_logits(t, np.zeros((0, 2)), reduction="sum"),
                            (0, 2), ()),
    "concat": (lambda t: F.concat([t, t], axis=0), (0, 2), (0, 2)), "stack": (lambda t: F.stack([t, t]), (0,), (2, 0)),
}


@pytest.mark.parametrize("name", list(EMPTY))
def test_empty_tensors_flow_through_defect_6(name):
    fn, shape, result = EMPTY[name]
    t = Tensor(np.zeros(shape), requires_grad=True)
    out = fn(t)
    assert out.shape == result
    out.backward(np.ones(result))
    assert type(t.grad) is np.ndarray and t.grad.shape == shape


def test_mean_losses_of_no_rows_are_nan_as_pytorch():
    assert np.isnan(F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, np.int64)).item())
    assert np.isnan(F.binary_cross_entropy_with_logits(Tensor(np.zeros(0)), np.zeros(0)).item())


OUT_OF_RANGE = {
    "sum": lambda t: t.sum(2), "mean": lambda t: t.mean(axis=(0, -3)), "max": lambda t: t.max(2),
    "min": lambda t: t.min(dim=-3), "argmax": lambda t: t.argmax(2), "argmin": lambda t: t.argmin(-3),
    "softmax": lambda t: t.softmax(2), "log_softmax": lambda t: F.log_softmax(t, dim=-3),
    "logsumexp": lambda t: t.logsumexp(2), "var": lambda t: t.var(2), "std": lambda t: t.std(dim=-3),
    "squeeze": lambda t: t.squeeze(2), "unsqueeze": lambda t: t.unsqueeze(4), "flatten": lambda t: t.flatten(0, 2),
    "split": lambda t: t.split(1, dim=2), "chunk": lambda t: t.chunk(2, -3), "gather": lambda t: t.gather(2, [[0]]),
    "concat": lambda t: F.concat([t, t], axis=2), "stack (defect 2)": lambda t: F.stack([t, t], axis=5),
    "stack -4": lambda t: F.stack([t, t], axis=-4), "transpose": lambda t: t.transpose(0, 2),
    "permute": lambda t: t.permute(0, 2), "np.sum": lambda t: np.sum(t, axis=2),
    "np.concatenate": lambda t: np.concatenate([t, t], axis=3), "np.split": lambda t: np.split(t, 1, axis=2),
    "np.squeeze": lambda t: np.squeeze(t, 2), "np.expand_dims": lambda t: np.expand_dims(t, 3),
    "np.swapaxes": lambda t: np.swapaxes(t, 0, 2),
}


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_an_axis_out_of_range_is_both_value_and_index_error(name):
    t = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as caught:
        OUT_OF_RANGE[name](t)
    assert isinstance(caught.value, IndexError), f"{name}: {type(caught.value).__name__}: {caught.value}"


def test_stack_with_a_new_axis_out_of_range_says_where_it_may_go_defect_2():
    a = Tensor([1.0, 2.0])
    with pytest.raises(AxisError, match=r"stack: axis 5.*\[-2, 1\]"):
        F.stack([a, a], axis=5)
    assert F.stack([a, a], axis=-2).shape == (2, 2) and F.stack([a, a], axis=1).shape == (2, 2)


def test_np_sum_and_concat_axis_none_defect_10():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    total = np.sum(t)
    assert isinstance(total, Tensor) and total.item() == 15.0
    total.backward()
    np.testing.assert_array_equal(t.grad, np.ones((2, 3)))
    joined = F.concat([t, Tensor([7.0])], axis=None)
    np.testing.assert_array_equal(joined.data, [0, 1, 2, 3, 4, 5, 7])


def test_primitive_ops_run_on_arrays_and_numbers():
    assert ops.maximum(np.array([1.0, 3.0]), 2.0).data.tolist() == [2.0, 3.0]
    assert F.where(np.array([True, False]), 1.0, np.array([5.0, 6.0])).data.tolist() == [1.0, 6.0]
