"""The sequence model's two paths agree, and its options do what they promise.

- Fused (one node per layer and sequence) against `fused = False` (the cells step by step): outputs,
  final states, every gradient (parameters, inputs, initial states) and each step's total gradient
  ∂L/∂a_t, over cells, sizes, layers, truncation, float32/float64, lengths, dropout, batch_first.
- A batch of different lengths against its sequences run one by one.
- batch_first against the same batch transposed.
- The diagram of a fused call equals that of the plain loop, gradients on the states included.
- A 20,000-step sequence; detect_anomaly naming the step of a fused call.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import RNN, Tensor, grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.anomaly import detect_anomaly
from tinygrad_rnn.viz import draw_graph


def _flat(state):
    return [p for s in state for p in (s if isinstance(s, tuple) else (s,))]


def _make(kind, n_in, hidden, out, layers, truncate, dropout, batch_first, dtype, seed, fused):
    model = RNN(n_in, hidden, out, cell=kind, num_layers=layers, truncate=truncate, dropout=dropout,
                batch_first=batch_first, dtype=dtype, rng=seed)
    model.fused = fused
    return model


def _run(model, xs, state0, lengths, upstream):
    X = Tensor(xs, requires_grad=True)
    init = None
    if state0 is not None:
        init = [tuple(Tensor(a, requires_grad=True) for a in s) if isinstance(s, tuple)
                else Tensor(s, requires_grad=True) for s in state0]
    outputs, state = model(X, init, lengths=lengths)
    loss = (outputs * upstream).sum()
    wrt = model.parameters() + [X] + ([] if init is None else _flat(init))
    grads = grad(loss, wrt + model.states)
    return outputs.data, [s.data for s in _flat(state)], grads


@st.composite
def configurations(draw):
    kind = draw(st.sampled_from(["rnn", "lstm", "gru"]))
    T, batch = draw(st.integers(1, 6)), draw(st.sampled_from([None, 1, 3]))
    lengths = None
    if batch is not None and draw(st.booleans()):
        lengths = draw(st.lists(st.integers(1, T), min_size=batch, max_size=batch))
    return dict(kind=kind, T=T, batch=batch, n_in=draw(st.integers(1, 3)), hidden=draw(st.integers(1, 3)),
                out=draw(st.sampled_from([None, 2])), layers=draw(st.integers(1, 3)),
                with_state=draw(st.booleans()), truncate=draw(st.sampled_from([None, 1, 2])),
                dropout=draw(st.sampled_from([0.0, 0.5])), batch_first=batch is not None and draw(st.booleans()),
                dtype=draw(st.sampled_from([np.float64, np.float32])), lengths=lengths,
                seed=draw(st.integers(0, 2**16)))


@given(c=configurations())
def test_fused_and_plain_paths_agree(c):
    rng = np.random.default_rng(c["seed"])
    T, batch, dtype = c["T"], c["batch"], c["dtype"]
    lead = (T,) if batch is None else ((batch, T) if c["batch_first"] else (T, batch))
    xs = rng.standard_normal(lead + (c["n_in"],)).astype(dtype)
    state0 = None
    if c["with_state"]:
        shape = () if batch is None else (batch,)
        shape += (c["hidden"],)
        state0 = [tuple(rng.standard_normal(shape).astype(dtype) for _ in range(2)) if c["kind"] == "lstm"
                  else rng.standard_normal(shape).astype(dtype) for _ in range(c["layers"])]
    upstream = rng.standard_normal(lead + (c["out"] or c["hidden"],)).astype(dtype)
    args = (c["kind"], c["n_in"], c["hidden"], c["out"], c["layers"], c["truncate"], c["dropout"],
            c["batch_first"], dtype, c["seed"])
    fused = _run(_make(*args, fused=True), xs, state0, c["lengths"], upstream)
    plain = _run(_make(*args, fused=False), xs, state0, c["lengths"], upstream)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(fused[0], plain[0], **tol, err_msg="outputs")
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, **tol, err_msg="final state")
    assert len(fused[2]) == len(plain[2])
    for k, (a, b) in enumerate(zip(fused[2], plain[2])):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, **tol, err_msg=f"gradient {k}")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_a_batch_of_lengths_equals_its_sequences_run_one_by_one(kind, layers):
    rng = np.random.default_rng(5)
    T, n_in, hidden, out = 6, 2, 3, 2
    lengths = [4, 6, 1, 3]
    model = RNN(n_in, hidden, out, cell=kind, num_layers=layers, truncate=None, dtype=np.float64, rng=1)
    xs = rng.standard_normal((T, len(lengths), n_in))
    upstream = rng.standard_normal((T, len(lengths), out))

    X = Tensor(xs, requires_grad=True)
    outputs, state = model(X, lengths=lengths)
    (outputs * upstream).sum().backward()
    batch_grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()

    summed = [np.zeros_like(g) for g in batch_grads]
    for b, L in enumerate(lengths):
        alone = Tensor(xs[:L, b:b + 1], requires_grad=True)
        out_b, state_b = model(alone)
        np.testing.assert_allclose(outputs.data[:L, b:b + 1], out_b.data, rtol=1e-12)
        np.testing.assert_array_equal(outputs.data[L:, b], 0.0)  # zeros past its length
        for got, want in zip(_flat(state), _flat(state_b)):
            np.testing.assert_allclose(got.data[b:b + 1], want.data, rtol=1e-12)
        (out_b * upstream[:L, b:b + 1]).sum().backward()
        np.testing.assert_allclose(X.grad[:L, b:b + 1], alone.grad, rtol=1e-10, atol=1e-13)
        np.testing.assert_array_equal(X.grad[L:, b], 0.0)
        for s, p in zip(summed, model.parameters()):
            s += p.grad
        model.zero_grad()
    for got, want in zip(batch_grads, summed):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_lengths_are_checked():
    model = RNN(2, 3)
    xs = np.zeros((4, 2, 2))
    for bad in ([0, 4], [5, 1], [1, 2, 3], [1.5, 2], "ab"):
        with pytest.raises(ValueError, match="lengths|length"):
            model(xs, lengths=bad)
    with pytest.raises(ValueError, match="batch"):
        model(np.zeros((4, 2)), lengths=[4])


@pytest.mark.parametrize("fused", [True, False])
def test_batch_first_is_the_same_batch_transposed(fused):
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((5, 3, 2))  # (T, batch, input)
    a, b = RNN(2, 4, 3, cell="gru", rng=0), RNN(2, 4, 3, cell="gru", rng=0, batch_first=True)
    a.fused = b.fused = fused
    out_a, state_a = a(xs)
    out_b, state_b = b(np.swapaxes(xs, 0, 1))
    assert out_b.shape == (3, 5, 3)
    np.testing.assert_allclose(out_b.data, np.swapaxes(out_a.data, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(state_b[0].data, state_a[0].data, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(batch, T, 2\)"):
        b(np.zeros((3, 5, 4)))


def test_dropout_masks_are_seeded_off_in_eval_and_scaled():
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 8, 3))
    runs = [RNN(3, 16, cell="lstm", num_layers=2, dropout=0.5, rng=7)(xs)[0].data for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])  # the same seed draws the same masks
    model = RNN(3, 16, cell="lstm", num_layers=2, dropout=0.5, rng=7)
    train_a, train_b = model(xs)[0].data, model(xs)[0].data
    assert not np.array_equal(train_a, train_b)      # a new mask each call
    model.eval()
    eval_a, eval_b = model(xs)[0].data, model(xs)[0].data
    np.testing.assert_array_equal(eval_a, eval_b)
    undropped = RNN(3, 16, cell="lstm", num_layers=2, rng=7)
    undropped.load_state_dict(model.state_dict())
    np.testing.assert_allclose(eval_a, undropped(xs)[0].data, rtol=1e-6)
    masks = RNN(3, 200, num_layers=2, dropout=0.25, rng=3)._dropout_masks(50, 40, np.dtype(np.float64))
    kept = masks[0] > 0
    assert abs(kept.mean() - 0.75) < 0.01 and np.allclose(masks[0][kept], 1 / 0.75)
    with pytest.raises(ValueError, match="dropout"):
        RNN(3, 4, dropout=1.0)


def _normalized(source: str) -> str:
    """DOT text with full-precision numbers in tooltips cut to 8 digits (sums in another order)."""
    return re.sub(r"(\d\.\d{7})\d+", r"\1", source)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("view", ["unfolded", "folded", "ops"])
def test_a_fused_call_is_drawn_as_its_plain_loop(kind, layers, view):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((5, 2, 3))
    sources = []
    for fused in (True, False):
        model = RNN(3, 4, 2, cell=kind, num_layers=layers, rng=0)
        model.fused = fused
        outputs, _ = model(xs)
        loss = F.mse_loss(outputs[-1], np.zeros((2, 2)))
        plain_picture = draw_graph(loss, view=view).source
        loss.backward()
        grads = draw_graph(loss, view=view, show_grads=True).source
        sources.append((plain_picture, _normalized(grads)))
    assert sources[0] == sources[1]


def test_a_fused_model_after_a_fused_model_is_drawn_in_order():
    """An encoder's final state starting a decoder: both fused, drawn as two phases."""
    rng = np.random.default_rng(1)
    enc, dec = RNN(3, 4, rng=0), RNN(3, 4, 2, rng=1)
    plain = []
    for fused in (True, False):
        enc.fused = dec.fused = fused
        _, state = enc(rng.standard_normal((3, 1, 3)))
        outputs, _ = dec(np.zeros((2, 1, 3)), state)
        plain.append(draw_graph(outputs.sum()).source)
    assert plain[0] == plain[1]
    assert "cluster_p2_t1" in plain[0]


def test_a_twenty_thousand_step_sequence():
    rng = np.random.default_rng(0)
    model = RNN(2, 8, 1, cell="gru", rng=0)
    outputs, _ = model(rng.standard_normal((20000, 2, 2)).astype(np.float32))
    loss = F.mse_loss(outputs, np.zeros(outputs.shape, np.float32))
    loss.backward()
    assert all(np.isfinite(p.grad).all() for p in model.parameters())
    assert len(model.states) == 20000 and model.states[0].grad.shape == (2, 8)


def test_detect_anomaly_names_the_step_of_a_fused_call():
    xs = np.ones((6, 1, 2))
    xs[3, 0, 0] = np.nan
    model = RNN(2, 3, rng=0)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"time step 4"):
        model(xs)
