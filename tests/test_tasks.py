"""The built-in tasks: the data each one promises, and the baselines the CLI reports against."""
from __future__ import annotations

import math

import numpy as np

from tinygrad_rnn.tasks import (
    BASELINE_MSE,
    Vocab,
    adding_batch,
    char_batch,
    copy_baseline,
    copy_batch,
    make_corpus,
    one_hot,
)
from tinygrad_rnn.tasks import copy as copy_task


def test_corpus_is_deterministic_varied_and_tens_of_kilobytes():
    text = make_corpus(seed=0)
    assert text == make_corpus(seed=0) and text != make_corpus(seed=1)
    assert 30_000 <= len(text) <= 60_000
    sentences = [s for s in text.replace("?", ".").split(".") if s.strip()]
    assert len(set(sentences)) > 0.9 * len(sentences)  # mostly distinct sentences
    assert text.isascii() and set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .?\n")


def test_vocab_round_trip_and_char_batches():
    text = make_corpus(size=2_000)
    vocab = Vocab.from_text(text)
    data = vocab.encode(text)
    assert vocab.decode(data) == text
    inputs, targets = char_batch(data, 16, 5, np.random.default_rng(0))
    assert inputs.shape == targets.shape == (16, 5)
    assert np.array_equal(inputs[1:], targets[:-1])  # targets are the inputs shifted by one
    x = one_hot(inputs, len(vocab))
    assert x.shape == (16, 5, len(vocab)) and np.array_equal(x.argmax(-1), inputs)


def test_adding_problem():
    T, B = 20, 4000
    xs, y = adding_batch(T, B, np.random.default_rng(0))
    assert xs.shape == (T, B, 2) and y.shape == (B, 1)
    marks = xs[..., 1]
    assert np.all(marks.sum(0) == 2)
    assert np.all(marks[: T // 2].sum(0) == 1) and np.all(marks[T // 2:].sum(0) == 1)  # one in each half
    assert np.allclose((xs[..., 0] * marks).sum(0), y[:, 0], atol=1e-6)
    assert abs(((y - 1) ** 2).mean() - BASELINE_MSE) < 0.01  # answering 1 scores about 1/6


def test_copy_task():
    delay, B = 7, 3
    xs, ys = copy_batch(delay, B, np.random.default_rng(0))
    n = copy_task.COPY_LENGTH
    assert xs.shape == ys.shape == (delay + 2 * n, B)
    assert np.all((xs[:n] >= 1) & (xs[:n] <= 8))
    assert np.all(xs[n:n + delay - 1] == 0) and np.all(xs[n + delay - 1] == 9) and np.all(xs[n + delay:] == 0)
    assert np.array_equal(ys[-n:], xs[:n]) and np.all(ys[:-n] == 0)
    assert math.isclose(copy_baseline(delay), 10 * math.log(8) / (delay + 20))


def test_sentence_batches_end_at_a_sentence_and_pad_the_rest():
    from tinygrad_rnn.tasks import PAD, sentence_batch
    text = make_corpus(size=4000)
    vocab = Vocab.from_text(text)
    data = vocab.encode(text)
    ends = np.array([vocab.index[c] for c in ".!?\n" if c in vocab.index])
    ids, targets, lengths = sentence_batch(data, 40, 64, np.random.default_rng(3), ends)
    assert ids.shape == targets.shape == (40, 64) and lengths.shape == (64,)
    assert np.all((lengths >= 20) & (lengths <= 40)) and np.any(lengths < 40)
    for b, L in enumerate(lengths):
        assert np.all(targets[L:, b] == PAD) and np.all(targets[:L, b] != PAD)
        if L < 40:
            assert targets[L - 1, b] in ends  # the sequence stops right after a sentence's end
        np.testing.assert_array_equal(targets[:L - 1, b], ids[1:L, b])  # targets: the next characters
