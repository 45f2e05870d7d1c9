"""`tinygrad-rnn sample`: text from a character model saved by `train`, through `load_run`."""
from __future__ import annotations

from ..runs import load_run
from .errors import CLIError


def run(args) -> int:
    trained = load_run(args.checkpoint)
    if trained.vocab is None:
        raise CLIError(f"{args.checkpoint} holds a model for the {trained.config['task']} task; sample needs a "
                       f"character model (tinygrad-rnn train --task char)")
    print(trained.sample(args.length, args.prime, args.temperature, args.seed))
    return 0
