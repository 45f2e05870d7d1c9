"""A whole sequence of one recurrent layer as one node: the forward runs the T steps in NumPy, the
backward is backpropagation through time derived by hand, with the input and weight products
batched over all steps.

Row-batch notation, PyTorch-shaped weights; gx_t = x_t Uᵀ + b for every t in one product. With the
upstream gradient G_t = ∂L/∂(this layer's output at t), the backward walks t = T … 1:

    RNN    a_t = φ(gx_t + a_{t−1} Wᵀ)
           δ_t = G_t + δpre_{t+1} W,   δpre_t = δ_t ⊙ φ'(a_t)
    LSTM   (see ops/recurrent.py for the gates)  δh_t = G^h_t + δpre_{t+1} W
           δc_t = G^c_t + δh_t ⊙ o_t ⊙ (1 − tanh² c_t) + δc_{t+1} ⊙ f_{t+1}
           δpre_t = [δc ⊙ g ⊙ i(1−i), δc ⊙ c_{t−1} ⊙ f(1−f), δc ⊙ i ⊙ (1−g²), δh ⊙ tanh c ⊙ o(1−o)]
    GRU    δh_t = G_t + δh_{t+1} ⊙ z_{t+1} + δgh_{t+1} W
           δn = δh (1−z)(1−n²), δz = δh (h_{t−1} − n) z(1−z), δr = δn ⊙ hn ⊙ r(1−r)
           δgx_t = [δr, δz, δn],  δgh_t = [δr, δz, δn ⊙ r]

then ∂L/∂U = Σ δpreᵀ x (δgx for the GRU), ∂L/∂W = Σ δpreᵀ a_{t−1} (δgh), ∂L/∂b = Σ δpre,
∂L/∂x_t = δpre_t U, ∂L/∂(initial state) = what reaches t = 0. These are the equations of
docs/tutorial.md and docs/internals.md; tests/test_sequence_ops.py checks them against the step-by-
step graph and a NumPy BPTT written out in the test.

Options every sequence op takes:
- `truncate=k`: truncated BPTT, the carried state cut after every k steps (no δ crosses a cut);
- `active`: for a batch of sequences sorted by length, longest first, the number still running at
  each step; the others take no work: their state stays what it was at their last step (so the
  last step holds every sequence's final state), and their gradient passes straight through.

The δ of every step (`deltas`) is what `grad()` returns for one step's state: see engine.Steps.
"""
from __future__ import annotations

import numpy as np

from ..engine import IndexedGrad, Steps
from .core import primitive, rows
from .recurrent import sigmoid


def _check(name: str, xs, h0, U, W, gates: int) -> tuple[int, int, int]:
    if xs.ndim != 3:
        raise ValueError(f"{name}: inputs must be (T, batch, features), got shape {xs.shape}")
    T, B, _ = xs.shape
    H = W.shape[-1]
    if U.shape != (gates * H, xs.shape[2]) or W.shape != (gates * H, H):
        raise ValueError(f"{name}: weights U {U.shape} and W {W.shape} do not fit inputs {xs.shape} "
                         f"(expected U ({gates}·H, {xs.shape[2]}) and W ({gates}·H, H))")
    if h0 is not None and h0.shape != (B, H):
        raise ValueError(f"{name}: initial state of shape {h0.shape}, expected {(B, H)}")
    return T, B, H


def _unpack(roles: tuple, inputs: tuple) -> dict:
    return dict(zip(roles, inputs))


def _roles(*names_and_flags) -> tuple:
    return tuple(name for name, present in names_and_flags if present)


def _input_products(xs, U, b):
    """gx_t = x_t Uᵀ + b for every t: one product, (T, B, G·H)."""
    gx = (rows(xs) @ U.T).reshape(xs.shape[0], xs.shape[1], U.shape[0])
    if b is not None:
        gx += b
    return gx


def _active(active, T: int, B: int) -> tuple:
    return (B,) * T if active is None else tuple(active)


def _cut(truncate, t: int) -> bool:
    """No gradient crosses into step t − 1 from step t (truncated BPTT cuts after every k steps)."""
    return truncate is not None and t > 0 and t % truncate == 0


def _weight_grads(d_pre, xs, prev_first, states, needs_U: bool, needs_W: bool):
    """Σ_t d_preᵀ x_t and Σ_t d_preᵀ s_{t−1} (s_{−1} = the initial state, None for zeros), batched."""
    dU = rows(d_pre).T @ rows(xs) if needs_U else None
    dW = None
    if needs_W:
        dW = rows(d_pre[1:]).T @ rows(states[:-1]) if len(d_pre) > 1 else np.zeros((d_pre.shape[-1], states.shape[-1]),
                                                                                      d_pre.dtype)
        if prev_first is not None:
            dW += d_pre[0].T @ prev_first
    return dU, dW


def _finish(grads: dict, roles: tuple, needs: tuple) -> list:
    return [grads.get(role) if need else None for role, need in zip(roles, needs)]


# ---------------------------------------------------------------------------------------------
# tanh / relu RNN
# ---------------------------------------------------------------------------------------------
class RNNSaved(Steps):
    __slots__ = ("xs", "h0", "U", "W", "hs", "relu", "truncate", "active", "roles")


def _rnn_sequence_backward(G, saved: RNNSaved, needs):
    xs, h0, U, W, hs = saved.xs, saved.h0, saved.U, saved.W, saved.hs
    T, B, H = hs.shape
    active = _active(saved.active, T, B)
    d_pre = np.zeros_like(hs)
    deltas = np.zeros_like(hs) if saved.want_deltas else None
    carry = np.zeros((B, H), hs.dtype)
    for t in range(T - 1, -1, -1):
        n = active[t]
        delta = G[t, :n] + carry[:n]
        if deltas is not None:
            deltas[t] = G[t] + carry
        h = hs[t, :n]
        d = delta * (h > 0) if saved.relu else delta * (1 - h * h)
        d_pre[t, :n] = d
        if _cut(saved.truncate, t):
            carry[:] = 0
        else:
            carry[n:] += G[t, n:]  # finished sequences: the state was copied on
            carry[:n] = d @ W
    saved.deltas = deltas
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"], grads["W"] = _weight_grads(d_pre, xs, h0, hs, need.get("U"), need.get("W"))
    if need.get("b"):
        grads["b"] = d_pre.sum(axis=(0, 1))
    if need.get("xs"):
        grads["xs"] = d_pre @ U
    if need.get("h0"):
        grads["h0"] = carry
    return _finish(grads, saved.roles, needs)


@primitive(_rnn_sequence_backward, joint=True, time_axis=0)
def rnn_sequence(xs, *rest, has_state=False, has_bias=True, nonlinearity="tanh", truncate=None, active=None):
    """a_1..a_T of a tanh or relu RNN over xs (T, B, I): inputs xs, [h0], U, W, [b]; result (T, B, H)."""
    roles = _roles(("xs", True), ("h0", has_state), ("U", True), ("W", True), ("b", has_bias))
    given = _unpack(roles, (xs,) + rest)
    h0, U, W, b = given.get("h0"), given["U"], given["W"], given.get("b")
    T, B, H = _check("rnn_sequence", xs, h0, U, W, 1)
    act = _active(active, T, B)
    gx = _input_products(xs, U, b)
    hs = np.zeros((T, B, H), gx.dtype)
    h = np.zeros((B, H), gx.dtype) if h0 is None else h0
    relu = nonlinearity == "relu"
    for t in range(T):
        n = act[t]
        pre = gx[t, :n]
        pre += h[:n] @ W.T
        hs[t, :n] = np.maximum(pre, 0) if relu else np.tanh(pre)
        if n < B:
            hs[t, n:] = h[n:]  # finished sequences keep their state
        h = hs[t]
    saved = RNNSaved()
    saved.xs, saved.h0, saved.U, saved.W, saved.hs = xs, h0, U, W, hs
    saved.relu, saved.truncate, saved.active, saved.roles = relu, truncate, active, roles
    return hs, saved


# ---------------------------------------------------------------------------------------------
# LSTM: the result holds [h_t | c_t] side by side, (T, B, 2H)
# ---------------------------------------------------------------------------------------------
class LSTMSaved(Steps):
    __slots__ = ("xs", "h0", "c0", "U", "W", "out", "acts", "truncate", "active", "roles")
    parts = 2


def _lstm_sequence_backward(G, saved: LSTMSaved, needs):
    xs, h0, c0, U, W, out, acts = saved.xs, saved.h0, saved.c0, saved.U, saved.W, saved.out, saved.acts
    T, B, H2 = out.shape
    H = H2 // 2
    active = _active(saved.active, T, B)
    d_pre = np.zeros_like(acts)
    deltas = np.zeros_like(out) if saved.want_deltas else None
    carry_h = np.zeros((B, H), out.dtype)
    carry_c = np.zeros((B, H), out.dtype)
    for t in range(T - 1, -1, -1):
        n = active[t]
        a = acts[t, :n]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = out[t, :n, H:]
        c_prev = out[t - 1, :n, H:] if t > 0 else (None if c0 is None else c0[:n])
        tc = np.tanh(c)
        dh = G[t, :n, :H] + carry_h[:n]
        dc = G[t, :n, H:] + carry_c[:n] + dh * o * (1 - tc * tc)
        if deltas is not None:
            deltas[t, :, :H] = G[t, :, :H] + carry_h
            deltas[t, :n, H:] = dc
            deltas[t, n:, H:] = G[t, n:, H:] + carry_c[n:]
        d = d_pre[t, :n]
        d[:, :H] = dc * g * i * (1 - i)
        if c_prev is not None:
            d[:, H:2 * H] = dc * c_prev * f * (1 - f)
        d[:, 2 * H:3 * H] = dc * i * (1 - g * g)
        d[:, 3 * H:] = dh * tc * o * (1 - o)
        if _cut(saved.truncate, t):
            carry_h[:] = 0
            carry_c[:] = 0
        else:
            carry_h[n:] += G[t, n:, :H]  # finished sequences: h and c were copied on
            carry_c[n:] += G[t, n:, H:]
            carry_h[:n] = d @ W
            carry_c[:n] = dc * f
    saved.deltas = deltas
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"], grads["W"] = _weight_grads(d_pre, xs, h0, out[..., :H], need.get("U"), need.get("W"))
    if need.get("b"):
        grads["b"] = d_pre.sum(axis=(0, 1))
    if need.get("xs"):
        grads["xs"] = d_pre @ U
    if need.get("h0"):
        grads["h0"] = carry_h
    if need.get("c0"):
        grads["c0"] = carry_c
    return _finish(grads, saved.roles, needs)


@primitive(_lstm_sequence_backward, joint=True, time_axis=0)
def lstm_sequence(xs, *rest, has_state=False, has_bias=True, truncate=None, active=None):
    """h_t and c_t of an LSTM over xs (T, B, I): inputs xs, [h0, c0], U, W, [b]; result (T, B, 2H)
    holding [h_t | c_t]."""
    roles = _roles(("xs", True), ("h0", has_state), ("c0", has_state), ("U", True), ("W", True), ("b", has_bias))
    given = _unpack(roles, (xs,) + rest)
    h0, c0, U, W, b = given.get("h0"), given.get("c0"), given["U"], given["W"], given.get("b")
    T, B, H = _check("lstm_sequence", xs, h0, U, W, 4)
    if c0 is not None and c0.shape != (B, H):
        raise ValueError(f"lstm_sequence: initial cell state of shape {c0.shape}, expected {(B, H)}")
    act = _active(active, T, B)
    gx = _input_products(xs, U, b)
    out = np.zeros((T, B, 2 * H), gx.dtype)
    acts = np.zeros((T, B, 4 * H), gx.dtype)
    h = np.zeros((B, H), gx.dtype) if h0 is None else h0
    c = np.zeros((B, H), gx.dtype) if c0 is None else c0
    for t in range(T):
        n = act[t]
        pre = gx[t, :n]
        pre += h[:n] @ W.T
        a = acts[t, :n]
        a[:, :2 * H] = sigmoid(pre[:, :2 * H])
        a[:, 2 * H:3 * H] = np.tanh(pre[:, 2 * H:3 * H])
        a[:, 3 * H:] = sigmoid(pre[:, 3 * H:])
        c_new = a[:, H:2 * H] * c[:n] + a[:, :H] * a[:, 2 * H:3 * H]
        out[t, :n, H:] = c_new
        out[t, :n, :H] = a[:, 3 * H:] * np.tanh(c_new)
        if n < B:  # finished sequences keep their state
            out[t, n:, :H], out[t, n:, H:] = h[n:], c[n:]
        h, c = out[t, :, :H], out[t, :, H:]
    saved = LSTMSaved()
    saved.xs, saved.h0, saved.c0, saved.U, saved.W, saved.out, saved.acts = xs, h0, c0, U, W, out, acts
    saved.truncate, saved.active, saved.roles = truncate, active, roles
    return out, saved


# ---------------------------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------------------------
class GRUSaved(Steps):
    __slots__ = ("xs", "h0", "U", "W", "hs", "gates", "truncate", "active", "roles")


def _gru_sequence_backward(G, saved: GRUSaved, needs):
    xs, h0, U, W, hs, gates = saved.xs, saved.h0, saved.U, saved.W, saved.hs, saved.gates
    T, B, H = hs.shape
    active = _active(saved.active, T, B)
    d_gx = np.zeros((T, B, 3 * H), hs.dtype)
    d_gh = np.zeros((T, B, 3 * H), hs.dtype)
    deltas = np.zeros_like(hs) if saved.want_deltas else None
    carry = np.zeros((B, H), hs.dtype)
    for t in range(T - 1, -1, -1):
        n = active[t]
        r, z, nn, hn = (gates[k, t, :n] for k in range(4))
        h_prev = hs[t - 1, :n] if t > 0 else (0 if h0 is None else h0[:n])
        dh = G[t, :n] + carry[:n]
        if deltas is not None:
            deltas[t] = G[t] + carry
        dn = dh * (1 - z) * (1 - nn * nn)
        dz = dh * (h_prev - nn) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        dx, dhh = d_gx[t, :n], d_gh[t, :n]
        dx[:, :H] = dr
        dx[:, H:2 * H] = dz
        dx[:, 2 * H:] = dn
        dhh[:, :2 * H] = dx[:, :2 * H]
        dhh[:, 2 * H:] = dn * r
        if _cut(saved.truncate, t):
            carry[:] = 0
        else:
            carry[n:] += G[t, n:]  # finished sequences: the state was copied on
            carry[:n] = dh * z + dhh @ W
    saved.deltas = deltas
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"] = rows(d_gx).T @ rows(xs) if need.get("U") else None
    _, grads["W"] = _weight_grads(d_gh, xs, h0, hs, False, need.get("W"))
    if need.get("b"):
        grads["b"] = d_gx.sum(axis=(0, 1))
    if need.get("b_hn"):
        grads["b_hn"] = d_gh[..., 2 * H:].sum(axis=(0, 1))
    if need.get("xs"):
        grads["xs"] = d_gx @ U
    if need.get("h0"):
        grads["h0"] = carry
    return _finish(grads, saved.roles, needs)


@primitive(_gru_sequence_backward, joint=True, time_axis=0)
def gru_sequence(xs, *rest, has_state=False, has_bias=True, truncate=None, active=None):
    """h_1..h_T of a GRU over xs (T, B, I): inputs xs, [h0], U, W, [b, b_hn]; result (T, B, H)."""
    roles = _roles(("xs", True), ("h0", has_state), ("U", True), ("W", True), ("b", has_bias), ("b_hn", has_bias))
    given = _unpack(roles, (xs,) + rest)
    h0, U, W, b, b_hn = given.get("h0"), given["U"], given["W"], given.get("b"), given.get("b_hn")
    T, B, H = _check("gru_sequence", xs, h0, U, W, 3)
    act = _active(active, T, B)
    gx = _input_products(xs, U, b)
    hs = np.zeros((T, B, H), gx.dtype)
    gates = np.zeros((4, T, B, H), gx.dtype)  # r, z, n, hn = W_n h_{t−1} + b_hn
    h = np.zeros((B, H), gx.dtype) if h0 is None else h0
    for t in range(T):
        n = act[t]
        gh = h[:n] @ W.T
        r, z, nn, hn = gates[0, t, :n], gates[1, t, :n], gates[2, t, :n], gates[3, t, :n]
        rz = sigmoid(gx[t, :n, :2 * H] + gh[:, :2 * H])
        r[:], z[:] = rz[:, :H], rz[:, H:]
        hn[:] = gh[:, 2 * H:] if b_hn is None else gh[:, 2 * H:] + b_hn
        nn[:] = np.tanh(gx[t, :n, 2 * H:] + r * hn)
        hs[t, :n] = (1 - z) * nn + z * h[:n]
        if n < B:
            hs[t, n:] = h[n:]  # finished sequences keep their state
        h = hs[t]
    saved = GRUSaved()
    saved.xs, saved.h0, saved.U, saved.W, saved.hs, saved.gates = xs, h0, U, W, hs, gates
    saved.truncate, saved.active, saved.roles = truncate, active, roles
    return hs, saved


# ---------------------------------------------------------------------------------------------
# One step's state out of a sequence's result (what `rnn.states` holds)
# ---------------------------------------------------------------------------------------------
@primitive(lambda g, saved: IndexedGrad(saved[0], saved[1], saved[2], g, True))
def step(seq, index=(0,)):
    """seq[index]: one time step's state of a sequence node's result (index (t,) or (t, ..., part)).
    As a target of grad(), or retained, it receives its total gradient (engine.Steps)."""
    return seq[index], (seq.shape, seq.dtype, index)
