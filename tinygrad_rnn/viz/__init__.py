"""Seeing the graph: unfolded and folded diagrams of recurrent networks, and every op.

    from tinygrad_rnn.viz import draw_graph, render
    dot = draw_graph(loss)                 # a graphviz.Digraph; shows inline in Jupyter
    render(dot, "rnn.svg")                 # .svg/.png/.pdf with Graphviz, else .dot text

Modules: walk (reading the graph), hints (`step` and `phase`, for what the graph cannot tell),
contract (the textbook tensors and the weights on their edges), timeline (time steps and phases
from the data flow), names and style (symbols, labels, colours), common, unfolded, folded and
opsview (the DOT pictures), picture (the Digraph they return: size check, Jupyter display), draw
(the entry point), rendering (files).
"""
from .draw import draw_graph
from .hints import phase, step
from .picture import LayoutTooLarge, Picture
from .rendering import render

__all__ = ["draw_graph", "render", "step", "phase", "Picture", "LayoutTooLarge"]
