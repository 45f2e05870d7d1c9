"""The sequence primitives (ops/sequence.py: a recurrent layer's whole sequence as one node):
against float64 central differences, against the same cell unrolled step by step in the graph
(values, every input's gradient, and each step's total gradient through `step`), and against a
backpropagation through time written out in NumPy here."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_ops_grad import check_grads, needs_grad

from tinygrad_rnn import GRUCell, LSTMCell, RNNCell, Tensor, grad, ops
from tinygrad_rnn import functional as F
from tinygrad_rnn.nn.rnn import detach_state

SEQUENCE = {"rnn": ops.rnn_sequence, "lstm": ops.lstm_sequence, "gru": ops.gru_sequence}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


@st.composite
def problems(draw, kinds=("rnn", "lstm", "gru")):
    kind = draw(st.sampled_from(kinds))
    T, B, n_in, H = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    lengths = sorted(draw(st.lists(st.integers(1, T), min_size=B, max_size=B)), reverse=True)
    return dict(kind=kind, T=T, B=B, I=n_in, H=H, seed=seed, has_state=draw(st.booleans()),
                has_bias=draw(st.booleans()), truncate=draw(st.sampled_from([None, 1, 2, 3])),
                active=tuple(sum(L > t for L in lengths) for t in range(T)) if draw(st.booleans()) else None,
                relu=kind == "rnn" and draw(st.booleans()))


def arrays_of(p):
    """xs, [h0, (c0)], U, W, [b, (b_hn)] for problem p, as float64 arrays in a moderate range."""
    rng = np.random.default_rng(p["seed"])
    G, H = GATES[p["kind"]], p["H"]
    arrays = [rng.uniform(-1, 1, (p["T"], p["B"], p["I"]))]
    if p["has_state"]:  # h0, and an LSTM's c0
        arrays += [rng.uniform(-1, 1, (p["B"], H)) for _ in range(2 if p["kind"] == "lstm" else 1)]
    arrays += [rng.uniform(-0.8, 0.8, (G * H, p["I"])), rng.uniform(-0.8, 0.8, (G * H, H))]
    if p["has_bias"]:
        arrays.append(rng.uniform(-0.5, 0.5, (G * H,)))
        if p["kind"] == "gru":
            arrays.append(rng.uniform(-0.5, 0.5, (H,)))
    return arrays


def options(p):
    o = dict(has_state=p["has_state"], has_bias=p["has_bias"], truncate=p["truncate"], active=p["active"])
    if p["kind"] == "rnn":
        o["nonlinearity"] = "relu" if p["relu"] else "tanh"
    return o


@given(data=st.data(), p=problems())
def test_sequences_against_central_differences(data, p):
    p = dict(p, truncate=None)  # a truncated gradient is not the derivative: tested against detach below
    arrays = arrays_of(p)
    if p["relu"]:  # keep pre-activations away from relu's kink: every input and weight positive
        arrays = [np.abs(a) + 0.05 for a in arrays]
    op = SEQUENCE[p["kind"]]
    check_grads(data, lambda *ts: op(*ts, **options(p)), *arrays, requires_grad=data.draw(needs_grad(len(arrays))))


def unrolled(p, tensors):
    """The same layer as the cell's own step-by-step graph: the states after each step (finished
    sequences' rows copied on), and what the cell itself returned at each step (the running rows)."""
    kind, H = p["kind"], p["H"]
    cls = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}[kind]
    extra = {"nonlinearity": "relu" if p["relu"] else "tanh"} if kind == "rnn" else {}
    cell = cls(p["I"], H, bias=p["has_bias"], dtype=np.float64, **extra)
    it = iter(tensors)
    xs = next(it)
    state = None
    if p["has_state"]:
        state = (next(it), next(it)) if kind == "lstm" else next(it)
    cell.U, cell.W = next(it), next(it)
    if p["has_bias"]:
        cell.b = next(it)
        if kind == "gru":
            cell.b_hn = next(it)
    active = p["active"] or (p["B"],) * p["T"]
    steps, own = [], []
    for t in range(p["T"]):
        if _cut(p["truncate"], t):
            state = detach_state(state)
        n = active[t]
        rows = slice(0, n)
        prev = None if state is None else (tuple(s[rows] for s in state) if kind == "lstm" else state[rows])
        new = cell(xs[t][rows], prev)
        own.append(new)
        if n < p["B"]:  # finished sequences (the last rows of a sorted batch) keep their state
            new = (tuple(F.concat([a, s[n:]]) for a, s in zip(new, state)) if kind == "lstm"
                   else F.concat([new, state[n:]]))
        steps.append(new)
        state = new
    return steps, own


def _cut(truncate, t):
    return truncate is not None and t > 0 and t % truncate == 0


@given(p=problems(), seed=st.integers(0, 2**16))
def test_sequences_equal_the_cells_unrolled_step_by_step(p, seed):
    arrays = arrays_of(p)
    rng = np.random.default_rng(seed)
    H, kind = p["H"], p["kind"]
    parts = 2 if kind == "lstm" else 1
    upstream = rng.standard_normal((p["T"], p["B"], parts * H))

    fused_in = [Tensor(a, requires_grad=True) for a in arrays]
    seq = SEQUENCE[kind](*fused_in, **options(p))
    views = [ops.step(seq, index=(t,)) for t in range(p["T"])]
    loss = (seq * upstream).sum()

    plain_in = [Tensor(a, requires_grad=True) for a in arrays]
    steps, own = unrolled(p, plain_in)
    loss_plain = 0.0
    for t, s in enumerate(steps):
        if kind == "lstm":  # the fused result holds [h | c]
            loss_plain = loss_plain + (s[0] * upstream[t, :, :H]).sum() + (s[1] * upstream[t, :, H:]).sum()
        else:
            loss_plain = loss_plain + (s * upstream[t]).sum()
        want = np.concatenate([s[0].data, s[1].data], axis=-1) if kind == "lstm" else s.data
        np.testing.assert_allclose(seq.data[t], want, rtol=1e-12, atol=1e-12)

    fused_grads = grad(loss, fused_in + views)
    flat = [x for s in steps + own for x in (s if isinstance(s, tuple) else (s,))]  # an LSTM's h, c
    plain_grads = grad(loss_plain, plain_in + flat)
    for k, (a, b) in enumerate(zip(fused_grads[:len(arrays)], plain_grads[:len(arrays)])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"input {k}")
    parts = 2 if kind == "lstm" else 1
    carried = plain_grads[len(arrays):len(arrays) + parts * p["T"]]
    running = plain_grads[len(arrays) + parts * p["T"]:]
    active = p["active"] or (p["B"],) * p["T"]
    for t, view_grad in enumerate(fused_grads[len(arrays):]):  # each step's total ∂L/∂state
        n = active[t]
        # the running rows' total is the gradient of what the cell returned (its copy into the
        # carried state is only one of its uses); a finished row's is that of its copy
        want = np.concatenate([np.concatenate([running[parts * t + k], carried[parts * t + k][n:]])
                               for k in range(parts)], axis=-1)
        np.testing.assert_allclose(view_grad, want, rtol=1e-10, atol=1e-12, err_msg=f"step {t}")


def numpy_rnn_bptt(xs, U, W, b, G):
    """Forward and backpropagation through time of a tanh RNN, written out (no initial state)."""
    T, B, _ = xs.shape
    H = W.shape[0]
    hs = np.zeros((T + 1, B, H))
    for t in range(T):
        hs[t + 1] = np.tanh(xs[t] @ U.T + hs[t] @ W.T + b)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    deltas = np.zeros((T, B, H))
    carry = np.zeros((B, H))
    for t in reversed(range(T)):
        delta = G[t] + carry
        deltas[t] = delta
        dpre = delta * (1 - hs[t + 1] ** 2)
        dU += dpre.T @ xs[t]
        dW += dpre.T @ hs[t]
        db += dpre.sum(axis=0)
        carry = dpre @ W
    return hs[1:], dU, dW, db, deltas


def test_rnn_sequence_against_bptt_written_out_in_numpy():
    rng = np.random.default_rng(3)
    T, B, n_in, H = 7, 2, 3, 4
    xs, U, W, b = (rng.uniform(-1, 1, s) for s in ((T, B, n_in), (H, n_in), (H, H), (H,)))
    G = rng.standard_normal((T, B, H))
    tensors = [Tensor(xs), Tensor(U, requires_grad=True), Tensor(W, requires_grad=True), Tensor(b, requires_grad=True)]
    seq = ops.rnn_sequence(*tensors)
    views = [ops.step(seq, index=(t,)) for t in range(T)]
    got = grad((seq * G).sum(), tensors[1:] + views)
    hs, dU, dW, db, deltas = numpy_rnn_bptt(xs, U, W, b, G)
    np.testing.assert_allclose(seq.data, hs, rtol=1e-13)
    for a, e in zip(got, [dU, dW, db] + list(deltas)):
        np.testing.assert_allclose(a, e, rtol=1e-11, atol=1e-13)


@given(data=st.data())
def test_step_views_pass_their_gradient_back(data):
    seq = data.draw(st.integers(1, 4), label="T"), data.draw(st.integers(0, 3), label="B")
    array = np.random.default_rng(0).standard_normal(seq + (2,))
    t = data.draw(st.integers(0, seq[0] - 1), label="t")
    check_grads(data, lambda s: ops.step(s, index=(t,)), array, expected=array[t])
