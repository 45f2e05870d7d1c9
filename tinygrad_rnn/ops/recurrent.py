"""One step of a recurrent cell in few nodes: the elementwise part of an LSTM or GRU step (what
follows the products x Uᵀ and h Wᵀ), and a plain RNN's recurrent product with its nonlinearity,
each forward beside its hand-derived gradient.

A gated step written with the elementwise primitives makes a dozen nodes; these make one or two,
each keeping only the activations its gradient is written in. The gate functions (`lstm_gates`,
`gru_gates`) are shared with the fused sequence primitives (sequence.py) and with what the cells
report to listeners (tinygrad_rnn.inspect), so the equations are written once.

Equations (PyTorch's; gate blocks stacked along the last axis):
    LSTM  i, f, g, o = σ(p_i), σ(p_f), tanh(p_g), σ(p_o)  of  p = x Uᵀ + h_prev Wᵀ + b
          c = f ⊙ c_prev + i ⊙ g          (lstm_cell)
          h = o ⊙ tanh(c)                 (lstm_hidden)
    GRU   r = σ(gx_r + gh_r),  z = σ(gx_z + gh_z),  n = tanh(gx_n + r ⊙ (gh_n + b_hn))
          h = (1 − z) ⊙ n + z ⊙ h_prev     (gru_cell)   with gx = x Uᵀ + b, gh = h_prev Wᵀ
    RNN   a = φ(a_prev Wᵀ + gx)            (linear_tanh, linear_relu: `linear` and φ in one node)
"""
from __future__ import annotations

import numpy as np

from ..engine import IndexedGrad, OuterGrad
from .core import primitive, rows


def sigmoid(a: np.ndarray) -> np.ndarray:
    """σ(a) = (1 + tanh(a/2)) / 2: one tanh, finite for any a, within 1e-16 of σ (a gate's values;
    the fused sequences compute their gates this way too, so both paths agree to the last bit)."""
    out = np.multiply(a, 0.5)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def lstm_gates(pre: np.ndarray):
    """(i, f, g, o) of an LSTM step's pre-activation p (..., 4H): four (..., H) arrays."""
    H = pre.shape[-1] // 4
    i_f = sigmoid(pre[..., :2 * H])
    return i_f[..., :H], i_f[..., H:], np.tanh(pre[..., 2 * H:3 * H]), sigmoid(pre[..., 3 * H:])


def gru_gates(gx: np.ndarray, gh, b_hn):
    """(r, z, n, hn) of a GRU step; gh (the h_prev Wᵀ part) and b_hn may be None (zeros)."""
    H = gx.shape[-1] // 3
    if gh is None:
        rz = sigmoid(gx[..., :2 * H])
        hn = np.zeros_like(gx[..., :H]) if b_hn is None else np.broadcast_to(b_hn, gx[..., :H].shape)
    else:
        rz = sigmoid(gx[..., :2 * H] + gh[..., :2 * H])
        hn = gh[..., 2 * H:] if b_hn is None else gh[..., 2 * H:] + b_hn
    r, z = rz[..., :H], rz[..., H:]
    n = np.tanh(gx[..., 2 * H:] + r * hn)
    return r, z, n, hn


# ---------------------------------------------------------------------------------------------
# LSTM: the cell state c and the hidden state h, each its own node (as the textbook draws them)
# ---------------------------------------------------------------------------------------------
def _lstm_cell_d(g, saved, k):
    """∂c/∂p (the i, f, g blocks; the o block gets nothing) and ∂c/∂c_prev = f."""
    i, f, gg, c_prev, shape = saved
    if k == 1:
        return g * f
    H = i.shape[-1]
    d = np.empty(g.shape[:-1] + (3 * H,), g.dtype)
    d[..., :H] = g * gg * i * (1 - i)
    if c_prev is None:
        d[..., H:2 * H] = 0
    else:
        d[..., H:2 * H] = g * c_prev * f * (1 - f)
    d[..., 2 * H:] = g * i * (1 - gg * gg)
    return IndexedGrad(shape, g.dtype, (Ellipsis, slice(0, 3 * H)), d, True)


@primitive(_lstm_cell_d, variadic=True)
def lstm_cell(pre, *c_prev):
    """c = σ(p_f) ⊙ c_prev + σ(p_i) ⊙ tanh(p_g) from p (..., 4H); without c_prev (zeros): i ⊙ g."""
    H = pre.shape[-1] // 4
    if pre.shape[-1] != 4 * H or (c_prev and c_prev[0].shape != pre.shape[:-1] + (H,)):
        raise ValueError(f"lstm_cell: pre-activation {pre.shape} and cell state "
                         f"{c_prev[0].shape if c_prev else None} do not fit (expected (..., 4H) and (..., H))")
    i_f = sigmoid(pre[..., :2 * H])  # the o block waits for lstm_hidden
    i, f, g = i_f[..., :H], i_f[..., H:], np.tanh(pre[..., 2 * H:3 * H])
    c = i * g if not c_prev else f * c_prev[0] + i * g
    return c, (i, f, g, c_prev[0] if c_prev else None, pre.shape)


def _lstm_hidden_d(g, saved):
    o, tc, shape = saved
    H = o.shape[-1]
    return IndexedGrad(shape, g.dtype, (Ellipsis, slice(3 * H, 4 * H)), g * tc * o * (1 - o), True)


@primitive(_lstm_hidden_d,                                   # ∂h/∂p: the o block only
           lambda g, saved: g * saved[0] * (1 - saved[1] * saved[1]))  # ∂h/∂c = o (1 − tanh² c)
def lstm_hidden(pre, c):
    """h = σ(p_o) ⊙ tanh(c)."""
    H = pre.shape[-1] // 4
    if pre.shape[-1] != 4 * H or c.shape != pre.shape[:-1] + (H,):
        raise ValueError(f"lstm_hidden: pre-activation {pre.shape} and cell state {c.shape} do not fit")
    o = sigmoid(pre[..., 3 * H:])
    tc = np.tanh(c)
    return o * tc, (o, tc, pre.shape)


# ---------------------------------------------------------------------------------------------
# GRU: the whole elementwise step in one node
# ---------------------------------------------------------------------------------------------
def _gru_cell_backward(g, saved, needs):
    """Every input's gradient of one GRU step from the upstream gradient g = ∂L/∂h."""
    r, z, n, hn, h_prev, roles = saved
    dn = g * (1 - z) * (1 - n * n)               # into n's pre-activation
    dz = g * ((0 if h_prev is None else h_prev) - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    grads = {"gx": np.concatenate([dr, dz, dn], axis=-1)}
    if h_prev is not None:
        grads["gh"] = np.concatenate([dr, dz, dn * r], axis=-1)
        grads["h_prev"] = g * z
    grads["b_hn"] = dn * r
    return [grads[role] if need else None for role, need in zip(roles, needs)]


@primitive(_gru_cell_backward, joint=True)
def gru_cell(gx, *rest, has_state=True, has_bias=True):
    """h = (1 − z) ⊙ n + z ⊙ h_prev. Inputs: gx = x Uᵀ + b (..., 3H), then gh = h_prev Wᵀ and h_prev
    when `has_state`, then b_hn (H,) when `has_bias`."""
    roles = ("gx",) + (("gh", "h_prev") if has_state else ()) + (("b_hn",) if has_bias else ())
    if len(rest) + 1 != len(roles):
        raise ValueError(f"gru_cell: expected inputs {roles}, got {len(rest) + 1}")
    given = dict(zip(roles[1:], rest))
    gh, h_prev, b_hn = given.get("gh"), given.get("h_prev"), given.get("b_hn")
    H = gx.shape[-1] // 3
    if gx.shape[-1] != 3 * H or (gh is not None and gh.shape != gx.shape) or \
            (h_prev is not None and h_prev.shape != gx.shape[:-1] + (H,)):
        raise ValueError(f"gru_cell: shapes {[gx.shape] + [a.shape for a in rest]} do not fit "
                         "(expected gx and gh (..., 3H), h_prev (..., H), b_hn (H,))")
    r, z, n, hn = gru_gates(gx, gh, b_hn)
    # (1 − z) ⊙ n + z ⊙ h_prev, written as the fused sequence computes it (the same bits)
    h = n - z * n if h_prev is None else n + z * (h_prev - n)
    return h, (r, z, n, hn, h_prev, roles)


# ---------------------------------------------------------------------------------------------
# A plain RNN's step after its input product: a = φ(a_prev Wᵀ + gx), linear and φ as one node
# ---------------------------------------------------------------------------------------------
def _activated_linear_backward(g, saved, needs):
    """∂pre = g ⊙ φ'(pre), written in the output; then linear's three gradients from it."""
    x, w, out, bias_rows, relu = saved
    d = g * (out > 0) if relu else g * (1 - out * out)
    return [d @ w if needs[0] else None,
            OuterGrad(d if d.ndim == 2 else rows(d), x if x.ndim == 2 else rows(x)) if needs[1] else None,
            (np.add.reduce(d if d.ndim == 2 else rows(d), axis=0) if bias_rows else d) if needs[2] else None]


def _activated_linear(x, w, b, relu: bool, name: str):
    if x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"{name}: input of shape {x.shape} does not fit weight of shape {w.shape}")
    pre = x @ w.T
    pre += b
    out = np.maximum(pre, 0, out=pre) if relu else np.tanh(pre, out=pre)
    return out, (x, w, out, b.ndim == 1 and out.ndim > 1, relu)


@primitive(_activated_linear_backward, joint=True)
def linear_tanh(x, w, b):
    """tanh(x wᵀ + b): an RNN cell's recurrent product, its input part b = x Uᵀ + b_U, and tanh."""
    return _activated_linear(x, w, b, False, "linear_tanh")


@primitive(_activated_linear_backward, joint=True)
def linear_relu(x, w, b):
    """relu(x wᵀ + b), as linear_tanh with relu."""
    return _activated_linear(x, w, b, True, "linear_relu")
