"""Elementwise functions. Each keeps what its derivative is written in: tanh, sigmoid, exp, sqrt
and relu their output; log and abs their input; clip the mask of where the gradient passes."""
from __future__ import annotations

import numpy as np

from .core import primitive


@primitive(lambda g, out: g * out)                        # (e^a)' = e^a
def exp(a):
    out = np.exp(a)
    return out, out


@primitive(lambda g, a: g / a)                            # (log a)' = 1/a
def log(a):
    return np.log(a), a


@primitive(lambda g, out: g * (1 - out * out))            # (tanh a)' = 1 − tanh² a
def tanh(a):
    out = np.tanh(a)
    return out, out


@primitive(lambda g, out: g * out * (1 - out))            # σ' = σ (1 − σ)
def sigmoid(a):
    # exp of a non-positive number only: finite and accurate for any a (no 1 - tiny cancellation)
    e = np.exp(-np.abs(a))
    out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
    return out, out


@primitive(lambda g, out: g * (out > 0))                  # 1 where a > 0 (0 at the kink, as PyTorch)
def relu(a):
    out = np.maximum(a, 0)
    return out, out


@primitive(lambda g, a: g * np.sign(a))                   # sign(a) (0 at 0)
def abs_(a):
    return np.abs(a), a


@primitive(lambda g, out: g / (2 * out))                  # (√a)' = 1/(2√a)
def sqrt(a):
    out = np.sqrt(a)
    return out, out


@primitive(lambda g, inside: g * inside)
def clip(a, low=None, high=None):
    """Gradient passes where low <= a <= high (the bounds themselves included, as in PyTorch)."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of min and max")
    inside = np.ones(a.shape, dtype=bool)
    if low is not None:
        inside &= a >= low
    if high is not None:
        inside &= a <= high
    return np.clip(a, low, high), inside
