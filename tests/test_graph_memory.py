"""The graph keeps only what gradients need (tracemalloc, no timing):

- the peak of one training step, as a ratio to what backpropagation through time must keep (the
  hidden states' bytes), for each cell in a user's loop and in the `RNN` model;
- a loss kept after backward() holds only structure;
- the objects the cycle collector tracks per graph node;
- a fused model's graph is freed by reference counting alone (no cycle through its replay).
"""
from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

from tinygrad_rnn import RNN, GRUCell, Linear, LSTMCell, RNNCell
from tinygrad_rnn import functional as F

CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
B, H, T = 16, 64, 60

# Bound on a step's peak / the hidden states' bytes (T·B·H float32), about 12% above what was
# measured (RNN 4.6 in a loop, 7.5 in the model; LSTM 13.0 and 20.0; GRU 10.8 and 15.0). A step keeps
# per time step what its gradients are written in (the state, the gates, the output's residual), and
# backward makes its own buffers; the model's fused sequence holds whole (T, B, ·) arrays at once.
# Before the graph kept only what gradients need, the loops took 11.3, 32.8 and 33.7 at B32 H256.
BOUND = {("rnn", "loop"): 5.1, ("lstm", "loop"): 14.5, ("gru", "loop"): 12.1,
         ("rnn", "model"): 8.4, ("lstm", "model"): 22.3, ("gru", "model"): 16.8}


def _problem(kind):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((T, B, H)).astype(np.float32)
    ys = rng.standard_normal((T, B, H)).astype(np.float32)
    return xs, ys


def _loop_step(kind):
    cell, head = CELLS[kind](H, H, rng=0), Linear(H, H, rng=1)
    xs, ys = _problem(kind)

    def step():
        state, loss = None, 0.0
        for t in range(T):
            state = cell(xs[t], state)
            loss = loss + F.mse_loss(head(state[0] if kind == "lstm" else state), ys[t])
        (loss / T).backward()
    return step


def _model_step(kind):
    model = RNN(H, H, output_size=H, cell=kind, rng=0)
    xs, ys = _problem(kind)

    def step():
        outputs, _ = model(xs)
        F.mse_loss(outputs, ys).backward()
        model.states = []
    return step


def _peak(step) -> int:
    step()  # warm: .grad buffers exist
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("how", ["loop", "model"])
def test_a_step_keeps_little_more_than_bptt_must(kind, how):
    states = T * B * H * 4
    ratio = _peak(_loop_step(kind) if how == "loop" else _model_step(kind)) / states
    assert ratio < BOUND[kind, how], f"{how} over {kind}: peak {ratio:.2f}x the hidden states"


def test_memory_grows_linearly_in_the_length():
    """Twice the steps, about twice the peak: nothing kept per step beyond what BPTT needs."""
    short = _peak(_loop_step_of("lstm", 30))
    long = _peak(_loop_step_of("lstm", 120))
    assert long < 4.4 * short


def _loop_step_of(kind, steps):
    cell, head = CELLS[kind](8, 32, rng=0), Linear(32, 8, rng=1)
    xs = np.random.default_rng(0).standard_normal((steps, 8, 8)).astype(np.float32)

    def step():
        state, loss = None, 0.0
        for t in range(steps):
            state = cell(xs[t], state)
            loss = loss + (head(state[0]) ** 2).mean()
        loss.backward()
    return step


def test_a_kept_loss_holds_only_structure():
    """`losses.append(loss)` after backward(): each kept loss holds a few KiB, not its forward's arrays."""
    model = RNN(8, 32, output_size=8, cell="lstm", num_layers=2, rng=0)
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((20, 8, 8)).astype(np.float32)
    ys = rng.standard_normal((20, 8, 8)).astype(np.float32)
    out, state = model(xs)
    F.mse_loss(out, ys).backward()
    del out, state
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        losses, peak = [], None
        for _ in range(10):
            out, state = model(xs)
            loss = F.mse_loss(out, ys)
            peak = peak or tracemalloc.get_traced_memory()[1] - base
            loss.backward()
            del out, state
            losses.append(loss)
        model.states = []
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - base) / 10
    finally:
        tracemalloc.stop()
    assert held < 0.05 * peak, (held, peak)


def test_a_kept_loop_loss_holds_a_few_hundred_bytes_per_node():
    cell, head = LSTMCell(8, 32, rng=0), Linear(32, 8, rng=1)
    xs = np.random.default_rng(0).standard_normal((30, 8, 8)).astype(np.float32)

    def loss_of():
        state, loss = None, 0.0
        for x in xs:
            state = cell(x, state)
            loss = loss + (head(state[0]) ** 2).mean()
        return loss

    loss_of().backward()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        loss = loss_of()
        loss.backward()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    nodes = _count(loss.node)
    assert held / nodes < 600, (held, nodes)


def _count(root) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


@pytest.mark.parametrize("kind", list(CELLS))
def test_few_tracked_objects_per_node(kind):
    """A node, its parents tuple, and per step a scope and a weak reference to the hidden state:
    the collector has about three objects per node to visit (the graph of tensors had six or more)."""
    cell = CELLS[kind](4, 8, rng=0)
    xs = np.ones((100, 2, 4), np.float32)
    gc.collect()
    before = len(gc.get_objects())
    state = None
    for x in xs:
        state = cell(x, state)
    root = (state[0] * state[1]).sum() if kind == "lstm" else state.sum()
    gc.collect()
    per_node = (len(gc.get_objects()) - before) / _count(root.node)
    assert per_node < 3.2, per_node


def test_a_fused_models_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        model = RNN(3, 4, output_size=2, cell="gru", num_layers=2, rng=0)
        outputs, state = model(np.ones((5, 2, 3)))
        loss = outputs.sum()
        loss.backward()
        node = weakref.ref(loss.node)
        sequence = weakref.ref(state[0].node.parents[0])
        del outputs, state, loss
        model.states = []
        assert node() is None and sequence() is None
    finally:
        gc.enable()
