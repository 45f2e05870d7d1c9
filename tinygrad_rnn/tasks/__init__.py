"""Built-in tasks: a generated character corpus, the adding problem and the copy memory task.
Every batch generator takes a `numpy.random.Generator`, so the same seed gives the same batches."""

from .adding import BASELINE_MSE, adding_batch
from .chars import PAD, Vocab, char_batch, one_hot, sentence_batch
from .copy import copy_baseline, copy_batch
from .corpus import make_corpus

__all__ = [
    "make_corpus",
    "Vocab",
    "char_batch",
    "sentence_batch",
    "PAD",
    "one_hot",
    "adding_batch",
    "BASELINE_MSE",
    "copy_batch",
    "copy_baseline",
]
