"""Seeing the graph: unfolded and folded diagrams of recurrent networks, and every op.

    from tinygrad_rnn.viz import draw_graph, render
    dot = draw_graph(loss)                 # a graphviz.Digraph; shows inline in Jupyter
    render(dot, "rnn.svg")                 # .svg/.png/.pdf with Graphviz, else .dot text

Modules: walk (reading the graph, time steps), contract (the textbook tensors and the weights on
their edges), names and style (labels, colours), common, unfolded, folded and opsview (the DOT
pictures), draw (the entry point), rendering (files).
"""
from .draw import draw_graph
from .rendering import render

__all__ = ["draw_graph", "render"]
