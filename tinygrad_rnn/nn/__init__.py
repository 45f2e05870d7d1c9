"""Modules: layers, recurrent cells and the sequence model."""
from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .layers import Embedding, Linear
from .module import Module, Parameter
from .rnn import RNN, detach_state

__all__ = ["Module", "Parameter", "Linear", "Embedding", "RecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "RNN", "detach_state"]
