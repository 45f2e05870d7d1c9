"""Shapes, joining and splitting, built from the primitives reshape, expand, getitem, concatenate
and stack. `split` and `chunk` cut a tensor into slices (a gated cell's (B, 4H) pre-activation into
its gate blocks); each slice's gradient goes back into one buffer (IndexedGrad), so cutting costs
no full-size zero arrays."""
from __future__ import annotations

from collections.abc import Sequence

from .. import ops
from ..ops.core import AxisError, normalize_axes, normalize_axis
from ..tensor import Tensor, as_tensor
from ._args import as_int, attach_methods, one_axis


def concat(tensors: Sequence, axis: int | None = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis (np.concatenate; torch.cat). axis=None joins them
    flattened, as NumPy does."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    axis = one_axis(axis, dim)
    if axis is None:
        return ops.concatenate(*[t.reshape(-1) for t in tensors], axis=0)
    return ops.concatenate(*tensors, axis=axis)


def stack(tensors: Sequence, axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis (np.stack), axis in [-ndim - 1, ndim]."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    return ops.stack(*tensors, axis=one_axis(axis, dim))


def squeeze(x, axis=None, *, dim=None) -> Tensor:
    """Remove axes of size 1: all of them (axis=None), or those named. As in PyTorch, a named axis
    whose size is not 1 is left alone (np.squeeze on a Tensor raises there, as NumPy does)."""
    return _squeeze(x, one_axis(axis, dim), strict=False)


def _squeeze(x, axis, strict: bool) -> Tensor:
    x = as_tensor(x)
    axes = normalize_axes(axis, x.ndim, "squeeze")
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    elif strict:
        wrong = [i for i in axes if x.shape[i] != 1]
        if wrong:
            raise ValueError(f"squeeze: axis {wrong[0]} of a tensor of shape {x.shape} does not have size 1")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1)))


def unsqueeze(x, axis=None, *, dim=None) -> Tensor:
    """Insert an axis of size 1 at `axis` (in [-ndim - 1, ndim]; a tuple inserts several, as
    np.expand_dims)."""
    x = as_tensor(x)
    axis = one_axis(axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: give the position of the new axis (dim= or axis=)")
    positions = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = x.ndim + len(positions)
    try:
        new = normalize_axes(tuple(positions), ndim, "unsqueeze")
    except AxisError:
        raise AxisError(f"unsqueeze: position {axis} is out of range for a tensor of shape {x.shape} "
                        f"(a new axis goes in [{-ndim}, {ndim - 1}])") from None
    sizes = iter(x.shape)
    return x.reshape(tuple(1 if i in new else next(sizes) for i in range(ndim)))


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Join the axes start_dim..end_dim (all by default) into one, as torch.flatten; a 0-d tensor
    becomes shape (1,)."""
    x = as_tensor(x)
    if x.ndim == 0:
        return x.reshape(1)
    start = normalize_axis(start_dim, x.ndim, "flatten")
    end = normalize_axis(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    joined = 1
    for n in x.shape[start:end + 1]:
        joined *= n
    return x.reshape(x.shape[:start] + (joined,) + x.shape[end + 1:])


def expand(x, *sizes) -> Tensor:
    """Repeat size-1 axes (and add leading ones) without copying, as torch.expand: t.expand(3, -1)
    or t.expand((3, -1)); -1 keeps an axis's size. The gradient sums over the repeats."""
    x = as_tensor(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    sizes = tuple(as_int(n, "a size", "expand") for n in sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape} (give at least {x.ndim})")
    shape = []
    for i, n in enumerate(sizes):
        if n == -1:
            if i < lead:
                raise ValueError(f"expand: -1 (keep the size) is not allowed for the new leading axis {i}")
            n = x.shape[i - lead]
        elif n < 0:
            raise ValueError(f"expand: sizes must be non-negative or -1, got {sizes}")
        shape.append(n)
    return ops.expand(x, shape=tuple(shape))


def split(x, split_size_or_sections, axis: int = 0, *, dim: int | None = None) -> tuple[Tensor, ...]:
    """Cut along `axis` into pieces of `split_size_or_sections` elements (the last one smaller if
    they do not divide evenly), or of the sizes in a list, which must add up to the axis's size:
    PyTorch's torch.split (np.split on a Tensor keeps NumPy's meaning: sections or cut points)."""
    x = as_tensor(x)
    ax = normalize_axis(one_axis(axis, dim), x.ndim, "split") if x.ndim else _no_axis("split")
    n = x.shape[ax]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [as_int(s, "a section size", "split") for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sections {sizes} do not add up to the size {n} of axis {ax} (shape {x.shape})")
    else:
        size = as_int(split_size_or_sections, "the split size", "split")
        if size <= 0 and n > 0:
            raise ValueError(f"split: the split size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
    return _pieces(x, ax, sizes)


def chunk(x, chunks: int, axis: int = 0, *, dim: int | None = None) -> tuple[Tensor, ...]:
    """Cut along `axis` into `chunks` pieces of ceil(n / chunks) elements, as torch.chunk (so there
    may be fewer pieces than asked for when n does not divide evenly). x.chunk(4, dim=-1) cuts an
    LSTM's (B, 4H) pre-activation into its gates i, f, g, o."""
    x = as_tensor(x)
    chunks = as_int(chunks, "chunks", "chunk")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    ax = normalize_axis(one_axis(axis, dim), x.ndim, "chunk") if x.ndim else _no_axis("chunk")
    n = x.shape[ax]
    return split(x, -(-n // chunks) if n else 1, axis=ax)


def _no_axis(op: str):
    raise ValueError(f"{op}: a 0-d tensor has no axis to cut")


def _pieces(x: Tensor, ax: int, sizes: list[int]) -> tuple[Tensor, ...]:
    before = (slice(None),) * ax
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[before + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


attach_methods(squeeze, unsqueeze, flatten, expand, split, chunk)
