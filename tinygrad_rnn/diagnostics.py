"""Gradients through time: how big ∂L/∂a_t is at each step, to see gradients vanish or explode.

    norms = hidden_grad_norms(loss, rnn.states)      # ‖∂L/∂a_t‖ for t = 1..T
    plot_hidden_grad_norms([("ρ = 0.9", norms)], path="gradflow.svg")
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .autograd import grad
from .engine import FreedGraphError
from .tensor import Tensor


def hidden_grad_norms(loss: Tensor, states: Sequence) -> np.ndarray:
    """‖∂loss/∂a_t‖ (Frobenius norm, over the batch too) for each given hidden state, in order.

    `states` holds tensors of loss's graph, e.g. `rnn.states` or the a_t of a hand-written loop; an
    LSTM pair (h, c) counts as its h. The graph is kept (`retain_graph=True`), so `loss.backward()`
    still works afterwards, and no `.grad` is touched. A state the loss does not depend on gets 0.
    After `loss.backward()` has freed the graph, the norms that backward recorded on the states are
    returned (recurrent cells' states record them).
    """
    tensors = []
    for i, s in enumerate(states):
        if isinstance(s, (tuple, list)) and s and isinstance(s[0], Tensor):
            s = s[0]
        if not isinstance(s, Tensor):
            raise TypeError(f"hidden_grad_norms: state {i} is a {type(s).__name__}, not a Tensor")
        tensors.append(s)
    if not tensors:
        return np.zeros(0)
    try:
        grads = grad(loss, tensors, retain_graph=True)
    except FreedGraphError:
        return _recorded_norms(loss, tensors)
    return np.array([np.linalg.norm(g.astype(np.float64)) for g in grads])


def _recorded_norms(loss: Tensor, states: list[Tensor]) -> np.ndarray:
    """After loss.backward() freed the graph: the norms that backward left on the states (a cell's
    states keep theirs), when that backward started at this very loss."""
    root = loss.node.order
    norms = [s.node.grad_norm if s.node.grad_root == root else None for s in states]
    if any(n is None for n in norms):
        raise RuntimeError(
            "hidden_grad_norms: loss.backward() already freed the graph and these states kept no "
            "gradient from it (only a recurrent cell's states do); call hidden_grad_norms before "
            "backward(), or pass retain_graph=True to backward()")
    return np.array(norms, dtype=np.float64)


def plot_hidden_grad_norms(norms, path=None, ax=None, title: str | None = "‖∂L/∂a_t‖ through time"):
    """Plot ‖∂L/∂a_t‖ against t (from 1) on a log axis.

    `norms`: one array, or a list of (label, array) pairs to compare (several ρ, cells, ...).
    Draws into `ax` if given; with `path`, saves the figure there (.svg, .png, .pdf). Returns the Axes.
    Needs matplotlib: pip install "tinygrad_rnn[plot]".
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError('plot_hidden_grad_norms needs matplotlib: pip install "tinygrad_rnn[plot]"') from None
    series = _series(norms)
    if ax is None:
        if path is not None:  # no pyplot: works without a display and leaves no open figures behind
            fig = Figure(figsize=(6.4, 4.0), layout="constrained")
            ax = fig.add_subplot()
        else:
            import matplotlib.pyplot as plt
            fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    fig = ax.figure
    for label, values in series:
        t = np.arange(1, len(values) + 1)
        shown = np.where(values > 0, values, np.nan)  # log axis: zeros cannot be drawn
        ax.plot(t, shown, marker="o", markersize=3, linewidth=1.5, label=label)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # time steps are whole numbers: no tick at 2.5
    ax.set_xlabel("time step t")
    ax.set_ylabel("‖∂L/∂a$_t$‖")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    if any(label is not None for label, _ in series):
        ax.legend(frameon=False)
    if path is not None:
        fig.savefig(path)
    return ax


def _series(norms) -> list[tuple[str | None, np.ndarray]]:
    if isinstance(norms, np.ndarray) or (isinstance(norms, (list, tuple)) and norms
                                         and not isinstance(norms[0], (tuple, list))):
        return [(None, np.asarray(norms, dtype=np.float64))]
    out = []
    for item in norms:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError("plot_hidden_grad_norms: pass an array of norms or a list of (label, norms) pairs")
        out.append((str(item[0]), np.asarray(item[1], dtype=np.float64)))
    return out
