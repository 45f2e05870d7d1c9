"""Dropout: zero each element with probability p and scale the rest by 1 / (1 − p), so the
expected value is unchanged (inverted dropout, as PyTorch). The mask is drawn once, in the
forward, and is a constant operand of one multiplication: backward uses the very same mask."""
from __future__ import annotations

import numpy as np

from .. import rng as _rng
from ..tensor import Tensor, as_tensor


def dropout(x, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """x with each element zeroed with probability p and the others scaled by 1 / (1 − p).

    With training=False or p=0 it returns x itself; with p=1 all zeros. `generator`: an
    np.random.Generator or a seed for this call; None draws from the library-wide generator,
    which `tinygrad_rnn.manual_seed(seed)` reseeds."""
    x = as_tensor(x)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    draws = _rng.generator(generator).random(x.shape)
    mask = (draws >= p).astype(x.dtype) * np.asarray(1 / (1 - p), x.dtype)
    return x * mask
