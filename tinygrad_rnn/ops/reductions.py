"""Reductions over axes. A reduction's gradient is the upstream gradient spread back over the
reduced axes; they keep only shapes, except max and min, which need their input to find the winners."""
from __future__ import annotations

import math

import numpy as np

from .core import normalize_axes, primitive


def _spread(g: np.ndarray, shape: tuple, kept: tuple) -> np.ndarray:
    """A reduction's gradient: `g` (reduced to `kept`, the shape with size-1 reduced axes) over the
    input's shape. A small one is copied out (plain C-level calls: this runs once per loss term of
    every step); a large one is a read-only broadcast view, which costs no memory (the engine never
    writes into a gradient it did not allocate)."""
    if math.prod(shape) > 65536:  # (math.prod: np.prod costs microseconds on a tuple)
        return np.broadcast_to(np.reshape(g, kept), shape)
    out = np.empty(shape, g.dtype)
    out[...] = np.reshape(g, kept)
    return out


def _reduced(a: np.ndarray, axis, op: str):
    """(axes for np.add.reduce, the kept shape with size-1 reduced axes, elements per result).
    A full reduction (a loss) passes axis=None on: NumPy parses no tuple of axes then."""
    if axis is None:
        return None, (1,) * a.ndim, a.size
    axes = normalize_axes(axis, a.ndim, op)
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    count = 1
    for i in axes:
        count *= a.shape[i]
    return axes, kept, count


@primitive(lambda g, saved: _spread(g, *saved))
def sum_(a, axis=None, keepdims=False):
    axes, kept, _ = _reduced(a, axis, "sum")
    return np.add.reduce(a, axis=axes, keepdims=keepdims), (a.shape, kept)


@primitive(lambda g, saved: _spread(g / saved[2], saved[0], saved[1]))
def mean(a, axis=None, keepdims=False):
    """The mean of no elements is NaN, as in NumPy (and PyTorch)."""
    axes, kept, count = _reduced(a, axis, "mean")
    total = np.add.reduce(a, axis=axes, keepdims=keepdims)
    if count == 0:  # NaN without NumPy's warning (no np.errstate on the hot path: it is slow)
        return np.full(np.shape(total), np.nan, a.dtype), (a.shape, kept, np.nan)
    return total / count, (a.shape, kept, count)


def _extreme_d(g, saved):
    """Ties share the gradient equally (as torch.amax / amin), so the gradient stays a true subgradient."""
    a, best, axes = saved
    winners = a == best
    return winners * (np.reshape(g, best.shape) / winners.sum(axis=axes, keepdims=True))


def _extreme(find, a, axis, keepdims, op: str):
    """The max or min (`find`) over `axis`, and what _extreme_d needs."""
    axes = normalize_axes(axis, a.ndim, op)
    if any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"{op}: cannot reduce over an empty axis of a tensor of shape {a.shape} "
                         f"(no {'maximum' if op == 'max' else 'minimum'} of no elements)")
    best = find(a, axis=axes, keepdims=True)
    out = best if keepdims else np.squeeze(best, axis=axes)
    return out, (a, best, axes)


@primitive(_extreme_d)
def max_(a, axis=None, keepdims=False):
    return _extreme(np.max, a, axis, keepdims, "max")


@primitive(_extreme_d)
def min_(a, axis=None, keepdims=False):
    return _extreme(np.min, a, axis, keepdims, "min")
