"""Selection: elementwise choices between inputs. `where(condition, a, b)` takes a where the
condition holds and b elsewhere; `maximum` and `minimum` take the larger or smaller. The gradient
goes to the input that was chosen; at a tie maximum and minimum split it evenly (as PyTorch), so
it stays a true subgradient. They keep the condition, or both operands, to know who was chosen."""
from __future__ import annotations

import numpy as np

from .core import primitive


def _condition_has_no_gradient(g, condition):
    raise RuntimeError("where: the condition is a mask and has no gradient")  # never asked: a mask never requires grad


@primitive(_condition_has_no_gradient,
           lambda g, condition: np.where(condition, g, 0),    # ∂/∂a = 1 where the condition holds
           lambda g, condition: np.where(condition, 0, g))    # ∂/∂b = 1 elsewhere
def where(condition, a, b):
    if condition.dtype != bool:
        raise TypeError(f"where: the condition must be boolean (a comparison such as x > 0), got {condition.dtype}")
    return np.where(condition, a, b), condition


def _share(g, mine, other, wins):
    """g where this operand won (`wins(mine, other)`), half of g where the two are tied."""
    return g * wins(mine, other) + (0.5 * g) * (mine == other)   # bool factors: g keeps its dtype


@primitive(lambda g, ab: _share(g, ab[0], ab[1], np.greater),
           lambda g, ab: _share(g, ab[1], ab[0], np.greater))
def maximum(a, b):
    return np.maximum(a, b), (a, b)


@primitive(lambda g, ab: _share(g, ab[0], ab[1], np.less),
           lambda g, ab: _share(g, ab[1], ab[0], np.less))
def minimum(a, b):
    return np.minimum(a, b), (a, b)
