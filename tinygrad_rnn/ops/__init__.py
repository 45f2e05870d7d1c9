"""The primitive ops, by family; read them as one table of derivatives.

| family | module | ops |
|---|---|---|
| arithmetic | arithmetic.py | add, sub, mul, div, neg, pow_, power |
| elementwise functions | elementwise.py | exp, log, tanh, sigmoid, relu, abs_, sqrt, clip |
| reductions | reductions.py | sum_, mean, max_ |
| shape and indexing | shape.py | reshape, transpose, getitem, concatenate, stack |
| linear algebra | linalg.py | matmul, linear |
| one step of a gated cell | recurrent.py | lstm_cell, lstm_hidden, gru_cell |
| a whole sequence of a recurrent layer | sequence.py | rnn_sequence, lstm_sequence, gru_sequence, step |

Every primitive is a forward on arrays beside one vjp per input (see core.py). Composite functions
(softmax, cross_entropy, ...) live in functional.py and are built from these; they never write
backward code.
"""
from .arithmetic import add, div, mul, neg, pow_, power, sub
from .core import Op, primitive
from .elementwise import abs_, clip, exp, log, relu, sigmoid, sqrt, tanh
from .linalg import linear, matmul
from .recurrent import gru_cell, lstm_cell, lstm_hidden
from .reductions import max_, mean, sum_
from .sequence import gru_sequence, lstm_sequence, rnn_sequence, step
from .shape import concatenate, getitem, reshape, stack, transpose

__all__ = ["Op", "primitive", "add", "sub", "mul", "div", "neg", "pow_", "power", "exp", "log", "tanh", "sigmoid",
           "relu", "abs_", "sqrt", "clip", "sum_", "mean", "max_", "reshape", "transpose", "getitem", "concatenate",
           "stack", "matmul", "linear", "lstm_cell", "lstm_hidden", "gru_cell",
           "rnn_sequence", "lstm_sequence", "gru_sequence", "step"]


def primitives() -> list[Op]:
    """Every primitive op defined here (the gradient tests check that each one has a test)."""
    return [value for value in globals().values() if isinstance(value, Op)]
