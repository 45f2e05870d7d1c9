"""`tinygrad-rnn sample`: text from a character model saved by `train`."""
from __future__ import annotations

import numpy as np

from ..tasks import Vocab
from .checkpoint import load_weights, read_checkpoint
from .errors import CLIError
from .generate import sample_text
from .models import build_model


def run(args) -> int:
    meta, weights, _, _ = read_checkpoint(args.checkpoint)
    config = meta["config"]
    if config["task"] != "char" or not meta.get("vocab"):
        raise CLIError(f"{args.checkpoint} holds a model for the {config['task']} task; sample needs a "
                       f"character model (tinygrad-rnn train --task char)")
    vocab = Vocab(meta["vocab"])
    model = build_model(config["cell"], len(vocab), config["hidden"], len(vocab), seed=0)
    load_weights(model, weights, args.checkpoint)
    prime = args.prime if args.prime is not None else meta.get("prime") or vocab.chars[0]
    if not prime:
        raise CLIError("--prime must not be empty")
    unknown = sorted({c for c in prime if c not in vocab.index})
    if unknown:
        raise CLIError(f"--prime has characters the model never saw: {''.join(unknown)!r}")
    rng = np.random.default_rng(args.seed)
    print(sample_text(model, vocab, args.length, args.temperature, prime, rng))
    return 0
