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


def _input_side(grads: dict, need: dict, d_x, U, carry) -> None:
    """The gradients every sequence has on its input side, from δ(x Uᵀ + b) of all steps (d_x) and
    what reached step 0 (carry): the bias, the inputs, the initial state."""
    if need.get("b"):
        grads["b"] = d_x.sum(axis=(0, 1))
    if need.get("xs"):
        grads["xs"] = d_x @ U
    if need.get("h0"):
        grads["h0"] = carry


def _finish(grads: dict, roles: tuple, needs: tuple) -> list:
    return [grads.get(role) if need else None for role, need in zip(roles, needs)]


# ---------------------------------------------------------------------------------------------
# The loops below make as few NumPy calls per step as they can (what does not depend on the
# recursion is computed for all steps at once), writing into preallocated arrays (`out=`): for a
# small batch, a step's time is mostly the per-call cost of NumPy. Wᵀ is made contiguous once: BLAS
# multiplies by it a third faster than by the transposed view. `n` is the number of sequences still
# running at a step; `r` the slice of their rows.
# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# tanh / relu RNN
# ---------------------------------------------------------------------------------------------
class RNNSaved(Steps):
    __slots__ = ("xs", "h0", "U", "W", "hs", "relu", "truncate", "active", "roles")


def _rnn_sequence_backward(G, saved: RNNSaved, needs):
    xs, h0, U, W, hs = saved.xs, saved.h0, saved.U, saved.W, saved.hs
    T, B, H = hs.shape
    active = _active(saved.active, T, B)
    if saved.relu:  # φ'(pre) of every step, multiplied by δ step by step below
        d_pre = (hs > 0).astype(hs.dtype)
    else:
        d_pre = np.multiply(hs, hs)
        np.subtract(1, d_pre, out=d_pre)
    deltas = np.empty_like(hs)
    carry = np.zeros((B, H), hs.dtype)
    for t in range(T - 1, -1, -1):
        n, delta, d = active[t], deltas[t], d_pre[t]
        np.add(G[t], carry, out=delta)             # δ_t = G_t + δpre_{t+1} W
        d *= delta                                 # δpre_t = δ_t ⊙ φ'
        if n < B:
            d[n:] = 0
        if _cut(saved.truncate, t):
            carry[:] = 0
        elif n == B:
            np.matmul(d, W, out=carry)
        else:
            carry[n:] = delta[n:]                  # finished sequences: their state was copied on
            np.matmul(d[:n], W, out=carry[:n])
    saved.deltas = deltas if saved.want_deltas else None
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"], grads["W"] = _weight_grads(d_pre, xs, h0, hs, need.get("U"), need.get("W"))
    _input_side(grads, need, d_pre, U, carry)
    return _finish(grads, saved.roles, needs)


@primitive(_rnn_sequence_backward, joint=True, time_axis=0)
def rnn_sequence(xs, *rest, has_state=False, has_bias=True, nonlinearity="tanh", truncate=None, active=None):
    """a_1..a_T of a tanh or relu RNN over xs (T, B, I): inputs xs, [h0], U, W, [b]; result (T, B, H)."""
    roles = _roles(("xs", True), ("h0", has_state), ("U", True), ("W", True), ("b", has_bias))
    given = _unpack(roles, (xs,) + rest)
    h0, U, W, b = given.get("h0"), given["U"], given["W"], given.get("b")
    T, B, H = _check("rnn_sequence", xs, h0, U, W, 1)
    act = _active(active, T, B)
    hs = _input_products(xs, U, b)  # gx_t, turned into a_t in place
    relu = nonlinearity == "relu"
    WT, buf, h = np.ascontiguousarray(W.T), np.empty((B, H), hs.dtype), h0
    for t in range(T):
        n, a = act[t], hs[t]
        r = slice(0, n)
        if h is not None:  # no state: zeros, no product (as a cell's first step)
            np.matmul(h[r], WT, out=buf[r])
            a[r] += buf[r]
        if relu:
            np.maximum(a[r], 0, out=a[r])
        else:
            np.tanh(a[r], out=a[r])
        if n < B:
            a[n:] = h[n:]  # finished sequences keep their state
        h = a
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


def _lstm_gate_constants(H: int, dtype):
    """σ(x) = (1 + tanh(x/2)) / 2, so one tanh makes all four gates: scale the i, f, o blocks of the
    pre-activation by 1/2, take tanh, then scale and shift those blocks (g, the tanh gate, as it is)."""
    half = np.full(4 * H, 0.5, dtype)
    half[2 * H:3 * H] = 1
    shift = np.full(4 * H, 0.5, dtype)
    shift[2 * H:3 * H] = 0
    return half, shift


def _lstm_sequence_backward(G, saved: LSTMSaved, needs):
    xs, h0, c0, U, W, out, A = saved.xs, saved.h0, saved.c0, saved.U, saved.W, saved.out, saved.acts
    T, B, H2 = out.shape
    H = H2 // 2
    active = _active(saved.active, T, B)
    C = out[..., H:]
    Ai, Af, Ag, Ao = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
    TC = np.tanh(C)
    # δpre_t = [δc ⊙ g ⊙ σ'_i, δc ⊙ c_{t−1} ⊙ σ'_f, δc ⊙ i ⊙ tanh'_g, δh ⊙ tanh c ⊙ σ'_o]: all but the
    # δc and δh factors are known before the recursion, so d_pre holds those first (σ' = a − a²)
    d_pre = np.empty_like(A)
    Pi, Pf, Pg, Po = d_pre[..., :H], d_pre[..., H:2 * H], d_pre[..., 2 * H:3 * H], d_pre[..., 3 * H:]
    for P, gate, other in ((Pi, Ai, Ag), (Pf, Af, None), (Po, Ao, TC)):
        np.multiply(gate, gate, out=P)
        np.subtract(gate, P, out=P)
        if other is not None:
            P *= other
    Pf[1:] *= C[:-1]
    if c0 is None:
        Pf[0] = 0
    else:
        Pf[0] *= c0
    np.multiply(Ag, Ag, out=Pg)
    np.subtract(1, Pg, out=Pg)
    Pg *= Ai
    Q = np.multiply(TC, TC, out=TC)  # o ⊙ (1 − tanh² c): how δh reaches c
    np.subtract(1, Q, out=Q)
    Q *= Ao
    deltas = np.empty_like(out)
    carry_h = np.zeros((B, H), out.dtype)
    carry_c = np.zeros((B, H), out.dtype)
    # views made once (a view per step and use costs more than the arithmetic at small sizes):
    # the i, f, g blocks of δpre side by side, each multiplied by δc; the o block by δh
    P_ifg, P_o = d_pre[..., :3 * H].reshape(T, B, 3, H), d_pre[..., 3 * H:]
    DH, DC, DC_ifg = deltas[..., :H], deltas[..., H:], deltas[:, :, None, H:]
    GH, GC = G[..., :H], G[..., H:]
    for t in range(T - 1, -1, -1):
        n, dp = active[t], d_pre[t]
        dh, dc = DH[t], DC[t]
        np.add(GH[t], carry_h, out=dh)
        np.multiply(dh, Q[t], out=dc)
        if n < B:
            dc[n:] = 0  # a finished sequence's c was copied on, not made from its h
            dp[n:] = 0
        dc += GC[t]
        dc += carry_c
        p_ifg = P_ifg[t]
        np.multiply(p_ifg, DC_ifg[t], out=p_ifg)
        P_o[t] *= dh
        if _cut(saved.truncate, t):
            carry_h[:] = 0
            carry_c[:] = 0
        elif n == B:
            np.matmul(dp, W, out=carry_h)
            np.multiply(dc, Af[t], out=carry_c)
        else:
            carry_h[n:], carry_c[n:] = dh[n:], dc[n:]  # finished sequences: h and c were copied on
            np.matmul(dp[:n], W, out=carry_h[:n])
            np.multiply(dc[:n], Af[t, :n], out=carry_c[:n])
    saved.deltas = deltas if saved.want_deltas else None
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"], grads["W"] = _weight_grads(d_pre, xs, h0, out[..., :H], need.get("U"), need.get("W"))
    _input_side(grads, need, d_pre, U, carry_h)
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
    A = _input_products(xs, U, b)  # the pre-activations, turned into the gates in place
    half, shift = _lstm_gate_constants(H, A.dtype)
    # the halving that σ(x) = (1 + tanh(x/2)) / 2 needs, done once: on the input part of every step,
    # and in Wᵀ (exact: halving is a power of two, so the result has the very bits of halving after)
    A *= half
    WT = W.T * half
    out = np.empty((T, B, 2 * H), A.dtype)
    buf, tmp = np.empty((B, 4 * H), A.dtype), np.empty((B, H), A.dtype)
    # views made once (a view per step and use costs more than the arithmetic at small sizes)
    gate_i, gate_f, gate_g, gate_o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
    Hs, Cs = out[..., :H], out[..., H:]
    h, c = h0, c0
    for t in range(T):
        n = act[t]
        a, i, f, g, o = A[t], gate_i[t], gate_f[t], gate_g[t], gate_o[t]
        h_t, c_t, b4, b1 = Hs[t], Cs[t], buf, tmp
        hp, cp = h, c
        if n < B:  # only the running sequences' rows
            a, i, f, g, o, h_t, c_t, b4, b1 = (v[:n] for v in (a, i, f, g, o, h_t, c_t, b4, b1))
            hp, cp = h[:n], c[:n]
        if h is not None:
            np.matmul(hp, WT, out=b4)
            a += b4
        np.tanh(a, out=a)
        a *= half
        a += shift                         # now i, f, g, o
        np.multiply(i, g, out=c_t)
        if c is not None:
            np.multiply(f, cp, out=b1)
            c_t += b1                      # c = f ⊙ c_prev + i ⊙ g
        np.tanh(c_t, out=b1)
        np.multiply(o, b1, out=h_t)        # h = o ⊙ tanh c
        h_t, c_t = Hs[t], Cs[t]
        if n < B:  # finished sequences keep their state
            h_t[n:], c_t[n:] = h[n:], c[n:]
            A[t, n:] = 0
        h, c = h_t, c_t
    saved = LSTMSaved()
    saved.xs, saved.h0, saved.c0, saved.U, saved.W, saved.out, saved.acts = xs, h0, c0, U, W, out, A
    saved.truncate, saved.active, saved.roles = truncate, active, roles
    return out, saved


# ---------------------------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------------------------
class GRUSaved(Steps):
    __slots__ = ("xs", "h0", "U", "W", "hs", "rz", "nh", "truncate", "active", "roles")


def _gru_sequence_backward(G, saved: GRUSaved, needs):
    xs, h0, U, W, hs, rz, nh = saved.xs, saved.h0, saved.U, saved.W, saved.hs, saved.rz, saved.nh
    T, B, H = hs.shape
    active = _active(saved.active, T, B)
    R, Z, N, HN = rz[..., :H], rz[..., H:], nh[0], nh[1]
    # δn = δh ⊙ (1 − z)(1 − n²), δz = δh ⊙ (h_{t−1} − n) z(1 − z), δr = δn ⊙ hn r(1 − r), and
    # δ(gh_n) = δn ⊙ r: each is δh times a factor known before the recursion, so the buffers hold
    # the factors first and are multiplied by δh step by step
    d_gx = np.empty((T, B, 3 * H), hs.dtype)
    Fr, Fz, Fn = d_gx[..., :H], d_gx[..., H:2 * H], d_gx[..., 2 * H:]
    np.subtract(1, Z, out=Fn)
    np.multiply(N, N, out=Fr)
    np.subtract(1, Fr, out=Fr)
    Fn *= Fr                                  # (1 − z)(1 − n²)
    np.multiply(R, R, out=Fr)
    np.subtract(R, Fr, out=Fr)
    Fr *= HN
    Fr *= Fn                                  # (1 − z)(1 − n²) hn r(1 − r)
    Fz[1:] = hs[:-1]
    Fz[0] = 0 if h0 is None else h0
    Fz -= N
    Fz *= Z
    Fz -= Fz * Z                              # (h_{t−1} − n) z(1 − z)
    d_ghn = np.multiply(Fn, R)                # δ(gh_r), δ(gh_z) are δ(gx_r), δ(gx_z)
    deltas = np.empty_like(hs)
    carry = np.zeros((B, H), hs.dtype)
    tmp = np.empty((B, H), hs.dtype)
    W_rz, W_n = W[:2 * H], W[2 * H:]
    for t in range(T - 1, -1, -1):
        n, dh, dx, dg = active[t], deltas[t], d_gx[t], d_ghn[t]
        np.add(G[t], carry, out=dh)
        dx.reshape(B, 3, H)[...] *= dh[:, None, :]
        dg *= dh
        if n < B:
            dx[n:] = 0
            dg[n:] = 0
        if _cut(saved.truncate, t):
            carry[:] = 0
            continue
        np.matmul(dx[:, :2 * H], W_rz, out=carry)  # δh_{t−1} = δgh W + δh ⊙ z
        np.matmul(dg, W_n, out=tmp)
        carry += tmp
        if n == B:
            np.multiply(dh, Z[t], out=tmp)
            carry += tmp
        else:
            np.multiply(dh[:n], Z[t, :n], out=tmp[:n])
            carry[:n] += tmp[:n]
            carry[n:] = dh[n:]  # finished sequences: the state was copied on
    saved.deltas = deltas if saved.want_deltas else None
    grads = {}
    need = dict(zip(saved.roles, needs))
    grads["U"] = rows(d_gx).T @ rows(xs) if need.get("U") else None
    if need.get("W"):
        _, dW_rz = _weight_grads(d_gx[..., :2 * H], xs, h0, hs, False, True)
        _, dW_n = _weight_grads(d_ghn, xs, h0, hs, False, True)
        grads["W"] = np.concatenate([dW_rz, dW_n])
    if need.get("b_hn"):
        grads["b_hn"] = d_ghn.sum(axis=(0, 1))
    _input_side(grads, need, d_gx, U, carry)
    return _finish(grads, saved.roles, needs)


@primitive(_gru_sequence_backward, joint=True, time_axis=0)
def gru_sequence(xs, *rest, has_state=False, has_bias=True, truncate=None, active=None):
    """h_1..h_T of a GRU over xs (T, B, I): inputs xs, [h0], U, W, [b, b_hn]; result (T, B, H)."""
    roles = _roles(("xs", True), ("h0", has_state), ("U", True), ("W", True), ("b", has_bias), ("b_hn", has_bias))
    given = _unpack(roles, (xs,) + rest)
    h0, U, W, b, b_hn = given.get("h0"), given["U"], given["W"], given.get("b"), given.get("b_hn")
    T, B, H = _check("gru_sequence", xs, h0, U, W, 3)
    act = _active(active, T, B)
    # the r, z part (kept, turned into r and z in place) and the n part of x Uᵀ + b, apart
    rz = _input_products(xs, U[:2 * H], None if b is None else b[:2 * H])
    gx_n = _input_products(xs, U[2 * H:], None if b is None else b[2 * H:])
    hs = np.empty((T, B, H), rz.dtype)
    nh = np.zeros((2, T, B, H), rz.dtype)    # n, and hn = h_{t−1} W_nᵀ + b_hn
    WT, gh = np.ascontiguousarray(W.T), np.zeros((B, 3 * H), rz.dtype)
    h = h0
    for t in range(T):
        n, g = act[t], rz[t]
        r = slice(0, n)
        nn, hn, h_t = nh[0, t], nh[1, t], hs[t]
        if h is not None:
            np.matmul(h[r], WT, out=gh[r])
            g[r] += gh[r, :2 * H]
        g[r] *= 0.5                          # r, z = σ(·) = (1 + tanh(·/2)) / 2
        np.tanh(g[r], out=g[r])
        g[r] *= 0.5
        g[r] += 0.5
        if b_hn is None:
            hn[r] = gh[r, 2 * H:]
        else:
            np.add(gh[r, 2 * H:], b_hn, out=hn[r])
        np.multiply(g[r, :H], hn[r], out=nn[r])
        nn[r] += gx_n[t, r]
        np.tanh(nn[r], out=nn[r])            # n = tanh(gx_n + r ⊙ hn)
        if h is None:
            np.multiply(g[r, H:], nn[r], out=h_t[r])
            np.subtract(nn[r], h_t[r], out=h_t[r])   # h = (1 − z) ⊙ n
        else:
            np.subtract(h[r], nn[r], out=h_t[r])
            h_t[r] *= g[r, H:]
            h_t[r] += nn[r]                  # h = n + z ⊙ (h_prev − n)
        if n < B:
            h_t[n:] = h[n:]  # finished sequences keep their state
            g[n:] = 0
        h = h_t
    saved = GRUSaved()
    saved.xs, saved.h0, saved.U, saved.W, saved.hs, saved.rz, saved.nh = xs, h0, U, W, hs, rz, nh
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
