# Generated from docs/tutorial.md by docs/make_tutorial.py: edit the tutorial, then run
# `python docs/make_tutorial.py` (a test fails while this file differs from what it writes).
"""The figures of docs/tutorial.md, drawn by exactly the code the tutorial shows beside them.

`tutorial()` runs the tutorial's python snippets in the page's order, up to its last figure, as a
reader runs them; the last line of a snippet marked `<!-- figure: NAME -->` draws the figure NAME.
"""
import contextlib
import functools
import io
import os
import tempfile


@functools.cache
def tutorial() -> dict:
    """Every figure of the tutorial, by file name. The snippets run in a fresh folder, with what they
    print kept quiet, so the files they write and their output go nowhere."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        os.chdir(folder)
        try:
            return _snippets()
        finally:
            os.chdir(here)


def _snippets() -> dict:
    figures = {}

    # docs/tutorial.md, line 23
    import numpy as np

    from tinygrad_rnn import Parameter, RNNCell, Tensor
    from tinygrad_rnn import functional as F

    rng = np.random.default_rng(0)
    cell = RNNCell(input_size=3, hidden_size=4, rng=rng)
    V = Parameter(rng.uniform(-0.5, 0.5, (2, 4)), name="V")    # output layer ŷ_t = V a_t + c
    c = Parameter(np.zeros(2), name="c")

    T = 3
    xs = rng.standard_normal((T, 1, 3))          # (time, batch, input)
    ys = rng.standard_normal((T, 1, 2))          # a target for every step

    a, losses = None, []                         # None: the initial state a_0 is zero
    for t in range(T):
        a = cell(Tensor(xs[t]), a)
        y_hat = a @ V.T + c
        losses.append(F.mse_loss(y_hat, ys[t]))
    loss = sum(losses[1:], losses[0])            # L = L_1 + L_2 + L_3

    # docs/tutorial.md, line 50: figure tutorial_rnn_folded
    from tinygrad_rnn.viz import draw_graph, render

    figures["tutorial_rnn_folded"] = draw_graph(loss, view="folded")

    # docs/tutorial.md, line 65: figure tutorial_rnn_unfolded
    figures["tutorial_rnn_unfolded"] = draw_graph(loss)                             # the default view, "unfolded"

    # docs/tutorial.md, line 74
    render(draw_graph(loss), "unfolded.svg")

    # docs/tutorial.md, line 91
    loss.backward()
    print(cell.W.grad.shape)     # (4, 4): one gradient, summed over the three steps

    # docs/tutorial.md, line 101: figure tutorial_rnn_ops
    figures["tutorial_rnn_ops"] = draw_graph(loss, view="ops")

    # docs/tutorial.md, line 125: figure tutorial_rnn_grads
    cell.W.data *= 0.5                           # a contracting recurrence
    long_xs = rng.standard_normal((30, 1, 3))
    a = None
    for t in range(30):
        a = cell(Tensor(long_xs[t]), a)
    last_loss = F.mse_loss(a @ V.T + c, ys[-1])  # only ŷ_30 is scored
    last_loss.backward()
    figures["tutorial_rnn_grads"] = draw_graph(last_loss, show_grads=True, max_steps=8)

    # docs/tutorial.md, line 143: figure tutorial_gradient_flow
    import matplotlib.pyplot as plt

    from tinygrad_rnn.diagnostics import hidden_grad_norms, plot_hidden_grad_norms

    sweep_xs = 0.1 * rng.standard_normal((40, 1, 1))   # small inputs keep tanh near its linear part
    readout = rng.standard_normal((1, 16))
    series = []
    for rho in (0.5, 0.8, 1.0, 1.2, 1.5):
        sweep_cell = RNNCell(1, 16, recurrent_init="orthogonal", rng=0)
        sweep_cell.W.data *= rho                        # W = ρQ
        a, states = None, []
        for t in range(40):
            a = sweep_cell(Tensor(sweep_xs[t]), a)
            states.append(a)
        series.append((f"ρ = {rho:g}", hidden_grad_norms((a * readout).sum(), states)))

    figure = plt.figure(figsize=(6.4, 4.0), layout="constrained")
    plot_hidden_grad_norms(series, ax=figure.add_subplot(), title="‖∂L/∂a$_t$‖ through time, W = ρQ (T = 40)")
    plt.close(figure)                                   # Jupyter then shows it once, as the cell's value
    figures["tutorial_gradient_flow"] = figure

    # docs/tutorial.md, line 191: figure tutorial_lstm_unfolded
    from tinygrad_rnn import GRUCell, LSTMCell

    lstm = LSTMCell(input_size=3, hidden_size=4, rng=0)
    state, losses = None, []
    for t in range(T):
        state = lstm(Tensor(xs[t]), state)
        h, cell_state = state
        losses.append(F.mse_loss(h @ V.T + c, ys[t]))
    figures["tutorial_lstm_unfolded"] = draw_graph(sum(losses[1:], losses[0]))

    # docs/tutorial.md, line 209: figure tutorial_gru_unfolded
    gru = GRUCell(input_size=3, hidden_size=4, rng=0)
    h, losses = None, []
    for t in range(T):
        h = gru(Tensor(xs[t]), h)
        losses.append(F.mse_loss(h @ V.T + c, ys[t]))
    figures["tutorial_gru_unfolded"] = draw_graph(sum(losses[1:], losses[0]))
    return figures


def _figure(name: str):
    return lambda: tutorial()[name]


FIGURES = [(name, _figure(name)) for name in [
    "tutorial_rnn_folded",
    "tutorial_rnn_unfolded",
    "tutorial_rnn_ops",
    "tutorial_rnn_grads",
    "tutorial_gradient_flow",
    "tutorial_lstm_unfolded",
    "tutorial_gru_unfolded",
]]
