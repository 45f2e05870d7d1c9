"""A run of `tinygrad-rnn train` as Python objects, and the checkpoint format it is saved in.

    from tinygrad_rnn import load_run
    run = load_run("runs/20250101-120000")   # the folder, its model.npz, or its best.npz
    run.model                # the trained RNN, weights loaded
    run.config               # the settings it was trained with: task, cell, hidden, seq_len, ...
    run.history              # one row per step: {"step": 1, "loss": 3.89, "held_out": None}, ...
    run.vocab                # a character model's Vocab (None for the adding and copy tasks)
    run.sample(300)          # text from a character model: what `tinygrad-rnn sample` prints

A checkpoint is one .npz of plain arrays, so `load` never unpickles: the weights (`model.<name>`),
the optimizer's state (`optim.<name>`), the training loss of every step (`history`), the held-out
losses as (step, loss) rows (`held_out`), and a JSON description (`meta`, as UTF-8 bytes) with the
format's name and version, the settings, the step, and a character model's vocabulary.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .autograd import no_grad
from .nn import RNN
from .serialization import load, save
from .tasks import Vocab, adding, one_hot
from .tasks import copy as copy_task

FORMAT = "tinygrad-rnn/train"
VERSION = 2  # 2 added the held-out losses and the model's sizes; version 1 files are read as well
CHECKPOINT, BEST = "model.npz", "best.npz"
TASKS, CELLS = ("char", "adding", "copy"), ("rnn", "lstm", "gru")


@dataclass
class Checkpoint:
    """What one checkpoint file holds, read and checked."""

    meta: dict
    weights: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray]
    losses: list[float]  # the training loss of steps 1, 2, ...
    held_out: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out loss)


def build_model(cell: str, input_size: int, hidden: int, output_size: int, seed: int) -> RNN:
    """The model every task trains (one recurrent layer and ŷ_t = V a_t + c); its initial weights
    depend only on `seed`."""
    return RNN(input_size, hidden, output_size=output_size, cell=cell, rng=seed)


def model_sizes(config: dict, vocab: Vocab | None) -> tuple[int, int]:
    """(input size, output size) of a task's model."""
    if config["task"] == "char":
        return len(vocab), len(vocab)
    if config["task"] == "adding":
        return adding.NUM_INPUTS, adding.NUM_OUTPUTS
    return copy_task.NUM_INPUTS, copy_task.NUM_CLASSES


# -- the file -------------------------------------------------------------------------------------
def write_checkpoint(path, weights: dict, optimizer_state: dict, meta: dict, losses: list[float],
                     held_out: list[tuple[int, float]]) -> None:
    """Write one checkpoint atomically (see `save`): a model's state_dict(), its optimizer's, the
    description (settings, step, vocabulary, ...) and the history."""
    entries = {f"model.{k}": v for k, v in weights.items()}
    entries.update({f"optim.{k}": np.asarray(v) for k, v in optimizer_state.items()})
    entries["history"] = np.asarray(losses, dtype=np.float64)
    entries["held_out"] = np.asarray(held_out, dtype=np.float64).reshape(-1, 2)
    text = json.dumps({"format": FORMAT, "version": VERSION, **meta})
    entries["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    save(entries, str(path))


def checkpoint_path(path) -> Path:
    """The checkpoint file of `path`: a run folder's model.npz, or the file itself."""
    p = Path(path)
    if p.is_dir():
        p = p / CHECKPOINT
        if not p.exists():
            raise FileNotFoundError(f"{path} has no {CHECKPOINT}: expected a folder written by tinygrad-rnn train")
    elif not p.exists():
        raise FileNotFoundError(f"no run at {path}: expected a folder written by tinygrad-rnn train, or its "
                                f"{CHECKPOINT}")
    return p


def read_checkpoint(path) -> Checkpoint:
    """Read and check a checkpoint written by `tinygrad-rnn train` (a run folder or the file).

    Raises FileNotFoundError for a missing file, ValueError for a file that is not such a
    checkpoint, is damaged, or was written by a newer version of tinygrad_rnn."""
    p = checkpoint_path(path)
    try:
        entries = load(str(p))
    except ValueError as error:  # the loader's message already says why the file is unusable
        raise ValueError(f"cannot read the checkpoint: {str(error).removeprefix('load: ')}") from None
    if "meta" not in entries:
        if entries and all(not k.startswith(("model.", "optim.")) for k in entries):
            raise ValueError(f"{p} holds arrays without a run's description (a state dict written by save()?): "
                             f"load it with model.load_state_dict(load(path)); load_run reads what "
                             f"tinygrad-rnn train writes")
        raise ValueError(f"{p} is not a tinygrad-rnn training checkpoint (it has no 'meta' entry)")
    meta = _read_meta(entries["meta"], p)
    return Checkpoint(meta=meta,
                      weights={k.removeprefix("model."): v for k, v in entries.items() if k.startswith("model.")},
                      optimizer={k.removeprefix("optim."): v for k, v in entries.items() if k.startswith("optim.")},
                      losses=[float(x) for x in np.asarray(entries.get("history", []), dtype=np.float64)],
                      held_out=_read_held_out(entries.get("held_out"), p))


def _read_meta(raw: np.ndarray, path: Path) -> dict:
    try:
        meta = json.loads(np.asarray(raw, dtype=np.uint8).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{path}: the checkpoint's description is damaged") from None
    if not isinstance(meta, dict) or "format" not in meta:
        raise ValueError(f"{path} is not a tinygrad-rnn training checkpoint (its description names no format)")
    if meta["format"] != FORMAT:
        raise ValueError(f"{path} is a checkpoint of another kind (format {meta['format']!r}), not a run of "
                         f"tinygrad-rnn train ({FORMAT!r})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path}: the checkpoint's description is damaged (format version {version!r})")
    if version > VERSION:
        raise ValueError(f"{path} was written by a newer tinygrad_rnn (checkpoint format version {version}; this "
                         f"version reads 1 to {VERSION}): upgrade tinygrad_rnn to load it")
    _check_config(meta.get("config"), path)
    if meta["config"]["task"] == "char" and not (isinstance(meta.get("vocab"), list) and meta["vocab"]):
        raise ValueError(f"{path}: the checkpoint's description is damaged (a character model without a vocabulary)")
    return meta


def _check_config(config, path: Path) -> None:
    """The fields a model is rebuilt from must be there and make sense before anything is built."""
    ok = (isinstance(config, dict) and config.get("task") in TASKS and config.get("cell") in CELLS
          and all(isinstance(config.get(k), int) and config[k] >= 1 for k in ("hidden", "seq_len", "batch", "steps"))
          and isinstance(config.get("lr"), (int, float)) and config["lr"] > 0)
    if not ok:
        raise ValueError(f"{path}: the checkpoint's description is damaged (bad or missing settings)")


def _read_held_out(raw, path: Path) -> list[tuple[int, float]]:
    if raw is None:  # format version 1: no held-out losses were kept
        return []
    rows = np.asarray(raw, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 2:
        raise ValueError(f"{path}: the checkpoint's held-out losses are damaged (shape {rows.shape})")
    return [(int(step), float(value)) for step, value in rows]


def load_weights(model, weights: dict, path) -> None:
    """Put a checkpoint's weights into a freshly built model; a mismatch means the file is another model."""
    try:
        model.load_state_dict(weights)
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else error
        raise ValueError(f"{path} does not hold the model its description promises: {message}") from None


# -- the run --------------------------------------------------------------------------------------
class Run:
    """A trained run: its model with the weights loaded, its settings, and its history.

    Attributes: `model` (an `RNN`, in eval mode), `config` (dict of the settings), `step` (steps
    trained), `history` (one dict per step: "step", "loss" (the loss of the batch the step trained
    on, before its update) and "held_out" (the held-out loss of the weights after the step, where
    it was measured, else None)), `vocab` (a character model's `Vocab`, else
    None), `prime` (the text sampling starts from by default), `path` (the checkpoint file).
    """

    def __init__(self, path: Path, checkpoint: Checkpoint) -> None:
        meta = checkpoint.meta
        self.path = path
        self.config = dict(meta["config"])
        self.step = int(meta.get("step", len(checkpoint.losses)))
        self.vocab = Vocab(meta["vocab"]) if self.config["task"] == "char" else None
        self.prime = (meta.get("prime") or self.vocab.chars[0]) if self.vocab else None
        inputs, outputs = model_sizes(self.config, self.vocab)
        self.model = build_model(self.config["cell"], inputs, self.config["hidden"], outputs, seed=0)
        load_weights(self.model, checkpoint.weights, path)
        self.model.eval()
        held = dict(checkpoint.held_out)
        self.history = [{"step": i, "loss": loss, "held_out": held.get(i)}
                        for i, loss in enumerate(checkpoint.losses, start=1)]

    def sample(self, length: int = 300, prime: str | None = None, temperature: float = 0.6, seed: int = 0) -> str:
        """`prime` followed by `length` characters drawn one at a time from softmax(ŷ_t / temperature),
        each fed back as the next input: exactly what `tinygrad-rnn sample` prints for the same options.
        `prime=None` starts from the run's default (the corpus's usual opening)."""
        if self.vocab is None:
            raise ValueError(f"Run.sample: {self.path} holds a model of the {self.config['task']} task, which "
                             f"reads numbers, not text; sampling needs a character model "
                             f"(tinygrad-rnn train --task char)")
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"Run.sample: length must be a whole number >= 0, got {length!r}")
        if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature <= 0:
            raise ValueError(f"Run.sample: temperature must be a finite number greater than 0, got {temperature!r}")
        prime = self.prime if prime is None else prime
        if not isinstance(prime, str) or not prime:
            raise ValueError(f"Run.sample: prime must be a non-empty string, got {prime!r}")
        unknown = sorted({c for c in prime if c not in self.vocab.index})
        if unknown:
            raise ValueError(f"Run.sample: prime has characters the model never saw: {''.join(unknown)!r}")
        return sample_text(self.model, self.vocab, int(length), float(temperature), prime,
                           np.random.default_rng(seed))

    def __repr__(self) -> str:
        c = self.config
        last = f", loss {self.history[-1]['loss']:.4g}" if self.history else ""
        return (f"Run({str(self.path)!r}: {c['cell']} on the {c['task']} task, hidden {c['hidden']}, "
                f"step {self.step} of {c['steps']}{last})")


def load_run(path) -> Run:
    """The run that `tinygrad-rnn train` wrote at `path` (its folder, its model.npz, or its best.npz).

    A missing path raises FileNotFoundError; a file that is not such a checkpoint, is damaged, does
    not hold the model its description promises, or was written by a newer version of
    tinygrad_rnn raises ValueError saying which."""
    p = checkpoint_path(path)
    return Run(p, read_checkpoint(p))


def sample_text(model, vocab: Vocab, length: int, temperature: float, prime: str, rng: np.random.Generator) -> str:
    """`prime` followed by `length` characters drawn from softmax(ŷ_t / temperature)."""
    size = len(vocab)

    def step(index: int, state):
        outputs, state = model(one_hot(np.array([[index]]), size), state)  # one step of one sequence
        return outputs.data[-1, 0].astype(np.float64), state

    with no_grad():
        state, logits = None, None
        for index in vocab.encode(prime):  # read the prime to set up the hidden state
            logits, state = step(index, state)
        chosen = []
        for _ in range(length):
            scaled = logits / temperature
            p = np.exp(scaled - scaled.max())
            index = int(rng.choice(size, p=p / p.sum()))
            chosen.append(index)
            logits, state = step(index, state)
    return prime + vocab.decode(chosen)
