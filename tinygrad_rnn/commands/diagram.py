"""Drawing a model unrolled over a few steps, for `train` (the trained model) and `draw`."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import viz
from .errors import CLIError

FORMATS = (".svg", ".png", ".pdf", ".dot")
PICTURE_STEPS = 4


def render(graph, path: Path) -> Path:
    """Write the graph in the format its suffix names (without Graphviz's `dot`, the library writes
    the .dot text instead and says how to install Graphviz); returns the file written."""
    if path.suffix.lower() not in FORMATS:
        raise CLIError(f"cannot draw to {path}: the suffix must be one of {', '.join(FORMATS)}")
    return viz.render(graph, path)


def draw_trained(model, problem, path: Path, steps: int = PICTURE_STEPS) -> Path:
    """The trained model over the first few steps of one example, with ‖∂L/∂a_t‖ on each hidden state."""
    xs, targets = problem.batch(np.random.default_rng(0), 1)
    steps = min(steps, xs.shape[0])
    if problem.name == "adding":
        outputs, _ = model(xs[-steps:])  # the answer is read at the end: draw the last steps
        loss = problem.loss(outputs, targets)
        caption = f"the last {steps} of {xs.shape[0]} steps of an adding-problem sequence"
    else:
        outputs, _ = model(xs[:steps])
        loss = problem.loss(outputs, targets[:steps])
        caption = (f"reading {problem.vocab.decode(xs[:steps, 0].argmax(-1))!r}, "
                   f"predicting {problem.vocab.decode(targets[:steps, 0])!r}" if problem.name == "char"
                   else f"the first {steps} of {xs.shape[0]} steps of a copy-task sequence")
    loss.backward()
    title = f"Trained {problem.name} model, {caption}; on each hidden state its ‖∂L/∂state‖"
    graph = viz.draw_graph(loss, view="unfolded", show_grads=True, title=title)  # the title heads the legend
    return render(graph, path)
