"""Drawing a model unrolled over a few steps, for `train` (the trained model) and `draw`."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..viz import draw_graph
from .errors import CLIError

FORMATS = (".svg", ".png", ".pdf", ".dot")
PICTURE_STEPS = 4


def render(graph, path: Path) -> tuple[Path, str | None]:
    """Write the graph in the format its suffix names; without Graphviz's `dot`, the .dot text instead.
    Returns the file written and, if it is not the one asked for, a note saying why."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CLIError(f"cannot draw to {path}: the suffix must be one of {', '.join(FORMATS)}")
    if suffix == ".dot":
        path.write_text(graph.source, encoding="utf-8")
        return path, None
    import graphviz
    try:
        path.write_bytes(graph.pipe(format=suffix[1:]))
        return path, None
    except graphviz.ExecutableNotFound:
        fallback = path.with_suffix(".dot")
        fallback.write_text(graph.source, encoding="utf-8")
        return fallback, (f"Graphviz's 'dot' program is not installed, so the diagram was written as {fallback} "
                          "(install Graphviz, e.g. 'apt install graphviz' or 'brew install graphviz', for pictures)")


def draw_trained(model, problem, path: Path, steps: int = PICTURE_STEPS) -> tuple[Path | None, str | None]:
    """The trained model over the first few steps of one example, with ‖∂L/∂a_t‖ on each hidden state."""
    xs, targets = problem.batch(np.random.default_rng(0), 1)
    steps = min(steps, xs.shape[0])
    if problem.name == "adding":
        outputs, _ = model(xs[-steps:])  # the answer is read at the end: draw the last steps
        loss = problem.loss(outputs, targets)
    else:
        outputs, _ = model(xs[:steps])
        loss = problem.loss(outputs, targets[:steps])
    loss.backward()
    graph = draw_graph(loss, view="unfolded", show_grads=True)
    return render(graph, path)
