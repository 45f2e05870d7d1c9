"""What every picture of a recording returns: the arrays it drew, and a matplotlib figure or HTML.

    picture.data        # dict of the NumPy arrays drawn
    picture.figure      # a matplotlib Figure (Plot), or picture.html (TextView)
    picture.save(path)  # .png / .svg / .pdf for a figure, .html for HTML

Figures are made without pyplot, so nothing needs a display and no figure stays open; Jupyter
shows both kinds inline.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def new_figure(width: float, height: float):
    """A matplotlib Figure of its own (no pyplot, so no display and no global state)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('the pictures of tinygrad_rnn.inspect need matplotlib: '
                          'pip install "tinygrad_rnn[plot]"') from None
    return Figure(figsize=(width, height), layout="constrained")


class Plot:
    """A picture drawn with matplotlib: `.figure`, `.data`, `.save(path)`."""

    def __init__(self, figure, data: dict[str, np.ndarray], title: str) -> None:
        self.figure, self.data, self.title = figure, data, title

    def save(self, path, dpi: int = 100) -> Path:
        path = Path(path)
        if path.suffix.lower() not in FIGURE_SUFFIXES:
            raise ValueError(f"{type(self).__name__}.save: cannot write {path.name}: use one of "
                             f"{', '.join(FIGURE_SUFFIXES)}")
        self.figure.savefig(path, dpi=dpi)
        return path

    def png(self, dpi: int = 100) -> bytes:
        """The figure as PNG bytes (for embedding in a page)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.title}; data {sorted(self.data)}>"


class TextView:
    """A picture that is HTML: `.html` (a fragment with inline styles), `.data`, `.save(path)`."""

    def __init__(self, html: str, data: dict[str, np.ndarray], title: str) -> None:
        self.html, self.data, self.title = html, data, title

    def save(self, path) -> Path:
        """A complete page holding the fragment (.html or .htm)."""
        from .page import standalone_page
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"TextView.save: cannot write {path.name}: use .html")
        path.write_text(standalone_page(self.title, self.html), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<TextView: {self.title}; data {sorted(self.data)}>"
