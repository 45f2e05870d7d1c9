"""Hypothesis strategies for property-testing your own ops and recurrent cells.

Needs `hypothesis` (``pip install hypothesis``); the rest of tinygrad_rnn does not import it.

Example: check a new composite op against central differences on random, safely valued inputs::

    from hypothesis import given
    from tinygrad_rnn.testing import gradcheck, strategies as tst

    @given(tst.broadcastable_arrays(2, values=("tanh", "div")))
    def test_my_ratio(arrays):
        assert gradcheck(lambda a, b: a.tanh() / b, arrays)

Values are float64 by default (central differences need it) and kept in a range where the op is
smooth: away from poles (log, sqrt, div near 0), kinks (relu, abs at 0) and ties (max), see
`safe_values`.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

from ..tensor import Tensor

__all__ = ["ValueRange", "safe_values", "elements", "shapes", "edge_shapes", "arrays", "tensors",
           "broadcastable_arrays", "broadcastable_tensors", "matmul_arrays", "axes", "RNNConfig", "rnn_configs",
           "rnn_inputs"]

# Small by default: property tests run many examples and central differences cost 2 calls per element.
MAX_DIMS = 3
MAX_SIDE = 4


# ----------------------------------------------------------------------------------------------
# Value ranges
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ValueRange:
    """Where elements may lie: in [low, high], at least `margin` away from each point of `avoid`,
    and, with `distinct=True`, at least `margin` apart from each other (no ties).

    Distinct values come from a grid of step `margin`, so an array can hold at most
    (high - low) / margin + 1 of them: widen the range or shrink the margin for big arrays.

    >>> big = ValueRange(-100.0, 100.0, margin=0.05, distinct=True)   # room for 4001 values
    """

    low: float = -3.0
    high: float = 3.0
    avoid: tuple[float, ...] = ()
    margin: float = 0.1
    distinct: bool = False

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"ValueRange: low ({self.low}) must be below high ({self.high})")
        if self.margin <= 0:
            raise ValueError(f"ValueRange: margin must be positive, got {self.margin}")


_RANGES: dict[str, ValueRange] = {
    "default": ValueRange(),
    # poles and domain edges: stay well inside, so 1/x and 1/sqrt(x) stay moderate
    "log": ValueRange(0.2, 4.0),
    "sqrt": ValueRange(0.2, 4.0),
    "div": ValueRange(-3.0, 3.0, avoid=(0.0,), margin=0.3),   # for a denominator
    "pow": ValueRange(0.3, 2.5),                              # a base raised to any real exponent
    "exponent": ValueRange(-2.0, 2.0),
    # kinks
    "relu": ValueRange(avoid=(0.0,)),
    "abs": ValueRange(avoid=(0.0,)),
    "clip": ValueRange(avoid=(-1.0, 1.0)),                    # for clip(-1, 1); see ValueRange for others
    # ties: the gradient of max is only defined where the winner is unique
    "max": ValueRange(-4.0, 4.0, margin=0.05, distinct=True),
    # smooth everywhere; a range where exp does not dominate the tolerance
    "exp": ValueRange(-3.0, 3.0),
    "tanh": ValueRange(-3.0, 3.0),
    "sigmoid": ValueRange(-4.0, 4.0),
    # activations: leaky_relu and elu (alpha != 1) have a kink at 0; softplus (threshold 20) at 20
    "leaky_relu": ValueRange(avoid=(0.0,)),
    "elu": ValueRange(avoid=(0.0,)),
    "softplus": ValueRange(-4.0, 4.0),
    "gelu": ValueRange(-4.0, 4.0),
    "silu": ValueRange(-4.0, 4.0),
    "min": ValueRange(-4.0, 4.0, margin=0.05, distinct=True),
    # probabilities away from 0 and 1, where log and 1/p are steep
    "probability": ValueRange(0.05, 0.95),
}


def safe_values(op_name: str = "default") -> ValueRange:
    """The value range in which `op_name` is smooth enough for central differences.

    Known names: default, log, sqrt, div (a denominator), pow (a base), exponent, relu, abs,
    clip (for clip(-1, 1)), max and min (no ties), exp, tanh, sigmoid, leaky_relu, elu, softplus,
    gelu, silu, probability (for binary_cross_entropy). Other names get the default.

    >>> safe_values("log")
    ValueRange(low=0.2, high=4.0, avoid=(), margin=0.1, distinct=False)
    """
    return _RANGES.get(op_name.rstrip("_"), _RANGES["default"])


def _as_range(values) -> ValueRange:
    if values is None:
        return _RANGES["default"]
    if isinstance(values, ValueRange):
        return values
    if isinstance(values, str):
        return safe_values(values)
    raise TypeError(f"values: expected an op name or a ValueRange, got {type(values).__name__}")


def _forbidden(vr: ValueRange) -> list[tuple[float, float]]:
    """The open neighbourhoods of the points to avoid, merged where they overlap, in order."""
    merged: list[list[float]] = []
    for point in sorted(vr.avoid):
        lo, hi = point - vr.margin, point + vr.margin
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _push_away(x: float, vr: ValueRange, zones: list[tuple[float, float]]) -> float:
    """Move x to the nearer edge of the forbidden zone it is in, staying inside [low, high] when
    possible (the edges of merged zones are allowed values)."""
    for lo, hi in zones:
        if lo < x < hi:
            if hi <= vr.high and (x - lo >= hi - x or lo < vr.low):
                return hi
            return lo
    return x


def _grid(vr: ValueRange) -> list[float]:
    """Points of [low, high] spaced `margin` apart, minus the neighbourhoods of `avoid`."""
    count = int(np.floor((vr.high - vr.low) / vr.margin)) + 1
    points = vr.low + vr.margin * np.arange(count)
    return [float(p) for p in points if all(abs(p - a) >= vr.margin for a in vr.avoid)]


def elements(values=None) -> st.SearchStrategy[float]:
    """Floats in a value range (an op name for `safe_values`, or a ValueRange).

    >>> elements("log").example() > 0
    True
    """
    vr = _as_range(values)
    if vr.distinct:
        return st.sampled_from(_grid(vr))
    floats = st.floats(vr.low, vr.high, allow_nan=False, allow_infinity=False)
    if not vr.avoid:
        return floats
    zones = _forbidden(vr)
    return floats.map(lambda x: _push_away(x, vr, zones))


# ----------------------------------------------------------------------------------------------
# Shapes, arrays, tensors
# ----------------------------------------------------------------------------------------------
def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1,
           max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, small by default (rank 0 to 3, sides 1 to 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def edge_shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE
                ) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes as `shapes()` draws them, plus the edges: 0-d () and empty shapes (some side 0), each
    drawn about one time in five.

    >>> 0 in edge_shapes(min_dims=1).filter(lambda s: 0 in s).example()
    True
    """
    empty = shapes(max(min_dims, 1), max(max_dims, 1), 0, max_side).filter(lambda s: 0 in s)
    options = [shapes(min_dims, max_dims, 1, max_side), empty]
    if min_dims == 0:
        options.append(st.just(()))
    return st.one_of(*options[:1] * 3, *options[1:])


def arrays(shape=None, *, dtype=np.float64, values=None, min_dims: int = 0, max_dims: int = MAX_DIMS,
           min_side: int = 1, max_side: int = MAX_SIDE) -> st.SearchStrategy[np.ndarray]:
    """Float arrays with elements in a safe range.

    `shape` is a tuple, a strategy of tuples, or None for a random small shape. `values` is an op
    name (see `safe_values`) or a ValueRange.

    >>> from tinygrad_rnn.testing import strategies as tst
    >>> a = tst.arrays((2, 3), values="log").example()
    >>> a.shape, a.dtype, bool((a > 0).all())
    ((2, 3), dtype('float64'), True)
    """
    if shape is None:
        shape = shapes(min_dims, max_dims, min_side, max_side)
    vr = _as_range(values)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(vr), unique=vr.distinct)


def tensors(shape=None, *, requires_grad: bool = True, dtype=np.float64, values=None, **shape_options
            ) -> st.SearchStrategy[Tensor]:
    """Tensors holding `arrays(shape, dtype=..., values=...)`, requiring grad by default.

    >>> from hypothesis import given
    >>> @given(tensors(values="relu"))
    ... def test_relu_is_idempotent(t):
    ...     assert (t.relu().relu().data == t.relu().data).all()
    >>> test_relu_is_idempotent()
    """
    return arrays(shape, dtype=dtype, values=values, **shape_options).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def _per_operand(values, num: int) -> list:
    if values is None or isinstance(values, (str, ValueRange)):
        return [values] * num
    values = list(values)
    if len(values) != num:
        raise ValueError(f"values: expected one value range per operand ({num}), got {len(values)}")
    return values


@st.composite
def _arrays_of_shapes(draw, shape_strategy, values: Sequence, dtype) -> tuple[np.ndarray, ...]:
    input_shapes = draw(shape_strategy).input_shapes
    return tuple(draw(arrays(shape, dtype=dtype, values=v)) for shape, v in zip(input_shapes, values))


def broadcastable_arrays(num: int = 2, *, dtype=np.float64, values=None, min_dims: int = 0,
                         max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
                         ) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """Tuples of `num` arrays whose shapes broadcast together (ranks may differ).

    `values` is one value range for all operands or a sequence with one per operand, e.g.
    `values=(None, "div")` for a numerator and a denominator.

    >>> a, b = broadcastable_arrays(2, values=(None, "div")).example()
    >>> np.broadcast_shapes(a.shape, b.shape) is not None
    True
    """
    shape_strategy = hnp.mutually_broadcastable_shapes(
        num_shapes=num, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    return _arrays_of_shapes(shape_strategy, _per_operand(values, num), dtype)


def broadcastable_tensors(num: int = 2, *, requires_grad: bool = True, dtype=np.float64, values=None,
                          **shape_options) -> st.SearchStrategy[tuple[Tensor, ...]]:
    """Tuples of `num` tensors whose shapes broadcast together; see `broadcastable_arrays`.

    >>> from hypothesis import given
    >>> @given(broadcastable_tensors(2))
    ... def test_add_commutes(ab):
    ...     a, b = ab
    ...     assert np.array_equal((a + b).data, (b + a).data)
    >>> test_add_commutes()
    """
    return broadcastable_arrays(num, dtype=dtype, values=values, **shape_options).map(
        lambda arrs: tuple(Tensor(a, requires_grad=requires_grad) for a in arrs))


def matmul_arrays(*, dtype=np.float64, values=None, max_dims: int = 2, max_side: int = MAX_SIDE
                  ) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Pairs of arrays that np.matmul accepts: 1-D operands, matrices, and batched stacks whose
    batch dimensions broadcast (`max_dims` batch dimensions at most).

    >>> a, b = matmul_arrays().example()
    >>> (a @ b).ndim >= 0
    True
    """
    shape_strategy = hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", max_dims=max_dims, max_side=max_side)
    return _arrays_of_shapes(shape_strategy, _per_operand(values, 2), dtype)


def axes(ndim: int) -> st.SearchStrategy:
    """Arguments for `axis=` of a reduction over `ndim` dimensions: None, an int (negative too) or a
    tuple of distinct axes (negative too, possibly empty)."""
    options = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim > 0:
        options.insert(1, st.integers(-ndim, ndim - 1))
    return st.one_of(*options)


# ----------------------------------------------------------------------------------------------
# Recurrent networks
# ----------------------------------------------------------------------------------------------
class RNNConfig(NamedTuple):
    """A small recurrent problem: `steps` (T) inputs of shape (batch, input_size)."""

    batch: int
    input_size: int
    hidden_size: int
    steps: int
    nonlinearity: str

    @property
    def T(self) -> int:
        return self.steps


def rnn_configs(*, max_batch: int = 3, max_input: int = 4, max_hidden: int = 4, max_steps: int = 5,
                nonlinearities: Sequence[str] = ("tanh", "relu")) -> st.SearchStrategy[RNNConfig]:
    """Small RNN configurations, each size at least 1.

    >>> from tinygrad_rnn import RNNCell
    >>> cfg = rnn_configs().example()
    >>> cell = RNNCell(cfg.input_size, cfg.hidden_size, nonlinearity=cfg.nonlinearity)
    """
    return st.builds(RNNConfig, batch=st.integers(1, max_batch), input_size=st.integers(1, max_input),
                     hidden_size=st.integers(1, max_hidden), steps=st.integers(1, max_steps),
                     nonlinearity=st.sampled_from(tuple(nonlinearities)))


def rnn_inputs(config: RNNConfig, *, dtype=np.float64, values=None) -> st.SearchStrategy[np.ndarray]:
    """A sequence for `config`: an array of shape (T, batch, input_size).

    >>> from hypothesis import given
    >>> @given(st.data())
    ... def test_sequence_shape(data):
    ...     cfg = data.draw(rnn_configs())
    ...     xs = data.draw(rnn_inputs(cfg))
    ...     assert xs.shape == (cfg.T, cfg.batch, cfg.input_size)
    >>> test_sequence_shape()
    """
    return arrays((config.steps, config.batch, config.input_size), dtype=dtype, values=values)
