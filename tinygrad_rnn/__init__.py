"""tinygrad_rnn: reverse-mode autodiff on NumPy for learning, prototyping and seeing recurrent networks."""
from . import functional
from .anomaly import detect_anomaly
from .autograd import enable_grad, get_default_dtype, grad, is_grad_enabled, no_grad, set_default_dtype
from .nn import RNN, Dropout, Embedding, GRUCell, Linear, LSTMCell, Module, Parameter, RecurrentCell, RNNCell
from .rng import manual_seed
from .runs import Run, load_run
from .serialization import load, save
from .tensor import Tensor

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad", "set_default_dtype",
           "get_default_dtype", "detect_anomaly", "functional", "manual_seed",
           "Module", "Parameter", "Linear", "Embedding", "Dropout", "RecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "RNN", "save", "load", "load_run", "Run"]
