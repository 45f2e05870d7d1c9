"""Shape and indexing: reshape, transpose, expand, indexing, joining. Their gradients move g back into the
input's layout and keep only shapes and indices.

Indexing passes back a compact gradient (`IndexedGrad`: the selected values and where they go),
which the engine adds into one buffer, so taking T slices of a (T, B, H) tensor costs O(T·B·H)."""
from __future__ import annotations

import numpy as np

from ..engine import IndexedGrad
from .core import AxisError, normalize_axis, primitive


@primitive(lambda g, shape: np.reshape(g, shape))
def reshape(a, shape=()):
    try:
        out = a.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} into {tuple(shape)}") from None
    return out, a.shape


@primitive(lambda g, inverse: np.transpose(g, inverse))
def transpose(a, axes=()):
    for ax in axes:
        if not -a.ndim <= ax < a.ndim:
            raise AxisError(f"transpose: axis {ax} is out of range for a tensor of shape {a.shape}")
    axes = tuple(int(ax) % a.ndim for ax in axes)  # negative axes count from the end
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation for a tensor of shape {a.shape}")
    return np.transpose(a, axes), tuple(np.argsort(axes))


@primitive(lambda g, _: g)  # g has the expanded shape: the engine sums it back
def expand(a, shape=()):
    """np.broadcast_to: a (read-only) view of a repeated along new leading axes and its size-1 axes."""
    try:
        return np.broadcast_to(a, shape), None
    except ValueError:
        raise ValueError(f"expand: cannot expand a tensor of shape {a.shape} to {tuple(shape)} (each axis "
                         "must keep its size or have size 1; new axes go in front)") from None


_BASIC_INDEX = (int, np.integer, slice, type(None), type(Ellipsis))


def _is_basic_index(index) -> bool:
    """Ints, slices, None and Ellipsis select each element at most once: the gradient can be
    assigned. Arrays and masks may repeat elements: the gradient must be accumulated."""
    if type(index) is not tuple:
        return isinstance(index, _BASIC_INDEX)
    for i in index:  # a loop, not all(<generator>): this runs for every slice of every step
        if not isinstance(i, _BASIC_INDEX):
            return False
    return True


def _own_index(index):
    """The index with every array copied: the caller may change theirs after the forward, and the
    gradient must still go where the forward read."""
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, list):
        return np.array(index)
    if type(index) is tuple:
        for i in index:
            if isinstance(i, (np.ndarray, list)):
                return tuple(_own_index(i) for i in index)
    return index


@primitive(lambda g, saved: IndexedGrad(saved[0], saved[1], saved[2], g, saved[3]))
def getitem(a, index=None):
    basic = _is_basic_index(index)
    if not basic:
        index = _own_index(index)
    try:
        out = a[index]
    except IndexError as exc:
        raise IndexError(f"indexing a tensor of shape {a.shape}: {exc}") from None
    # zero except at `index`: the engine adds g there in place (repeated array indices accumulate)
    return out, (a.shape, a.dtype, index, basic)


def _concatenate_d(g, saved, k):
    axis, bounds = saved
    return g[(slice(None),) * axis + (slice(bounds[k], bounds[k + 1]),)]


@primitive(_concatenate_d, variadic=True)
def concatenate(*arrays, axis=0):
    if not arrays:
        raise ValueError("concat: needs at least one tensor")
    ndim = arrays[0].ndim
    if ndim == 0:
        raise ValueError("concat: 0-d tensors cannot be joined along an axis (stack them instead)")
    ax = normalize_axis(axis, ndim, "concat")
    try:
        out = np.concatenate(arrays, axis=ax)
    except ValueError:
        raise ValueError(f"concat: shapes {[a.shape for a in arrays]} cannot be joined along axis {axis}") from None
    bounds = [0]
    for a in arrays:
        bounds.append(bounds[-1] + a.shape[ax])
    return out, (ax, bounds)


@primitive(lambda g, axis, k: g[(slice(None),) * axis + (k,)], variadic=True)
def stack(*arrays, axis=0):
    """np.stack: arrays of one shape joined along a new axis; each gets its slice of g back (a
    view). One node for T time steps, where concatenating reshaped steps made T + 1."""
    if not arrays:
        raise ValueError("stack: needs at least one tensor")
    shape = arrays[0].shape
    for a in arrays[1:]:
        if a.shape != shape:
            raise ValueError(f"stack: all tensors need one shape, got {shape} and {a.shape}")
    try:
        ax = normalize_axis(axis, len(shape) + 1, "stack")
    except AxisError:
        raise AxisError(f"stack: axis {axis} is out of range for stacking tensors of shape {shape} "
                        f"(a new axis goes in [{-len(shape) - 1}, {len(shape)}])") from None
    return np.stack(arrays, axis=ax), ax
