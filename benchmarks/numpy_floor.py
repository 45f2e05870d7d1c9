"""The floor: one training step of an RNN, LSTM or GRU written by hand in NumPy.

A step is forward over T time steps, an output layer ŷ_t = h_t Vᵀ + c, the MSE loss over all
outputs, and full BPTT. Weights use PyTorch's layout (`weight_ih`, `weight_hh`, `bias_ih`,
`bias_hh`, gates stacked as i, f, g, o for the LSTM and r, z, n for the GRU), plus `V` and `c`.

Two versions of each: `step` runs every product one time step at a time, as the library's cell loop
does; `step_batched` does the input and output products for all T at once, as fused RNN libraries
do, and keeps the loop only for the recurrence.

Each returns (loss, grads) with grads keyed like the weights. `SAVED` says which arrays per time
step the backward keeps: what "activations BPTT must keep" means in the memory table.
"""
from __future__ import annotations

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}

# Arrays of shape (B, H) or (B, O) a hand-written BPTT keeps per time step.
SAVED = {
    "rnn": {"hidden": 1, "output": 1},   # a_t (tanh' = 1 - a_t²), residual ŷ_t - y_t
    "lstm": {"hidden": 7, "output": 1},  # i, f, g, o, c_t, tanh(c_t), h_t; residual
    "gru": {"hidden": 5, "output": 1},   # r, z, n, W_hn h + b_hn, h_t; residual
}


def init_weights(kind: str, input_size: int, hidden: int, output: int, rng, dtype=np.float32) -> dict:
    """PyTorch's initialisation U(±1/sqrt(hidden)) for the cell and U(±1/sqrt(hidden)) for V, c."""
    g = GATES[kind]
    bound = 1 / np.sqrt(hidden)

    def u(*shape):
        return rng.uniform(-bound, bound, shape).astype(dtype)

    return {"weight_ih": u(g * hidden, input_size), "weight_hh": u(g * hidden, hidden),
            "bias_ih": u(g * hidden), "bias_hh": u(g * hidden), "V": u(output, hidden), "c": u(output)}


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _zeros_like(p: dict) -> dict:
    return {k: np.zeros_like(v) for k, v in p.items()}


# ------------------------------------------------------------------------------------------------
# One time step at a time
# ------------------------------------------------------------------------------------------------
def step(kind: str, p: dict, xs: np.ndarray, ys: np.ndarray):
    return {"rnn": _rnn, "lstm": _lstm, "gru": _gru}[kind](p, xs, ys)


def _output_layer(p, h, y_target, scale, saved):
    """ŷ = h Vᵀ + c and the residual; returns the summed squared error."""
    d = h @ p["V"].T + p["c"] - y_target
    saved.append(d)
    return float(np.vdot(d, d)) * scale


def _output_backward(p, g, h, d, scale):
    """Gradient of the loss through the output layer: accumulates into V, c; returns dL/dh."""
    dy = d * (2 * scale)
    g["V"] += dy.T @ h
    g["c"] += dy.sum(axis=0)
    return dy @ p["V"]


def _rnn(p, xs, ys):
    T, B, _ = xs.shape
    H = p["weight_hh"].shape[1]
    scale = 1.0 / ys.size
    U, W, b = p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]
    hs, ds = [np.zeros((B, H), xs.dtype)], []
    loss = 0.0
    for t in range(T):
        h = np.tanh(xs[t] @ U.T + hs[-1] @ W.T + b)
        hs.append(h)
        loss += _output_layer(p, h, ys[t], scale, ds)
    g = _zeros_like(p)
    dh_next = np.zeros((B, H), xs.dtype)
    for t in reversed(range(T)):
        dh = _output_backward(p, g, hs[t + 1], ds[t], scale) + dh_next
        dpre = dh * (1 - hs[t + 1] * hs[t + 1])
        g["weight_ih"] += dpre.T @ xs[t]
        g["weight_hh"] += dpre.T @ hs[t]
        g["bias_ih"] += dpre.sum(axis=0)
        dh_next = dpre @ W
    g["bias_hh"] = g["bias_ih"].copy()
    return loss, g


def _lstm(p, xs, ys):
    T, B, _ = xs.shape
    H = p["weight_hh"].shape[1]
    scale = 1.0 / ys.size
    Wih, Whh, b = p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]
    hs, cs, ds, saved = [np.zeros((B, H), xs.dtype)], [np.zeros((B, H), xs.dtype)], [], []
    loss = 0.0
    for t in range(T):
        z = xs[t] @ Wih.T + hs[-1] @ Whh.T + b
        i, f = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H])
        gg, o = np.tanh(z[:, 2 * H:3 * H]), _sigmoid(z[:, 3 * H:])
        c = f * cs[-1] + i * gg
        tc = np.tanh(c)
        h = o * tc
        hs.append(h)
        cs.append(c)
        saved.append((i, f, gg, o, tc))
        loss += _output_layer(p, h, ys[t], scale, ds)
    g = _zeros_like(p)
    dh_next = np.zeros((B, H), xs.dtype)
    dc_next = np.zeros((B, H), xs.dtype)
    dz = np.empty((B, 4 * H), xs.dtype)
    for t in reversed(range(T)):
        i, f, gg, o, tc = saved[t]
        dh = _output_backward(p, g, hs[t + 1], ds[t], scale) + dh_next
        dc = dc_next + dh * o * (1 - tc * tc)
        dz[:, :H] = dc * gg * i * (1 - i)
        dz[:, H:2 * H] = dc * cs[t] * f * (1 - f)
        dz[:, 2 * H:3 * H] = dc * i * (1 - gg * gg)
        dz[:, 3 * H:] = dh * tc * o * (1 - o)
        dc_next = dc * f
        g["weight_ih"] += dz.T @ xs[t]
        g["weight_hh"] += dz.T @ hs[t]
        g["bias_ih"] += dz.sum(axis=0)
        dh_next = dz @ Whh
    g["bias_hh"] = g["bias_ih"].copy()
    return loss, g


def _gru(p, xs, ys):
    T, B, _ = xs.shape
    H = p["weight_hh"].shape[1]
    scale = 1.0 / ys.size
    Wih, Whh, bih, bhh = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
    hs, ds, saved = [np.zeros((B, H), xs.dtype)], [], []
    loss = 0.0
    for t in range(T):
        gi = xs[t] @ Wih.T + bih
        gh = hs[-1] @ Whh.T + bhh
        r = _sigmoid(gi[:, :H] + gh[:, :H])
        z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        hn = gh[:, 2 * H:]
        n = np.tanh(gi[:, 2 * H:] + r * hn)
        h = (1 - z) * n + z * hs[-1]
        hs.append(h)
        saved.append((r, z, n, hn))
        loss += _output_layer(p, h, ys[t], scale, ds)
    g = _zeros_like(p)
    dh_next = np.zeros((B, H), xs.dtype)
    dgi = np.empty((B, 3 * H), xs.dtype)
    dgh = np.empty((B, 3 * H), xs.dtype)
    for t in reversed(range(T)):
        r, z, n, hn = saved[t]
        dh = _output_backward(p, g, hs[t + 1], ds[t], scale) + dh_next
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * hn * r * (1 - r)
        dzz = dh * (hs[t] - n) * z * (1 - z)
        dgi[:, :H] = dgh[:, :H] = dr
        dgi[:, H:2 * H] = dgh[:, H:2 * H] = dzz
        dgi[:, 2 * H:] = dn
        dgh[:, 2 * H:] = dn * r
        g["weight_ih"] += dgi.T @ xs[t]
        g["weight_hh"] += dgh.T @ hs[t]
        g["bias_ih"] += dgi.sum(axis=0)
        g["bias_hh"] += dgh.sum(axis=0)
        dh_next = dh * z + dgh @ Whh
    return loss, g


# ------------------------------------------------------------------------------------------------
# Input and output products batched over T; only the recurrence loops
# ------------------------------------------------------------------------------------------------
def step_batched(kind: str, p: dict, xs: np.ndarray, ys: np.ndarray):
    return {"rnn": _rnn_batched, "lstm": _lstm_batched, "gru": _gru_batched}[kind](p, xs, ys)


def _outputs_batched(p, hs, ys):
    """All outputs in one product; returns loss and dL/dh_t for every t (T, B, H)."""
    T, B, H = hs.shape
    flat = hs.reshape(T * B, H)
    d = flat @ p["V"].T + p["c"] - ys.reshape(T * B, -1)
    dy = d * (2.0 / ys.size)
    return float(np.vdot(d, d)) / ys.size, dy, flat


def _finish_batched(p, g, dy, flat_h, xs, dpre, hs_prev, dpre_hh=None):
    T, B, D = xs.shape
    g["V"] = dy.T @ flat_h
    g["c"] = dy.sum(axis=0)
    dflat = dpre.reshape(T * B, -1)
    g["weight_ih"] = dflat.T @ xs.reshape(T * B, D)
    g["bias_ih"] = dflat.sum(axis=0)
    dflat_hh = dflat if dpre_hh is None else dpre_hh.reshape(T * B, -1)
    g["weight_hh"] = dflat_hh.T @ hs_prev.reshape(T * B, -1)
    g["bias_hh"] = dflat_hh.sum(axis=0)
    return g


def _rnn_batched(p, xs, ys):
    T, B, D = xs.shape
    H = p["weight_hh"].shape[1]
    W = p["weight_hh"]
    pre_x = (xs.reshape(T * B, D) @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])).reshape(T, B, H)
    hs = np.empty((T + 1, B, H), xs.dtype)
    hs[0] = 0
    for t in range(T):
        hs[t + 1] = np.tanh(pre_x[t] + hs[t] @ W.T)
    loss, dy, flat = _outputs_batched(p, hs[1:], ys)
    dh_out = (dy @ p["V"]).reshape(T, B, H)
    dpre = np.empty((T, B, H), xs.dtype)
    dh_next = np.zeros((B, H), xs.dtype)
    for t in reversed(range(T)):
        h = hs[t + 1]
        dpre[t] = (dh_out[t] + dh_next) * (1 - h * h)
        dh_next = dpre[t] @ W
    return loss, _finish_batched(p, {}, dy, flat, xs, dpre, hs[:-1])


def _lstm_batched(p, xs, ys):
    T, B, D = xs.shape
    H = p["weight_hh"].shape[1]
    Whh = p["weight_hh"]
    zx = (xs.reshape(T * B, D) @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])).reshape(T, B, 4 * H)
    hs = np.empty((T + 1, B, H), xs.dtype)
    cs = np.empty((T + 1, B, H), xs.dtype)
    gates = np.empty((T, B, 4 * H), xs.dtype)  # i, f, g, o after their nonlinearities
    tcs = np.empty((T, B, H), xs.dtype)
    hs[0] = cs[0] = 0
    for t in range(T):
        z = zx[t] + hs[t] @ Whh.T
        a = gates[t]
        a[:, :2 * H] = _sigmoid(z[:, :2 * H])
        a[:, 2 * H:3 * H] = np.tanh(z[:, 2 * H:3 * H])
        a[:, 3 * H:] = _sigmoid(z[:, 3 * H:])
        cs[t + 1] = a[:, H:2 * H] * cs[t] + a[:, :H] * a[:, 2 * H:3 * H]
        tcs[t] = np.tanh(cs[t + 1])
        hs[t + 1] = a[:, 3 * H:] * tcs[t]
    loss, dy, flat = _outputs_batched(p, hs[1:], ys)
    dh_out = (dy @ p["V"]).reshape(T, B, H)
    dz = np.empty((T, B, 4 * H), xs.dtype)
    dh_next = np.zeros((B, H), xs.dtype)
    dc_next = np.zeros((B, H), xs.dtype)
    for t in reversed(range(T)):
        a, tc = gates[t], tcs[t]
        i, f, gg, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dh = dh_out[t] + dh_next
        dc = dc_next + dh * o * (1 - tc * tc)
        dz[t, :, :H] = dc * gg * i * (1 - i)
        dz[t, :, H:2 * H] = dc * cs[t] * f * (1 - f)
        dz[t, :, 2 * H:3 * H] = dc * i * (1 - gg * gg)
        dz[t, :, 3 * H:] = dh * tc * o * (1 - o)
        dc_next = dc * f
        dh_next = dz[t] @ Whh
    return loss, _finish_batched(p, {}, dy, flat, xs, dz, hs[:-1])


def _gru_batched(p, xs, ys):
    T, B, D = xs.shape
    H = p["weight_hh"].shape[1]
    Whh, bhh = p["weight_hh"], p["bias_hh"]
    gi = (xs.reshape(T * B, D) @ p["weight_ih"].T + p["bias_ih"]).reshape(T, B, 3 * H)
    hs = np.empty((T + 1, B, H), xs.dtype)
    rzn = np.empty((T, B, 3 * H), xs.dtype)
    hns = np.empty((T, B, H), xs.dtype)
    hs[0] = 0
    for t in range(T):
        gh = hs[t] @ Whh.T + bhh
        a = rzn[t]
        a[:, :2 * H] = _sigmoid(gi[t, :, :2 * H] + gh[:, :2 * H])
        hns[t] = gh[:, 2 * H:]
        a[:, 2 * H:] = np.tanh(gi[t, :, 2 * H:] + a[:, :H] * hns[t])
        z, n = a[:, H:2 * H], a[:, 2 * H:]
        hs[t + 1] = (1 - z) * n + z * hs[t]
    loss, dy, flat = _outputs_batched(p, hs[1:], ys)
    dh_out = (dy @ p["V"]).reshape(T, B, H)
    dgi = np.empty((T, B, 3 * H), xs.dtype)
    dgh = np.empty((T, B, 3 * H), xs.dtype)
    dh_next = np.zeros((B, H), xs.dtype)
    for t in reversed(range(T)):
        a = rzn[t]
        r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
        dh = dh_out[t] + dh_next
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * hns[t] * r * (1 - r)
        dzz = dh * (hs[t] - n) * z * (1 - z)
        dgi[t, :, :H] = dgh[t, :, :H] = dr
        dgi[t, :, H:2 * H] = dgh[t, :, H:2 * H] = dzz
        dgi[t, :, 2 * H:] = dn
        dgh[t, :, 2 * H:] = dn * r
        dh_next = dh * z + dgh[t] @ Whh
    return loss, _finish_batched(p, {}, dy, flat, xs, dgi, hs[:-1], dpre_hh=dgh)
