"""The picture `train` leaves in its run folder: the trained model unrolled over one training
sequence, with the gradient of the training loss on each hidden state."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import viz
from .diagram import render
from .wording import plural

SHOWN_STEPS = 4  # the first and last two steps; the rest of the sequence is elided

STATE_NOTE = {  # what the number on each hidden state is, in the cell's own symbols
    "rnn": "the number on a_t is ‖∂L/∂a_t‖",
    "gru": "the number on h_t is ‖∂L/∂h_t‖",
    "lstm": "the numbers on h_t and c_t are ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖",
}


def draw_trained(model, problem, path: Path) -> Path:
    """One sequence, run whole and scored with the loss training uses (so the numbers are the
    gradients training sees, e.g. the copy task's recall reaching back to the symbols), then
    backpropagated and drawn with the middle steps elided."""
    xs, targets = problem.batch(np.random.default_rng(0), 1)
    lengths = problem.lengths(targets)
    if lengths is not None:  # a character window that stops at a sentence's end: only its own steps
        xs, targets = xs[:lengths[0]], targets[:lengths[0]]
    outputs, _ = model(xs)
    loss = problem.loss(outputs, targets)
    loss.backward()
    T = xs.shape[0]
    if problem.name == "char":
        text = problem.vocab.decode(xs[:, 0].argmax(-1))
        what = f"one training window of {plural(T, 'character')} ({_short(text)!r}), scored on every prediction"
    elif problem.name == "adding":
        what = f"one adding-problem sequence of {plural(T, 'step')}, scored on the answer after the last"
    else:
        what = f"one copy-task sequence of {plural(T, 'step')}, scored on every step as in training"
    note = STATE_NOTE.get(getattr(model, "cell_type", "rnn"), STATE_NOTE["rnn"])
    graph = viz.draw_graph(loss, view="unfolded", show_grads=True, max_steps=SHOWN_STEPS,
                           title=f"Trained {problem.name} model, {what}; {note}")  # the title heads the legend
    return render(graph, path)


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
