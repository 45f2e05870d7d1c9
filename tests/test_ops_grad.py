"""Every primitive, operator and composite against float64 central differences.

Each property test draws random shapes (broadcasting, ranks that differ), values in the op's smooth
range (`testing.strategies.safe_values`) and a random upstream gradient, then checks through
`check_grads`: the forward value against NumPy, every input's gradient against `numeric_grad`,
that no input (nor the upstream gradient) was changed, and that every `.grad` is a writable array
of its input's shape and dtype sharing no memory with the inputs or with other gradients.
"""
import math
import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, grad, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.ops import primitive
from tinygrad_rnn.testing import GradcheckError, gradcheck, numeric_grad
from tinygrad_rnn.testing import strategies as tst

ATOL, RTOL = 1e-6, 1e-5


def check_grads(data, fn, *arrays, requires_grad=None, expected=None, constants=(), atol=ATOL, rtol=RTOL):
    """Backpropagate a random upstream gradient through `fn(*tensors)` and compare each input's
    gradient with central differences. `constants` are arrays `fn` closes over: they must not change
    either. Returns the output tensor."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    requires_grad = [True] * len(arrays) if requires_grad is None else list(requires_grad)
    before = [a.copy() for a in arrays]
    constants_before = [np.array(c, copy=True) for c in constants]
    tensors = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]

    with np.errstate(over="raise", divide="raise", invalid="raise"):  # safe ranges: no warnings either
        out = fn(*tensors)
    assert isinstance(out, Tensor), f"expected a Tensor, got {type(out).__name__}"
    assert out.dtype == np.float64
    if expected is not None:
        assert out.shape == np.shape(expected), f"shape {out.shape}, NumPy gives {np.shape(expected)}"
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12, err_msg="forward value")

    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)), label="upstream")
    upstream_before = upstream.copy()
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out.backward(upstream)

    np.testing.assert_array_equal(upstream, upstream_before, err_msg="backward changed the upstream gradient")
    for k, (a, t, b) in enumerate(zip(arrays, tensors, before)):
        np.testing.assert_array_equal(a, b, err_msg=f"input {k} was changed")
        np.testing.assert_array_equal(t.data, b, err_msg=f"input {k}'s tensor data was changed")
    for c, b in zip(constants, constants_before):
        np.testing.assert_array_equal(c, b, err_msg="a constant operand was changed")

    grads = []
    for k, t in enumerate(tensors):
        if not t.requires_grad:
            assert t.grad is None, f"input {k} does not require grad but got one"
            continue
        assert isinstance(t.grad, np.ndarray), f"input {k} got no gradient"
        assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
        assert t.grad.flags.writeable, f"input {k}'s gradient is read-only"
        for other in arrays + [upstream, *constants] + grads:
            assert not np.shares_memory(t.grad, other), f"input {k}'s gradient shares memory"
        grads.append(t.grad)
        numeric = numeric_grad(fn, [Tensor(b.copy()) for b in before], k, upstream)
        np.testing.assert_allclose(t.grad, numeric, atol=atol, rtol=rtol, err_msg=f"gradient of input {k}")
    return out


def needs_grad(num):
    """Which of `num` inputs require grad: any combination with at least one."""
    return st.lists(st.booleans(), min_size=num, max_size=num).filter(any)


# ---------------------------------------------------------------------------------------------
# Binary arithmetic, broadcasting with ranks that differ
# ---------------------------------------------------------------------------------------------
BINARY = {  # name: (operator, primitive, NumPy reference, value ranges)
    "add": (operator.add, ops.add, np.add, None),
    "sub": (operator.sub, ops.sub, np.subtract, None),
    "mul": (operator.mul, ops.mul, np.multiply, None),
    "div": (operator.truediv, ops.div, np.divide, (None, "div")),
    "pow": (operator.pow, ops.pow_, np.power, ("pow", "exponent")),  # tensor exponent
}


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
def test_binary_ops_broadcast(name, data):
    operator_form, primitive_form, reference, values = BINARY[name]
    a, b = data.draw(tst.broadcastable_arrays(2, values=values), label="operands")
    fn = data.draw(st.sampled_from([operator_form, primitive_form]), label="form")
    check_grads(data, fn, a, b, requires_grad=data.draw(needs_grad(2)), expected=reference(a, b))


def test_pow_with_exponent_zero_has_zero_gradient_at_zero():
    t = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (t ** 0).backward(np.ones(2))
    np.testing.assert_array_equal(t.grad, [0.0, 0.0])
    a, b = Tensor(np.zeros(3), requires_grad=True), Tensor(np.array([0.0, 1.0, 2.0]), requires_grad=True)
    (a ** b).backward(np.ones(3))
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.0])   # b a^(b-1) at a = 0
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.0])   # a^b log a, taken as 0 at a = 0


WITH_NUMBERS = {  # name: (function of the tensor t, values of t)
    "2 + t": (lambda t: 2 + t, None),
    "2 - t": (lambda t: 2 - t, None),
    "2 * t": (lambda t: 2 * t, None),
    "2 / t": (lambda t: 2 / t, "div"),
    "2 ** t": (lambda t: 2 ** t, "exponent"),
    "t - 2": (lambda t: t - 2, None),
    "t / 2": (lambda t: t / 2, None),
    "t ** 2": (lambda t: t ** 2, None),
    "t ** 3": (lambda t: t ** 3, None),
    "t ** -1": (lambda t: t ** -1, "div"),
    "t ** 0.5": (lambda t: t ** 0.5, "sqrt"),
    "-t": (lambda t: -t, None),
    "neg(t)": (ops.neg, None),
}


@pytest.mark.parametrize("name", list(WITH_NUMBERS))
@given(data=st.data())
def test_operators_with_numbers(name, data):
    fn, values = WITH_NUMBERS[name]
    t = data.draw(tst.arrays(values=values), label="t")
    reference = np.negative if name == "neg(t)" else fn  # NumPy computes the same expression on the array
    check_grads(data, fn, t, expected=reference(t))


WITH_ARRAYS = {  # name: (function of the tensor t and the float64 array c, values of t, values of c)
    "c + t": (lambda t, c: c + t, None, None),
    "c - t": (lambda t, c: c - t, None, None),
    "t - c": (lambda t, c: t - c, None, None),
    "c * t": (lambda t, c: c * t, None, None),
    "c / t": (lambda t, c: c / t, "div", None),
    "t / c": (lambda t, c: t / c, None, "div"),
    "c ** t": (lambda t, c: c ** t, "exponent", "pow"),
    "t ** c": (lambda t, c: t ** c, "pow", "exponent"),
}


@pytest.mark.parametrize("name", list(WITH_ARRAYS))
@given(data=st.data())
def test_operators_with_arrays(name, data):
    fn, t_values, c_values = WITH_ARRAYS[name]
    t, c = data.draw(tst.broadcastable_arrays(2, values=(t_values, c_values)), label="t, c")
    check_grads(data, lambda x: fn(x, c), t, constants=(c,), expected=fn(t, c))


# ---------------------------------------------------------------------------------------------
# matmul: 1-D operands, matrices, broadcast batches
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_matmul(data):
    a, b = data.draw(tst.matmul_arrays(max_side=3), label="operands")
    fn = data.draw(st.sampled_from([operator.matmul, ops.matmul]), label="form")
    check_grads(data, fn, a, b, requires_grad=data.draw(needs_grad(2)), expected=np.matmul(a, b))


@given(data=st.data())
def test_matmul_with_array_operand(data):
    a, b = data.draw(tst.matmul_arrays(max_side=3), label="operands")
    if data.draw(st.booleans(), label="array on the left"):
        out = check_grads(data, lambda t: a @ t, b, constants=(a,), expected=np.matmul(a, b))
    else:
        out = check_grads(data, lambda t: t @ b, a, constants=(b,), expected=np.matmul(a, b))
    assert isinstance(out, Tensor)


# ---------------------------------------------------------------------------------------------
# Elementwise functions
# ---------------------------------------------------------------------------------------------
UNARY = {  # name: (method, primitive, NumPy reference)
    "exp": (Tensor.exp, ops.exp, np.exp),
    "log": (Tensor.log, ops.log, np.log),
    "tanh": (Tensor.tanh, ops.tanh, np.tanh),
    "sigmoid": (Tensor.sigmoid, ops.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "relu": (Tensor.relu, ops.relu, lambda a: np.maximum(a, 0)),
    "abs": (Tensor.abs, ops.abs_, np.abs),
    "sqrt": (Tensor.sqrt, ops.sqrt, np.sqrt),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(data=st.data())
def test_elementwise(name, data):
    method, primitive_form, reference = UNARY[name]
    a = data.draw(tst.arrays(values=name), label="a")
    fn = data.draw(st.sampled_from([method, primitive_form]), label="form")
    check_grads(data, fn, a, expected=reference(a))


@given(data=st.data())
def test_clip(data):
    low, high = sorted(data.draw(st.lists(st.floats(-2, 2), min_size=2, max_size=2, unique=True), label="bounds"))
    low, high = data.draw(st.sampled_from([(low, high), (low, None), (None, high)]), label="which bounds")
    bounds = tuple(v for v in (low, high) if v is not None)
    a = data.draw(tst.arrays(values=tst.ValueRange(avoid=bounds)), label="a")
    check_grads(data, lambda t: t.clip(low, high), a, expected=np.clip(a, low, high))


def test_clip_gradient_passes_at_the_bounds():
    t = Tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    t.clip(-1.0, 1.0).backward(np.ones(5))
    np.testing.assert_array_equal(t.grad, [0, 1, 1, 1, 0])


# ---------------------------------------------------------------------------------------------
# Reductions: axis None, int, tuple, negative; keepdims
# ---------------------------------------------------------------------------------------------
REDUCTIONS = {
    "sum": (Tensor.sum, ops.sum_, np.sum, None),
    "mean": (Tensor.mean, ops.mean, np.mean, None),
    "max": (Tensor.max, ops.max_, np.max, "max"),
    "min": (Tensor.min, ops.min_, np.min, "min"),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
def test_reductions(name, data):
    method, primitive_form, reference, values = REDUCTIONS[name]
    a = data.draw(tst.arrays(values=values), label="a")
    axis = data.draw(tst.axes(a.ndim), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    if data.draw(st.booleans(), label="method"):
        def fn(t):
            return method(t, axis=list(axis) if isinstance(axis, tuple) else axis, keepdims=keepdims)
    else:
        def fn(t):
            return primitive_form(t, axis=axis, keepdims=keepdims)
    check_grads(data, fn, a, expected=reference(a, axis=axis, keepdims=keepdims))


def test_max_splits_the_gradient_between_ties():
    t = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    t.max(axis=1).backward(np.array([1.0, 4.0], dtype=np.float32))
    np.testing.assert_array_equal(t.grad, [[0, 0.5, 0.5], [2, 0, 2]])


# ---------------------------------------------------------------------------------------------
# Shapes: reshape, transpose
# ---------------------------------------------------------------------------------------------
def shapes_of_size(n):
    """Every shape of rank 0 to 3 with n elements."""
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    found = [()] if n == 1 else []
    found += [(n,)] + [(d, n // d) for d in divisors]
    found += [(d, e, n // (d * e)) for d in divisors for e in divisors if (n // d) % e == 0]
    return found


@given(data=st.data())
def test_reshape(data):
    a = data.draw(tst.arrays(), label="a")
    shape = data.draw(st.sampled_from(shapes_of_size(a.size)), label="shape")
    expected = a.reshape(shape)
    if shape and data.draw(st.booleans(), label="use -1"):
        k = data.draw(st.integers(0, len(shape) - 1))
        shape = shape[:k] + (-1,) + shape[k + 1:]
    form = data.draw(st.sampled_from(["tuple", "args", "primitive"]), label="form")
    fn = {"tuple": lambda t: t.reshape(shape), "args": lambda t: t.reshape(*shape),
          "primitive": lambda t: ops.reshape(t, shape=shape)}[form]
    check_grads(data, fn, a, expected=expected)


@given(data=st.data())
def test_transpose(data):
    form = data.draw(st.sampled_from(["perm", "T", "reverse", "swap"]), label="form")
    a = data.draw(tst.arrays(min_dims=3 if form == "swap" else 0), label="a")
    if form == "perm":
        perm = tuple(data.draw(st.permutations(range(a.ndim)), label="perm"))
        if a.ndim and data.draw(st.booleans(), label="negative axes"):
            perm = tuple(p - a.ndim for p in perm)
        check_grads(data, lambda t: t.transpose(perm), a, expected=np.transpose(a, perm))
    elif form == "T":
        check_grads(data, lambda t: t.T, a, expected=a.T)
    elif form == "reverse":
        check_grads(data, lambda t: t.transpose(), a, expected=np.transpose(a))
    else:  # two axes of a tensor with more than two dimensions: swap them (as torch.transpose)
        i, j = data.draw(st.lists(st.integers(-a.ndim, a.ndim - 1), min_size=2, max_size=2), label="axes")
        check_grads(data, lambda t: t.transpose(i, j), a, expected=np.swapaxes(a, i, j))


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_getitem_basic(data):
    """Ints (negative too), slices (steps, reversed), None and Ellipsis."""
    a = data.draw(tst.arrays(), label="a")
    index = data.draw(hnp.basic_indices(a.shape, allow_newaxis=True, allow_ellipsis=True), label="index")
    check_grads(data, lambda t: t[index], a, expected=a[index])


@given(data=st.data())
def test_getitem_integer_arrays(data):
    """One integer array per axis; indices repeat and go negative."""
    a = data.draw(tst.arrays(min_dims=1), label="a")
    index = data.draw(hnp.integer_array_indices(a.shape, result_shape=tst.shapes(1, 2)), label="index")
    check_grads(data, lambda t: t[index], a, expected=a[index])


@given(data=st.data())
def test_getitem_repeated_indices_accumulate(data):
    a = data.draw(tst.arrays(min_dims=1), label="a")
    n = a.shape[0]
    rows = data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=8), label="rows")
    as_list = data.draw(st.booleans(), label="as a list")
    index = rows if as_list else np.array(rows)
    t = Tensor(a, requires_grad=True)
    out = t[index]
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)), label="upstream")
    out.backward(upstream)
    expected = np.zeros_like(a)
    for k, row in enumerate(rows):  # each time a row is picked, its upstream slice adds to it
        expected[row] += upstream[k]
    np.testing.assert_allclose(t.grad, expected, rtol=1e-12, atol=0)
    check_grads(data, lambda x: x[index], a, expected=a[index])


@given(data=st.data())
def test_getitem_boolean_mask(data):
    a = data.draw(tst.arrays(min_dims=1), label="a")
    k = data.draw(st.integers(1, a.ndim), label="mask rank")
    mask = data.draw(hnp.arrays(bool, a.shape[:k]), label="mask")
    check_grads(data, lambda t: t[mask], a, expected=a[mask])


@given(data=st.data())
def test_getitem_mixed_index(data):
    """An integer array (repeats allowed) next to a slice, an int or None."""
    a = data.draw(tst.arrays(min_dims=2), label="a")
    other = data.draw(st.sampled_from([slice(None, None, -1), slice(1, None), 0, -1]), label="basic part")
    layout = data.draw(st.sampled_from(["array, basic", "None, array, basic", "basic, array"]), label="layout")
    axis = 1 if layout == "basic, array" else 0
    picks = np.array(data.draw(st.lists(st.integers(-a.shape[axis], a.shape[axis] - 1), min_size=1, max_size=5)))
    index = {"array, basic": (picks, other), "None, array, basic": (None, picks, other),
             "basic, array": (other, picks)}[layout]
    check_grads(data, lambda t: t[index], a, expected=a[index])


def test_getitem_with_an_index_tensor():
    t = Tensor(np.arange(4.0), requires_grad=True)
    out = t[Tensor([3, 3, 0])]
    np.testing.assert_array_equal(out.data, [3.0, 3.0, 0.0])
    out.backward(np.ones(3))
    np.testing.assert_array_equal(t.grad, [1, 0, 0, 2])


# ---------------------------------------------------------------------------------------------
# Joining: concatenate / F.concat, F.stack
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_concatenate(data):
    base = data.draw(tst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(-len(base), len(base) - 1), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    pieces = []
    for size in sizes:
        shape = list(base)
        shape[axis] = size
        pieces.append(data.draw(tst.arrays(tuple(shape))))
    fn = data.draw(st.sampled_from([lambda *ts: F.concat(ts, axis=axis),
                                    lambda *ts: ops.concatenate(*ts, axis=axis)]), label="form")
    check_grads(data, fn, *pieces, requires_grad=data.draw(needs_grad(len(pieces))),
                expected=np.concatenate(pieces, axis=axis))


@given(data=st.data())
def test_stack(data):
    shape = data.draw(tst.shapes(), label="shape")
    count = data.draw(st.integers(1, 3), label="count")
    pieces = [data.draw(tst.arrays(shape)) for _ in range(count)]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    check_grads(data, lambda *ts: F.stack(ts, axis=axis), *pieces, requires_grad=data.draw(needs_grad(count)),
                expected=np.stack(pieces, axis=axis))


# ---------------------------------------------------------------------------------------------
# linear: x wᵀ + b
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_linear(data):
    batch = data.draw(tst.shapes(0, 2), label="batch dims")
    n_in, n_out = data.draw(st.integers(1, 4), label="in"), data.draw(st.integers(1, 4), label="out")
    x = data.draw(tst.arrays(batch + (n_in,)), label="x")
    w = data.draw(tst.arrays((n_out, n_in)), label="w")
    if data.draw(st.booleans(), label="bias"):
        b = data.draw(tst.arrays((n_out,)), label="b")
        check_grads(data, ops.linear, x, w, b, requires_grad=data.draw(needs_grad(3)), expected=x @ w.T + b)
    else:
        check_grads(data, ops.linear, x, w, requires_grad=data.draw(needs_grad(2)), expected=x @ w.T)


# ---------------------------------------------------------------------------------------------
# Composites in functional.py
# ---------------------------------------------------------------------------------------------
def reference_log_softmax(a, axis):
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


@given(data=st.data())
def test_softmax_and_log_softmax(data):
    a = data.draw(tst.arrays(min_dims=1), label="a")
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1), label="axis")
    form = data.draw(st.sampled_from(["F.softmax", "softmax", "F.log_softmax", "log_softmax"]), label="form")
    if "log" in form:
        expected = reference_log_softmax(a, axis)
        fn = (lambda t: F.log_softmax(t, axis)) if form.startswith("F.") else (lambda t: t.log_softmax(axis=axis))
    else:
        expected = np.exp(reference_log_softmax(a, axis))
        fn = (lambda t: F.softmax(t, axis)) if form.startswith("F.") else (lambda t: t.softmax(axis=axis))
    check_grads(data, fn, a, expected=expected)


@given(data=st.data())
def test_cross_entropy(data):
    n, classes = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 5), label="classes")
    logits = data.draw(tst.arrays((n, classes)), label="logits")
    targets = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), dtype=np.int64)
    expected = -reference_log_softmax(logits, 1)[np.arange(n), targets].mean()
    check_grads(data, lambda t: F.cross_entropy(t, targets), logits, constants=(targets,), expected=expected)


@given(data=st.data())
def test_mse_loss(data):
    shape = data.draw(tst.shapes(), label="shape")
    pred, target = data.draw(tst.arrays(shape), label="pred"), data.draw(tst.arrays(shape), label="target")
    check_grads(data, F.mse_loss, pred, target, requires_grad=data.draw(needs_grad(2)),
                expected=np.mean((pred - target) ** 2))


@given(data=st.data())
def test_unrolled_rnn_cell_through_primitives(data):
    """BPTT over a small unroll built from the primitives, on a configuration from rnn_configs()."""
    cfg = data.draw(tst.rnn_configs(), label="config")
    xs = data.draw(tst.rnn_inputs(cfg), label="xs")
    U = data.draw(tst.arrays((cfg.hidden_size, cfg.input_size)), label="U")
    W = data.draw(tst.arrays((cfg.hidden_size, cfg.hidden_size)), label="W")
    b = data.draw(tst.arrays((cfg.hidden_size,)), label="b")
    phi = Tensor.tanh if cfg.nonlinearity == "tanh" else Tensor.relu

    def unroll(xs, U, W, b):
        a = Tensor(np.zeros((cfg.batch, cfg.hidden_size)))
        states = []
        for t in range(cfg.T):
            a = phi(ops.linear(xs[t], U, b) + ops.linear(a, W))
            states.append(a)
        return F.stack(states)

    if cfg.nonlinearity == "relu":  # keep pre-activations off relu's kink
        with_np = np.zeros((cfg.batch, cfg.hidden_size))
        for t in range(cfg.T):
            pre = xs[t] @ U.T + b + with_np @ W.T
            assume(np.all(np.abs(pre) > 1e-3))
            with_np = np.maximum(pre, 0)
    check_grads(data, unroll, xs, U, W, b, atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# Activations, selection, expand, binary cross-entropy: 0-d and empty shapes included
# ---------------------------------------------------------------------------------------------
def _erf(a):
    return np.vectorize(math.erf, otypes=[np.float64])(a)


ACTIVATIONS = {  # name: (function of a tensor, NumPy reference, values)
    "leaky_relu": (lambda t: F.leaky_relu(t), lambda a: np.where(a > 0, a, 0.01 * a), "leaky_relu"),
    "leaky_relu 0.3": (lambda t: F.leaky_relu(t, 0.3), lambda a: np.where(a > 0, a, 0.3 * a), "leaky_relu"),
    "softplus": (F.softplus, lambda a: np.log1p(np.exp(a)), "softplus"),
    "softplus beta=2 threshold=3": (lambda t: F.softplus(t, beta=2.0, threshold=3.0),
                                    lambda a: np.where(2 * a > 3, a, np.log1p(np.exp(2 * a)) / 2),
                                    tst.ValueRange(-4, 4, avoid=(1.5,))),
    "elu": (F.elu, lambda a: np.where(a > 0, a, np.exp(a) - 1), "elu"),
    "elu alpha=0.5": (lambda t: F.elu(t, alpha=0.5), lambda a: np.where(a > 0, a, 0.5 * (np.exp(a) - 1)), "elu"),
    "gelu": (F.gelu, lambda a: a * 0.5 * (1 + _erf(a / math.sqrt(2))), "gelu"),   # PyTorch's exact form
    "gelu tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3))), "gelu"),
    "silu": (F.silu, lambda a: a / (1 + np.exp(-a)), "silu"),
    "primitive leaky_relu": (ops.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), "leaky_relu"),
    "primitive gelu": (ops.gelu, lambda a: a * 0.5 * (1 + _erf(a / math.sqrt(2))), "gelu"),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(data=st.data())
def test_activations(name, data):
    fn, reference, values = ACTIVATIONS[name]
    a = data.draw(tst.arrays(tst.edge_shapes(), values=values), label="a")
    check_grads(data, fn, a, expected=reference(a))


def untied_pair(data, min_side=0):
    """Two broadcastable arrays that never tie: one from the even tenths, the other from the odd."""
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_side=min_side, max_side=4), label="shapes")
    evens = st.sampled_from([k / 10 for k in range(-30, 31, 2)])
    odds = st.sampled_from([k / 10 for k in range(-29, 30, 2)])
    a = data.draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=evens), label="a")
    b = data.draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=odds), label="b")
    return (a, b) if data.draw(st.booleans(), label="order") else (b, a)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum(name, data):
    a, b = untied_pair(data)
    fn = data.draw(st.sampled_from([getattr(F, name), getattr(ops, name), getattr(np, name)]), label="form")
    check_grads(data, fn, a, b, requires_grad=data.draw(needs_grad(2)), expected=getattr(np, name)(a, b))


@given(data=st.data())
def test_where(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_side=0, max_side=4), label="shapes")
    condition = data.draw(hnp.arrays(bool, shapes.input_shapes[0]), label="condition")
    a, b = (data.draw(tst.arrays(s), label=label) for s, label in zip(shapes.input_shapes[1:], "ab"))
    form = data.draw(st.sampled_from(["array", "Tensor", "primitive", "np.where"]), label="form")
    fn = {"array": lambda x, y: F.where(condition, x, y), "Tensor": lambda x, y: F.where(Tensor(condition), x, y),
          "primitive": lambda x, y: ops.where(condition, x, y), "np.where": lambda x, y: np.where(condition, x, y)}
    check_grads(data, fn[form], a, b, requires_grad=data.draw(needs_grad(2)), constants=(condition,),
                expected=np.where(condition, a, b))


@given(data=st.data())
def test_where_with_a_comparison_of_the_input(data):
    a = data.draw(tst.arrays(tst.edge_shapes(), values=tst.ValueRange(avoid=(0.5,))), label="a")
    check_grads(data, lambda t: F.where(t > 0.5, t * t, -t), a, expected=np.where(a > 0.5, a * a, -a))


@given(data=st.data())
def test_expand(data):
    shape = data.draw(tst.edge_shapes(), label="shape")
    a = data.draw(tst.arrays(shape), label="a")
    lead = data.draw(st.lists(st.integers(0, 3), max_size=2), label="new axes")
    sizes = [data.draw(st.integers(0, 3)) if n == 1 else n for n in shape]
    target = tuple(lead) + tuple(sizes)
    # -1 keeps an axis's size (PyTorch); any kept size may be written so
    spelled = tuple(lead) + tuple(data.draw(st.sampled_from([n, -1])) if n == s else n for n, s in zip(sizes, shape))
    form = data.draw(st.sampled_from(["args", "tuple", "primitive", "np.broadcast_to"]), label="form")
    fn = {"args": lambda t: t.expand(*spelled), "tuple": lambda t: t.expand(spelled),
          "primitive": lambda t: ops.expand(t, shape=target), "np.broadcast_to": lambda t: np.broadcast_to(t, target)}
    check_grads(data, fn[form], a, expected=np.broadcast_to(a, target))


@given(data=st.data())
def test_binary_cross_entropy_primitive(data):
    """The elementwise loss with broadcasting; gradients for the probabilities and the targets."""
    p, y = data.draw(tst.broadcastable_arrays(2, values=("probability", tst.ValueRange(0.0, 1.0)), min_side=0),
                     label="p, y")
    check_grads(data, ops.binary_cross_entropy, p, y, requires_grad=data.draw(needs_grad(2)),
                expected=-(y * np.log(p) + (1 - y) * np.log(1 - p)))


# ---------------------------------------------------------------------------------------------
# Float32 data: gradients stay float32 and agree with the float64 ones
# ---------------------------------------------------------------------------------------------
FLOAT32_CASES = {
    "add": (operator.add, None), "mul": (operator.mul, None), "div": (operator.truediv, (None, "div")),
    "mul-sum": (lambda a, b: (a * b).sum(), None), "tanh": (lambda a, b: (a + b).tanh(), None),
    "pow": (operator.pow, ("pow", "exponent")),
}


@pytest.mark.parametrize("name", list(FLOAT32_CASES))
@given(data=st.data())
def test_float32_gradients_keep_dtype(name, data):
    fn, values = FLOAT32_CASES[name]
    a, b = data.draw(tst.broadcastable_arrays(2, values=values), label="operands")
    t32 = [Tensor(x.astype(np.float32), requires_grad=True) for x in (a, b)]
    t64 = [Tensor(x, requires_grad=True) for x in (a, b)]
    out32, out64 = fn(*t32), fn(*t64)
    assert out32.dtype == np.float32
    upstream = data.draw(hnp.arrays(np.float64, out64.shape, elements=st.floats(-2, 2)), label="upstream")
    out32.backward(upstream)
    out64.backward(upstream)
    for x32, x64 in zip(t32, t64):
        assert x32.grad.dtype == np.float32
        np.testing.assert_allclose(x32.grad, x64.grad, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# grad(): the same numbers as backward(), in arrays of their own
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_grad_returns_independent_arrays(data):
    a, b = data.draw(tst.broadcastable_arrays(2), label="operands")
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    mid = (ta + tb).reshape(-1)       # add passes the gradient on unchanged, reshape as a view
    out = mid * 1.0 + mid
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)), label="upstream")
    ga, gb, gmid = grad(out, [ta, tb, mid], grad_output=upstream, retain_graph=True)
    out.backward(upstream)
    np.testing.assert_allclose(ga, ta.grad)
    np.testing.assert_allclose(gb, tb.grad)
    np.testing.assert_allclose(gmid, 2 * upstream)
    arrays = [ga, gb, gmid]
    for i, g in enumerate(arrays):
        for other in arrays[i + 1:] + [a, b, upstream, ta.grad, tb.grad]:
            assert not np.shares_memory(g, other)


@given(data=st.data())
def test_retained_intermediate_grads_own_their_memory(data):
    """Leaves and intermediates kept with retain_grad() each get an array of their own, whatever
    path (identity vjp, view, summed fan-out) their gradient took."""
    a, b = data.draw(tst.broadcastable_arrays(2), label="operands")
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    h1 = (ta + tb).retain_grad()
    h2 = h1.reshape(-1).retain_grad()
    h3 = (h2 + 0.0).retain_grad()
    out = h3 + h3 * 2.0
    upstream = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)), label="upstream")
    out.backward(upstream)
    np.testing.assert_allclose(h3.grad, 3 * upstream)
    np.testing.assert_allclose(h2.grad, 3 * upstream)
    np.testing.assert_allclose(h1.grad, 3 * upstream.reshape(h1.shape))
    tensors = [ta, tb, h1, h2, h3]
    for i, t in enumerate(tensors):
        assert t.grad.shape == t.shape and t.grad.flags.writeable
        for other in [a, b, upstream] + [u.grad for u in tensors[i + 1:]]:
            assert not np.shares_memory(t.grad, other)


# ---------------------------------------------------------------------------------------------
# gradcheck itself: a positive and a negative control
# ---------------------------------------------------------------------------------------------
@primitive(lambda g, a: g * a)  # the true vjp is 2 a g
def wrong_square(a):
    return a * a, a


@primitive(lambda g, a: 2 * g * a)
def right_square(a):
    return a * a, a


@primitive(lambda g, _: g)
def flip_with_wrong_vjp(a):
    """Reverses a vector; the vjp forgets to reverse g back. Only a non-uniform upstream sees it."""
    return a[::-1].copy(), None


@given(tst.arrays(min_dims=1, values=tst.ValueRange(0.5, 2.0)))
def test_gradcheck_passes_a_correct_gradient(a):
    assert gradcheck(right_square, [a])
    assert gradcheck(lambda t: t * t, [a])


@given(tst.arrays(min_dims=1, values=tst.ValueRange(0.5, 2.0)))
def test_gradcheck_fails_on_a_wrong_gradient(a):
    with pytest.raises(GradcheckError, match=r"input 0 \(shape .*\) at index .*analytic .*numeric"):
        gradcheck(wrong_square, [a])
    assert gradcheck(wrong_square, [a], raise_exception=False) is False


def test_gradcheck_needs_a_random_upstream_to_catch_a_wrong_permutation():
    a = np.array([0.5, -1.0, 2.0, 3.0])
    assert gradcheck(flip_with_wrong_vjp, [a], grad_output=np.ones(4))  # the sum hides the bug
    assert gradcheck(flip_with_wrong_vjp, [a], raise_exception=False) is False
    with pytest.raises(GradcheckError):
        gradcheck(flip_with_wrong_vjp, [a])


def test_gradcheck_leaves_its_inputs_alone():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = Tensor(a.copy(), requires_grad=True)
    assert gradcheck(lambda x, y: x * y, [t, a])
    assert t.grad is None and t.dtype == np.float32
    np.testing.assert_array_equal(a, [1.0, 2.0])


# ---------------------------------------------------------------------------------------------
# The strategies keep their promises
# ---------------------------------------------------------------------------------------------
@given(data=st.data())
def test_strategies_respect_safe_values(data):
    op_name = data.draw(st.sampled_from(["log", "sqrt", "div", "relu", "abs", "clip", "max", "pow", "other"]))
    vr = tst.safe_values(op_name)
    a = data.draw(tst.arrays(values=op_name))
    assert a.dtype == np.float64
    assert np.all((a >= vr.low) & (a <= vr.high))
    for point in vr.avoid:
        assert np.all(np.abs(a - point) >= vr.margin - 1e-12)
    if vr.distinct and a.size > 1:
        gaps = np.diff(np.sort(a.ravel()))
        assert gaps.min() >= vr.margin - 1e-12


@given(data=st.data())
def test_strategies_avoid_any_set_of_points(data):
    points = tuple(data.draw(st.lists(st.floats(-2, 2), max_size=4), label="avoid"))
    margin = data.draw(st.floats(0.01, 0.3), label="margin")
    vr = tst.ValueRange(-3.0, 3.0, avoid=points, margin=margin)
    a = data.draw(tst.arrays(values=vr), label="a")
    assert np.all((a >= vr.low) & (a <= vr.high))
    for point in points:
        assert np.all(np.abs(a - point) >= margin * (1 - 1e-9))


@given(tst.broadcastable_tensors(3), tst.rnn_configs(max_steps=3))
def test_strategies_shapes(ts, cfg):
    assert len(ts) == 3 and all(isinstance(t, Tensor) and t.requires_grad for t in ts)
    np.broadcast_shapes(*(t.shape for t in ts))
    assert 1 <= cfg.batch <= 3 and 1 <= cfg.input_size <= 4 and 1 <= cfg.hidden_size <= 4
    assert 1 <= cfg.T <= 3 and cfg.nonlinearity in ("tanh", "relu")


def test_importing_the_package_does_not_import_hypothesis():
    import subprocess
    import sys
    code = "import sys, tinygrad_rnn, tinygrad_rnn.testing; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------
# Every primitive in ops.py has a property test above
# ---------------------------------------------------------------------------------------------
TESTED_PRIMITIVES = {
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt",
    "clip", "sum", "mean", "max", "reshape", "transpose", "getitem", "concatenate", "stack", "linear", "power",
    "min", "maximum", "minimum", "where", "expand", "leaky_relu", "softplus", "elu", "gelu", "silu",
    "binary_cross_entropy",
    "lstm_cell", "lstm_hidden", "gru_cell", "linear_tanh", "linear_relu",  # tests/test_recurrent_ops.py
    "rnn_sequence", "lstm_sequence", "gru_sequence", "step",  # tests/test_sequence_ops.py
}


def test_every_primitive_has_a_gradient_test():
    primitives = {op.name for op in ops.primitives()}
    assert primitives, "no primitives found in ops.py"
    untested = primitives - TESTED_PRIMITIVES
    assert not untested, f"primitives without a gradient property test here: {sorted(untested)}"
