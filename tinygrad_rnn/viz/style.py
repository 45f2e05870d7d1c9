"""Colours and labels shared by the views.

Colours are the Okabe-Ito palette (distinct for the common forms of colour blindness); gradient
norms use viridis, a perceptually uniform map that stays readable in grey and for colour-blind eyes.
"""
from __future__ import annotations

import html
import math
import re

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "grey": "#999999",
}

# Fill colours by role: strong colours for the ops view, light tints of the same hues for the
# textbook views (black text stays readable on them).
ROLE_COLOURS = {
    "parameter": OKABE_ITO["orange"],
    "input": OKABE_ITO["sky_blue"],
    "state": OKABE_ITO["bluish_green"],
    "output": OKABE_ITO["yellow"],
    "loss": OKABE_ITO["vermillion"],
    "op": "#FFFFFF",
    "constant": "#DDDDDD",
}
ROLE_TINTS = {
    "input": "#CCE8F8",
    "state": "#B3E2D5",
    "output": "#FAF6B8",
    "loss": "#F5C8A8",
    "named": "#EEEEEE",
}

# viridis at 9 evenly spaced points (matplotlib's table), interpolated linearly in between.
_VIRIDIS = ["#440154", "#472D7B", "#3B528B", "#2C728E", "#21918C", "#28AE80", "#5EC962", "#ADDC30", "#FDE725"]


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def viridis(x: float) -> str:
    """Colour for x in [0, 1] (clipped)."""
    x = min(max(x, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(x), len(_VIRIDIS) - 2)
    f = x - i
    a, b = _rgb(_VIRIDIS[i]), _rgb(_VIRIDIS[i + 1])
    return "#" + "".join(f"{round(p + (q - p) * f):02X}" for p, q in zip(a, b))


def text_colour_on(fill: str) -> str:
    r, g, b = _rgb(fill)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"


class DecadeScale:
    """Gradient norms coloured on one fixed log scale, a colour per decade: the same norm gets the
    same colour in every figure, so two figures compare. Decades from 10^LOW to 10^HIGH span
    viridis (dark is small); norms outside are clipped to the end colours."""

    LOW, HIGH = -12, 4  # 1e-12 .. 1e4 and beyond: vanishing to exploding

    def decade(self, norm: float) -> int | None:
        if not (norm > 0 and math.isfinite(norm)):
            return None
        return min(max(math.floor(math.log10(norm)), self.LOW), self.HIGH)

    def decade_colour(self, decade: int) -> str:
        return viridis((decade - self.LOW) / (self.HIGH - self.LOW))

    def colour(self, norm: float) -> str:
        d = self.decade(norm)
        return OKABE_ITO["grey"] if d is None else self.decade_colour(d)

    def decades(self, norms) -> list[int]:
        """The decades from the smallest to the largest of `norms` (what a legend shows)."""
        found = [d for d in (self.decade(n) for n in norms if n is not None) if d is not None]
        return list(range(min(found), max(found) + 1)) if found else []

    @classmethod
    def decade_text(cls, decade: int) -> str:
        """'10⁻³' for -3; the end decades say they also hold what lies beyond."""
        text = "10" + str(decade).replace("-", "⁻").translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        if decade == cls.LOW:
            return "≤" + text
        if decade == cls.HIGH:
            return "≥" + text
        return text


SCALE = DecadeScale()


def escape(text: str) -> str:
    return html.escape(str(text), quote=False)


def symbol(base: str, sub=None, sup=None, italic: bool = True) -> str:
    """An HTML-like label body: italic base with a subscript (time) and superscript (layer)."""
    out = f"<I>{escape(base)}</I>" if italic else escape(base)
    if sup is not None:
        out += f"<SUP>{escape(sup)}</SUP>"
    if sub is not None:
        out += f"<SUB>{escape(sub)}</SUB>"
    return out


_NAME_WITH_INDEX = re.compile(r"^([^\W_]+)_(\w+)$")


def user_name(name: str) -> str:
    """A user's tensor name as a label; "x_3" is shown as x with subscript 3."""
    m = _NAME_WITH_INDEX.match(name)
    if m:
        return symbol(m.group(1), m.group(2))
    return escape(name)


def html_label(body: str) -> str:
    return f"<{body}>"


def format_norm(x: float) -> str:
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    return f"{x:.2e}" if (abs(x) < 1e-2 or abs(x) >= 1e3) else f"{x:.3g}"


def shape_text(shape: tuple) -> str:
    return "scalar" if shape == () else "×".join(str(s) for s in shape)

