"""What each task feeds the model and how it scores it.

A problem turns a random generator into a batch (inputs of shape (T, B, inputs) and targets),
turns the model's outputs into the training loss, and knows the task's baseline, so training code
is the same loop for every task.
"""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..tasks import BASELINE_MSE, Vocab, adding_batch, char_batch, copy_baseline, copy_batch, make_corpus, one_hot
from ..tasks import copy as copy_task
from ..tensor import Tensor
from .errors import CLIError


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
    """Predict the next character of a text. The loss is the cross-entropy in nats per character."""

    name = "char"
    metric = "cross-entropy (nats/char)"

    def __init__(self, text: str, seq_len: int, batch: int, vocab: Vocab | None = None) -> None:
        self.vocab = vocab or Vocab.from_text(text)
        try:
            self.data = self.vocab.encode(text)
        except ValueError as error:
            raise CLIError(f"the text does not fit the checkpoint's vocabulary: {error}") from None
        if len(self.data) < seq_len + 1:
            raise CLIError(f"the text has {len(self.data)} characters; --seq-len {seq_len} needs at least "
                           f"{seq_len + 1}")
        self.seq_len, self.batch_size = seq_len, batch
        self.input_size = self.output_size = len(self.vocab)
        self.baseline = math.log(len(self.vocab))  # a uniform guess over the characters
        # where samples start: a common sentence opening if the text has one, else its first character
        self.prime = "The" if "The " in text else text[0]

    def batch(self, rng: np.random.Generator, size: int | None = None):
        ids, targets = char_batch(self.data, self.seq_len, size or self.batch_size, rng)
        return one_hot(ids, len(self.vocab)), targets

    def loss(self, outputs, targets) -> Tensor:
        return F.cross_entropy(rows(outputs), targets.reshape(-1))

    def describe_baseline(self) -> str:
        return f"a uniform guess over {len(self.vocab)} characters scores {self.baseline:.3f}"


class AddingProblem:
    """Sum the two marked values of a T-step sequence; MSE of the answer after the last step."""

    name = "adding"
    metric = "MSE"
    input_size, output_size = 2, 1
    baseline = BASELINE_MSE

    def __init__(self, seq_len: int, batch: int) -> None:
        self.seq_len, self.batch_size = seq_len, batch

    def batch(self, rng: np.random.Generator, size: int | None = None):
        return adding_batch(self.seq_len, size or self.batch_size, rng)

    def loss(self, outputs, targets) -> Tensor:
        return F.mse_loss(step_outputs(outputs)[-1], targets)

    def describe_baseline(self) -> str:
        return f"always answering 1 scores {self.baseline:.3f}"


class CopyProblem:
    """Repeat 10 symbols after a delay of T blanks; cross-entropy per step over all T + 20 steps."""

    name = "copy"
    metric = "cross-entropy"
    input_size, output_size = copy_task.NUM_INPUTS, copy_task.NUM_CLASSES

    def __init__(self, delay: int, batch: int) -> None:
        self.seq_len, self.batch_size = delay, batch
        self.baseline = copy_baseline(delay)

    def batch(self, rng: np.random.Generator, size: int | None = None):
        ids, targets = copy_batch(self.seq_len, size or self.batch_size, rng)
        return one_hot(ids, copy_task.NUM_INPUTS), targets

    def loss(self, outputs, targets) -> Tensor:
        return F.cross_entropy(rows(outputs), targets.reshape(-1))

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
