"""Figures of docs/seeing_the_graph.md and docs/tutorial.md: the recorded graph in its three views,
gradients on the states, and gradient flow for several recurrent scales ρ."""
from __future__ import annotations

import numpy as np

from tinygrad_rnn import RNN, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.diagnostics import hidden_grad_norms, plot_hidden_grad_norms
from tinygrad_rnn.viz import draw_graph


def rnn_loss(cell: str, T: int, hidden: int = 4, seed: int = 0):
    """A one-hidden-layer model ŷ_t = V a_t + c on random data, with a mean squared error loss."""
    rng = np.random.default_rng(seed)
    model = RNN(3, hidden, output_size=2, cell=cell, rng=seed)
    outputs, _ = model(rng.standard_normal((T, 2, 3)))
    return F.mse_loss(outputs, rng.standard_normal(outputs.shape)), model


def gradient_flow(rhos=(0.5, 0.8, 1.0, 1.2, 1.5), T: int = 40, hidden: int = 16, seed: int = 0):
    """‖∂L/∂a_t‖ for a tanh RNN whose recurrent weight is ρ times an orthogonal matrix; the loss
    reads only the last state, so every gradient has travelled T - t steps back through W."""
    rng = np.random.default_rng(seed)
    xs = 0.1 * rng.standard_normal((T, 1, 1))
    v = rng.standard_normal((1, hidden))
    series = []
    for rho in rhos:
        cell = RNNCell(1, hidden, recurrent_init="orthogonal", rng=seed, dtype=np.float64)
        cell.W.data *= rho
        a, states = None, []
        for t in range(T):
            a = cell(Tensor(xs[t], dtype=np.float64), a)
            states.append(a)
        loss = (a * v).sum()
        series.append((f"ρ = {rho:g}", hidden_grad_norms(loss, states)))
    return series


def rnn_grads():
    """A 30-step unroll with a contracting recurrence (W scaled by 0.6), the loss on the last output
    only, elided in the middle: the early states' gradients vanish."""
    rng = np.random.default_rng(1)
    model = RNN(3, 8, output_size=2, rng=1)
    model.cells[0].W.data *= 0.6
    outputs, _ = model(rng.standard_normal((30, 2, 3)))
    loss = F.mse_loss(outputs[-1], np.zeros((2, 2)))
    loss.backward()
    return draw_graph(loss, show_grads=True, max_steps=8)


def gradient_flow_plot():
    from matplotlib.figure import Figure  # a figure of our own: no pyplot, no display needed
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    plot_hidden_grad_norms(gradient_flow(), ax=fig.add_subplot(),
                           title="‖∂L/∂a$_t$‖ through time, W = ρQ (tanh RNN, T = 40, loss on a$_T$)")
    return fig


FIGURES = [
    ("rnn_folded", lambda: draw_graph(rnn_loss("rnn", T=4)[0], view="folded")),
    ("rnn_unfolded", lambda: draw_graph(rnn_loss("rnn", T=4)[0], view="unfolded")),
    ("rnn_ops", lambda: draw_graph(rnn_loss("rnn", T=4)[0], view="ops")),
    ("lstm_unfolded", lambda: draw_graph(rnn_loss("lstm", T=3)[0], view="unfolded")),
    ("gru_unfolded", lambda: draw_graph(rnn_loss("gru", T=4)[0], view="unfolded")),
    ("rnn_grads", rnn_grads),
    ("gradient_flow", gradient_flow_plot),
]
