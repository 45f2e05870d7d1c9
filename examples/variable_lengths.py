"""Sentences of different lengths in one batch: a character model trained with `lengths=` and
`cross_entropy(..., ignore_index=...)`, checked against the same sentences run one at a time.

    python examples/variable_lengths.py --steps 200

Each sentence is padded to the longest. The model runs each one only as far as its own length
(the steps of sentences that have ended take no work), its outputs past that are zeros, and the
loss skips the padded targets, so the batch gives exactly the gradients of its sentences.
"""
from __future__ import annotations

import argparse

import numpy as np

from tinygrad_rnn import RNN
from tinygrad_rnn import functional as F
from tinygrad_rnn.optim import Adam
from tinygrad_rnn.tasks import Vocab, make_corpus

PAD = -100  # the target of a padded step; any value works as long as the loss is told


def sentence_batch(sentences: list[str], vocab: Vocab):
    """One-hot inputs (T, B, C), next-character targets (T, B) padded with PAD, and the lengths."""
    ids = [vocab.encode(s) for s in sentences]
    lengths = np.array([len(s) - 1 for s in ids])  # each sentence predicts its characters after the first
    T = lengths.max()
    xs = np.zeros((T, len(ids), len(vocab)), np.float32)
    targets = np.full((T, len(ids)), PAD)
    for b, s in enumerate(ids):
        xs[np.arange(len(s) - 1), b, s[:-1]] = 1
        targets[:len(s) - 1, b] = s[1:]
    return xs, targets, lengths


def loss_of(model, xs, targets, lengths):
    outputs, _ = model(xs, lengths=lengths)
    return F.cross_entropy(outputs, targets, ignore_index=PAD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()

    text = make_corpus(size=20_000)
    sentences = [s.strip() + "." for s in text.split(".") if len(s.strip()) > 3]
    vocab = Vocab.from_text(text)
    model = RNN(len(vocab), args.hidden, output_size=len(vocab), cell="gru", rng=0)
    optimizer = Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for step in range(1, args.steps + 1):
        picked = [sentences[i] for i in rng.integers(0, len(sentences), args.batch)]
        xs, targets, lengths = sentence_batch(picked, vocab)
        loss = loss_of(model, xs, targets, lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, args.steps // 5) == 0 or step == args.steps:
            print(f"step {step:4d}  loss {loss.item():.3f} nats/char  (lengths {lengths.min()}-{lengths.max()})")

    # The batch's gradient is the gradient of its sentences' losses, each run alone.
    picked = sentences[:4]
    xs, targets, lengths = sentence_batch(picked, vocab)
    model.zero_grad()
    loss_of(model, xs, targets, lengths).backward()
    together = model.cells[0].W.grad.copy()
    model.zero_grad()
    for sentence in picked:
        x, t, n = sentence_batch([sentence], vocab)
        (loss_of(model, x, t, n) * (n[0] / lengths.sum())).backward()  # each row's share of the mean
    apart = model.cells[0].W.grad
    print(f"one batch of {len(picked)} sentences vs each alone: largest difference of ∂L/∂W "
          f"{np.abs(together - apart).max():.1e}")


if __name__ == "__main__":
    main()
