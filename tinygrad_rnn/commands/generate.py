"""Sampling text from a character model, one character at a time."""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tasks import Vocab, one_hot
from .problems import step_outputs


def sample_text(model, vocab: Vocab, length: int, temperature: float, prime: str,
                rng: np.random.Generator) -> str:
    """`prime` followed by `length` characters drawn from softmax(ŷ_t / temperature)."""
    size = len(vocab)
    with no_grad():
        state, logits = None, None
        for index in vocab.encode(prime):  # read the prime to set up the hidden state
            logits, state = _step(model, index, size, state)
        chosen = []
        for _ in range(length):
            scaled = logits / temperature
            p = np.exp(scaled - scaled.max())
            index = int(rng.choice(size, p=p / p.sum()))
            chosen.append(index)
            logits, state = _step(model, index, size, state)
    return prime + vocab.decode(chosen)


def _step(model, index: int, size: int, state):
    x = one_hot(np.array([[index]]), size)  # (T=1, B=1, vocab)
    outputs, state = model(x, state)
    return step_outputs(outputs)[-1].data[0].astype(np.float64), state
