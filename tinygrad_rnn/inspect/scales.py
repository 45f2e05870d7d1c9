"""How values become colours, shared by the matplotlib pictures and the HTML text views, so a unit
looks the same in a heatmap and over the text: red positive, blue negative, white zero for signed
activations (tanh states, g, n, c); white to dark green for gates in [0, 1]."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ColorBrewer's RdBu ends and a YlGn-like dark end: readable on white, distinct for colour-blind readers.
NEGATIVE = (33, 102, 172)
POSITIVE = (178, 24, 43)
WHITE = (255, 255, 255)
SEQUENTIAL = (0, 104, 55)


@dataclass(frozen=True)
class Scale:
    """A colour scale: signed (diverging around 0, from -limit to limit) or 0..limit."""

    signed: bool
    limit: float

    @property
    def vmin(self) -> float:
        return -self.limit if self.signed else 0.0

    @property
    def cmap(self) -> str:  # the matplotlib colormap that matches `css`
        return "RdBu_r" if self.signed else "Greens"

    def rgb(self, value: float) -> tuple[int, int, int]:
        """The colour of one value, as 0-255 red, green, blue."""
        x = 0.0 if not np.isfinite(value) else float(np.clip(value / self.limit, -1.0, 1.0))
        end = (POSITIVE if x >= 0 else NEGATIVE) if self.signed else SEQUENTIAL
        x = abs(x) if self.signed else max(x, 0.0)
        return tuple(round(w + (e - w) * x) for w, e in zip(WHITE, end))

    def css(self, value: float) -> str:
        """The same colour for a style attribute: rgb(r,g,b)."""
        return "rgb({},{},{})".format(*self.rgb(value))

    def text_colour(self, value: float) -> str:
        """Black on light backgrounds, white on dark ones."""
        x = 0.0 if not np.isfinite(value) else abs(float(value)) / self.limit
        return "#fff" if x > 0.65 else "#000"


def scale_for(values: np.ndarray) -> Scale:
    """Fixed ranges where the activation has one (gates in [0, 1], tanh in [-1, 1]), else symmetric."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if lo >= 0 and hi <= 1:
        return Scale(False, 1.0)
    if lo >= -1 and hi <= 1:
        return Scale(True, 1.0)
    if lo >= 0:
        return Scale(False, hi)
    return Scale(True, max(abs(lo), abs(hi)))


def shown_char(ch: str) -> str:
    """A character as it is drawn on an axis: spaces and line ends made visible."""
    return {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}.get(ch, ch)
