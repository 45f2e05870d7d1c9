"""`draw_graph`: the entry point that reads an output's graph and builds one of the views."""
from __future__ import annotations

import gc

from ..tensor import Tensor
from .common import ALL
from .folded import folded
from .opsview import ops
from .picture import Picture
from .reading import read
from .unfolded import unfolded

VIEWS = ("unfolded", "folded", "ops")
RANKDIRS = ("LR", "TB")           # the direction time runs in the textbook views
OPS_RANKDIRS = ("LR", "RL", "TB", "BT")  # the direction data flows in the ops view


def draw_graph(output: Tensor, view: str = "unfolded", show_grads: bool = False, max_steps: int | str | None = None,
               rankdir: str = "LR", title: str | None = None) -> Picture:
    """Draw the graph that produced `output` (usually the loss).

    view:
      "unfolded"  the textbook figure: inputs x_t, hidden states a_t, outputs ŷ_t and the loss,
                  edges labelled with the shared weights met on the way (U, W, V), one cluster
                  `cluster_t{k}` labelled "t = k" per time step (steps count from 1);
      "folded"    the recurrence drawn once: the hidden state has a self-loop labelled W;
      "ops"       every primitive op with its output shape, clustered by time step.
    show_grads: after loss.backward(), show ‖∂L/∂a_t‖ on each hidden state, coloured on a fixed
                log scale, one colour per decade (the folded view shows the range over t).
    max_steps:  None (default): a long unroll is elided to a readable size (the picture says so);
                k: draw the first and last steps (about k/2 each) of each phase and one
                "… n steps …" node for the rest; "all": every step.
    rankdir:    the direction time runs: "LR" (default) or "TB"; the ops view also takes "RL" and "BT".
    title:      a line drawn at the top of the legend.

    Time comes from the data flow: a plain Python loop over a cell is enough, and two directions,
    an encoder and a decoder, or an output fed back into the next step find their columns too
    (`tinygrad_rnn.viz.step` and `phase` settle what the graph cannot tell). Returns a Picture, a
    graphviz.Digraph: `.source` is the DOT text (no Graphviz program needed), Jupyter shows it
    inline, and `tinygrad_rnn.viz.render` writes it to a file. The graph is only read, never changed.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(output).__name__}")
    if view not in VIEWS:
        raise ValueError(f"draw_graph: view must be one of {', '.join(VIEWS)}; got {view!r}")
    allowed = OPS_RANKDIRS if view == "ops" else RANKDIRS
    if rankdir not in allowed:
        raise ValueError(f"draw_graph: rankdir for the {view} view must be one of {', '.join(allowed)}; "
                         f"got {rankdir!r}")
    if max_steps is not None and max_steps != ALL and (
            not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1):
        raise ValueError(f"draw_graph: max_steps must be a positive integer, 'all' or None (elide a long "
                         f"unroll by itself), got {max_steps!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"draw_graph: title must be a string, got {type(title).__name__}")
    # Reading a big graph makes many small dicts and sets; with the cycle collector on, Python
    # would rescan the whole (large, acyclic) graph again and again while they are made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        c = read(output)
        if view == "unfolded":
            return unfolded(c, show_grads, max_steps, rankdir, title)
        if view == "folded":
            return folded(c, show_grads, rankdir, title)
        return ops(c, show_grads, max_steps, rankdir, title)
    finally:
        if collecting:
            gc.enable()
