"""Modules: layers, dropout, recurrent cells and the sequence model."""
from .cells import GRUCell, LSTMCell, RecurrentCell, RNNCell
from .dropout import Dropout
from .layers import Embedding, Linear
from .module import Module, Parameter
from .rnn import RNN, detach_state

__all__ = ["Module", "Parameter", "Linear", "Embedding", "Dropout", "RecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "RNN", "detach_state"]
