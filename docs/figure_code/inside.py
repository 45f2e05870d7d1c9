"""Figures of docs/seeing_inside.md: a character RNN trained for a few seconds on the built-in corpus,
recorded over a few sentences, drawn with tinygrad_rnn.inspect. The code is the tutorial's own."""
from __future__ import annotations

import functools

import numpy as np

from tinygrad_rnn import RNN, inspect
from tinygrad_rnn import functional as F
from tinygrad_rnn.inspect.scales import scale_for, shown_char
from tinygrad_rnn.optim import Adam, clip_grad_norm
from tinygrad_rnn.tasks import Vocab, char_batch, make_corpus, one_hot

# Trained weights differ in their last bits across CPUs (BLAS kernels round differently), so
# `make_figures.py --check` leaves these figures out.
CHECKED = False

TEXT = ("Does the clever fox see Ada? Milo says that two brave owls sing together.\n"
        "The old lamp opens my basket near the village. Every kettle waits alone.")


@functools.cache
def trained():
    """The tutorial's model: 600 steps of Adam on windows of 48 characters (section 2)."""
    corpus = make_corpus()
    vocab = Vocab.from_text(corpus)
    data, size = vocab.encode(corpus), len(vocab)
    rng = np.random.default_rng(0)
    model = RNN(size, 128, output_size=size, rng=0)
    optimizer = Adam(model.parameters(), lr=3e-3)
    for _ in range(600):
        ids, targets = char_batch(data, 48, 32, rng)
        logits, _ = model(one_hot(ids, size))
        loss = F.cross_entropy(logits.reshape(-1, size), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 5.0)
        optimizer.step()
    return model, vocab


@functools.cache
def recording(last_only: bool = False):
    """The recording of section 3 (the loss on every next character), or of section 5 (on the last one)."""
    model, vocab = trained()
    ids, size = vocab.encode(TEXT), len(vocab)
    xs = one_hot(ids[:, None], size)

    def next_char_loss(outputs):
        return F.cross_entropy(outputs[:-1].reshape(-1, size), ids[1:])

    def last_char_loss(outputs):
        return F.cross_entropy(outputs[-2], ids[-1:])

    return inspect.record(model, xs, loss_fn=last_char_loss if last_only else next_char_loss, text=TEXT)


def word_unit():
    rec = recording()
    best = inspect.rank_units(rec, inspect.position_in_word)[0]
    r = inspect.unit_correlations(rec, inspect.position_in_word)[best]
    return text_figure(inspect.text_view(rec, TEXT, best).data["values"], TEXT,
                       f"unit {best}, which follows the position in the word (r = {r:+.2f})")


def text_figure(values: np.ndarray, text: str, title: str):
    """A text view drawn with matplotlib, for pages that show images but not HTML: each character
    on a box coloured as `text_view` colours it (red positive, blue negative)."""
    from matplotlib.figure import Figure

    lines = text.split("\n")
    width = max(map(len, lines)) + 1
    fig = Figure(figsize=(0.105 * width + 0.4, 0.32 * len(lines) + 0.55), layout="constrained")
    ax = fig.add_subplot()
    scale = scale_for(values)
    t = 0
    for row, line in enumerate(lines):
        for col, ch in enumerate(line + ("\n" if row < len(lines) - 1 else "")):
            ax.add_patch(_box(col, row, [c / 255 for c in scale.rgb(values[t])]))
            ax.text(col + 0.5, row + 0.5, shown_char(ch) if ch == "\n" else ch, ha="center", va="center",
                    family="DejaVu Sans Mono", fontsize=9, color=scale.text_colour(values[t]))
            t += 1
    ax.set_xlim(0, width)
    ax.set_ylim(len(lines), 0)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return fig


def _box(col: int, row: int, colour):
    from matplotlib.patches import Rectangle
    return Rectangle((col, row + 0.08), 1, 0.84, facecolor=colour, edgecolor="none")


def ranked_heatmap():
    rec = recording()
    top = inspect.rank_units(rec, inspect.position_in_word)[:8]
    return inspect.heatmap(rec, "states", units=top).figure


FIGURES = [
    ("inside_word_unit", word_unit),
    ("inside_ranked_states", ranked_heatmap),
    ("inside_states", lambda: inspect.heatmap(recording(), "states").figure),
    ("inside_grads", lambda: inspect.heatmap(recording(last_only=True), "grads").figure),
    ("inside_saturation", lambda: inspect.gate_saturation(recording()).figure),
    ("inside_spectrum", lambda: inspect.jacobian_spectrum(recording()).figure),
    ("inside_connectivity", lambda: inspect.connectivity(recording()).figure),
]
