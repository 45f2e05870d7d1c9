"""Arithmetic: + − × ÷ ** and negation. Binary ops broadcast; the engine sums each gradient back to
its input's shape, so a vjp here returns the gradient in the broadcast shape.

Each `@primitive(...)` line lists the vjps, one per input: `vjp(g, saved)` with g = ∂L/∂result.
"""
from __future__ import annotations

import numpy as np

from .core import primitive


@primitive(lambda g, _: g,            # ∂(a + b)/∂a = 1
           lambda g, _: g)            # ∂(a + b)/∂b = 1
def add(a, b):
    return a + b, None                # nothing saved


@primitive(lambda g, _: g,
           lambda g, _: -g)
def sub(a, b):
    return a - b, None


@primitive(lambda g, ab: g * ab[1],   # ∂(ab)/∂a = b
           lambda g, ab: g * ab[0])   # ∂(ab)/∂b = a
def mul(a, b):
    return a * b, (a, b)


@primitive(lambda g, ab: g / ab[1],                       # ∂(a/b)/∂a = 1/b
           lambda g, ab: -g * ab[0] / (ab[1] * ab[1]))    # ∂(a/b)/∂b = −a/b²
def div(a, b):
    return a / b, (a, b)              # the operands, not the result: `x / 2` keeps only x


@primitive(lambda g, _: -g)
def neg(a):
    return -a, None


def _pow_d_base(g, saved):
    """b a^(b−1); 0 where b == 0 (a^0 is constant, even at a == 0)."""
    a, b, _ = saved
    if np.any(b == 0):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * np.where(b == 0, 0, b * a ** (b - 1))
    return g * b * a ** (b - 1)


def _pow_d_exponent(g, saved):
    """a^b log a. At a == 0 it is 0 where b >= 0 and −inf·sign where b < 0, as PyTorch gives."""
    a, b, out = saved
    with np.errstate(divide="ignore", invalid="ignore"):
        d = out * np.log(np.where(a == 0, 1, a))
        d = np.where(a == 0, np.where(b >= 0, 0.0, -np.inf), d)
    return g * d


@primitive(_pow_d_base, _pow_d_exponent)
def pow_(a, b):
    """a ** b with a tensor exponent (both may need gradients)."""
    out = a ** b
    return out, (a, b, out)


def _power_d_base(g, saved):
    a, exponent = saved
    if exponent == 0:
        return np.zeros(np.broadcast_shapes(np.shape(g), a.shape), g.dtype)
    if exponent == 2:  # a square (a loss's residual): one array, not three
        d = g * a
        d *= 2
        return d
    return g * (exponent * a ** (exponent - 1))


@primitive(_power_d_base)
def power(a, exponent=2.0):
    """a ** exponent for a number exponent (`t ** 2`): keeps only a, not the result."""
    if exponent == 2:
        return np.square(a), (a, exponent)
    return a ** np.asarray(exponent, a.dtype), (a, exponent)
