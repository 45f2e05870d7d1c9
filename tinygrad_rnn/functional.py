"""Composite functions built from the primitives in ops.py. None of them has backward code: their
gradients come from the primitives they are made of."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import ops
from .tensor import Tensor, as_tensor


def _shift(x: Tensor, axis: int) -> np.ndarray:
    """The max along `axis` (kept), as a constant: subtracting it keeps exp() at most 1, so the
    softmaxes are finite at ±1000, and it cancels in the result, so no gradient flows through it.
    An empty axis or a row of -inf shifts by 0."""
    ops.core.normalize_axes(axis, x.ndim, "softmax")  # a clear error for an axis out of range
    m = np.max(x.data, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x), shifted by the max first (see `_shift`)."""
    x = as_tensor(x)
    shifted = x - _shift(x, axis)
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    x = as_tensor(x)
    e = (x - _shift(x, axis)).exp()
    return e / e.sum(axis=axis, keepdims=True)


def cross_entropy(logits: Tensor, targets) -> Tensor:
    """Mean over rows of -log softmax(logits)[row, target]. logits (N, C), integer targets (N,)."""
    logits = as_tensor(logits)
    targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}")
    n, classes = logits.shape
    if targets.shape != (n,):
        raise ValueError(f"cross_entropy: targets must have shape ({n},) to match logits {logits.shape}, "
                         f"got {targets.shape}")
    if targets.dtype.kind not in "iu":
        if targets.dtype.kind == "f" and np.all(targets == np.round(targets)):
            targets = targets.astype(np.int64)
        else:
            raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {targets.dtype}")
    bad = np.flatnonzero((targets < 0) | (targets >= classes))
    if bad.size:
        raise ValueError(f"cross_entropy: target {targets[bad[0]]} at row {bad[0]} is out of range "
                         f"for {classes} classes")
    picked = log_softmax(logits, axis=1)[np.arange(n), targets]
    return -picked.mean()


def mse_loss(pred: Tensor, target) -> Tensor:
    """Mean of squared differences; pred and target must have the same shape."""
    pred = as_tensor(pred)
    target = as_tensor(target, pred)
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}")
    diff = pred - target
    return (diff * diff).mean()


def concat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (np.concatenate)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    return ops.concatenate(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis (np.stack)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    shape = tensors[0].shape
    for t in tensors[1:]:
        if t.shape != shape:
            raise ValueError(f"stack: all tensors need one shape, got {shape} and {t.shape}")
    return ops.stack(*tensors, axis=axis % (len(shape) + 1))


def tanh(x: Tensor) -> Tensor:
    return as_tensor(x).tanh()


def sigmoid(x: Tensor) -> Tensor:
    return as_tensor(x).sigmoid()


def relu(x: Tensor) -> Tensor:
    return as_tensor(x).relu()


# Methods of Tensor that are composites: attached here, where they are defined, so that tensor.py
# never imports this module (the imports of the core point one way).
def _softmax_method(self: Tensor, axis: int = -1) -> Tensor:
    return softmax(self, axis)


def _log_softmax_method(self: Tensor, axis: int = -1) -> Tensor:
    return log_softmax(self, axis)


Tensor.softmax = _softmax_method
Tensor.log_softmax = _log_softmax_method
