"""Every fast path gives the plain path's values and gradients.

- `RNN.fused` (the default): one sequence node per layer, against `fused = False` (the cells step
  by step); tests/test_rnn_paths.py covers more options (lengths, dropout, batch_first, float32).
- A cell given its input product (`cell(x, state, gx=...)`), against computing it.
- The engine's sparse index gradient (`IndexedGrad`): slicing T steps of a tensor stays O(T) in
  backward, and equals the dense gradient.
- The engine's deferred weight gradients (`OuterGrad`): a weight shared by many `linear` calls, also
  mixed with other uses of it, gets the sum of the per-use products.
- The engine keys its dictionaries by the tensors themselves, so a tensor must hash by identity.
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import RNN, Embedding, GRUCell, LSTMCell, RNNCell, Tensor, grad, ops
from tinygrad_rnn.autograd import IndexedGrad

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


def _flat_state(state):
    out = []
    for s in state:
        out.extend(s if isinstance(s, tuple) else (s,))
    return out


def _run(model, xs, state0, upstream, fused):
    """Outputs, final state, and gradients of (outputs · upstream) for all parameters, the inputs
    and the initial state."""
    model.fused = fused
    X = Tensor(xs, requires_grad=True)
    init = None
    if state0 is not None:
        init = [tuple(Tensor(a, requires_grad=True) for a in s) if isinstance(s, tuple)
                else Tensor(s, requires_grad=True) for s in state0]
    outputs, state = model(X, init)
    wrt = model.parameters() + [X] + ([] if init is None else _flat_state(init))
    grads = grad(outputs, wrt, grad_output=upstream)
    return outputs.data, [s.data for s in _flat_state(state)], grads, [h.data for h in model.states]


@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), T=st.integers(1, 6), batch=st.sampled_from([None, 1, 3]),
       n_in=st.integers(1, 4), hidden=st.integers(1, 4), out=st.sampled_from([None, 2]),
       layers=st.integers(1, 2), with_state=st.booleans(), truncate=st.sampled_from([None, 2]),
       seed=st.integers(0, 2**16))
def test_fused_rnn_equals_step_by_step(kind, T, batch, n_in, hidden, out, layers, with_state, truncate, seed):
    rng = np.random.default_rng(seed)
    model = RNN(n_in, hidden, out, cell=kind, num_layers=layers, truncate=truncate, dtype=np.float64, rng=seed)
    lead = (T,) if batch is None else (T, batch)
    xs = rng.standard_normal(lead + (n_in,))
    state0 = None
    if with_state:
        shape = lead[1:] + (hidden,)
        state0 = [(rng.standard_normal(shape), rng.standard_normal(shape)) if kind == "lstm"
                  else rng.standard_normal(shape) for _ in range(layers)]
    upstream = rng.standard_normal(lead + (out or hidden,))

    fast = _run(model, xs, state0, upstream, fused=True)
    plain = _run(model, xs, state0, upstream, fused=False)
    for a, b in zip(fast[0:2], plain[0:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert len(fast[2]) == len(plain[2])
    for a, b in zip(fast[2], plain[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(fast[3], plain[3]):  # rnn.states: the hidden states, one per step
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_fused_rnn_keeps_time_steps_and_retained_states():
    """Each step still runs as a call of the cell: its own scope with its step number, and the
    hidden states keep their gradients (what diagrams and diagnostics read)."""
    model = RNN(3, 4, 2, rng=0)
    assert model.fused
    outputs, _ = model(np.random.default_rng(0).standard_normal((5, 2, 3)))
    (outputs * outputs).sum().backward()
    steps = [h.scope.step for h in model.states]
    assert steps == [0, 1, 2, 3, 4]
    assert all(h.scope.module is model.cells[0] for h in model.states)
    assert all(h.grad is not None and h.grad.shape == (2, 4) for h in model.states)


@given(kind=st.sampled_from(["rnn", "lstm", "gru"]), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_cell_given_its_input_product_equals_computing_it(kind, batch, seed):
    rng = np.random.default_rng(seed)
    cell = CELLS[kind](3, 4, dtype=np.float64, rng=seed)
    x = rng.standard_normal((batch, 3))
    h = rng.standard_normal((batch, 4))
    state = (Tensor(h), Tensor(h * 0.5)) if kind == "lstm" else Tensor(h)
    gx = x @ cell.U.data.T + cell.b.data

    def run(**kw):
        out = cell(x, state, **kw)
        out = out[0] * out[1] if kind == "lstm" else out
        return out.data, grad(out.sum(), cell.parameters())

    (a, ga), (b, gb) = run(), run(gx=gx)
    np.testing.assert_allclose(a, b, rtol=1e-13)
    for u, v in zip(ga, gb):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------
# Engine: sparse index gradients
# ------------------------------------------------------------------------------------------------
@given(T=st.integers(1, 8), seed=st.integers(0, 2**16), repeat=st.booleans())
def test_slices_sum_to_the_dense_gradient(T, seed, repeat):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((T, 2, 3))
    X = Tensor(data, requires_grad=True)
    weights = rng.standard_normal((T, 2, 3))
    loss = sum((X[t] * weights[t]).sum() for t in range(T))
    if repeat:  # an integer-array index repeating a step, and a mask, mixed with the slices
        loss = loss + (X[np.array([0, 0])] * 2).sum() + X[data > 0].sum()
    loss.backward()
    expected = weights.copy()
    if repeat:
        expected[0] += 4
        expected += data > 0
    np.testing.assert_allclose(X.grad, expected, rtol=1e-13)


def test_a_slice_passes_back_only_its_part():
    """Backward through T slices of a (T, B, H) tensor stays O(T·B·H): each slice's vjp carries
    just its (B, H) values, which the engine adds into one buffer, instead of a full-size array
    of zeros per step (O(T²·B·H) work)."""
    T, B, H = 50, 2, 3
    _, saved = ops.getitem.forward(np.zeros((T, B, H)), index=7)
    (vjp,) = ops.getitem.vjps
    g = np.ones((B, H))
    sparse = vjp(g, saved)
    assert isinstance(sparse, IndexedGrad) and sparse.values is g
    dense = np.asarray(sparse)
    assert dense.shape == (T, B, H) and dense[7].sum() == B * H and dense.sum() == B * H


# ------------------------------------------------------------------------------------------------
# Engine: deferred weight gradients
# ------------------------------------------------------------------------------------------------
@given(uses=st.integers(1, 6), seed=st.integers(0, 2**16), mixed=st.sampled_from(["none", "dense", "index"]),
       one_d=st.booleans())
def test_shared_weight_gets_the_sum_of_its_products(uses, seed, mixed, one_d):
    rng = np.random.default_rng(seed)
    W = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    xs = [rng.standard_normal((4,) if one_d else (2, 4)) for _ in range(uses)]
    gs = [rng.standard_normal((3,) if one_d else (2, 3)) for _ in range(uses)]
    loss = sum((ops.linear(Tensor(x), W) * g).sum() for x, g in zip(xs, gs))
    expected = sum(np.outer(g, x) if one_d else g.T @ x for x, g in zip(xs, gs))
    if mixed == "dense":  # W also used elementwise, before and after the products in the graph
        loss = (W * W).sum() + loss + (W * 3).sum()
        expected = expected + 2 * W.data + 3
    elif mixed == "index":  # weight tying: rows of W looked up, as an embedding does
        loss = loss + W[np.array([1, 1, 2])].sum()
        expected = expected.copy()
        expected[1] += 2
        expected[2] += 1
    loss.backward()
    np.testing.assert_allclose(W.grad, expected, rtol=1e-12, atol=1e-12)
    assert W.grad.shape == W.shape and W.grad.dtype == W.dtype


def test_tied_embedding_and_output_weights():
    """One matrix as an embedding table and as the output layer's weight (weight tying)."""
    emb = Embedding(5, 3, dtype=np.float64, rng=0)
    idx = np.array([0, 3, 3])
    h = emb(idx)
    logits = ops.linear(h.tanh(), emb.weight)
    (logits * logits).sum().backward()
    got = emb.weight.grad.copy()

    emb.weight.grad = None
    dense = Tensor(emb.weight.data, requires_grad=True)
    h2 = (Tensor(np.eye(5)[idx]) @ dense).tanh()
    ((h2 @ dense.T) ** 2).sum().backward()
    np.testing.assert_allclose(got, dense.grad, rtol=1e-12)


def test_tensors_hash_by_identity():
    """Dicts and sets keyed by tensor: equal data must never collide. `==` compares elementwise (a
    boolean Tensor), which a dict never calls for distinct objects, as their identity hashes differ."""
    a, b = Tensor([1.0]), Tensor([1.0])
    assert Tensor.__hash__ is object.__hash__
    assert len({a: 0, b: 1}) == 2 and len({a, b, a}) == 2
    assert (a == b).dtype == bool and a in [a] and (a != b).data.tolist() == [False]
