"""`tinygrad-rnn draw`: unroll a small model for a few steps and draw its graph."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import functional as F
from ..viz import LayoutTooLarge, draw_graph
from .diagram import FORMATS, render
from .errors import CLIError
from .models import build_model, cell_name

INPUTS, HIDDEN, OUTPUTS = 3, 4, 2  # small, so the ops view stays readable


def run(args) -> int:
    path = Path(args.output)
    if path.suffix.lower() not in FORMATS:
        raise CLIError(f"cannot draw to {path}: the suffix must be one of {', '.join(FORMATS)}")
    if path.is_dir():
        raise CLIError(f"{path} is a directory, expected a file name")
    if not path.parent.is_dir():
        raise CLIError(f"the folder {path.parent} does not exist")
    rng = np.random.default_rng(0)
    model = build_model(args.cell, INPUTS, HIDDEN, OUTPUTS, seed=0)
    xs = rng.standard_normal((args.steps, 1, INPUTS)).astype(np.float32)
    targets = rng.standard_normal((args.steps, 1, OUTPUTS)).astype(np.float32)
    outputs, _ = model(xs)
    loss = F.mse_loss(outputs, targets)  # a loss on every step's output ŷ_t, as in the textbook figure
    if args.grads:
        loss.backward()
    graph = draw_graph(loss, view=args.view, show_grads=args.grads, max_steps=args.max_steps)
    try:
        written = render(graph, path)
    except LayoutTooLarge as exc:  # refused before dot starts: it would run for minutes
        advice = f"pass --max-steps {exc.max_steps} or fewer" if exc.max_steps else "draw fewer --steps"
        if args.view == "ops":
            advice += ", or --view unfolded"
        raise CLIError(f"cannot draw {path}: the {args.view} view of {args.steps} steps has {exc.nodes} nodes, "
                       f"more than Graphviz's dot lays out in reasonable time (about {exc.limit}); {advice}") from None
    print(f"Wrote {written} ({args.view} view of {cell_name(args.cell)} over {args.steps} steps)")
    return 0
