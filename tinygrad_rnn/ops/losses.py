"""Loss terms that need their own derivative: binary cross-entropy on probabilities.

PyTorch clamps both logarithms at −100, so a probability of exactly 0 or 1 gives a finite loss, and
takes the gradient as (p − y) / max(p (1 − p), 1e-12), finite there too. Written as a composite of
log and clip, the same loss would have a NaN gradient at p = 0 (0 · ∞), hence a primitive. The
reductions (mean, sum) are left to the composite in functional.
"""
from __future__ import annotations

import numpy as np

from .core import primitive

_LOG_FLOOR = -100.0
_EPSILON = 1e-12


def _clamped_logs(p: np.ndarray):
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        return np.maximum(np.log(p), _LOG_FLOOR), np.maximum(np.log1p(-p), _LOG_FLOOR)


def _bce_d_target(g, py):
    log_p, log_1mp = _clamped_logs(py[0])
    return g * (log_1mp - log_p)


@primitive(lambda g, py: g * (py[0] - py[1]) / np.maximum(py[0] * (1 - py[0]), _EPSILON),
           _bce_d_target)
def binary_cross_entropy(p, target):
    """−(y log p + (1 − y) log(1 − p)) elementwise, each log clamped at −100."""
    if p.size and (np.min(p) < 0 or np.max(p) > 1 or np.isnan(p).any()):
        raise ValueError("binary_cross_entropy: every input must be a probability in [0, 1] "
                         "(for scores, use binary_cross_entropy_with_logits)")
    log_p, log_1mp = _clamped_logs(p)
    return -(target * log_p + (1 - target) * log_1mp), (p, target)
