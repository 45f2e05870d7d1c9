"""The primitive ops, by family; read them as one table of derivatives.

| family | module | ops |
|---|---|---|
| arithmetic | arithmetic.py | add, sub, mul, div, neg, pow_, power |
| elementwise functions | elementwise.py | exp, log, tanh, sigmoid, relu, abs_, sqrt, clip |
| activations | activations.py | leaky_relu, softplus, elu, gelu, silu |
| selection | selection.py | where, maximum, minimum |
| reductions | reductions.py | sum_, mean, max_, min_ |
| shape and indexing | shape.py | reshape, transpose, expand, getitem, concatenate, stack |
| linear algebra | linalg.py | matmul, linear |
| losses | losses.py | binary_cross_entropy |
| one step of a cell | recurrent.py | lstm_cell, lstm_hidden, gru_cell, linear_tanh, linear_relu |
| a whole sequence of a recurrent layer | sequence.py | rnn_sequence, lstm_sequence, gru_sequence, step |

Every primitive is a forward on arrays beside one vjp per input (see core.py). Composite functions
(softmax, cross_entropy, ...) live in functional and are built from these; they never write
backward code. special.py holds erf and erfc (NumPy has neither), which gelu uses.
"""
from .activations import elu, gelu, leaky_relu, silu, softplus
from .arithmetic import add, div, mul, neg, pow_, power, sub
from .core import Op, primitive
from .elementwise import abs_, clip, exp, log, relu, sigmoid, sqrt, tanh
from .linalg import linear, matmul
from .losses import binary_cross_entropy
from .recurrent import gru_cell, linear_relu, linear_tanh, lstm_cell, lstm_hidden
from .reductions import max_, mean, min_, sum_
from .selection import maximum, minimum, where
from .sequence import gru_sequence, lstm_sequence, rnn_sequence, step
from .shape import concatenate, expand, getitem, reshape, stack, transpose

__all__ = ["Op", "primitive", "add", "sub", "mul", "div", "neg", "pow_", "power", "exp", "log", "tanh", "sigmoid",
           "relu", "abs_", "sqrt", "clip", "leaky_relu", "softplus", "elu", "gelu", "silu", "where", "maximum",
           "minimum", "sum_", "mean", "max_", "min_", "reshape", "transpose", "expand", "getitem", "concatenate",
           "stack", "matmul", "linear", "binary_cross_entropy", "lstm_cell", "lstm_hidden", "gru_cell",
           "linear_tanh", "linear_relu", "rnn_sequence", "lstm_sequence", "gru_sequence", "step"]


def primitives() -> list[Op]:
    """Every primitive op defined here (the gradient tests check that each one has a test)."""
    return [value for value in globals().values() if isinstance(value, Op)]
