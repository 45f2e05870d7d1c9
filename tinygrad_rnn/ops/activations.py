"""Activation functions beyond tanh, sigmoid and relu, with PyTorch's definitions: leaky_relu,
softplus, elu, gelu (the exact erf form), silu. Each saves its derivative's values (its slope at
every element), one array like tanh's output, and never its input; at a kink it takes the branch
PyTorch takes (the left one at 0 for leaky_relu and elu)."""
from __future__ import annotations

import math

import numpy as np

from .core import primitive
from .special import normal_cdf

_slope = primitive(lambda g, slope: g * slope)  # most ops here: g times the saved slope


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) from exp of a non-positive number only: finite and accurate for any z."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


@primitive(lambda g, saved: np.where(saved[0], g, g * saved[1]))
def leaky_relu(a, negative_slope=0.01):
    """a where a > 0, negative_slope · a elsewhere (slope negative_slope at 0, as PyTorch)."""
    positive = a > 0
    return np.where(positive, a, a * negative_slope), (positive, negative_slope)


@_slope
def softplus(a, beta=1.0, threshold=20.0):
    """log(1 + e^(βa)) / β, computed without overflow; a itself where βa > threshold (as PyTorch).
    The slope is σ(βa), 1 above the threshold."""
    z = a * beta
    smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / beta
    above = z > threshold
    return np.where(above, a, smooth), np.where(above, 1, _sigmoid(z)).astype(a.dtype, copy=False)


@_slope
def elu(a, alpha=1.0):
    """a where a > 0, α (e^a − 1) elsewhere; the slope is 1, or α e^a = result + α (α at 0, as PyTorch)."""
    positive = a > 0
    negative_part = alpha * np.expm1(np.minimum(a, 0))  # no overflow warning from the unused branch
    out = np.where(positive, a, negative_part).astype(a.dtype, copy=False)
    return out, np.where(positive, 1, negative_part + alpha).astype(a.dtype, copy=False)


_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


@_slope
def gelu(a):
    """a Φ(a) with Φ the normal distribution function, exact (erf, not the tanh approximation);
    the slope is Φ(a) + a φ(a). Computed in float64, returned in a's dtype."""
    x = a.astype(np.float64, copy=False)
    cdf = normal_cdf(x)
    pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return (x * cdf).astype(a.dtype, copy=False), (cdf + x * pdf).astype(a.dtype, copy=False)


@_slope
def silu(a):
    """a σ(a) (also called swish); the slope is σ(a) (1 + a (1 − σ(a)))."""
    s = _sigmoid(a).astype(a.dtype, copy=False)
    return a * s, s * (1 + a * (1 - s))
