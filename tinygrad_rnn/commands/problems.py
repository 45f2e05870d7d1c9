"""What each task feeds the model and how it scores it.

A problem turns a random generator into a batch (inputs of shape (T, B, inputs) and targets),
turns the model's outputs into the training loss, keeps a held-out batch that training never sees,
and knows the task's baseline, so training code is the same loop for every task.
"""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..tasks import (
    BASELINE_MSE,
    PAD,
    Vocab,
    adding_batch,
    copy_baseline,
    copy_batch,
    make_corpus,
    one_hot,
    sentence_batch,
)
from ..tasks import adding as adding_task
from ..tasks import copy as copy_task
from ..tensor import Tensor
from .errors import CLIError
from .wording import plural

HELD_OUT_FRACTION = 0.1    # a character model never trains on the last tenth of its text
HELD_OUT_WINDOWS = 128     # ... and is scored on at most this many windows at the start of that tail
HELD_OUT_SEQUENCES = 1000  # the adding and copy tasks: a fixed batch of sequences drawn apart


def held_out_rng(seed: int) -> np.random.Generator:
    """The generator of the tasks' held-out batch: training draws step k from [seed, k], k < 2**31."""
    return np.random.default_rng([seed, 2**31])


def step_outputs(outputs) -> list[Tensor]:
    """The model's outputs as one tensor per time step, whether it returns a list or a (T, B, C) tensor."""
    if isinstance(outputs, Tensor):
        return [outputs[t] for t in range(outputs.shape[0])]
    return list(outputs)


def rows(outputs) -> Tensor:
    """All time steps' outputs as rows (T·B, C), in time-major order to match targets.reshape(-1)."""
    if isinstance(outputs, Tensor):
        return outputs.reshape(-1, outputs.shape[-1])
    return F.concat(list(outputs), axis=0)


class CharProblem:
    """Predict the next character of a text. The loss is the cross-entropy in nats per character.

    Training windows stop at a sentence's end where one falls in their second half, so a batch holds
    sequences of different lengths: the model runs each only as far as its own length
    (`rnn(xs, lengths=...)`) and the loss skips the padding (`cross_entropy(..., ignore_index=PAD)`)."""

    name = "char"
    metric = "cross-entropy (nats/char)"

    def __init__(self, text: str, seq_len: int, batch: int, vocab: Vocab | None = None) -> None:
        self.vocab = vocab or Vocab.from_text(text)
        try:
            self.data = self.vocab.encode(text)
        except ValueError as error:
            raise CLIError(f"the text does not fit the checkpoint's vocabulary: {error}") from None
        held = max(seq_len + 1, math.ceil(len(self.data) * HELD_OUT_FRACTION))
        if len(self.data) - held < seq_len + 1:
            raise CLIError(f"the text has {len(self.data)} characters; --seq-len {seq_len} needs at least "
                           f"{2 * (seq_len + 1)} ({seq_len + 1} to train on and {seq_len + 1} held out)")
        self.train_data, self.held_data = self.data[:-held], self.data[-held:]
        self.held_out_size = min(HELD_OUT_WINDOWS, (held - 1) // seq_len)
        self.seq_len, self.batch_size, self.time_steps = seq_len, batch, seq_len
        self.input_size = self.output_size = len(self.vocab)
        self.baseline = math.log(len(self.vocab))  # a uniform guess over the characters
        # where samples start: a common sentence opening if the text has one, else its first character
        self.prime = "The" if "The " in text else text[0]
        self.ends = np.array([self.vocab.index[c] for c in ".!?\n" if c in self.vocab.index], dtype=np.int64)

    def batch(self, rng: np.random.Generator, size: int | None = None):
        ids, targets, _ = sentence_batch(self.train_data, self.seq_len, size or self.batch_size, rng, self.ends)
        return one_hot(ids, len(self.vocab)), targets

    def held_out(self, seed: int):
        """Consecutive windows from the start of the held-out tail: inputs and targets (T, windows)."""
        T = self.seq_len
        ids = np.stack([self.held_data[k * T:(k + 1) * T + 1] for k in range(self.held_out_size)], axis=1)
        return one_hot(ids[:-1], len(self.vocab)), ids[1:]

    def describe_held_out(self) -> str:
        return (f"{plural(self.held_out_size, 'window')} from the last {len(self.held_data):,} characters, "
                f"which training never sees")

    def loss(self, outputs, targets) -> Tensor:
        return F.cross_entropy(rows(outputs), targets.reshape(-1), ignore_index=PAD)

    def lengths(self, targets: np.ndarray) -> np.ndarray | None:
        """Each sequence's length (its targets before the padding), or None when none is padded."""
        lengths = (targets != PAD).sum(axis=0)
        return None if np.all(lengths == targets.shape[0]) else lengths

    def describe_baseline(self) -> str:
        return f"a uniform guess over {len(self.vocab)} characters scores {self.baseline:.3f}"


class AddingProblem:
    """Sum the two marked values of a T-step sequence; MSE of the answer after the last step."""

    name = "adding"
    metric = "MSE"
    held_out_size = HELD_OUT_SEQUENCES
    input_size, output_size = adding_task.NUM_INPUTS, adding_task.NUM_OUTPUTS
    baseline = BASELINE_MSE

    def __init__(self, seq_len: int, batch: int) -> None:
        self.seq_len, self.batch_size, self.time_steps = seq_len, batch, seq_len

    def batch(self, rng: np.random.Generator, size: int | None = None):
        return adding_batch(self.seq_len, size or self.batch_size, rng)

    def held_out(self, seed: int):
        return self.batch(held_out_rng(seed), HELD_OUT_SEQUENCES)

    def describe_held_out(self) -> str:
        return f"{HELD_OUT_SEQUENCES} sequences drawn apart from the training ones"

    def loss(self, outputs, targets) -> Tensor:
        return F.mse_loss(step_outputs(outputs)[-1], targets)

    def lengths(self, targets) -> None:
        return None  # every sequence has the task's length

    def describe_baseline(self) -> str:
        return f"always answering 1 scores {self.baseline:.3f}"


class CopyProblem:
    """Repeat 10 symbols after a delay of T blanks; cross-entropy per step over all T + 20 steps."""

    name = "copy"
    metric = "cross-entropy"
    held_out_size = HELD_OUT_SEQUENCES
    input_size, output_size = copy_task.NUM_INPUTS, copy_task.NUM_CLASSES

    def __init__(self, delay: int, batch: int) -> None:
        self.seq_len, self.batch_size, self.time_steps = delay, batch, delay + 2 * copy_task.COPY_LENGTH
        self.baseline = copy_baseline(delay)

    def batch(self, rng: np.random.Generator, size: int | None = None):
        ids, targets = copy_batch(self.seq_len, size or self.batch_size, rng)
        return one_hot(ids, copy_task.NUM_INPUTS), targets

    def held_out(self, seed: int):
        return self.batch(held_out_rng(seed), HELD_OUT_SEQUENCES)

    def describe_held_out(self) -> str:
        return f"{HELD_OUT_SEQUENCES} sequences drawn apart from the training ones"

    def loss(self, outputs, targets) -> Tensor:
        return F.cross_entropy(rows(outputs), targets.reshape(-1))

    def lengths(self, targets) -> None:
        return None  # every sequence has the task's length

    def describe_baseline(self) -> str:
        return f"remembering nothing scores 10·log(8)/(T+20) = {self.baseline:.3f}"


def make_problem(config: dict, text: str | None = None, vocab: Vocab | None = None):
    task = config["task"]
    if task == "char":
        return CharProblem(text if text is not None else make_corpus(), config["seq_len"], config["batch"], vocab)
    if task == "adding":
        return AddingProblem(config["seq_len"], config["batch"])
    if task == "copy":
        return CopyProblem(config["seq_len"], config["batch"])
    raise CLIError(f"unknown task {task!r}")
