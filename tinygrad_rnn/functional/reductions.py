"""Reductions built from primitives: logsumexp, var, std; and argmax/argmin, which are not in the
graph (positions have no gradient) and return integer arrays."""
from __future__ import annotations

import numpy as np

from ..ops.core import normalize_axes, normalize_axis
from ..tensor import Tensor, as_tensor
from ._args import attach_methods, axis_and_keepdims
from .activations import _shift


def logsumexp(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> Tensor:
    """log Σ exp(x) over `axis` (None: all), stable: the max is taken out first. Over an empty
    axis it is -inf (the log of an empty sum), as in PyTorch."""
    x = as_tensor(x)
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim, "logsumexp")
    axes = normalize_axes(axis, x.ndim, "logsumexp")
    if any(x.shape[i] == 0 for i in axes):  # 0 · x keeps the result in the graph (its gradient is empty)
        return x.sum(axis=axes, keepdims=keepdims) * 0.0 - np.inf
    m = _shift(x, axes)
    total = (x - m).exp().sum(axis=axes, keepdims=keepdims).log()
    return total + (m if keepdims else m.reshape(total.shape))


def _correction(correction, ddof, unbiased, op: str) -> float:
    given = [name for name, v in (("correction", correction), ("ddof", ddof), ("unbiased", unbiased)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: give one of correction= (PyTorch), ddof= (NumPy) or unbiased=, not {given}")
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    value = correction if correction is not None else ddof if ddof is not None else 1
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: the correction must be a number, got {value!r}")
    return float(value)


def var(x, axis=None, ddof=None, keepdims: bool = False, *, correction=None, unbiased=None, dim=None,
        keepdim=None) -> Tensor:
    """Σ (x − mean)² / (N − correction) over `axis` (None: all). The correction is 1 by default, as
    in PyTorch (the unbiased estimate); `ddof=0` or `correction=0` gives NumPy's default. With
    N − correction ≤ 0 the result is inf, or NaN where the sum is 0, as in PyTorch."""
    x = as_tensor(x)
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim, "var")
    c = _correction(correction, ddof, unbiased, "var")
    axes = normalize_axes(axis, x.ndim, "var")
    n = 1
    for i in axes:
        n *= x.shape[i]
    deviation = x - x.mean(axis=axes, keepdims=True)
    squares = (deviation * deviation).sum(axis=axes, keepdims=keepdims)
    if n - c > 0:
        return squares * (1.0 / (n - c))
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 · inf = NaN, as 0 / 0 in PyTorch
        return squares * np.inf


def std(x, axis=None, ddof=None, keepdims: bool = False, *, correction=None, unbiased=None, dim=None,
        keepdim=None) -> Tensor:
    """√var (same arguments; correction 1 by default, as in PyTorch)."""
    return var(x, axis, ddof, keepdims, correction=correction, unbiased=unbiased, dim=dim, keepdim=keepdim).sqrt()


def _arg(find, name: str, x, axis, keepdims, dim, keepdim) -> np.ndarray:
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    axis, keepdims = axis_and_keepdims(axis, keepdims, dim, keepdim, name)
    if axis is not None:
        axis = normalize_axis(axis, max(data.ndim, 1), name)  # a 0-d tensor takes axis 0 or -1
        if data.ndim == 0:
            axis = None
    if data.size == 0 and (axis is None or data.shape[axis] == 0):
        raise ValueError(f"{name}: no position of an extreme in an empty axis (tensor of shape {data.shape})")
    return np.asarray(find(data, axis=axis, keepdims=keepdims))


def argmax(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> np.ndarray:
    """Positions of the maxima along `axis` (None: in the flattened tensor), an integer array;
    the first one at a tie."""
    return _arg(np.argmax, "argmax", x, axis, keepdims, dim, keepdim)


def argmin(x, axis=None, keepdims: bool = False, *, dim=None, keepdim=None) -> np.ndarray:
    """Positions of the minima along `axis`, as argmax."""
    return _arg(np.argmin, "argmin", x, axis, keepdims, dim, keepdim)


attach_methods(logsumexp, var, std, argmax, argmin)
