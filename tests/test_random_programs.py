"""Random programs: compositions of ops over shared leaves (fan-out, reuse, broadcasting, indexing,
masks, 0-d and empty tensors) must give gradients equal to central differences, never crash in
backward, never mutate their inputs, and give every leaf an ndarray gradient of its own shape.

Every array a program hands to an op (integer indices, boolean masks, gather indices, class
targets) belongs to the program, and the program overwrites all of them after the forward and
before backward: the gradient must still be the one of the forward that ran (an op must keep no
reference to a caller's array)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from tinygrad_rnn import Tensor, grad
from tinygrad_rnn import functional as F
from tinygrad_rnn.testing import numeric_grad

# Every op keeps its input's shape up to size-1 axes (or gives a 0-d result), so any two values of
# a program broadcast together. `owned` collects the arrays the program passed to ops.
UNARY = ["index_last", "none_sum", "masked_scale", "gather", "cross_entropy", "mask_tensor", "tanh", "sigmoid",
         "neg", "square", "scale", "sum_keep", "softmax", "logsumexp", "var", "activation", "expand_sum",
         "chunks_swapped", "squeeze_unsqueeze", "dropout"]  # the ones that read caller arrays or 0-d shapes first
BINARY = ["add", "sub", "mul", "div_safe", "maximum", "minimum", "where"]


def apply_unary(name, t, rng, owned):
    last = t.shape[-1] if t.ndim else 0
    if name == "tanh":
        return t.tanh()
    if name == "sigmoid":
        return t.sigmoid()
    if name == "neg":
        return -t
    if name == "square":
        return t * t
    if name == "scale":
        return 0.5 * t
    if name == "sum_keep":
        return t.sum(axis=-1, keepdims=True) if t.ndim else t.sum(0)  # a 0-d tensor takes axis 0
    if name == "none_sum":  # t[None] summed over the new axis: the 0-d crash of defect 4 when t is 0-d
        return t[None].sum(0)
    if name == "index_last":  # an integer array, repeats accumulate
        if t.ndim == 0:
            return t
        idx = rng.integers(0, last, size=last) if last else np.zeros(0, np.int64)
        owned.append(idx)
        return t[..., idx]
    if name == "masked_scale":  # a boolean array picks elements; their sum scales t
        mask = np.array(rng.random(t.shape) < 0.5)  # an array even when 0-d
        owned.append(mask)
        return t * t[mask].sum()
    if name == "mask_tensor":  # a comparison's boolean Tensor as the mask
        return t * (t[t > 0.2].sum() + 1.0)
    if name == "softmax":
        return t.softmax(-1) if t.ndim else t.softmax()
    if name == "logsumexp":
        return t.logsumexp(-1, keepdims=True) if last else t
    if name == "var":
        return t.var(-1, keepdims=True, correction=0) + t if last >= 2 else t
    if name == "activation":
        fn = [F.leaky_relu, F.softplus, F.elu, F.gelu, F.silu][rng.integers(5)]
        return fn(t)
    if name == "expand_sum":
        return t.expand(2, *t.shape).sum(0)
    if name == "gather":
        if t.ndim == 0 or last == 0:
            return t
        index = rng.integers(0, last, size=t.shape)
        owned.append(index)
        return F.gather(t, -1, index)
    if name == "chunks_swapped":
        if t.ndim == 0:
            return t
        pieces = t.chunk(2, dim=-1)
        return F.concat(pieces[::-1], axis=-1)
    if name == "cross_entropy":  # a scalar (0-d), broadcasts with everything
        if t.ndim == 0 or last == 0 or t.size == 0:
            return t
        targets = np.array(rng.integers(0, last, size=t.shape[:-1]))
        owned.append(targets)
        if rng.random() < 0.5:
            targets[rng.random(targets.shape) < 0.3] = -1
            return F.cross_entropy(t, targets, reduction="sum", ignore_index=-1, label_smoothing=0.1)
        return F.cross_entropy(t, targets)
    if name == "squeeze_unsqueeze":
        return t.unsqueeze(0).squeeze(0).flatten().reshape(t.shape)
    # dropout with a seeded generator: the same mask for every run of the program
    return F.dropout(t, 0.3, generator=np.random.default_rng(int(rng.integers(2**31))))


def apply_binary(name, a, b):
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    if name == "maximum":
        return F.maximum(a, b)
    if name == "minimum":
        return F.minimum(a, b)
    if name == "where":
        return F.where(a > 0, a, b * 2.0)
    return a / (1.5 + b.tanh())  # denominator in [0.5, 2.5]: smooth, never near zero


@st.composite
def programs(draw):
    empty = draw(st.integers(0, 4)) == 0  # about one program in five on empty tensors
    shapes = draw(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0 if empty else 1,
                                                max_side=3))
    zero_d = draw(st.lists(st.integers(0, 3).map(lambda k: k == 0), min_size=3, max_size=3))  # a leaf in 4: 0-d
    leaf_shapes = [() if z else s for z, s in zip(zero_d, shapes.input_shapes)]
    # values from a drawn seed: generic points (Hypothesis' favourite 0.0 would hide wrong slopes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    leaves = [rng.uniform(-1.5, 1.5, size=s) for s in leaf_shapes]
    steps = []
    for k in range(draw(st.integers(2, 10))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(UNARY)), draw(st.integers(0, 100)), k))
        else:
            steps.append(("b", draw(st.sampled_from(BINARY)), draw(st.integers(0, 100)), draw(st.integers(0, 100))))
    outputs = draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))
    return leaves, steps, outputs, draw(st.integers(0, 2**32 - 1))


def run_program(steps, outputs, seed, leaves, owned):
    """The program on `leaves`; the arrays it hands to ops are made afresh from `seed` each run and
    appended to `owned`."""
    rng = np.random.default_rng(seed)
    pool = list(leaves)
    for kind, name, i, j in steps:
        if kind == "u":
            pool.append(apply_unary(name, pool[i % len(pool)], rng, owned))
        else:
            pool.append(apply_binary(name, pool[i % len(pool)], pool[j % len(pool)]))
    total = pool[outputs[0] % len(pool)] * 1.0
    for k in outputs[1:]:
        total = total + pool[k % len(pool)]  # fan-out: pool entries are reused freely
    return total


def overwrite(arrays):
    """Change every array the program handed to an op, in place."""
    for a in arrays:
        if a.dtype == bool:
            a[...] = ~a
        else:
            a += 1  # other positions (or past the end: an op still reading the array would fail)


@settings(max_examples=max(200, settings().max_examples))  # a wide space of programs: more than the default 40
@given(programs())
def test_random_program_gradients_match_central_differences(program):
    leaves, steps, outputs, seed = program
    before = [leaf.copy() for leaf in leaves]
    tensors = [Tensor(leaf, requires_grad=True) for leaf in leaves]
    owned = []
    out = run_program(steps, outputs, seed, tensors, owned)
    overwrite(owned)  # after the forward, before backward
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    targets = grad(out, tensors, grad_output=upstream, retain_graph=True)
    out.backward(upstream)

    def fresh(*ts):
        return run_program(steps, outputs, seed, ts, [])

    for k, (leaf, original, t) in enumerate(zip(leaves, before, tensors)):
        np.testing.assert_array_equal(leaf, original, err_msg=f"leaf {k} was changed")
        numeric = numeric_grad(fresh, [Tensor(b.copy()) for b in before], k, upstream)
        if t.grad is None:  # the program never used this leaf (nor does PyTorch fill its .grad)
            np.testing.assert_array_equal(numeric, 0.0)
            np.testing.assert_array_equal(targets[k], 0.0)
            continue
        for g in (t.grad, targets[k]):
            assert type(g) is np.ndarray and g.shape == t.shape and g.dtype == t.dtype, \
                f"leaf {k}: gradient {type(g).__name__} {np.shape(g)}, expected an ndarray of shape {t.shape}"
        assert not np.shares_memory(t.grad, t.data)
        np.testing.assert_allclose(t.grad, numeric, atol=1e-6, rtol=1e-4, err_msg=f"gradient of leaf {k}")
        np.testing.assert_allclose(targets[k], t.grad, rtol=1e-12, atol=1e-12, err_msg=f"grad() of leaf {k}")
