"""`text_view`: the text with each character coloured by one unit's activation after reading it,
as in Karpathy, Johnson & Fei-Fei (2015). Pure HTML with inline styles: it needs no matplotlib and
drops into any page."""
from __future__ import annotations

import html

import numpy as np

from .pictures import TextView
from .recording import Recording
from .scales import Scale, scale_for

TEXT_STYLE = ("font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:14px;line-height:1.7;"
              "white-space:pre-wrap;word-break:break-all;margin:4px 0;padding:6px;border:1px solid #ddd;"
              "background:#fff;color:#000")


def text_view(rec: Recording, text: str | None = None, unit: int = 0, what: str = "states",
              batch: int = 0, label: str | None = None) -> TextView:
    """`text` (default `rec.text`), each character on a background coloured by `unit`'s `what`
    (default its state) at the step that read it: red positive, blue negative, white zero (green
    for gates in [0, 1]). Hovering a character shows its step and value. `.html` is a fragment;
    `.save("view.html")` writes a page. `.data`: "values" (T,), the activation drawn.
    `label`: a caption to add (e.g. the feature the unit was ranked by)."""
    text = rec.text if text is None else text
    if text is None:
        raise ValueError("text_view: no text: pass it, or record(..., text=...)")
    if len(text) != rec.steps:
        raise ValueError(f"text_view: the text has {len(text)} characters but the recording has {rec.steps} steps")
    unit = rec.check_unit(unit, "text_view")
    batch = rec.check_batch(batch, "text_view")
    values = np.asarray(rec.values(what)[:, batch, unit], dtype=np.float64)
    scale = scale_for(values)
    name = rec.describe(what)
    caption = f"<b>unit {unit}</b> · {html.escape(name)}" + (f" · {html.escape(label)}" if label else "")
    body = coloured_text(text, values, scale)
    page = (f'<figure style="margin:0 0 12px 0">'
            f'<figcaption style="font:13px sans-serif;color:#333">{caption}</figcaption>'
            f'<pre style="{TEXT_STYLE}">{body}</pre>{legend(scale)}</figure>')
    return TextView(page, {"values": values}, f"unit {unit} over the text")


def coloured_text(text: str, values: np.ndarray, scale: Scale, tips: np.ndarray | None = None) -> str:
    """One <span> per character, its background coloured by `values`; hovering shows the step and
    the value (or `tips`, the numbers to show instead). A line break shows as ↵ and breaks the line."""
    tips = values if tips is None else tips
    spans = []
    for t, (ch, v, tip) in enumerate(zip(text, values, tips), start=1):
        shown = "↵\n" if ch == "\n" else html.escape(ch)
        tip = html.escape(f"t = {t}, {ch!r}: {tip:.3g}", quote=True)
        spans.append(f'<span style="background:{scale.css(v)};color:{scale.text_colour(v)}" '
                     f'title="{tip}">{shown}</span>')
    return "".join(spans)


def legend(scale: Scale) -> str:
    """A small colour key: five swatches from the low end of the scale to the high end."""
    marks = np.linspace(scale.vmin, scale.limit, 5)
    swatches = "".join(f'<span style="display:inline-block;padding:0 8px;background:{scale.css(m)};'
                       f'color:{scale.text_colour(m)}">{m:.2g}</span>' for m in marks)
    return f'<div style="font:12px sans-serif;color:#333">colour scale: {swatches}</div>'
