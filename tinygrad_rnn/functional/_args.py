"""Argument helpers shared by the composites: NumPy's and PyTorch's names for the same thing."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, torch_names


def one_axis(axis, dim):
    """`axis` (NumPy's name, which has the function's default) unless `dim` (PyTorch's) is given."""
    return axis if dim is None else dim


def axis_and_keepdims(axis, keepdims, dim, keepdim, op: str):
    """(axis, keepdims) from either spelling; giving both names of a pair is refused."""
    axis, keepdims = torch_names(axis, keepdims, dim, keepdim, op)
    return (tuple(axis) if isinstance(axis, list) else axis), keepdims


def as_int(value, what: str, op: str) -> int:
    """An int argument (sizes, counts); a float or a bool is refused with a TypeError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {what} must be an int, got {value!r}")
    return int(value)


def attach_methods(*functions) -> None:
    """Make each function `f(x, ...)` the Tensor method `x.f(...)` of the same name."""
    for function in functions:
        setattr(Tensor, function.__name__, _as_method(function))


def _as_method(function):
    def method(self, *args, **kwargs):
        return function(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = function.__name__
    method.__doc__ = function.__doc__
    return method
