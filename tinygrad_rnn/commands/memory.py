"""Refusing, before training starts, a size whose training would not fit in memory.

A training step keeps the graph of one batch until its backward is done: for every time step and
sequence, the arrays each cell's backward needs, the inputs, the outputs and their softmax; and for
every parameter its gradient and Adam's two moments. The numbers of values below were measured
with tracemalloc on one training step of the fused `RNN` (each cell and task, hidden 48 to 256,
batch 16 to 128): the estimate is 1.6 to 2.5 times the measured peak, so it errs on the side of
caution and never refuses a size that needs less than half of what is free.
"""
from __future__ import annotations

import os

from .errors import CLIError
from .wording import plural

# values kept per time step and sequence, per hidden unit of the layer (training; held-out forward)
PER_UNIT = {"rnn": 6, "lstm": 24, "gru": 18}
PER_UNIT_FORWARD = {"rnn": 4, "lstm": 7, "gru": 6}
PER_INPUT_OUTPUT = 6   # per time step and sequence, per input and per output size
PER_PARAMETER = 12     # the parameter, its gradient and Adam's float64 moments, with temporaries
BYTES_PER_VALUE = 4    # float32


def training_bytes(cell: str, hidden: int, inputs: int, outputs: int, time_steps: int, batch: int,
                   parameters: int) -> int:
    """Estimated peak memory of one training step (forward, backward and update)."""
    per_row = PER_UNIT[cell] * hidden + PER_INPUT_OUTPUT * (inputs + outputs)
    return BYTES_PER_VALUE * (time_steps * batch * per_row + PER_PARAMETER * parameters)


def forward_bytes(cell: str, hidden: int, inputs: int, outputs: int, time_steps: int, batch: int) -> int:
    """Estimated peak memory of a forward pass without a graph (the held-out loss)."""
    per_row = PER_UNIT_FORWARD[cell] * hidden + 2 * (inputs + outputs)
    return BYTES_PER_VALUE * time_steps * batch * per_row


def available_bytes() -> int | None:
    """Memory the system can give a new process without swapping (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unix systems: the free physical pages (a lower bound: caches could be dropped too)
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_fits(config: dict, problem, model, held_out_batch: int, available: int | None = None) -> None:
    """Raise CLIError, naming the estimate and what is available, when training would not fit."""
    available = available_bytes() if available is None else available
    if available is None:
        return
    sizes = dict(cell=config["cell"], hidden=config["hidden"], inputs=problem.input_size,
                 outputs=problem.output_size, time_steps=problem.time_steps)
    step = training_bytes(**sizes, batch=config["batch"], parameters=model.num_parameters())
    held = forward_bytes(**sizes, batch=held_out_batch)
    if max(step, held) <= available:
        return
    sequences = f"{plural(problem.time_steps, 'step')}, --hidden {config['hidden']}"
    if step >= held:
        raise CLIError(f"a training step of --batch {config['batch']} (sequences of {sequences}) needs about "
                       f"{_size(step)} of memory (estimated), and {_size(available)} is available: use a smaller "
                       f"--batch, --seq-len or --hidden")
    raise CLIError(f"scoring the held-out data ({plural(held_out_batch, 'sequence')} of {sequences}) needs about "
                   f"{_size(held)} of memory (estimated), and {_size(available)} is available: use a smaller "
                   f"--seq-len or --hidden")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1e3:.0f} kB"
