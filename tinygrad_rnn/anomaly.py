"""`detect_anomaly()`: stop at the first op whose forward or backward makes NaN or Inf.

Off by default; when off, the only cost is one flag read per op. It reads nodes (op, parents'
shapes, scope) and the arrays an op has just made, nothing else.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .graph import STATE


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
    """'in RNNCell (time step 3) inside RNN', or '' outside any module call. Steps count from 1,
    as in every picture."""
    if scope is None:
        return ""
    names = []
    for s in scope.chain():
        step = "" if s.step is None else f" (time step {s.step + 1})"
        names.append(f"{type(s.module).__name__}{step}")
    return " in " + " inside ".join(names)


def describe_node(node) -> str:
    shapes = ", ".join(str(p.shape) for p in node.parents)
    return f"'{node.op}' (input shapes {shapes}){describe_scope(node.scope)}"


def check_forward(op, shapes, result: np.ndarray) -> None:
    if result.dtype.kind == "f" and not np.all(np.isfinite(result)):
        bad = "NaN" if np.isnan(result).any() else "Inf"
        when = ""
        if op.time_axis is not None:  # one node for many steps: say which step went wrong first
            finite = np.isfinite(result).reshape(result.shape[0], -1).all(axis=1)
            when = f" at time step {int(np.argmin(finite)) + 1}"
        raise FloatingPointError(
            f"detect_anomaly: forward of '{op.name}' (input shapes {', '.join(map(str, shapes))})"
            f"{describe_scope(STATE.scope)} produced {bad}{when}")


def check_backward(node, parent, grad) -> None:
    values = getattr(grad, "values", None)  # a compact gradient: check what it carries
    arrays = [values] if values is not None else [getattr(grad, "left", None), getattr(grad, "right", None)]
    if values is None and arrays[0] is None:
        arrays = [np.asarray(grad)]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise FloatingPointError(
            f"detect_anomaly: backward of {describe_node(node)} produced a non-finite gradient "
            f"for an input of shape {parent.shape}")
