"""The Tensor contract: dtype rules, array-like properties, operators and their reflected forms,
shape methods, detach and no_grad, numerically stable functions, and errors that name the op."""
import operator

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, enable_grad, get_default_dtype, no_grad, set_default_dtype
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import strategies as tst


@pytest.fixture
def float64_default():
    previous = get_default_dtype()
    set_default_dtype(np.float64)
    try:
        yield
    finally:
        set_default_dtype(previous)


# ---------------------------------------------------------------------------------------------
# dtype rules
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [1.5, 3, [1.0, 2.0], [[1, 2], [3, 4]], np.arange(3),
                                  np.arange(3, dtype=np.uint8), np.float16(2.0),
                                  np.int64(4), np.array([1.0], np.float16)],
                         ids=repr)
def test_numbers_lists_and_integer_arrays_take_the_default_dtype(data):
    assert get_default_dtype() == np.float32
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_arrays_keep_their_dtype(dtype):
    a = np.array([[1.0, 2.5]], dtype=dtype)
    assert Tensor(a).dtype == dtype
    assert Tensor(a, requires_grad=True).dtype == dtype
    assert Tensor(np.float64(2.0) if dtype == np.float64 else np.float32(2.0)).dtype == dtype


def test_explicit_dtype():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2, np.float64), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        Tensor([1, 2], dtype=np.int32)


def test_set_default_dtype_changes_the_default(float64_default):
    assert get_default_dtype() == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor(np.arange(2)).dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32   # float arrays still keep theirs


def test_default_dtype_is_restored_after_the_fixture():
    # runs after test_set_default_dtype_changes_the_default in file order
    assert get_default_dtype() == np.float32
    assert Tensor([1.0]).dtype == np.float32


def test_set_default_dtype_refuses_non_floats():
    with pytest.raises(TypeError):
        set_default_dtype(np.int32)
    assert get_default_dtype() == np.float32


@pytest.mark.parametrize("data", [np.arange(3), np.array([1, 2], dtype=np.uint8), np.int64(3), [1, 2]], ids=repr)
def test_integer_data_requiring_grad_takes_the_default_dtype(data):
    t = Tensor(data, requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, 2 * np.asarray(data, dtype=np.float32))


@pytest.mark.parametrize("data", [True, [True, False], np.array([True, False])], ids=repr)
def test_booleans_stay_boolean_masks_and_cannot_require_grad(data):
    assert Tensor(data).dtype == bool
    with pytest.raises(TypeError, match="bool"):
        Tensor(data, requires_grad=True)


@pytest.mark.parametrize("data", ["abc", np.array(["a", "b"]), np.array([object()], dtype=object), None,
                                  {"a": 1}, [[1.0], [1.0, 2.0]], np.array([1 + 2j]), [1.0, "x"]],
                         ids=["str", "str array", "object array", "None", "dict", "ragged", "complex", "mixed list"])
def test_non_numeric_data_is_refused(data):
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(data)


@pytest.mark.parametrize("make", [lambda x: x * 2.0, lambda x: 2.0 * x, lambda x: x + 1, lambda x: 1 - x,
                                  lambda x: x / 3, lambda x: 3 / x, lambda x: x ** 2, lambda x: 2 ** x,
                                  lambda x: x * np.float64(2.0), lambda x: np.float64(2.0) * x,
                                  lambda x: x + [1.0, 2.0], lambda x: x * np.array([1, 2]),
                                  lambda x: x @ [[1.0], [2.0]], lambda x: -x, lambda x: x.clip(0.5, 1.5)],
                         ids=["x*2.0", "2.0*x", "x+1", "1-x", "x/3", "3/x", "x**2", "2**x", "x*f64", "f64*x",
                              "x+list", "x*intarray", "x@list", "-x", "clip"])
def test_float32_stays_float32_with_python_numbers_lists_and_integer_arrays(make):
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = make(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_float64_array_operand_promotes_and_each_grad_keeps_its_dtype():
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    x64 = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64
    assert (x32 + np.array([1.0, 1.0])).dtype == np.float64   # NumPy promotion for float arrays
    y.backward(np.ones(2))
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x32.grad, [3.0, 4.0])
    np.testing.assert_array_equal(x64.grad, [1.0, 2.0])


def test_grad_has_the_data_dtype_even_with_a_float64_upstream():
    x = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    (x * 3).backward(np.full((2, 2), 0.5, dtype=np.float64))
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 2)
    np.testing.assert_array_equal(x.grad, np.full((2, 2), 1.5))


# ---------------------------------------------------------------------------------------------
# Array-like properties
# ---------------------------------------------------------------------------------------------
@given(tst.arrays(dtype=np.float32))
def test_array_properties(a):
    t = Tensor(a)
    assert t.shape == a.shape and t.ndim == a.ndim and t.dtype == a.dtype
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), a)
    as_array = np.asarray(t)
    assert isinstance(as_array, np.ndarray) and as_array.dtype == a.dtype
    np.testing.assert_array_equal(as_array, a)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert isinstance(t.data, np.ndarray)
    if a.size == 1:
        assert isinstance(t.item(), float) and t.item() == a.item()
    else:
        with pytest.raises(ValueError, match=r"item\(\)"):
            t.item()


def test_grad_starts_as_none_and_attributes_are_kept():
    t = Tensor([1.0], requires_grad=True, name="w")
    assert t.grad is None and t.requires_grad and t.name == "w"
    assert not Tensor([1.0]).requires_grad


# ---------------------------------------------------------------------------------------------
# Operators, reflected forms, values against NumPy
# ---------------------------------------------------------------------------------------------
OPERATORS = {
    "+": (operator.add, None), "-": (operator.sub, None), "*": (operator.mul, None),
    "/": (operator.truediv, (None, "div")), "**": (operator.pow, ("pow", "exponent")),
}


@pytest.mark.parametrize("symbol", list(OPERATORS))
@given(data=st.data())
def test_operator_values_in_every_form(symbol, data):
    op, values = OPERATORS[symbol]
    a, b = data.draw(tst.broadcastable_arrays(2, values=values), label="operands")
    expected = op(a, b)
    number = float(b.flat[0])
    forms = {
        "tensor op tensor": op(Tensor(a), Tensor(b)),
        "tensor op array": op(Tensor(a), b),
        "array op tensor": op(a, Tensor(b)),
        "tensor op number": op(Tensor(a), number),
        "number op tensor": op(float(a.flat[0]), Tensor(b)),
        "numpy scalar op tensor": op(np.float64(a.flat[0]), Tensor(b)),
    }
    reference = {"tensor op number": op(a, number), "number op tensor": op(float(a.flat[0]), b),
                 "numpy scalar op tensor": op(np.float64(a.flat[0]), b)}
    for form, result in forms.items():
        assert isinstance(result, Tensor), form
        np.testing.assert_allclose(result.data, reference.get(form, expected), rtol=1e-12, err_msg=form)
        assert result.shape == np.shape(reference.get(form, expected)), form


@given(tst.matmul_arrays())
def test_matmul_values_in_every_form(ab):
    a, b = ab
    expected = np.matmul(a, b)
    for form, result in {"t @ t": Tensor(a) @ Tensor(b), "array @ t": a @ Tensor(b),
                         "t @ array": Tensor(a) @ b}.items():
        assert isinstance(result, Tensor), form
        assert result.shape == expected.shape, form
        np.testing.assert_allclose(result.data, expected, rtol=1e-12, atol=1e-12, err_msg=form)


def test_unary_operators():
    t = Tensor([1.0, -2.0])
    np.testing.assert_array_equal((-t).data, [-1.0, 2.0])
    np.testing.assert_array_equal((+t).data, [1.0, -2.0])


def test_reflected_operators_give_the_right_gradients():
    t = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    checks = [
        (lambda: 2 - t, [-1.0, -1.0]),
        (lambda: 2 / t, -2 / t.data ** 2),
        (lambda: 2 ** t, np.log(2) * 2 ** t.data),
        (lambda: np.array([1.0, 3.0]) @ t, [1.0, 3.0]),
        (lambda: np.array([1.0, 3.0]) - t, [-1.0, -1.0]),
    ]
    for make, expected in checks:
        t.grad = None
        make().sum().backward()
        np.testing.assert_allclose(t.grad, expected, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Shape methods
# ---------------------------------------------------------------------------------------------
def test_transpose_forms():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(t.T.data, a.T)
    np.testing.assert_array_equal(t.transpose().data, np.transpose(a))
    np.testing.assert_array_equal(t.transpose(2, 0, 1).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(t.transpose((2, 0, 1)).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(t.transpose(0, 2).data, np.swapaxes(a, 0, 2))   # two axes: swap them
    np.testing.assert_array_equal(t.transpose(-1, -2).data, np.swapaxes(a, -1, -2))
    m = Tensor(a[0])
    np.testing.assert_array_equal(m.transpose(-1, -2).data, a[0].T)
    np.testing.assert_array_equal(m.transpose(1, 0).data, a[0].T)
    np.testing.assert_array_equal(m.transpose(0, 1).data, a[0].T)   # PyTorch's meaning: a swap
    np.testing.assert_array_equal(m.transpose((0, 1)).data, a[0])   # a permutation tuple: NumPy's
    assert Tensor(np.ones(3)).T.shape == (3,)
    with pytest.raises(ValueError, match="transpose"):
        t.transpose(0, 0, 1)


def test_reshape_forms():
    t = Tensor(np.arange(6.0))
    assert t.reshape(2, 3).shape == (2, 3)
    assert t.reshape((3, 2)).shape == (3, 2)
    assert t.reshape([1, -1]).shape == (1, 6)
    assert t.reshape(-1, 2).shape == (3, 2)
    np.testing.assert_array_equal(t.reshape(2, 3).data, np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"reshape.*\(6,\).*\(4, 2\)"):
        t.reshape(4, 2)


# ---------------------------------------------------------------------------------------------
# detach and no_grad
# ---------------------------------------------------------------------------------------------
def test_detach_cuts_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    d = h.detach()
    assert not d.requires_grad and d.parents == () and d.op is None
    np.testing.assert_array_equal(d.data, h.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, h.data)   # only the direct path: d counts as a constant


def test_no_grad_records_nothing_and_restores():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp().sum()
        assert not y.requires_grad and y.parents == ()
        with enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with pytest.raises(KeyError), no_grad():
        raise KeyError("inside")
    assert (x * 2).requires_grad


# ---------------------------------------------------------------------------------------------
# Numerical stability at ±1000 (finite AND correct), in float32 and float64
# ---------------------------------------------------------------------------------------------
def reference_log_softmax(a, axis=-1):
    a = np.asarray(a, dtype=np.float64)
    return a - np.logaddexp.reduce(a, axis=axis, keepdims=True)


EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable(dtype):
    x = Tensor(np.array([1000.0, -1000.0, 0.0, 30.0, -30.0], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = x.sigmoid()
        y.backward(np.ones(5))
    expected = np.array([1.0, 0.0, 0.5, 1 / (1 + np.exp(-30.0)), np.exp(-30.0) / (1 + np.exp(-30.0))])
    np.testing.assert_allclose(y.data, expected, rtol=1e-6, atol=0)
    # out * (1 - out) cancels near saturation: allow an absolute error of one ulp of 1
    np.testing.assert_allclose(x.grad, expected * (1 - expected), rtol=1e-5, atol=np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable(dtype):
    x = Tensor(EXTREME.astype(dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = x.softmax(axis=-1)
        ls = F.log_softmax(x, axis=-1)
        (s.sum() + ls.sum()).backward()
    expected_ls = reference_log_softmax(EXTREME)
    np.testing.assert_allclose(ls.data, expected_ls, rtol=1e-6)
    np.testing.assert_allclose(s.data, np.exp(expected_ls), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(s.data.sum(axis=-1), 1.0, rtol=1e-6)
    # d(sum softmax)/dx = 0; d(sum log_softmax)/dx = 1 - C * softmax
    np.testing.assert_allclose(x.grad, 1 - 3 * np.exp(expected_ls), rtol=1e-5, atol=1e-5)
    assert np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable(dtype):
    logits = Tensor(EXTREME.astype(dtype), requires_grad=True)
    targets = np.array([1, 0, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = F.cross_entropy(logits, targets)
        loss.backward()
    ls = reference_log_softmax(EXTREME)
    expected = -ls[np.arange(3), targets].mean()     # 2000 + log 3 + (1 + log(1 + 2/e)) over 3
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    onehot = np.eye(3)[targets]
    np.testing.assert_allclose(logits.grad, (np.exp(ls) - onehot) / 3, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Errors name the op and the shapes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op, name", [(operator.add, "add"), (operator.sub, "sub"), (operator.mul, "mul"),
                                      (operator.truediv, "div"), (operator.pow, "pow")])
def test_mismatched_binary_op_names_op_and_shapes(op, name):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    pattern = rf"{name}.*\(2, 3\).*\(4,\)"
    with pytest.raises(ValueError, match=pattern):
        op(a, b)
    with pytest.raises(ValueError, match=pattern):
        op(a, np.ones(4))
    with pytest.raises(ValueError, match=rf"{name}.*\(4,\).*\(2, 3\)"):
        op(np.ones(4), a)


def test_mismatched_matmul_names_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"matmul.*\(3,\).*\(4,\)"):
        Tensor(np.ones(3)) @ np.ones(4)
    with pytest.raises(ValueError, match="matmul"):
        Tensor(np.ones(3)) @ Tensor(2.0)


@pytest.mark.parametrize("targets, bad", [([0, 3], "3"), ([-1, 0], "-1")])
def test_cross_entropy_names_the_out_of_range_target(targets, bad):
    with pytest.raises(ValueError, match=rf"target {bad} at row {targets.index(int(bad))}.*3 classes"):
        F.cross_entropy(Tensor(np.zeros((2, 3))), np.array(targets))


def test_backward_grad_of_wrong_shape_names_both_shapes():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))


@given(hnp.arrays(np.float64, tst.shapes(min_dims=1), elements=st.floats(-5, 5)))
def test_getitem_values_match_numpy(a):
    t = Tensor(a)
    np.testing.assert_array_equal(t[0].data, a[0])
    np.testing.assert_array_equal(t[..., ::-1].data, a[..., ::-1])
    np.testing.assert_array_equal(t[None].data, a[None])
    np.testing.assert_array_equal(t[a > 0].data, a[a > 0])
    np.testing.assert_array_equal(t[[0, 0, -1]].data, a[[0, 0, -1]])


@pytest.mark.parametrize("other", ["a", None, object(), {"k": 1}], ids=["str", "None", "object", "dict"])
def test_operands_that_are_not_numbers_raise_type_error(other):
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        t + other
    with pytest.raises(TypeError):
        other * t
