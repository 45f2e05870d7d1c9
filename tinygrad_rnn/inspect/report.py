"""`report`: every picture of a recording on one self-contained HTML page, each with a sentence
saying what to look for. Images are inline PNGs; the page loads nothing from anywhere else."""
from __future__ import annotations

import base64
import html

import numpy as np

from .connectivity import connectivity, connectivity_map
from .features import FEATURES, unit_correlations
from .heatmaps import heatmap
from .page import standalone_page
from .pictures import Plot
from .recording import Recording
from .saturation import gate_saturation
from .scales import Scale
from .spectrum import jacobian_spectrum
from .text import TEXT_STYLE, coloured_text, text_view

MAX_SPECTRUM_LAG = 100  # lags beyond this add little to the picture and cost a backward pass each
UNITS_PER_FEATURE = 3


def report(rec: Recording, title: str = "Inside the network", features=None, units=(), connect_at=None,
           text_views: bool | None = None, notes=()) -> str:
    """The HTML page for `rec` (a string; write it to a .html file and open it in any browser).

    - `features`: name -> one value per step (an array, or a function of the text such as
      `inside_quotes`); the units that follow each best are shown. Default: the text features
      (quotes, brackets, line, word and sentence positions) when the recording has a text, else none.
      A feature that never changes in this text is listed as absent.
    - `units`: units to show over the text in any case (indices from 0).
    - `connect_at`: the output step t (from 1) for ‖∂ŷ_t/∂x_s‖, or a list of steps for a map (default
      the last step).
    - `text_views`: draw the text coloured by units (default: when the recording has a text).
    - `notes`: sentences about the model and the data, shown under the title.
    """
    text_views = rec.text is not None if text_views is None else text_views
    if features is None:
        features = FEATURES if rec.text is not None else {}
    units = [rec.check_unit(u, "report") for u in units]
    parts = [f"<h1>{html.escape(title)}</h1>", _summary(rec, notes)]
    parts += _feature_section(rec, features, text_views)
    if units:
        parts.append("<h2>Units you asked for</h2>")
        parts += [text_view(rec, unit=u).html if text_views else "" for u in units]
        parts += _picture(heatmap(rec, "states", units=units),
                          "each row is one of these units over time: a unit that changes only at some "
                          "characters or keeps a value for long stretches is worth a closer look")
    parts += _inside_section(rec)
    parts += _gradient_section(rec, connect_at, text_views)
    return standalone_page(title, "\n".join(parts))


def _summary(rec: Recording, notes) -> str:
    loss = "" if rec.loss is None else f"; loss on this sequence {rec.loss:.4g}"
    steps = "1 step" if rec.steps == 1 else f"{rec.steps} steps"
    lines = [f"{rec.cell} with {rec.hidden} hidden units, recorded over {steps}{loss}."]
    lines += [html.escape(n) for n in notes]
    return "".join(f'<p class="summary">{line}</p>' for line in lines)


def _feature_section(rec: Recording, features: dict, text_views: bool) -> list[str]:
    if not features:
        return []
    parts = ["<h2>Units that follow something in the input</h2>",
             "<p>Each unit's activation is correlated (Pearson r) with a feature of the input at every step; "
             "the units with the largest |r| are shown, the best one over the text. Red is positive, "
             "blue negative: a unit with r &lt; 0 follows the feature upside down.</p>"]
    absent, chosen, rows = [], [], []
    for name, feature in features.items():
        try:
            r = unit_correlations(rec, feature)
        except ValueError as error:
            if "same at every step" not in str(error):
                raise
            absent.append(name)
            continue
        best = np.argsort(-np.abs(r), kind="stable")[:UNITS_PER_FEATURE]
        rows.append(f"<tr><td>{html.escape(name)}</td><td>"
                    + ", ".join(f"unit {u} (r = {r[u]:+.2f})" for u in best) + "</td></tr>")
        if text_views:
            parts.append(f"<h3>{html.escape(name)}</h3>")
            parts.append(text_view(rec, unit=int(best[0]), label=f"follows {name}: r = {r[best[0]]:+.2f}").html)
        chosen += [int(u) for u in best if int(u) not in chosen]
    if rows:
        parts.append("<table><tr><th>feature</th><th>units that follow it best</th></tr>" + "".join(rows)
                     + "</table>")
    if absent:
        parts.append(f"<p>Not in this input, so not ranked: {html.escape(', '.join(absent))}.</p>")
    if chosen:
        parts += _picture(heatmap(rec, "states", units=chosen),
                          "the ranked units (rows, in the order of the table) over time; a unit that follows "
                          "a position counts up or down and resets where the feature resets")
    return parts


def _inside_section(rec: Recording) -> list[str]:
    parts = ["<h2>Inside the cell</h2>"]
    parts += _picture(heatmap(rec, "states"),
                      "units (rows) that stay near ±1 for long stretches are saturated (they pass little "
                      "gradient); units that flip at particular inputs are the ones reacting to them")
    for gate, look in (("f", "a forget gate near 1 (dark) keeps the cell's memory; near 0 it wipes it"),
                       ("c", "the cell state runs on without a weight between steps: long smooth rows are "
                             "memory carried over many steps"),
                       ("z", "an update gate near 1 (dark) keeps the old state; near 0 it takes the new "
                             "candidate")):
        if gate in rec.gates:
            parts += _picture(heatmap(rec, gate), look)
    try:
        saturation = gate_saturation(rec)
    except ValueError as error:
        parts.append(f"<p>{html.escape(str(error))}</p>")
    else:
        parts += _picture(saturation,
                          "points near the top-left are gates (or tanh units) that are almost always open or "
                          "at +1, near the bottom-right almost always shut or at −1; points near the origin "
                          "respond to the input, and points on the dashed diagonal switch between the two "
                          "extremes")
    return parts


def _gradient_section(rec: Recording, connect_at, text_views: bool) -> list[str]:
    parts = ["<h2>Gradients through time</h2>"]
    if rec.grads is not None:
        parts += _picture(heatmap(rec, "grads"),
                          "∂L/∂a_t per unit and step on a log colour scale. Where the loss is read only at the "
                          "end (the adding task), the colour fades towards early steps: the vanishing gradient. "
                          "Where every step has a loss of its own (a character model), each column also gets "
                          "its own gradient; the two pictures below show the fade for every model")
    max_lag = min(rec.steps - 1, MAX_SPECTRUM_LAG)
    parts += _picture(jacobian_spectrum(rec, max_lag=max_lag),
                      "how much the last state still depends on the state T − t steps earlier; lines that "
                      "fall straight on this log axis fall exponentially, and the dashed line is the rate "
                      "ρ(W)^(T−t) of the linear theory (or a fitted rate for a gated cell). Far below 1 "
                      "means the model forgets, and gradients vanish")
    connect_at = rec.steps if connect_at is None else connect_at
    if isinstance(connect_at, (list, tuple, np.ndarray, range)):
        parts += _picture(connectivity_map(rec, steps=list(connect_at)),
                          "each row is one output step t, each column an input step s; bright cells are the "
                          "inputs that output depends on. A bright spot far left of the diagonal is memory")
        return parts
    picture = connectivity(rec, connect_at)
    parts += _picture(picture,
                      f"how much each earlier input x_s moves the output at t = {connect_at}; bars that drop "
                      "quickly to the left mean the model looks only a few steps back")
    if text_views and rec.text is not None:
        norms = picture.data["norms"]
        parts.append(f"<p>The same numbers over the text up to t = {connect_at} (darker: more influence, on a "
                     f"log scale; hover for the value):</p>")
        parts.append(f'<pre style="{TEXT_STYLE}">{_log_strip(rec.text[:connect_at], norms)}</pre>')
    return parts


def _log_strip(text: str, norms: np.ndarray) -> str:
    positive = norms[norms > 0]
    if not positive.size:
        return coloured_text(text, np.zeros(len(text)), Scale(False, 1.0), tips=norms)
    lo, hi = np.log10(positive.min()), np.log10(positive.max())
    shade = (np.log10(np.where(norms > 0, norms, positive.min())) - lo) / max(hi - lo, 1e-12)
    return coloured_text(text, shade, Scale(False, 1.0), tips=norms) + f"\n(white 10^{lo:.1f}, darkest 10^{hi:.1f})"


def _picture(picture: Plot, look: str) -> list[str]:
    """An inline PNG with its title as alt text, and the sentence saying what to look for."""
    encoded = base64.b64encode(picture.png()).decode("ascii")
    return [f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(picture.title, quote=True)}">',
            f'<p class="look"><b>What to look for:</b> {html.escape(look)}.</p>']

