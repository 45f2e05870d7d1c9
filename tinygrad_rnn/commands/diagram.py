"""Writing a drawn graph to the file a command names (`draw`; `train`'s picture: trained_picture.py)."""
from __future__ import annotations

from pathlib import Path

from .. import viz
from .errors import CLIError

FORMATS = (".svg", ".png", ".pdf", ".dot")


def render(graph, path: Path) -> Path:
    """Write the graph in the format its suffix names (without Graphviz's `dot`, the library writes
    the .dot text instead and says how to install Graphviz); returns the file written."""
    if path.suffix.lower() not in FORMATS:
        raise CLIError(f"cannot draw to {path}: the suffix must be one of {', '.join(FORMATS)}")
    return viz.render(graph, path)
