"""Losses, with PyTorch's definitions and `reduction="mean"|"sum"|"none"`.

`cross_entropy` and `nll_loss` take class scores with the classes LAST, (..., C): rows (N, C), a
sequence model's (T, B, C), or one example (C,); integer targets have the leading shape (...).
(PyTorch puts classes second, (N, C, d1, ...); for (N, C) the two agree.)
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..tensor import Tensor, as_tensor
from .activations import log_softmax, softplus
from .selection import integer_indices

_REDUCTIONS = ("mean", "sum", "none")


def _own(value, like: Tensor) -> Tensor:
    """A target or weight as a constant of the loss's own: a caller's array is copied, so that
    reusing it after the forward (the next batch's targets) changes no gradient."""
    return as_tensor(value.copy() if isinstance(value, np.ndarray) else value, like)


def _check_reduction(reduction, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _position(flat: int, lead: tuple):
    """The row a flat position is, as written for a message: an int for rows (N,), else a tuple."""
    return flat if len(lead) <= 1 else tuple(int(i) for i in np.unravel_index(flat, lead))


def _class_index_loss(log_probs: Tensor, targets, reduction: str, ignore_index, label_smoothing: float,
                      op: str) -> Tensor:
    """−log p[target] per row (with label smoothing: (1 − ε)·that + ε/C·Σ_c −log p[c]); rows whose
    target is ignore_index count 0 and are left out of the mean, as PyTorch."""
    lead, classes = log_probs.shape[:-1], log_probs.shape[-1]
    t = integer_indices(targets, op)  # a copy: the caller may reuse their array
    kept = None
    if ignore_index is not None:
        ignored = t == ignore_index
        if ignored.any():
            kept = ~ignored
            t[ignored] = 0  # any class: the row's loss is multiplied by 0
    bad = np.flatnonzero(((t < 0) | (t >= classes)) if kept is None else kept & ((t < 0) | (t >= classes)))
    if bad.size:
        value = t.flat[bad[0]]
        hint = " (pass ignore_index to skip padding)" if ignore_index is None and value < 0 else ""
        raise ValueError(f"{op}: target {value} at row {_position(bad[0], lead)} is out of range "
                         f"for {classes} classes{hint}")
    n = t.size
    rows = log_probs.reshape(n, classes)
    loss = -rows[np.arange(n), t.reshape(n)]
    if label_smoothing:
        loss = loss * (1 - label_smoothing) + rows.sum(axis=-1) * (-label_smoothing / classes)
    if kept is not None:
        loss = loss * kept.reshape(n).astype(loss.dtype)
    if reduction == "none":
        return loss.reshape(lead)
    if reduction == "sum" or kept is None:
        return _reduce(loss, reduction)
    count = int(kept.sum())
    return loss.sum() * (1.0 / count if count else np.nan)  # every row ignored: NaN, as PyTorch


def _check_scores(scores: Tensor, op: str) -> None:
    if scores.ndim == 0:
        raise ValueError(f"{op}: expected scores of shape (..., C) with the classes last, got a 0-d tensor")


def cross_entropy(logits, targets, reduction: str = "mean", ignore_index: int | None = None,
                  label_smoothing: float = 0.0) -> Tensor:
    """−log softmax(logits)[target], averaged over rows (PyTorch's cross_entropy, classes last).

    - logits (..., C); targets either integer class indices of shape (...) (a Tensor of whole
      numbers works too) or probabilities of logits' shape (soft labels; they may require grad).
    - ignore_index: rows with this target add 0 and are left out of the mean (padding).
    - label_smoothing ε: the target becomes (1 − ε)·one-hot + ε/C.
    - reduction: "mean" (over rows, or kept rows), "sum", or "none" (one loss per row, shape (...)).
    """
    _check_reduction(reduction, "cross_entropy")
    logits = as_tensor(logits)
    _check_scores(logits, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target_shape = targets.shape if isinstance(targets, Tensor) else np.shape(targets)
    lead, classes = logits.shape[:-1], logits.shape[-1]
    log_probs = log_softmax(logits, axis=-1)
    if tuple(target_shape) == logits.shape:  # probabilities
        if ignore_index is not None:
            raise ValueError("cross_entropy: ignore_index needs class-index targets, not probabilities")
        y = _own(targets, logits)
        if label_smoothing:
            y = y * (1 - label_smoothing) + label_smoothing / classes
        return _reduce(-(log_probs * y).sum(axis=-1), reduction)
    if tuple(target_shape) != lead:
        raise ValueError(f"cross_entropy: targets must have shape {lead} (class indices) or {logits.shape} "
                         f"(probabilities) to match logits {logits.shape}, got {tuple(target_shape)}")
    return _class_index_loss(log_probs, targets, reduction, ignore_index, label_smoothing, "cross_entropy")


def nll_loss(log_probs, targets, reduction: str = "mean", ignore_index: int | None = None) -> Tensor:
    """−log_probs[target] averaged over rows: cross_entropy for inputs that already are log
    probabilities (log_softmax's output). log_probs (..., C), integer targets (...)."""
    _check_reduction(reduction, "nll_loss")
    log_probs = as_tensor(log_probs)
    _check_scores(log_probs, "nll_loss")
    target_shape = targets.shape if isinstance(targets, Tensor) else np.shape(targets)
    if tuple(target_shape) != log_probs.shape[:-1]:
        raise ValueError(f"nll_loss: targets must have shape {log_probs.shape[:-1]} to match log_probs "
                         f"{log_probs.shape} (classes last), got {tuple(target_shape)}")
    return _class_index_loss(log_probs, targets, reduction, ignore_index, 0.0, "nll_loss")


def mse_loss(pred, target, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or each) of squared differences; pred and target must have the same shape."""
    pred = as_tensor(pred)
    target = as_tensor(target, pred)
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred has shape {pred.shape} but target has shape {target.shape}")
    diff = pred - target
    if reduction == "mean":  # the usual call, once per step of a training loop: no more work than that
        return (diff ** 2).mean()  # a power keeps diff once and its gradient makes one array
    _check_reduction(reduction, "mse_loss")
    return _reduce(diff ** 2, reduction)


def _same_shape(x: Tensor, y: Tensor, op: str) -> None:
    if x.shape != y.shape:
        raise ValueError(f"{op}: input has shape {x.shape} but target has shape {y.shape} (they must match)")


def binary_cross_entropy(probs, target, weight=None, reduction: str = "mean") -> Tensor:
    """−(y log p + (1 − y) log(1 − p)) for probabilities p in [0, 1], each log clamped at −100 as
    PyTorch does (p = 0 or 1 gives a finite loss and gradient). `weight` scales each element."""
    _check_reduction(reduction, "binary_cross_entropy")
    probs = as_tensor(probs)
    target = _own(target, probs)
    _same_shape(probs, target, "binary_cross_entropy")
    loss = ops.binary_cross_entropy(probs, target)
    if weight is not None:
        loss = loss * _own(weight, probs)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(logits, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed stably: softplus(x) − x·y, finite at ±1000.
    `pos_weight` (broadcast over the last axis, e.g. one per class) weighs the positive term:
    (1 − y)·softplus(x) + pos_weight·y·softplus(−x), as PyTorch."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = as_tensor(logits)
    y = _own(target, x)
    _same_shape(x, y, "binary_cross_entropy_with_logits")
    if pos_weight is None:
        loss = softplus(x, threshold=np.inf) - x * y
    else:
        loss = (1 - y) * softplus(x, threshold=np.inf) + _own(pos_weight, x) * y * softplus(-x, threshold=np.inf)
    if weight is not None:
        loss = loss * _own(weight, x)
    return _reduce(loss, reduction)
