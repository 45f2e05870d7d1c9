"""Modules: layers, recurrent cells and the sequence model."""
from .cells import RecurrentCell, RNNCell
from .layers import Embedding, Linear
from .module import Module, Parameter

__all__ = ["Module", "Parameter", "Linear", "Embedding", "RecurrentCell", "RNNCell"]
