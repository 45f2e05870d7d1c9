"""`detect_anomaly()`: stop at the first op whose forward or backward makes NaN or Inf.

Off by default; when off, the only cost is one flag read per op.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .autograd import STATE


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside this block, a forward or backward op producing NaN/Inf raises FloatingPointError
    naming the op, its input shapes, and the module call and time step it belongs to."""
    previous = STATE.detect_anomaly
    STATE.detect_anomaly = True
    try:
        with np.errstate(all="ignore"):  # the check below reports it, with more to say than NumPy
            yield
    finally:
        STATE.detect_anomaly = previous


def describe_scope(scope) -> str:
    """'in RNNCell (time step 3) inside RNN', or '' outside any module call."""
    if scope is None:
        return ""
    names = []
    for s in scope.chain():
        step = "" if s.step is None else f" (time step {s.step})"
        names.append(f"{type(s.module).__name__}{step}")
    return " in " + " inside ".join(names)


def describe_node(node) -> str:
    shapes = ", ".join(str(p.shape) for p in node._parents)
    return f"'{node._op}' (input shapes {shapes}){describe_scope(node._scope)}"


def check_forward(op_name: str, inputs, result: np.ndarray) -> None:
    if not np.all(np.isfinite(result)):
        shapes = ", ".join(str(t.shape) for t in inputs)
        bad = "NaN" if np.isnan(result).any() else "Inf"
        raise FloatingPointError(
            f"detect_anomaly: forward of '{op_name}' (input shapes {shapes})"
            f"{describe_scope(STATE.scope)} produced {bad}")
