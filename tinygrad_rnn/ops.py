"""The primitive ops: each forward sits beside its vector-Jacobian products.

Read this file as a table of derivatives. Every primitive takes NumPy arrays and returns
`(result, vjps)`, with one function per input mapping the upstream gradient `g` (shape of the
result) to the gradient for that input. Broadcasting is undone centrally by the engine
(`autograd.reduce_to_shape`), so a vjp may return a gradient of the broadcast shape.

Two vjps return a gradient in a compact form the engine understands, so that a recurrent loop
stays cheap: indexing returns only the selected values (`IndexedGrad`, added in place into one
buffer), and `linear` returns its weight's gradient as two factors (`OuterGrad`, all of a shared
weight's terms multiplied in one product).

Composite functions (softmax, cross_entropy, stack, ...) live in functional.py and are built from
these; they never write backward code.
"""
from __future__ import annotations

import math

import numpy as np

from .autograd import IndexedGrad, OuterGrad
from .tensor import primitive


def _normalize_axis(axis, ndim: int):
    """None, an int or a tuple, as a tuple of non-negative axes (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = []
    for a in axis:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        axes.append(int(a) % max(ndim, 1))
    return tuple(axes)


def _expand_reduced(g: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    """Put the reduced axes back as size 1, so `g` broadcasts against the reduction's input."""
    return g if keepdims or not axes else np.expand_dims(g, axes)


# ---------------------------------------------------------------------------------------------
# Arithmetic (binary ops broadcast; the engine sums gradients back to each input's shape)
# ---------------------------------------------------------------------------------------------
@primitive
def add(a, b):
    return a + b, (lambda g: g, lambda g: g)


@primitive
def sub(a, b):
    return a - b, (lambda g: g, lambda g: -g)


@primitive
def mul(a, b):
    return a * b, (lambda g: g * b, lambda g: g * a)


@primitive
def div(a, b):
    out = a / b
    return out, (lambda g: g / b, lambda g: -g * out / b)


@primitive
def pow_(a, b):
    out = a ** b

    def d_b(g):  # d(a^b)/db = a^b log a; taken as 0 where a == 0 (as PyTorch does)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * np.where(a == 0, 0, out * np.log(np.where(a == 0, 1, a)))

    def d_a(g):  # b a^(b-1); taken as 0 where b == 0 (a^0 is constant, even at a == 0)
        if np.any(b == 0):
            with np.errstate(divide="ignore", invalid="ignore"):
                return g * np.where(b == 0, 0, b * a ** (b - 1))
        return g * b * a ** (b - 1)

    return out, (d_a, d_b)


@primitive
def neg(a):
    return -a, (lambda g: -g,)


@primitive
def matmul(a, b):
    """np.matmul, including 1-D operands (treated as a row / a column, then squeezed)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    try:
        out = a @ b
    except ValueError:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match "
                         f"(inner sizes {a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]})") from None
    if a.ndim == 2 and b.ndim == 2:  # the common case, without the general bookkeeping
        return out, (lambda g: g @ b.T, lambda g: a.T @ g)

    a2 = a[None, :] if a.ndim == 1 else a          # (..., n, k)
    b2 = b[:, None] if b.ndim == 1 else b          # (..., k, m)

    def restore(g):                                # g in the (..., n, m) layout
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        return g

    def d_a(g):
        da = restore(g) @ np.swapaxes(b2, -1, -2)  # (..., n, k)
        return da[..., 0, :] if a.ndim == 1 else da

    def d_b(g):
        db = np.swapaxes(a2, -1, -2) @ restore(g)  # (..., k, m)
        return db[..., 0] if b.ndim == 1 else db

    return out, (d_a, d_b)


# ---------------------------------------------------------------------------------------------
# Elementwise functions
# ---------------------------------------------------------------------------------------------
@primitive
def exp(a):
    out = np.exp(a)
    return out, (lambda g: g * out,)


@primitive
def log(a):
    return np.log(a), (lambda g: g / a,)


@primitive
def tanh(a):
    out = np.tanh(a)
    return out, (lambda g: g * (1 - out * out),)


@primitive
def sigmoid(a):
    # exp of a non-positive number only: finite and accurate for any a (no 1 - tiny cancellation)
    e = np.exp(-np.abs(a))
    out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
    return out, (lambda g: g * out * (1 - out),)


@primitive
def relu(a):
    return np.maximum(a, 0), (lambda g: g * (a > 0),)


@primitive
def abs_(a):
    return np.abs(a), (lambda g: g * np.sign(a),)


@primitive
def sqrt(a):
    out = np.sqrt(a)
    return out, (lambda g: g / (2 * out),)


@primitive
def clip(a, low=None, high=None):
    """Gradient passes where low <= a <= high (the bounds themselves included, as in PyTorch)."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of min and max")
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return np.clip(a, low, high), (lambda g: g * inside,)


# ---------------------------------------------------------------------------------------------
# Reductions
# ---------------------------------------------------------------------------------------------
def _spread(g: np.ndarray, shape: tuple, kept: tuple) -> np.ndarray:
    """A reduction's gradient: `g` (reduced to `kept`, the shape with size-1 reduced axes) copied
    over the input's shape. Plain C-level calls: this runs once per loss term."""
    out = np.empty(shape, g.dtype)
    out[...] = g.reshape(kept)
    return out


def _reduced(a: np.ndarray, axis):
    """(axes for np.add.reduce, the kept shape with size-1 reduced axes, elements per result).
    A full reduction (a loss) passes axis=None on: NumPy parses no tuple of axes then."""
    if axis is None:
        return None, (1,) * a.ndim, a.size
    axes = _normalize_axis(axis, a.ndim)
    kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    return axes, kept, math.prod(a.shape[i] for i in axes)


@primitive
def sum_(a, axis=None, keepdims=False):
    axes, kept, _ = _reduced(a, axis)
    shape = a.shape
    return np.add.reduce(a, axis=axes, keepdims=keepdims), (lambda g: _spread(g, shape, kept),)


@primitive
def mean(a, axis=None, keepdims=False):
    axes, kept, count = _reduced(a, axis)
    shape = a.shape
    return np.add.reduce(a, axis=axes, keepdims=keepdims) / count, (lambda g: _spread(g / count, shape, kept),)


@primitive
def max_(a, axis=None, keepdims=False):
    """Ties share the gradient equally (as torch.amax), so the gradient stays a true subgradient."""
    if a.size == 0:
        raise ValueError(f"max: cannot reduce an empty tensor of shape {a.shape}")
    axes = _normalize_axis(axis, a.ndim)
    kept = np.max(a, axis=axes, keepdims=True)

    def d_a(g):
        winners = a == kept
        return winners * (_expand_reduced(g, axes, keepdims) / winners.sum(axis=axes, keepdims=True))

    out = kept if keepdims else np.squeeze(kept, axis=axes)
    return out, (d_a,)


# ---------------------------------------------------------------------------------------------
# Shape and indexing
# ---------------------------------------------------------------------------------------------
@primitive
def reshape(a, shape=()):
    try:
        out = a.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} into {tuple(shape)}") from None
    return out, (lambda g: g.reshape(a.shape),)


@primitive
def transpose(a, axes=()):
    if all(-a.ndim <= ax < a.ndim for ax in axes):  # negative axes count from the end, as in NumPy
        axes = tuple(int(ax) % a.ndim for ax in axes)
    if sorted(axes) != list(range(a.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation for a tensor of shape {a.shape}")
    inverse = tuple(np.argsort(axes))
    return np.transpose(a, axes), (lambda g: np.transpose(g, inverse),)


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


@primitive
def getitem(a, index=None):
    try:
        out = a[index]
    except IndexError as exc:
        raise IndexError(f"indexing a tensor of shape {a.shape}: {exc}") from None
    shape, dtype, basic = a.shape, a.dtype, _is_basic_index(index)
    # zero except at `index`: the engine adds g there in place, so T slices of a (T, B, H) tensor
    # do not allocate T full-size gradients (repeated array indices accumulate)
    return out, (lambda g: IndexedGrad(shape, dtype, index, g, basic),)


@primitive
def concatenate(*arrays, axis=0):
    try:
        out = np.concatenate(arrays, axis=axis)
    except ValueError:
        raise ValueError(f"concat: shapes {[a.shape for a in arrays]} cannot be joined along axis {axis}") from None
    bounds = np.cumsum([0] + [a.shape[axis] for a in arrays])
    ax = axis % out.ndim

    def piece(k):
        cut = (slice(None),) * ax + (slice(bounds[k], bounds[k + 1]),)
        return lambda g: g[cut]

    return out, tuple(piece(k) for k in range(len(arrays)))


@primitive
def stack(*arrays, axis=0):
    """np.stack: arrays of one shape joined along a new axis; each gets its slice of g back (a
    view). One node for T time steps, where concatenating reshaped steps made T + 1."""
    out = np.stack(arrays, axis=axis)
    cut = (slice(None),) * (axis % out.ndim)

    def piece(k):
        return lambda g: g[cut + (k,)]

    return out, tuple(piece(k) for k in range(len(arrays)))


# ---------------------------------------------------------------------------------------------
# Fused affine map (one node instead of transpose, matmul and add: a recurrent step is mostly these)
# ---------------------------------------------------------------------------------------------
@primitive
def linear(x, w, b=None, out=None):
    """x wᵀ + b with w of shape (out, in), as torch.nn.functional.linear. x may be (in,),
    (batch, in) or (..., in); b, when given, is (out,).

    `out`: the result, when the caller has already computed it (a sequence model projects all
    time steps in one product, then makes each step's node from its slice)."""
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                         f"(expected last dimension {w.shape[1] if w.ndim == 2 else '?'})")
    if out is None:
        out = x @ w.T
        if b is not None:
            out += b  # `out` is new, so adding in place is safe

    def d_w(g):  # gᵀ x summed over all leading axes, as factors the engine multiplies (OuterGrad)
        return OuterGrad(g if g.ndim == 2 else g.reshape(-1, g.shape[-1]),
                         x if x.ndim == 2 else x.reshape(-1, x.shape[-1]))

    if b is not None and b.ndim == 1 and out.ndim > 1:
        # a bias (out,) under a batch: sum the rows here, one C call, instead of the engine's
        # general broadcast reduction at every time step
        def d_b(g):
            return np.add.reduce(g if g.ndim == 2 else g.reshape(-1, g.shape[-1]), axis=0)
    else:  # no batch, or an addend of the result's own shape (a cell's input part)
        def d_b(g):
            return g

    return out, (lambda g: g @ w, d_w, d_b)
