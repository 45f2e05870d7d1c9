"""Character data: a vocabulary of the characters of a text, and random windows of it as batches."""
from __future__ import annotations

import numpy as np


class Vocab:
    """Characters in sorted order; `encode` maps text to integer ids and `decode` maps them back."""

    def __init__(self, chars) -> None:
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls(text)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def one_hot(ids: np.ndarray, size: int, dtype=np.float32) -> np.ndarray:
    """One-hot rows: ids of shape (...) give an array of shape (..., size)."""
    out = np.zeros(ids.shape + (size,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1, axis=-1)
    return out


def char_batch(data: np.ndarray, seq_len: int, batch: int, rng: np.random.Generator):
    """`batch` random windows of `seq_len + 1` ids: inputs (T, B) and next-character targets (T, B)."""
    if len(data) < seq_len + 1:
        raise ValueError(f"the text has {len(data)} characters; it needs at least seq_len + 1 = {seq_len + 1}")
    starts = rng.integers(0, len(data) - seq_len, size=batch)
    windows = np.stack([data[s:s + seq_len + 1] for s in starts], axis=1)  # (T + 1, B)
    return windows[:-1], windows[1:]


PAD = -100  # the target of a step past a sequence's end: cross_entropy(..., ignore_index=PAD) skips it


def sentence_batch(data: np.ndarray, seq_len: int, batch: int, rng: np.random.Generator, ends):
    """Like `char_batch`, but each window stops at the last sentence end (an id in `ends`) in its
    second half, where it has one: sequences of different lengths, as a batch padded to `seq_len`.
    Returns inputs (T, B), targets (T, B) with PAD past each sequence's end, and the lengths (B,)."""
    ids, targets = char_batch(data, seq_len, batch, rng)
    lengths = np.full(batch, seq_len, dtype=np.int64)
    if len(ends):
        half = seq_len // 2
        ending = np.isin(targets[half:], ends)          # (T - half, B): where a sentence ends
        has_end = ending.any(axis=0)
        last = ending.shape[0] - 1 - np.argmax(ending[::-1], axis=0)
        lengths = np.where(has_end, half + last + 1, seq_len)
        targets = np.where(np.arange(seq_len)[:, None] < lengths[None, :], targets, PAD)
    return ids, targets, lengths
