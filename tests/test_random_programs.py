"""Random programs: compositions of primitives over shared leaves (fan-out, reuse, broadcasting,
indexing) must give gradients equal to central differences, never crash in backward, and never
mutate their inputs."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from tinygrad_rnn import Tensor
from tinygrad_rnn.testing import gradcheck

UNARY = ["tanh", "sigmoid", "neg", "square", "sum_keep", "index_last", "scale"]
BINARY = ["add", "sub", "mul", "div_safe"]


def apply_unary(name, t, rng_seed):
    if name == "tanh":
        return t.tanh()
    if name == "sigmoid":
        return t.sigmoid()
    if name == "neg":
        return -t
    if name == "square":
        return t * t
    if name == "sum_keep":
        return t.sum(axis=-1, keepdims=True) if t.ndim else t
    if name == "index_last":
        if t.ndim == 0:
            return t
        n = t.shape[-1]
        idx = np.random.default_rng(rng_seed).integers(0, n, size=n)  # repeats accumulate
        return t[..., idx]
    return 0.5 * t


def apply_binary(name, a, b):
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    return a / (1.5 + b.tanh())  # denominator in [0.5, 2.5]: smooth, never near zero


@st.composite
def programs(draw):
    shapes = draw(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
    # values from a drawn seed: generic points (Hypothesis' favourite 0.0 would hide wrong slopes)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    leaves = [rng.uniform(-1.5, 1.5, size=s) for s in shapes.input_shapes]
    steps = []
    for k in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(UNARY)), draw(st.integers(0, 100)), k))
        else:
            steps.append(("b", draw(st.sampled_from(BINARY)), draw(st.integers(0, 100)), draw(st.integers(0, 100))))
    outputs = draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))
    return leaves, steps, outputs


def run_program(steps, outputs, *leaves):
    pool = list(leaves)
    for kind, name, i, j in steps:
        if kind == "u":
            pool.append(apply_unary(name, pool[i % len(pool)], j))
        else:
            pool.append(apply_binary(name, pool[i % len(pool)], pool[j % len(pool)]))
    total = pool[outputs[0] % len(pool)] * 1.0
    for k in outputs[1:]:
        total = total + pool[k % len(pool)]  # fan-out: pool entries are reused freely
    return total


@given(programs())
def test_random_program_gradients_match_central_differences(program):
    leaves, steps, outputs = program
    before = [leaf.copy() for leaf in leaves]
    tensors = [Tensor(leaf, requires_grad=True) for leaf in leaves]
    assert gradcheck(lambda *ts: run_program(steps, outputs, *ts), tensors, atol=1e-6, rtol=1e-4)
    # the engine's own run on the user's tensors: backward works and nothing is mutated
    out = run_program(steps, outputs, *tensors)
    out.backward(np.ones(out.shape))
    for leaf, original, t in zip(leaves, before, tensors):
        np.testing.assert_array_equal(leaf, original)
        if t.grad is not None:
            assert t.grad.shape == t.shape
            assert not np.shares_memory(t.grad, t.data)
