"""Weight initialisers. Each returns a NumPy array; modules wrap it in a Parameter."""
from __future__ import annotations

import numpy as np

from ..autograd import STATE


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def uniform(shape, bound: float, rng=None, dtype=None) -> np.ndarray:
    """U(-bound, bound): PyTorch's default for RNN cells and Linear, with bound = 1/sqrt(fan)."""
    return _rng(rng).uniform(-bound, bound, size=shape).astype(dtype or STATE.default_dtype)


def orthogonal(shape, gain: float = 1.0, rng=None, dtype=None) -> np.ndarray:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (Saxe et al. 2014)."""
    rows, cols = shape
    a = _rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))  # make the decomposition unique, so q is uniformly distributed
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).astype(dtype or STATE.default_dtype)


def identity(shape, gain: float = 1.0, dtype=None) -> np.ndarray:
    """gain * I: the IRNN recipe (Le et al. 2015) for relu RNNs."""
    return (gain * np.eye(*shape)).astype(dtype or STATE.default_dtype)
