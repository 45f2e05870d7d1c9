"""The copy memory task (Arjovsky, Shah & Bengio 2016).

A sequence shows 10 symbols drawn from {1..8}, then T - 1 blanks (0), then a delimiter (9), then 10
more blanks; during those last 10 steps the model must repeat the 10 symbols. Every other target is
a blank. Predicting blanks and then guessing uniformly among the 8 symbols gives a cross-entropy of
10·log(8) / (T + 20) per step: the baseline a model must beat to show it remembers across T steps.
"""
from __future__ import annotations

import math

import numpy as np

NUM_SYMBOLS = 8   # the symbols to copy are 1..8
BLANK, DELIMITER = 0, 9
NUM_INPUTS = 10   # blank, 8 symbols, delimiter
NUM_CLASSES = 9   # blank and the 8 symbols: the delimiter is never a target
COPY_LENGTH = 10


def copy_baseline(delay: int) -> float:
    """Cross-entropy per step of the memoryless strategy, for a delay of T blanks."""
    return COPY_LENGTH * math.log(NUM_SYMBOLS) / (delay + 2 * COPY_LENGTH)


def copy_batch(delay: int, batch: int, rng: np.random.Generator):
    """Integer inputs and targets, both (T + 20, B)."""
    if delay < 1:
        raise ValueError(f"the copy task needs a delay of at least 1, got {delay}")
    total = delay + 2 * COPY_LENGTH
    symbols = rng.integers(1, NUM_SYMBOLS + 1, size=(COPY_LENGTH, batch))
    inputs = np.full((total, batch), BLANK, dtype=np.int64)
    inputs[:COPY_LENGTH] = symbols
    inputs[COPY_LENGTH + delay - 1] = DELIMITER
    targets = np.full((total, batch), BLANK, dtype=np.int64)
    targets[-COPY_LENGTH:] = symbols
    return inputs, targets
