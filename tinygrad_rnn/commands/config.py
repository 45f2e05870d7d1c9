"""Training configuration: defaults per task, merged with a checkpoint's settings and the user's options."""
from __future__ import annotations

from .errors import CLIError
from .wording import plural

# Chosen so that `tinygrad-rnn train` with no options finishes in about a minute on 2 cores and
# visibly learns (the loss falls from ln(49) ≈ 3.9 to about 0.6 nats per character); the long-range
# tasks default to settings where an LSTM or GRU beats the baseline and a plain RNN does not.
DEFAULTS = {
    "char": {"cell": "rnn", "hidden": 256, "seq_len": 48, "batch": 32, "steps": 1500, "lr": 3e-3},
    "adding": {"cell": "rnn", "hidden": 64, "seq_len": 30, "batch": 64, "steps": 800, "lr": 3e-3},
    "copy": {"cell": "rnn", "hidden": 64, "seq_len": 10, "batch": 64, "steps": 1500, "lr": 1e-2},
}
COMMON = {"seed": 0, "clip": 5.0, "text": None}
FIXED_BY_MODEL = ("task", "cell", "hidden", "text")  # changing these would not fit the saved weights
EVALUATIONS = 50  # the held-out loss is scored about this often in a run (and at its last step)
ADJUSTABLE = ("steps", "seq_len", "lr", "batch", "seed")


def new_config(args) -> dict:
    """The settings of a fresh run: the task's defaults, overridden by every option given."""
    task = args.task or "char"
    if args.text is not None and task != "char":
        raise CLIError(f"--text trains a character model; it cannot be used with --task {task}")
    config = {"task": task, **COMMON, **DEFAULTS[task]}
    for key in ("cell", "hidden", "text", *ADJUSTABLE):
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    # fixed when the run starts, so a resumed run scores the same steps as one that never stopped
    config["eval_every"] = max(1, config["steps"] // EVALUATIONS)
    _check(config)
    return config


def resumed_config(args, saved: dict, step: int) -> dict:
    """The saved settings, with the options that may change between sessions applied on top."""
    config = dict(saved)
    config.setdefault("eval_every", max(1, saved["steps"] // EVALUATIONS))  # checkpoints of format version 1
    for key in FIXED_BY_MODEL:
        value = getattr(args, key)
        if value is not None and value != saved.get(key):
            raise CLIError(f"--{key.replace('_', '-')} {value} does not match the checkpoint "
                           f"({key} = {saved.get(key)}); leave it out when resuming")
    for key in ADJUSTABLE:
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    if config["steps"] <= step:
        done = f"the checkpoint has already trained {plural(step, 'step')}"
        if args.steps is None:
            raise CLIError(f"{done}, all that its run asked for: pass --steps with a larger total "
                           f"(e.g. --steps {2 * step}) to train further")
        raise CLIError(f"{done}, and --steps {args.steps} is the total to reach, not a number to add: "
                       f"pass a total above {step} (e.g. --steps {step + args.steps})")
    _check(config)
    return config


def _check(config: dict) -> None:
    if config["task"] == "adding" and config["seq_len"] < 2:
        raise CLIError(f"the adding problem needs --seq-len of at least 2 (one mark in each half), "
                       f"got {config['seq_len']}")
