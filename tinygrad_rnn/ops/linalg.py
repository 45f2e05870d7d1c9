"""Matrix products: `matmul` (np.matmul, batched and 1-D operands included) and the fused affine
map `linear` (x wᵀ + b in one node: a recurrent step is mostly these).

`linear` passes its weight's gradient back as two factors (`OuterGrad`): a weight shared by T time
steps gets all its terms multiplied in one product by the engine."""
from __future__ import annotations

import numpy as np

from ..engine import OuterGrad
from .core import primitive, rows


def _restore(g, a_ndim: int, b_ndim: int):
    """g in the (..., n, m) layout of the 2-D product, for 1-D operands."""
    if b_ndim == 1:
        g = g[..., None]
    if a_ndim == 1:
        g = g[..., None, :]
    return g


def _matmul_d_a(g, ab):
    a, b = ab
    if a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    b2 = b[:, None] if b.ndim == 1 else b
    da = _restore(g, a.ndim, b.ndim) @ np.swapaxes(b2, -1, -2)  # (..., n, k)
    return da[..., 0, :] if a.ndim == 1 else da


def _matmul_d_b(g, ab):
    a, b = ab
    if a.ndim == 2 and b.ndim == 2:
        return a.T @ g
    a2 = a[None, :] if a.ndim == 1 else a
    db = np.swapaxes(a2, -1, -2) @ _restore(g, a.ndim, b.ndim)  # (..., k, m)
    return db[..., 0] if b.ndim == 1 else db


@primitive(_matmul_d_a, _matmul_d_b)
def matmul(a, b):
    """np.matmul, including 1-D operands (treated as a row / a column, then squeezed)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    try:
        out = a @ b
    except ValueError:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match "
                         f"(inner sizes {a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]})") from None
    return out, (a, b)


def _linear_d_w(g, saved):
    """gᵀ x summed over all leading axes, as factors the engine multiplies (OuterGrad)."""
    x = saved[0]
    return OuterGrad(g if g.ndim == 2 else rows(g), x if x.ndim == 2 else rows(x))


def _linear_d_b(g, saved):
    if saved[2]:  # a bias (out,) under a batch: sum the rows here, one C call
        return np.add.reduce(g if g.ndim == 2 else rows(g), axis=0)
    return g      # no batch, or an addend of the result's own shape (a cell's input part)


@primitive(lambda g, saved: g @ saved[1],   # ∂/∂x = g w
           _linear_d_w,                     # ∂/∂w = gᵀ x
           _linear_d_b,                     # ∂/∂b = g, summed over rows
           records_options=False)
def linear(x, w, b=None, out=None):
    """x wᵀ + b with w of shape (out, in), as torch.nn.functional.linear. x may be (in,),
    (batch, in) or (..., in); b, when given, is (out,) or an addend of the result's shape.

    `out`: the result, when the caller has already computed it (a sequence model projects all
    time steps in one product, then makes each step's node from its slice)."""
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not fit weight of shape {w.shape} "
                         f"(expected last dimension {w.shape[1] if w.ndim == 2 else '?'})")
    if out is None:
        out = x @ w.T
        if b is not None:
            out += b  # `out` is new, so adding in place is safe
    bias_rows = b is not None and b.ndim == 1 and out.ndim > 1
    return out, (x, w, bias_rows)
