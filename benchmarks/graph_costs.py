"""What the recorded graph costs beside the arithmetic: the memory a loss kept after backward()
holds, the Python objects the cycle collector tracks per graph node, and the collector's share of
a long step. Used by run.py; each function takes the library module to measure (today's, or an
earlier commit's from baseline.py), so both are measured the same way in one run."""
from __future__ import annotations

import gc
import statistics
import time
import tracemalloc

import numpy as np


def kept_loss(lib, kind: str = "lstm", layers: int = 2, T: int = 20, batch: int = 8, hidden: int = 32,
              kept: int = 10) -> dict:
    """Train `kept` steps of an `RNN`, keeping each loss (`losses.append(loss)`): the bytes each kept
    loss holds after its backward, against the forward's peak."""
    rng = np.random.default_rng(0)
    model = lib.RNN(8, hidden, output_size=8, cell=kind, num_layers=layers, rng=0)
    xs = rng.standard_normal((T, batch, 8)).astype(np.float32)
    ys = rng.standard_normal((T, batch, 8)).astype(np.float32)
    mse = lib.functional.mse_loss
    out, _ = model(xs)
    mse(out, ys).backward()  # warm: the parameters' .grad exist
    del out
    model.states = []
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        losses = []
        forward_peak = None
        for _ in range(kept):
            out, state = model(xs)
            loss = mse(out, ys)
            if forward_peak is None:
                forward_peak = tracemalloc.get_traced_memory()[1] - base
            loss.backward()
            del out, state  # the program keeps the loss only
            losses.append(loss)
        model.states = []  # the model's own reference to its last forward
        gc.collect()
        held = (tracemalloc.get_traced_memory()[0] - base) / kept
    finally:
        tracemalloc.stop()
    return {"forward_peak": forward_peak, "per_kept_loss": held, "share": held / forward_peak}


def _unroll(lib, T: int, batch: int, hidden: int):
    """A user's loop over RNNCell with a loss per step, T steps: (step function, graph nodes made)."""
    rng = np.random.default_rng(0)
    cell = lib.RNNCell(hidden, hidden, rng=0)
    head = lib.Linear(hidden, hidden, rng=0)
    xs = rng.standard_normal((T, batch, hidden)).astype(np.float32)
    ys = rng.standard_normal((T, batch, hidden)).astype(np.float32)
    mse = lib.functional.mse_loss

    def forward():
        state, loss = None, 0.0
        for t in range(T):
            state = cell(xs[t], state)
            loss = loss + mse(head(state), ys[t])
        return loss / T

    def step():
        forward().backward()

    return step, forward


def tracked_objects_per_node(lib, T: int = 200) -> float:
    """Objects the cycle collector tracks, per graph node, while a loop's graph is alive."""
    _, forward = _unroll(lib, T, 4, 32)
    gc.collect()
    before = len(gc.get_objects())
    loss = forward()
    gc.collect()
    after = len(gc.get_objects())
    nodes = _count_nodes(loss)
    del loss
    return (after - before) / nodes


def _count_nodes(root) -> int:
    """Graph nodes behind a tensor, for either graph design (a node per tensor, or separate nodes)."""
    start = getattr(root, "_node", root)
    seen, stack = {id(start)}, [start]
    while stack:
        n = stack.pop()
        for p in getattr(n, "parents", None) or getattr(n, "_parents", ()):
            p = getattr(p, "_node", p)
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def collector_share(lib, repeats: int = 7, T: int = 1000, batch: int = 4, hidden: int = 32) -> dict:
    """CPU seconds of one training step of a long unroll with the cycle collector on and off,
    interleaved; the ratio is what the collector costs."""
    step, _ = _unroll(lib, T, batch, hidden)
    step()
    times = {"on": [], "off": []}
    was_enabled = gc.isenabled()
    try:
        for round_ in range(repeats):
            for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                gc.enable() if mode == "on" else gc.disable()
                start = time.process_time()
                step()
                times[mode].append(time.process_time() - start)
    finally:
        gc.enable() if was_enabled else gc.disable()
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    return {"on": on, "off": off, "ratio": on / off}
