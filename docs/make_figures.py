"""Generate the figures in docs/figures/ from real code: run `python docs/make_figures.py`.

Every picture is drawn from the graph a model actually recorded: the folded and unfolded
one-hidden-layer RNN (with output layer and loss), an unfolded LSTM and GRU, the ops view, the
hidden states coloured by ‖∂L/∂a_t‖, and the gradient-flow plot for several recurrent scales ρ.
Needs Graphviz's `dot` and matplotlib (pip install "tinygrad_rnn[plot]").
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

from tinygrad_rnn import RNN, RNNCell, Tensor
from tinygrad_rnn import functional as F
from tinygrad_rnn.diagnostics import hidden_grad_norms, plot_hidden_grad_norms
from tinygrad_rnn.viz import draw_graph, render

OUT = Path(__file__).resolve().parent / "figures"


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


def main(argv: list[str]) -> int:
    if shutil.which("dot") is None:
        print("make_figures: Graphviz's `dot` is needed (apt-get install graphviz / brew install graphviz)")
        return 1
    # --png DIR: also write PNG copies there, to look at the pictures without a browser
    png_dir = Path(argv[argv.index("--png") + 1]) if "--png" in argv else None
    OUT.mkdir(parents=True, exist_ok=True)

    def save(dot, name: str) -> None:
        print(render(dot, OUT / f"{name}.svg").relative_to(OUT.parent.parent))
        if png_dir is not None:
            render(dot, png_dir / f"{name}.png")

    loss, _ = rnn_loss("rnn", T=4)
    save(draw_graph(loss, view="folded"), "rnn_folded")
    save(draw_graph(loss, view="unfolded"), "rnn_unfolded")
    save(draw_graph(loss, view="ops"), "rnn_ops")

    loss, _ = rnn_loss("lstm", T=3)
    save(draw_graph(loss, view="unfolded"), "lstm_unfolded")
    loss, _ = rnn_loss("gru", T=4)
    save(draw_graph(loss, view="unfolded"), "gru_unfolded")

    # Gradients on the picture: a 30-step unroll with a contracting recurrence (W scaled by 0.6),
    # the loss on the last output only, elided in the middle: the early states' gradients vanish.
    rng = np.random.default_rng(1)
    model = RNN(3, 8, output_size=2, rng=1)
    model.cells[0].W.data *= 0.6
    outputs, _ = model(rng.standard_normal((30, 2, 3)))
    loss = F.mse_loss(outputs[-1], np.zeros((2, 2)))
    loss.backward()
    save(draw_graph(loss, show_grads=True, max_steps=8), "rnn_grads")

    import matplotlib
    from matplotlib.figure import Figure  # a figure of our own: no pyplot, no display needed
    matplotlib.rcParams["svg.hashsalt"] = "tinygrad_rnn"  # stable ids: the file changes only with the data
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    plot_hidden_grad_norms(gradient_flow(), ax=fig.add_subplot(),
                           title="‖∂L/∂a$_t$‖ through time, W = ρQ (tanh RNN, T = 40, loss on a$_T$)")
    fig.savefig(OUT / "gradient_flow.svg", metadata={"Date": None})
    print((OUT / "gradient_flow.svg").relative_to(OUT.parent.parent))
    if png_dir is not None:
        fig.savefig(png_dir / "gradient_flow.png", dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
