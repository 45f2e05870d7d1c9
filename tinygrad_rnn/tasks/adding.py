"""The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015).

Each sequence has T steps of two channels: a value drawn from U[0, 1] and a marker that is 1 at
exactly two steps, one in each half. The target, read after the last step, is the sum of the two
marked values. Always answering 1 (the mean of the sum) gives an MSE of 1/6 ≈ 0.167, the baseline
a model must beat to show it carries information across the sequence.
"""
from __future__ import annotations

import numpy as np

BASELINE_MSE = 1.0 / 6.0  # the variance of a sum of two U[0, 1] values
NUM_INPUTS, NUM_OUTPUTS = 2, 1  # (value, marker) in; the sum out


def adding_batch(seq_len: int, batch: int, rng: np.random.Generator, dtype=np.float32):
    """Inputs (T, B, 2) and targets (B, 1)."""
    if seq_len < 2:
        raise ValueError(f"the adding problem needs seq_len >= 2 (one mark in each half), got {seq_len}")
    values = rng.random((seq_len, batch))
    half = seq_len // 2
    first = rng.integers(0, half, size=batch)
    second = rng.integers(half, seq_len, size=batch)
    marks = np.zeros((seq_len, batch))
    cols = np.arange(batch)
    marks[first, cols] = 1.0
    marks[second, cols] = 1.0
    inputs = np.stack([values, marks], axis=-1).astype(dtype)
    targets = (values[first, cols] + values[second, cols])[:, None].astype(dtype)
    return inputs, targets
