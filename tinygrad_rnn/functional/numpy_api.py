"""NumPy's functions on a Tensor: they act as the library's op, gradient included, or raise a
TypeError that says what to use instead.

NumPy hands a call with a Tensor among its arguments to the Tensor (NEP 13 and NEP 18):

- ufuncs (`np.exp(t)`, and `ndarray + t`, which NumPy turns into `np.add(ndarray, t)`) reach
  `Tensor.__array_ufunc__`, which runs the matching primitive (the table `UFUNCS`);
- other functions (`np.sum(t)`, `np.concatenate([t, u])`) reach `Tensor.__array_function__`,
  which runs the matching method or composite with NumPy's own meaning of the arguments
  (`np.var` keeps ddof=0, `np.split` takes sections or cut points, `np.squeeze` refuses an axis
  whose size is not 1).

Functions whose result has no gradient anyway (shapes, booleans, positions: `np.shape`,
`np.allclose`, `np.isnan`, `np.argmax`, `np.zeros_like`) work on the data. Anything else raises a
TypeError: it would silently drop the gradient. `np.asarray(t)` still gives the data.
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import ops
from ..tensor import Tensor, apply, as_tensor, compare
from .reductions import argmax, argmin, std, var
from .selection import gather, where
from .shape import _squeeze, concat, stack, unsqueeze


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _on_data(function):
    """A function whose result has no gradient (booleans, shapes): applied to the arrays."""
    def run(*args, **kwargs):
        args = [[_data(a) for a in x] if isinstance(x, (list, tuple)) else _data(x) for x in args]
        return function(*args, **{k: _data(v) for k, v in kwargs.items()})
    return run


def _mask(ufunc):
    """A ufunc with boolean results (isnan, logical_and, ...): a boolean Tensor, as comparisons give."""
    return lambda *inputs: Tensor(np.asarray(ufunc(*[_data(x) for x in inputs])))


def _power(a, b):
    return a ** b if isinstance(a, Tensor) else ops.pow_(a, b)


# ufunc: (what runs it, the Tensor spelling named in errors)
UFUNCS = {
    np.add: (ops.add, "a + b"), np.subtract: (ops.sub, "a - b"), np.multiply: (ops.mul, "a * b"),
    np.true_divide: (ops.div, "a / b"), np.negative: (ops.neg, "-t"), np.positive: (lambda a: a, "+t"),
    np.power: (_power, "t ** p"), np.square: (lambda a: as_tensor(a) ** 2, "t ** 2"),
    np.reciprocal: (lambda a: 1.0 / as_tensor(a), "1 / t"), np.matmul: (ops.matmul, "a @ b"),
    np.exp: (ops.exp, "t.exp()"), np.log: (ops.log, "t.log()"), np.tanh: (ops.tanh, "t.tanh()"),
    np.sqrt: (ops.sqrt, "t.sqrt()"), np.absolute: (ops.abs_, "t.abs()"),
    np.maximum: (ops.maximum, "F.maximum(a, b)"), np.minimum: (ops.minimum, "F.minimum(a, b)"),
    np.less: (lambda a, b: compare(np.less, a, b), "a < b"),
    np.less_equal: (lambda a, b: compare(np.less_equal, a, b), "a <= b"),
    np.greater: (lambda a, b: compare(np.greater, a, b), "a > b"),
    np.greater_equal: (lambda a, b: compare(np.greater_equal, a, b), "a >= b"),
    np.equal: (lambda a, b: compare(np.equal, a, b), "a == b"),
    np.not_equal: (lambda a, b: compare(np.not_equal, a, b), "a != b"),
    **{u: (_mask(u), f"np.{u.__name__}(t.data)") for u in (np.isnan, np.isinf, np.isfinite, np.signbit,
                                                            np.logical_not, np.logical_and, np.logical_or,
                                                            np.logical_xor)},
}
# reductions written as ufunc methods, and the method to use instead
_UFUNC_METHODS = {(np.add, "reduce"): "t.sum(axis)", (np.maximum, "reduce"): "t.max(axis)",
                  (np.minimum, "reduce"): "t.min(axis)", (np.logaddexp, "reduce"): "t.logsumexp(axis)"}


# the ufuncs that are one primitive on the operands as given: `ndarray + t` runs apply directly
_PRIMITIVES = {u: op for u, (op, _) in UFUNCS.items() if isinstance(op, ops.Op)}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    if not kwargs and method == "__call__":
        op = _PRIMITIVES.get(ufunc)
        if op is not None:
            return apply(op, inputs)
        entry = UFUNCS.get(ufunc)
        if entry is not None:
            return entry[0](*inputs)
    name = f"numpy.{ufunc.__name__}"
    if "out" in kwargs:
        raise TypeError(f"{name}(..., out=...) with a Tensor: a Tensor's result cannot be written into an "
                        "array in place (`a += t` included); write `a = a + t` (a Tensor), or use t.data")
    if method != "__call__":
        hint = _UFUNC_METHODS.get((ufunc, method))
        raise TypeError(f"{name}.{method} on a Tensor is not supported" + (f": use {hint}" if hint else
                        "; apply it to t.data for the values (no gradient)"))
    if ufunc in UFUNCS:
        raise TypeError(f"{name} on a Tensor takes no options ({', '.join(kwargs)}): use {UFUNCS[ufunc][1]}")
    raise TypeError(f"{name} is not an op of tinygrad_rnn Tensors (its gradient would be lost): build it from "
                    "Tensor ops (t.exp(), t.tanh(), F.softplus(t), ...) or apply it to t.data for the values alone")


# -- functions (NEP 18), with NumPy's parameters ---------------------------------------------------
def _sum(a, axis=None, keepdims=False): return as_tensor(a).sum(axis=axis, keepdims=keepdims)
def _mean(a, axis=None, keepdims=False): return as_tensor(a).mean(axis=axis, keepdims=keepdims)
def _max(a, axis=None, keepdims=False): return as_tensor(a).max(axis=axis, keepdims=keepdims)
def _min(a, axis=None, keepdims=False): return as_tensor(a).min(axis=axis, keepdims=keepdims)
def _var(a, axis=None, ddof=0, keepdims=False): return var(a, axis, ddof=ddof, keepdims=keepdims)
def _std(a, axis=None, ddof=0, keepdims=False): return std(a, axis, ddof=ddof, keepdims=keepdims)
def _argmax(a, axis=None, keepdims=False): return argmax(a, axis, keepdims)
def _argmin(a, axis=None, keepdims=False): return argmin(a, axis, keepdims)
def _reshape(a, shape): return as_tensor(a).reshape(shape)
def _ravel(a): return as_tensor(a).reshape(-1)
def _squeeze_np(a, axis=None): return _squeeze(a, axis, strict=True)
def _expand_dims(a, axis): return unsqueeze(a, axis)
def _broadcast_to(array, shape): return ops.expand(as_tensor(array), shape=tuple(np.broadcast_shapes(shape)))
def _concatenate(arrays, axis=0): return concat(arrays, axis)
def _stack(arrays, axis=0): return stack(arrays, axis)
def _clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 - NumPy's names
    return as_tensor(a).clip(a_min if min is None else min, a_max if max is None else max)


def _transpose(a, axes=None):
    a = as_tensor(a)
    return a.transpose() if axes is None else a.transpose(tuple(axes))


def _swapaxes(a, axis1, axis2):
    a = as_tensor(a)
    perm = list(range(a.ndim))
    i, j = (ops.core.normalize_axis(x, a.ndim, "swapaxes") for x in (axis1, axis2))
    perm[i], perm[j] = perm[j], perm[i]
    return a.transpose(tuple(perm))


def _where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("numpy.where(condition) with one argument gives positions: use np.nonzero(t.data)")
    return where(condition, x, y)


def _split(ary, indices_or_sections, axis=0):
    """np.split: a number of equal sections, or the positions to cut at."""
    x = as_tensor(ary)
    ax = ops.core.normalize_axis(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ValueError(f"split: a size of {n} does not divide into {sections} equal sections")
        cuts = [n // sections * k for k in range(1, sections)]
    else:
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0, *cuts, n]
    before = (slice(None),) * ax
    return [x[before + (slice(start, end),)] for start, end in zip(bounds[:-1], bounds[1:])]


def _take_along_axis(arr, indices, axis):
    """np.take_along_axis: torch.gather with the indices broadcast to the other axes first."""
    x = as_tensor(arr)
    if axis is None:
        return _take_along_axis(x.reshape(-1), indices, 0)
    ax = ops.core.normalize_axis(axis, x.ndim, "take_along_axis")
    idx = np.asarray(_data(indices))
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {idx.shape} need {x.ndim} dimensions like the tensor")
    shape = tuple(idx.shape[d] if d == ax else np.broadcast_shapes((x.shape[d],), (idx.shape[d],))[0]
                  for d in range(x.ndim))
    if any(shape[d] != x.shape[d] for d in range(x.ndim) if d != ax):
        raise ValueError(f"take_along_axis: indices of shape {idx.shape} would broadcast the tensor of "
                         f"shape {x.shape}; expand it first")
    return gather(x, ax, np.broadcast_to(idx, shape))


def _dot(a, b):
    a, b = as_tensor(a), as_tensor(b)
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        raise TypeError(f"numpy.dot of shapes {a.shape} and {b.shape} on Tensors: use a @ b (np.matmul's "
                        "rules) or a * b for a number")
    return ops.matmul(a, b)


def _size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


# function: (implementation, the Tensor spelling named when the arguments do not fit)
FUNCTIONS = {
    np.sum: (_sum, "t.sum(axis, keepdims)"), np.mean: (_mean, "t.mean(axis, keepdims)"),
    np.max: (_max, "t.max(axis, keepdims)"), np.amax: (_max, "t.max(axis, keepdims)"),
    np.min: (_min, "t.min(axis, keepdims)"), np.amin: (_min, "t.min(axis, keepdims)"),
    np.var: (_var, "t.var(axis, ddof=0)"), np.std: (_std, "t.std(axis, ddof=0)"),
    np.argmax: (_argmax, "t.argmax(axis)"), np.argmin: (_argmin, "t.argmin(axis)"),
    np.reshape: (_reshape, "t.reshape(shape)"), np.ravel: (_ravel, "t.flatten()"),
    np.transpose: (_transpose, "t.transpose(axes)"), np.swapaxes: (_swapaxes, "t.transpose(i, j)"),
    np.squeeze: (_squeeze_np, "t.squeeze(axis)"), np.expand_dims: (_expand_dims, "t.unsqueeze(axis)"),
    np.broadcast_to: (_broadcast_to, "t.expand(shape)"), np.concatenate: (_concatenate, "F.concat(ts, axis)"),
    np.stack: (_stack, "F.stack(ts, axis)"), np.split: (_split, "t.split(sizes, axis)"),
    np.clip: (_clip, "t.clip(min, max)"), np.where: (_where, "F.where(condition, x, y)"),
    np.take_along_axis: (_take_along_axis, "F.gather(t, axis, index)"), np.dot: (_dot, "a @ b"),
    # no gradient in the result: on the data
    np.shape: (lambda a: a.shape, "t.shape"), np.ndim: (lambda a: a.ndim, "t.ndim"), np.size: (_size, "t.size"),
    np.isclose: (lambda *a, **k: Tensor(np.asarray(_on_data(np.isclose)(*a, **k))), "np.isclose(t.data, ...)"),
    **{f: (_on_data(f), f"np.{f.__name__}(t.data, ...)") for f in (
        np.allclose, np.array_equal, np.array_equiv, np.count_nonzero, np.nonzero, np.flatnonzero, np.argwhere,
        np.any, np.all, np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.result_type,
        np.array2string, np.array_repr, np.array_str)},
}
_SIGNATURES = {f: inspect.signature(impl) for f, (impl, _) in FUNCTIONS.items()}
_HINTS = {np.copy: "t.detach() (no history) or t.data.copy()", np.prod: "a product of Tensor ops",
          np.cumsum: "F.stack of running sums", np.einsum: "@ and transpose", np.linalg.norm: "(t * t).sum().sqrt()"}


def _array_function(self, func, types, args, kwargs):
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    name = f"{func.__module__}.{func.__name__}".replace("numpy._core.", "numpy.")
    entry = FUNCTIONS.get(func)
    if entry is None:
        hint = _HINTS.get(func)
        raise TypeError(f"{name} is not an op of tinygrad_rnn Tensors (its gradient would be lost): "
                        + (f"use {hint}, " if hint else "build it from Tensor ops, ")
                        + "or apply it to t.data for the values alone")
    impl, spelling = entry
    signature = _SIGNATURES[func]
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        given = ", ".join([*(["..."] * len(args)), *(f"{k}=" for k in kwargs)])
        raise TypeError(f"{name}({given}) with a Tensor takes only {signature}: use {spelling}") from None
    return impl(*args, **kwargs)


Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
