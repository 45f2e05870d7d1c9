"""Composite functions built from the primitives in ops/. None of them has backward code: their
gradients come from the primitives they are made of.

    from tinygrad_rnn import functional as F

| module | functions |
|---|---|
| activations.py | tanh, sigmoid, relu, leaky_relu, softplus, elu, gelu, silu, softmax, log_softmax |
| reductions.py | logsumexp, var, std, argmax, argmin |
| selection.py | where, maximum, minimum, gather, one_hot |
| shape.py | concat, stack, squeeze, unsqueeze, flatten, expand, split, chunk |
| losses.py | cross_entropy, nll_loss, mse_loss, binary_cross_entropy, binary_cross_entropy_with_logits |
| dropout.py | dropout |
| numpy_api.py | NumPy's functions on a Tensor (np.sum(t), np.exp(t), np.concatenate([t, u]), ...) |

The Tensor methods that are composites (softmax, squeeze, var, ...) are attached by these modules,
so that tensor.py never imports functional.
"""
from . import numpy_api  # noqa: F401  (attaches Tensor.__array_ufunc__ and __array_function__)
from .activations import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, softplus, tanh
from .dropout import dropout
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss, nll_loss
from .reductions import argmax, argmin, logsumexp, std, var
from .selection import gather, maximum, minimum, one_hot, where
from .shape import chunk, concat, expand, flatten, split, squeeze, stack, unsqueeze

__all__ = ["tanh", "sigmoid", "relu", "leaky_relu", "softplus", "elu", "gelu", "silu", "softmax", "log_softmax",
           "logsumexp", "var", "std", "argmax", "argmin", "where", "maximum", "minimum", "gather", "one_hot",
           "concat", "stack", "squeeze", "unsqueeze", "flatten", "expand", "split", "chunk", "cross_entropy",
           "nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "dropout"]
