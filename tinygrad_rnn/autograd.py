"""The user-facing side of the engine: recording switches, scopes, and `grad()`.

The machinery lives below: graph.py (nodes, scopes, switches), engine.py (backward over nodes);
this module gathers what programs use and adds `grad()`, which takes tensors.
"""
from __future__ import annotations

from .engine import IndexedGrad, OuterGrad, reduce_to_shape, run_backward
from .graph import (
    STATE,
    Node,
    Scope,
    enable_grad,
    get_default_dtype,
    is_grad_enabled,
    no_grad,
    scope,
    set_default_dtype,
)
from .tensor import Tensor

__all__ = ["STATE", "Node", "Scope", "scope", "no_grad", "enable_grad", "is_grad_enabled", "set_default_dtype",
           "get_default_dtype", "grad", "IndexedGrad", "OuterGrad", "reduce_to_shape"]


def grad(output, inputs, grad_output=None, retain_graph: bool = False):
    """Gradients of `output` with respect to each of `inputs` (leaves or intermediates, e.g. every
    hidden state a_t), as a list of arrays of each input's shape and dtype. `.grad` is not touched.
    An input that `output` does not depend on gets zeros.

    A target whose own history an earlier backward freed is fine: only the part of the graph
    between the targets and `output` is needed."""
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be tensors, got {type(t).__name__}")
    if not isinstance(output, Tensor):
        raise TypeError(f"grad: output must be a tensor, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError(f"grad: output (shape {output.shape}) does not require grad")
    seed = output._seed(grad_output, "grad()")
    return run_backward(output._node, seed, retain_graph, targets=[t._node for t in inputs])
