"""Dropout as a layer: on while the module trains, the identity after `eval()`."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import rng as _rng
from ..tensor import Tensor
from .module import Module


class Dropout(Module):
    """Zero each element with probability p while training and scale the rest by 1 / (1 − p)
    (F.dropout); after `eval()` the input passes unchanged.

    `generator`: an np.random.Generator, or a seed for a generator of the layer's own, so that a
    model's masks are reproducible on their own; None draws from the library-wide generator
    (`tinygrad_rnn.manual_seed`)."""

    def __init__(self, p: float = 0.5, generator=None) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.generator = None if generator is None else _rng.generator(generator)

    def forward(self, x) -> Tensor:
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
