"""`tinygrad-rnn inspect`: one self-contained HTML page of what a trained model does inside.

A character model is recorded over a text (by default fresh sentences of the text it learned);
a model of the adding or copy task over one sequence of its task, since those read numbers and
symbols, not text. Everything a user gets wrong (the file, the text, the units) is checked before
any work starts.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import functional as F
from .. import inspect as inside
from ..runs import load_run
from ..tasks import Vocab, make_corpus, one_hot
from ..tasks import copy as copy_task
from .errors import CLIError
from .models import cell_name
from .problems import make_problem
from .textfile import read_text

MAX_TEXT = 1000  # characters: every step is drawn, and the page stays quick to make and to read
DEFAULT_TEXT = 180  # characters of held-out text when --text is not given
HELD_OUT_SEED = 1  # the built-in corpus trains on seed 0; seed 1 gives other sentences of its grammar


def run(args) -> int:
    config, model, vocab = load_trained(args.checkpoint)
    units = [_check_unit(u, config["hidden"]) for u in args.unit or []]
    output = _output_path(args.output)
    if config["task"] == "char":
        page = _char_report(model, vocab, config, args.text, units, args.checkpoint)
    else:
        if args.text is not None:
            raise CLIError(f"{args.checkpoint} holds a model of the {config['task']} task, which reads numbers, "
                           f"not text: leave out --text")
        page = _task_report(model, config, units, args.seed, args.checkpoint)
    output.write_text(page, encoding="utf-8")
    print(f"Wrote {output} ({output.stat().st_size / 1024:.0f} KiB): open it in a browser")
    return 0


def load_trained(path: str):
    """(settings, model with its weights, vocabulary or None) of a run `train` wrote."""
    trained = load_run(path)
    return trained.config, trained.model, trained.vocab


def _check_unit(unit: int, hidden: int) -> int:
    if not 0 <= unit < hidden:
        raise CLIError(f"--unit {unit} is out of range: the model has {hidden} hidden units, 0 to {hidden - 1}")
    return unit


def _output_path(name: str) -> Path:
    path = Path(name)
    if path.suffix.lower() not in (".html", ".htm"):
        raise CLIError(f"-o {name}: the report is an HTML page, give a file name ending in .html")
    if path.is_dir():
        raise CLIError(f"-o {name} is a directory, expected a file name ending in .html")
    if not path.parent.is_dir():
        raise CLIError(f"-o {name}: the folder {path.parent} does not exist")
    return path


def _char_report(model, vocab: Vocab, config: dict, text: str | None, units: list[int], checkpoint: str) -> str:
    given = text is not None
    text = text if given else _default_text(config, checkpoint)
    if not text:
        raise CLIError("--text is empty: give the model at least one character to read")
    if len(text) > MAX_TEXT:
        raise CLIError(f"--text has {len(text)} characters; the page draws every step, keep it to {MAX_TEXT}")
    unknown = sorted({c for c in text if c not in vocab.index})
    if unknown:
        raise CLIError(f"--text has characters the model never saw: {''.join(unknown)!r}")
    ids = vocab.encode(text)
    size = len(vocab)

    def next_char_loss(outputs):  # ŷ_t scores the character at t + 1
        return F.cross_entropy(outputs[:-1].reshape(-1, size), ids[1:])

    rec = inside.record(model, one_hot(ids[:, None], size), loss_fn=next_char_loss if len(ids) > 1 else None,
                        text=text)
    source = "the text given with --text" if given else "held-out text in the style of the training text"
    notes = [f"Checkpoint {checkpoint}: {cell_name(config['cell'])} character model over {size} characters, "
             f"trained for {config['steps']} steps.",
             f"Recorded over {len(text)} characters of {source}; the loss is the next-character "
             f"cross-entropy in nats per character."]
    return inside.report(rec, title=f"Inside {checkpoint}", units=units, notes=notes)


def _default_text(config: dict, checkpoint: str) -> str:
    """Sentences the model did not train on: the built-in grammar with another seed, or the start
    of the user's training text (which it did see: there is no other text of that kind)."""
    if config.get("text"):
        try:
            source = read_text(config["text"])
        except CLIError as error:
            raise CLIError(f"{checkpoint} was trained on {config['text']}, which cannot be read ({error}); "
                           f"pass --text") from None
        return source[:DEFAULT_TEXT]
    corpus = make_corpus(seed=HELD_OUT_SEED, size=2000)
    first, second = corpus.split("\n")[:2]
    # the end of one line and the start of the next, so that "position in the line" has a line to follow
    return _sentences(first, DEFAULT_TEXT // 2, from_end=True) + "\n" + _sentences(second, DEFAULT_TEXT // 2)


def _sentences(line: str, length: int, from_end: bool = False) -> str:
    """Whole sentences of `line` (from its start, or its end), at least `length` characters of them."""
    sentences = re.findall(r" ?[^.?!]+[.?!]", line)
    chosen = []
    for sentence in reversed(sentences) if from_end else sentences:
        chosen.append(sentence)
        if sum(map(len, chosen)) >= length:
            break
    return ("".join(reversed(chosen)) if from_end else "".join(chosen)).strip()


def _task_report(model, config: dict, units: list[int], seed: int, checkpoint: str) -> str:
    problem = make_problem(config)
    xs, targets = problem.batch(np.random.default_rng(seed), size=1)
    T = xs.shape[0]
    notes = [f"Checkpoint {checkpoint}: {cell_name(config['cell'])} trained on the {config['task']} task for "
             f"{config['steps']} steps. It reads numbers, not text, so there are no text views; the units are "
             f"ranked by what the task needs them to remember instead."]
    if config["task"] == "adding":
        marks = xs[:, 0, 1] > 0
        labels = "".join("●" if m else "·" for m in marks)  # the marked steps, along the pictures' step axis
        features = {"sum of the marked values so far": np.cumsum(xs[:, 0, 0] * xs[:, 0, 1]),
                    "marks seen so far": np.cumsum(marks)}
        marked = ", ".join(str(int(t) + 1) for t in np.flatnonzero(marks))
        notes.append(f"One sequence of T = {T} steps (seed {seed}); the marked steps, drawn ● on the step axes, are "
                     f"{marked}; target {float(targets[0, 0]):.3f}. The loss is read at the last step only, so "
                     f"connectivity there should single out the marked steps.")
        connect_at = T
    else:
        symbols = xs[:, 0].argmax(axis=-1)
        labels = "".join(str(int(s)) for s in symbols)  # 0 blank, 1-8 the symbols, 9 the delimiter
        delimiter = int(np.flatnonzero(symbols == copy_task.DELIMITER)[0]) + 1
        features = {"the delimiter has been read": (np.arange(1, T + 1) >= delimiter).astype(float)}
        recall = list(range(T - copy_task.COPY_LENGTH + 1, T + 1))
        notes.append(f"One sequence of {T} steps (seed {seed}), its symbols along the step axes (0 blank, 9 the "
                     f"delimiter at step {delimiter}); the model must repeat the first {copy_task.COPY_LENGTH} "
                     f"symbols at steps {recall[0]}-{recall[-1]}, whose connectivity is mapped below.")
        connect_at = recall
    rec = inside.record(model, xs, loss_fn=lambda outputs: problem.loss(outputs, targets), text=labels)
    return inside.report(rec, title=f"Inside {checkpoint}", features=features, units=units,
                         connect_at=connect_at, text_views=False, notes=notes)
