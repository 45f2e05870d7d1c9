"""Per-character features of a text, and `rank_units`: which units follow a feature.

Each feature gives one number per character, describing the text *after* that character is read,
which is when the model's state a_t has seen it: an opening quote is already "inside quotes", a
closing one no longer is. Karpathy, Johnson & Fei-Fei (2015) found cells that track exactly such
things (quotes, line length, brackets); ranking units by correlation with a feature is how a
learner finds them in a model of their own.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .recording import Recording

QUOTES = {'"': '"', "“": "”", "«": "»"}  # opening -> closing
OPEN_BRACKETS, CLOSE_BRACKETS = "([{", ")]}"
SENTENCE_ENDS = ".?!"


def inside_quotes(text: str) -> np.ndarray:
    """1.0 from an opening quote up to (not including) its closing quote, else 0.0. A straight
    double quote " opens and closes in turn; “…” and «…» are pairs."""
    out = np.zeros(len(text))
    closing = None
    for t, ch in enumerate(text):
        if closing is not None and ch == closing:
            closing = None
        elif closing is None and ch in QUOTES:
            closing = QUOTES[ch]
        out[t] = closing is not None
    return out


def inside_brackets(text: str) -> np.ndarray:
    """1.0 inside round, square or curly brackets (from the opening one, up to its closing one)."""
    out = np.zeros(len(text))
    depth = 0
    for t, ch in enumerate(text):
        if ch in OPEN_BRACKETS:
            depth += 1
        elif ch in CLOSE_BRACKETS:
            depth = max(depth - 1, 0)
        out[t] = depth > 0
    return out


def position_in_line(text: str) -> np.ndarray:
    """Characters read since the last line break: 0 at the line break, 1 at the next character, ..."""
    return _count_since(text, lambda ch: ch == "\n")


def position_in_word(text: str) -> np.ndarray:
    """Letters read in the current word: 1 at its first letter, 0 at spaces and punctuation."""
    out = np.zeros(len(text))
    count = 0
    for t, ch in enumerate(text):
        count = count + 1 if ch.isalpha() else 0
        out[t] = count
    return out


def position_in_sentence(text: str) -> np.ndarray:
    """Characters read since the end of the last sentence (. ? ! or a line break), which counts 0."""
    return _count_since(text, lambda ch: ch in SENTENCE_ENDS or ch == "\n")


def _count_since(text: str, resets: Callable[[str], bool]) -> np.ndarray:
    out = np.zeros(len(text))
    count = 0
    for t, ch in enumerate(text):
        count = 0 if resets(ch) else count + 1
        out[t] = count
    return out


FEATURES = {"inside quotes": inside_quotes, "inside brackets": inside_brackets,
            "position in the line": position_in_line, "position in the word": position_in_word,
            "position in the sentence": position_in_sentence}


def unit_correlations(rec: Recording, feature, what: str = "states", batch: int | None = None) -> np.ndarray:
    """The Pearson correlation of every unit's `what` (default its state) with `feature`, (H,).

    `feature`: one number per step, (T,) for one sequence (batch entry `batch`, default 0) or
    (T, batch) for all of them; or a function of the text, such as `inside_quotes`, applied to
    `rec.text`. A unit that never changes correlates 0; a feature that never changes is an error.
    """
    values = np.asarray(rec.values(what), dtype=np.float64)  # (T, B, H)
    f = _feature_values(rec, feature)
    if f.ndim == 1:
        values = values[:, rec.check_batch(0 if batch is None else batch, "rank_units")]
    else:
        if batch is not None:
            b = rec.check_batch(batch, "rank_units")
            values, f = values[:, b], f[:, b]
        else:
            values, f = values.reshape(-1, rec.hidden), f.reshape(-1)
    if not np.all(np.isfinite(f)):
        raise ValueError("rank_units: the feature has NaN or infinite values")
    f = f - f.mean()
    if not np.any(f):
        raise ValueError("rank_units: the feature is the same at every step of the recording, so no unit can "
                         "follow it (is there any quote or bracket in the text?)")
    centred = values - values.mean(axis=0)
    spread = np.sqrt(np.sum(centred ** 2, axis=0) * np.sum(f ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred * f[:, None]).sum(axis=0) / spread
    return np.where(spread > 0, r, 0.0)


def rank_units(rec: Recording, feature, what: str = "states", batch: int | None = None) -> np.ndarray:
    """Unit indices, the one that follows `feature` best first: ordered by the absolute correlation
    of the unit's activation with the feature (see `unit_correlations` for `feature` and `batch`).
    A unit that is high where the feature is low counts as much as one that is high where it is high."""
    r = unit_correlations(rec, feature, what, batch)
    return np.argsort(-np.abs(r), kind="stable")


def _feature_values(rec: Recording, feature) -> np.ndarray:
    if callable(feature):
        if rec.text is None:
            raise ValueError("rank_units: a feature function needs the text: record(..., text=...)")
        feature = feature(rec.text)
    f = np.asarray(feature, dtype=np.float64)
    if f.shape not in ((rec.steps,), (rec.steps, rec.batch)):
        raise ValueError(f"rank_units: the feature must have one value per step, shape ({rec.steps},) or "
                         f"({rec.steps}, {rec.batch}), got {f.shape}")
    return f
