"""Choosing values: by a condition (`where`), the larger or smaller of two (`maximum`,
`minimum`), by position along an axis (`gather`), and the one-hot encoding of class indices."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..graph import STATE
from ..ops.core import normalize_axis
from ..tensor import Tensor, as_tensor
from ._args import attach_methods


def where(condition, x, y) -> Tensor:
    """x where the boolean condition holds, y elsewhere (all three broadcast). The condition is a
    mask: a comparison (`t > 0`), a boolean Tensor or array; it gets no gradient."""
    return ops.where(condition, x, y)


def maximum(a, b) -> Tensor:
    """The elementwise larger of a and b (broadcast); at a tie each gets half the gradient."""
    return ops.maximum(a, b)


def minimum(a, b) -> Tensor:
    """The elementwise smaller of a and b (broadcast); at a tie each gets half the gradient."""
    return ops.minimum(a, b)


def integer_indices(indices, op: str) -> np.ndarray:
    """Class indices or positions as a new integer array: from an integer array or list, or from a
    Tensor or float array of whole numbers (a Tensor holds floats). A copy, so the caller may change
    theirs afterwards."""
    data = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if data.dtype.kind in "iu":
        return data.astype(np.int64, copy=True)
    if data.dtype.kind == "f":
        positions = data.astype(np.int64)
        if np.array_equal(positions, data):
            return positions
        raise TypeError(f"{op}: indices must be whole numbers, got {data.ravel()[:5]}")
    raise TypeError(f"{op}: indices must be integers, got dtype {data.dtype}")


def gather(x, dim: int, index) -> Tensor:
    """torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0 (and so on for the others).
    `index` has x's number of dimensions and, outside `dim`, sizes no larger than x's; the result
    has index's shape. Positions picked twice accumulate their gradients."""
    x = as_tensor(x)
    index = integer_indices(index, "gather")
    if x.ndim == 0:
        normalize_axis(dim, 1, "gather")
        if index.shape != () or index != 0:
            raise ValueError(f"gather: a 0-d tensor takes only the 0-d index 0, got {index!r}")
        return x * 1.0
    axis = normalize_axis(dim, x.ndim, "gather")
    if index.ndim != x.ndim or any(index.shape[d] > x.shape[d] for d in range(x.ndim) if d != axis):
        raise ValueError(f"gather: index of shape {index.shape} does not fit a tensor of shape {x.shape} "
                         f"along dim {dim} (same number of dimensions; no larger outside dim)")
    n = x.shape[axis]
    if index.size and (index.min() < 0 or index.max() >= n):
        bad = index[(index < 0) | (index >= n)].flat[0]
        raise IndexError(f"gather: index {bad} is out of range for size {n} of dim {dim} (shape {x.shape})")
    last = index.ndim - 1  # positions along every other axis, shaped to broadcast against index
    grid = [index if d == axis else np.arange(k).reshape((1,) * d + (k,) + (1,) * (last - d))
            for d, k in enumerate(index.shape)]
    return x[tuple(grid)]


def one_hot(indices, num_classes: int = -1, dtype=None) -> Tensor:
    """Class indices of any shape (...) as a tensor (..., num_classes) of 0s and a 1 at each index,
    in the default float dtype (or `dtype`); num_classes=-1 means one more than the largest index."""
    idx = integer_indices(indices, "one_hot")
    if num_classes == -1:
        if idx.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from no indices; pass num_classes")
        num_classes = int(idx.max()) + 1
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got {num_classes!r}")
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        bad = idx[(idx < 0) | (idx >= num_classes)].flat[0]
        raise ValueError(f"one_hot: index {bad} is out of range for {num_classes} classes")
    out = np.zeros(idx.shape + (int(num_classes),), dtype=STATE.default_dtype if dtype is None else dtype)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor(out, dtype=dtype)  # (Tensor refuses a dtype other than float32 and float64)


attach_methods(gather)  # x.gather(dim, index), as torch.Tensor.gather
