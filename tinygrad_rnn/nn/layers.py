"""Linear and Embedding layers."""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..tensor import Tensor, apply
from . import init
from .module import Module, Parameter, check_size


class Linear(Module):
    """y = x weightᵀ + bias, weight (out, in), bias (out,); PyTorch's init U(±1/sqrt(in))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None, dtype=None) -> None:
        in_features = check_size("Linear", "in_features", in_features)
        out_features = check_size("Linear", "out_features", out_features, minimum=0)  # 0: an empty output
        bound = 1 / math.sqrt(in_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(init.uniform((out_features, in_features), bound, rng, dtype), name="weight")
        self.bias = Parameter(init.uniform((out_features,), bound, rng, dtype), name="bias") if bias else None

    def forward(self, x) -> Tensor:
        if self.bias is None:  # apply(op, ...): one Python frame less than ops.linear(...)
            return apply(ops.linear, (x, self.weight))
        return apply(ops.linear, (x, self.weight, self.bias))

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `dim`, looked up by an integer array of any shape."""

    def __init__(self, num_embeddings: int, dim: int, rng=None, dtype=None) -> None:
        self.num_embeddings = check_size("Embedding", "num_embeddings", num_embeddings)
        self.dim = check_size("Embedding", "dim", dim)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        from ..autograd import STATE
        self.weight = Parameter(rng.standard_normal((num_embeddings, dim)).astype(dtype or STATE.default_dtype),
                                name="weight")

    def forward(self, indices) -> Tensor:
        idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx[(idx < 0) | (idx >= self.num_embeddings)].flat[0]
            raise ValueError(f"Embedding: index {bad} is out of range for {self.num_embeddings} embeddings")
        return self.weight[idx]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.dim}"
