"""Random numbers the library draws itself (dropout masks): one library-wide generator, seedable.

    tinygrad_rnn.manual_seed(0)          # every later draw is reproducible
    F.dropout(x, 0.5, generator=rng)     # or pass your own np.random.Generator (or a seed) per call

Initialisers take their own `rng=` argument and do not use this generator.
"""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library-wide generator (as torch.manual_seed) and return it."""
    global _generator
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: the seed must be a non-negative integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator() -> np.random.Generator:
    """The library-wide generator: what a draw uses when no generator is given."""
    return _generator


def generator(rng=None) -> np.random.Generator:
    """The generator a draw uses: `rng` itself (an np.random.Generator), a new one seeded with `rng`
    (an int), or the library-wide one (None)."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"generator: expected None, a seed or an np.random.Generator, got {type(rng).__name__}")
