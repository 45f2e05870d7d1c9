"""What a primitive is: a forward on NumPy arrays and one vector-Jacobian product per input.

    @primitive(lambda g, out: g * (1 - out * out))   # the vjp: ∂L/∂a from g = ∂L/∂out
    def tanh(a):
        out = np.tanh(a)
        return out, out                                # (result, what the vjp needs)

`forward(*arrays, **options)` returns the result and `saved`, the arrays its gradient needs (and
nothing more: save-for-backward). Each vjp is `vjp(g, saved) -> gradient for that input`; it may
return a gradient of the broadcast shape (the engine sums it back to the input's shape).

The ops know nothing of tensors: `tensor.py`, one layer up, binds an applier (`bind`) that turns
tensors into arrays, runs the forward and records the node. Calling an op, `ops.tanh(t)`, goes
through that applier.
"""
from __future__ import annotations

import functools

import numpy as np

AxisError = np.exceptions.AxisError if hasattr(np, "exceptions") else np.AxisError  # ValueError and IndexError

_apply = None  # set by tensor.py (`bind`): apply(op, inputs, options) -> Tensor


def bind(apply) -> None:
    global _apply
    _apply = apply


class Op:
    """A primitive op. `vjps` holds one function per input; a variadic op (stack, concatenate) has
    one function `vjp(g, saved, k)` for every input k instead (`variadic=True`). A joint op (the
    recurrent steps and sequences, whose input gradients share one computation) has a single
    `backward(g, saved, needs) -> one gradient or None per input`, `needs[k]` telling whether input
    k wants one (`joint=True`; it takes any number of inputs).

    `records_options`: whether the node keeps the op's keyword options for the pictures (getitem's
    index, a reduction's axis). Off where an option is an array the node must not keep alive.
    `time_axis`: the axis of the result that is time, for an op that runs many steps (a sequence):
    detect_anomaly then names the step.
    """

    __slots__ = ("name", "forward", "vjps", "variadic", "records_options", "time_axis", "_by_arity")

    def __init__(self, forward, vjps: tuple, variadic: bool = False, records_options: bool = True,
                 joint: bool = False, time_axis: int | None = None) -> None:
        self.name = forward.__name__.rstrip("_")
        self.forward = forward
        self.vjps = vjps[0] if joint else vjps  # a joint op's nodes keep the one function
        self.variadic = variadic
        self.records_options = records_options
        self.time_axis = time_axis
        self._by_arity: dict[int, tuple] = {}

    @property
    def __name__(self) -> str:
        return self.name


    def vjps_for(self, arity: int) -> tuple:
        """The vjps of a node with `arity` inputs (shared by every node of that arity)."""
        if not self.variadic:
            return self.vjps
        vjps = self._by_arity.get(arity)
        if vjps is None:
            vjp = self.vjps[0]
            vjps = self._by_arity[arity] = tuple(functools.partial(vjp, k=k) for k in range(arity))
        return vjps

    def __call__(self, *inputs, **options):
        return _apply(self, inputs, options)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def primitive(*vjps, variadic: bool = False, records_options: bool = True, joint: bool = False,
              time_axis: int | None = None):
    """Make an `Op` of a forward function, with its vjps in argument order (see `Op`)."""
    if joint and (len(vjps) != 1 or variadic):
        raise TypeError("primitive: a joint op has exactly one backward function (and is not variadic)")

    def make(forward) -> Op:
        return Op(forward, vjps, variadic, records_options, joint, time_axis)
    return make


# ---------------------------------------------------------------------------------------------
# Helpers shared by the op families
# ---------------------------------------------------------------------------------------------
def normalize_axes(axis, ndim: int, op: str) -> tuple:
    """None, an int or a tuple, as a tuple of non-negative axes (None means all). A 0-d array takes
    axis 0 or -1 and reduces nothing, as in NumPy. Out of range: AxisError (ValueError and IndexError)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        axis = (axis,)
    elif not isinstance(axis, (tuple, list)):
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {type(axis).__name__}")
    axes = []
    for a in axis:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must hold ints, got {a!r}")
        if ndim == 0 and a in (0, -1):
            continue  # NumPy accepts these on a 0-d array: nothing to reduce
        if not -ndim <= a < ndim:
            raise AxisError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {tuple(axis)}")
    return tuple(axes)


def normalize_axis(axis, ndim: int, op: str) -> int:
    """One axis in [-ndim, ndim) as a non-negative int (ops that insert an axis pass ndim + 1)."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise AxisError(f"{op}: axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def rows(a: np.ndarray) -> np.ndarray:
    """(..., n) as (rows, n): the leading axes flattened. Explicit sizes, so an empty axis is fine."""
    lead = 1
    for n in a.shape[:-1]:
        lead *= n
    return a.reshape(lead, a.shape[-1])
