"""Activations and the (log-)softmax. The elementwise ones are primitives (ops/activations.py)
called on a tensor, an array or a number; softmax and log_softmax are built from primitives."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..ops.core import normalize_axes
from ..tensor import Tensor, as_tensor
from ._args import one_axis


def tanh(x) -> Tensor:
    return as_tensor(x).tanh()


def sigmoid(x) -> Tensor:
    return as_tensor(x).sigmoid()


def relu(x) -> Tensor:
    return as_tensor(x).relu()


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, negative_slope · x elsewhere."""
    return ops.leaky_relu(as_tensor(x), negative_slope=float(negative_slope))


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx)) / β, stable for any x; x itself where βx > threshold (as PyTorch)."""
    if beta == 0:
        raise ValueError("softplus: beta must not be 0")
    return ops.softplus(as_tensor(x), beta=float(beta), threshold=float(threshold))


def elu(x, alpha: float = 1.0) -> Tensor:
    """x where x > 0, α (eˣ − 1) elsewhere."""
    return ops.elu(as_tensor(x), alpha=float(alpha))


def gelu(x, approximate: str = "none") -> Tensor:
    """x Φ(x), Φ the normal distribution function (PyTorch's exact form, through erf); with
    approximate="tanh", PyTorch's approximation ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))."""
    x = as_tensor(x)
    if approximate == "none":
        return ops.gelu(x)
    if approximate == "tanh":
        inner = (x + 0.044715 * (x * x * x)) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x) -> Tensor:
    """x σ(x) (swish)."""
    return ops.silu(as_tensor(x))


def _shift(x: Tensor, axis) -> np.ndarray:
    """The max along `axis` (kept), as a constant: subtracting it keeps exp() at most 1, so the
    softmaxes are finite at ±1000, and it cancels in the result, so no gradient flows through it.
    An empty axis or a row of -inf shifts by 0."""
    axes = normalize_axes(axis, x.ndim, "softmax")  # a clear error for an axis out of range
    m = np.max(x.data, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


def log_softmax(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x − logsumexp(x) along `axis` (or `dim`), shifted by the max first (see `_shift`)."""
    x = as_tensor(x)
    axis = one_axis(axis, dim)
    shifted = x - _shift(x, axis)
    if x.size == 0:  # nothing to normalise (and no log of an empty sum, which would warn)
        return shifted
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def softmax(x, axis: int = -1, *, dim: int | None = None) -> Tensor:
    x = as_tensor(x)
    axis = one_axis(axis, dim)
    e = (x - _shift(x, axis)).exp()
    return e / e.sum(axis=axis, keepdims=True)


# Methods of Tensor that are composites: attached here, where they are defined, so that tensor.py
# never imports functional (the imports of the core point one way).
def _softmax_method(self: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return softmax(self, axis, dim=dim)


def _log_softmax_method(self: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    return log_softmax(self, axis, dim=dim)


Tensor.softmax = _softmax_method
Tensor.log_softmax = _log_softmax_method
