"""`tinygrad-rnn train`: fit a recurrent model to a task, watch a held-out loss, save everything
needed to look at the run and to resume it, and report the result against the task's baseline.

Training stops early, keeping the last good state, when the loss becomes NaN or infinite or grows
far above where it started; a size that would not fit in memory is refused before it starts.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..optim import Adam, clip_grad_norm
from ..runs import BEST, CHECKPOINT, checkpoint_path, load_weights, read_checkpoint, sample_text, write_checkpoint
from ..tasks import Vocab
from .config import new_config, resumed_config
from .errors import CLIError
from .interrupt import StopOnInterrupt
from .memory import check_fits
from .models import build_model, cell_name
from .outputs import new_run_dir, plot_history, write_config, write_history
from .problems import make_problem
from .progress import progress
from .textfile import read_text
from .threads import use_one_blas_thread
from .trained_picture import draw_trained
from .wording import plural

EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130  # the shell's convention for a run stopped by Ctrl-C
DIVERGENCE_FACTOR = 10  # a loss ten times its first value means training has left the rails
SAMPLE_TEMPERATURE = 0.6  # a little below 1: fewer misspellings, still varied


class Snapshot:
    """The model's and the optimizer's state after `step` steps, copied: what a checkpoint holds
    besides the history (which only grows, so its first `step` entries are the snapshot's).
    `copy_from` reuses its arrays, so keeping the last good state costs one copy per step."""

    def __init__(self, step: int = 0, weights: dict | None = None, optimizer: dict | None = None) -> None:
        self.step, self.weights, self.optimizer = step, weights or {}, optimizer or {}

    @classmethod
    def take(cls, step: int, model, optimizer) -> Snapshot:
        return cls().copy_from(step, model, optimizer)

    def copy_from(self, step: int, model, optimizer) -> Snapshot:
        self.step = step
        _copy_into(self.weights, ((name, p.data) for name, p in model.named_parameters()))
        # the optimizer's state_dict() names: "<parameter index>.<buffer>"
        _copy_into(self.optimizer, ((f"{k}.{name}", value) for k, state in enumerate(optimizer.state)
                                    for name, value in state.items()))
        return self


def _copy_into(target: dict, arrays) -> None:
    for name, array in arrays:
        kept = target.get(name)
        if kept is not None and kept.shape == array.shape and kept.dtype == array.dtype:
            np.copyto(kept, array)
        else:
            target[name] = np.array(array, copy=True)


class Record:
    """The run's history: the training loss of every step, the held-out losses, and the best state."""

    def __init__(self, losses: list[float], held_out: list[tuple[int, float]], best: Snapshot | None,
                 best_loss: float) -> None:
        self.losses, self.held_out, self.best, self.best_loss = losses, held_out, best, best_loss

    def held_out_until(self, step: int) -> list[tuple[int, float]]:
        return [(s, v) for s, v in self.held_out if s <= step]

    def latest_held_out(self) -> float | None:
        return self.held_out[-1][1] if self.held_out else None


@dataclass
class Diverged:
    """The loss at `step` was `loss`, far from its `start`; `good` is the last state whose loss was fine."""

    step: int
    loss: float
    start: float
    good: Snapshot


def run(args) -> int:
    use_one_blas_thread()
    if args.text is not None:
        args.text = str(Path(args.text).resolve())  # so --resume finds it from anywhere
    source = None
    if args.resume:
        source = read_checkpoint(args.resume)
        step = int(source.meta.get("step", 0))
        config = resumed_config(args, source.meta["config"], step)
        vocab = Vocab(source.meta["vocab"]) if source.meta.get("vocab") else None
        out = Path(args.out) if args.out else checkpoint_path(args.resume).parent
    else:
        config, step, vocab = new_config(args), 0, None
        out = Path(args.out) if args.out else new_run_dir()

    text = read_text(config["text"]) if config["text"] else None
    problem = make_problem(config, text, vocab)
    model = build_model(config["cell"], problem.input_size, config["hidden"], problem.output_size, config["seed"])
    check_fits(config, problem, model, held_out_batch=problem.held_out_size)
    held_xs, held_targets = problem.held_out(config["seed"])
    optimizer = Adam(model.parameters(), lr=config["lr"])
    record = Record([], [], None, math.inf)
    if source is not None:
        load_weights(model, source.weights, args.resume)
        try:
            optimizer.load_state_dict(source.optimizer)
        except (KeyError, ValueError) as error:
            raise CLIError(f"{args.resume}: the optimizer state does not fit the model: {error}") from None
        record = _resumed_record(args.resume, source, step)
    _prepare_out(out, resuming=source is not None)

    print(_headline(config, problem, model, step))
    first, started = step, time.perf_counter()
    with StopOnInterrupt() as stop:
        bar = progress(config["steps"], step, quiet=args.quiet)
        try:
            step, diverged = _train(model, optimizer, problem, config, step, record, (held_xs, held_targets), bar,
                                    stop)
        finally:
            bar.close()
    seconds = time.perf_counter() - started

    if diverged is not None:  # go back to the last state whose loss was fine
        model.load_state_dict(diverged.good.weights)
        optimizer.load_state_dict(diverged.good.optimizer)
        step = diverged.good.step
    checkpoint = out / CHECKPOINT
    written = _save(out, config, problem, model, optimizer, step, record)

    if diverged is not None:
        what = "became" if not math.isfinite(diverged.loss) else "grew to"
        kept = f"step {step}" if step else "the initial weights"
        sys.stderr.write(f"tinygrad-rnn: stopped: the loss {what} {diverged.loss:.4g} at step {diverged.step} "
                         f"(it started at {diverged.start:.4g}), so training diverged; {checkpoint} keeps the last "
                         f"good state, {kept}: try a smaller --lr than {config['lr']:g}\n")
        return EXIT_DIVERGED
    if stop.requested:
        print(f"\nInterrupted at step {step} of {config['steps']}: saved {checkpoint}\n"
              f"Resume with: tinygrad-rnn train --resume {checkpoint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    done = step - first
    steps = f"step {step}" if done == 1 else f"steps {first + 1}–{step}"
    print(f"Trained {steps} in {seconds:.1f} s ({done / seconds:.1f} steps/s)")
    _report(config, problem, model, record)
    print(f"Wrote {out}/: {', '.join(written)}")
    if config["task"] == "char":
        print(f"More text: tinygrad-rnn sample --checkpoint {checkpoint}")
    print(f"Look inside: tinygrad-rnn inspect --checkpoint {checkpoint} -o {out / 'report.html'}")
    return 0


def _save(out: Path, config: dict, problem, model, optimizer, step: int, record: Record) -> list[str]:
    """Write the checkpoint of `step`, the best one, and the run's other files; returns their names."""
    write_checkpoint(out / CHECKPOINT, model.state_dict(), optimizer.state_dict(), _meta(config, problem, step, record),
                     record.losses[:step], record.held_out_until(step))
    saved = [CHECKPOINT]
    best = record.best
    if best is not None:
        write_checkpoint(out / BEST, best.weights, best.optimizer, _meta(config, problem, best.step, record),
                         record.losses[:best.step], record.held_out_until(best.step))
        saved.append(BEST)
    return saved + _write_outputs(out, config, problem, model, record.losses[:step], record.held_out_until(step))


def _resumed_record(resume: str, source, step: int) -> Record:
    """The history up to the resumed step, and the best state so far from the run's best.npz, if it
    is still there and is the one the checkpoint names."""
    losses = source.losses[:step]
    held_out = [(s, v) for s, v in source.held_out if s <= step]
    info = source.meta.get("best")
    path = checkpoint_path(resume).parent / BEST
    if not isinstance(info, dict) or not path.exists() or not 0 <= int(info.get("step", -1)) <= step:
        return Record(losses, held_out, None, math.inf)
    try:
        best = read_checkpoint(path)
    except ValueError:
        return Record(losses, held_out, None, math.inf)
    if best.meta.get("step") != info["step"]:
        return Record(losses, held_out, None, math.inf)
    return Record(losses, held_out, Snapshot(info["step"], best.weights, best.optimizer), float(info["held_out"]))


def _meta(config: dict, problem, step: int, record: Record) -> dict:
    best = record.best
    char = config["task"] == "char"
    return {"config": config, "step": step, "input_size": problem.input_size, "output_size": problem.output_size,
            "vocab": problem.vocab.chars if char else None, "prime": problem.prime if char else None,
            "best": None if best is None or best.step > step else {"step": best.step, "held_out": record.best_loss}}


def _prepare_out(out: Path, resuming: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, expected a folder")
    if not resuming and (out / CHECKPOINT).exists():  # never overwrite an earlier run's checkpoint
        raise CLIError(f"--out {out} already holds a run ({CHECKPOINT}): continue it with "
                       f"--resume {out / CHECKPOINT}, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)


def _headline(config: dict, problem, model, step: int) -> str:
    start = f", resuming at step {step}" if step else ""
    data = f", seq-len {config['seq_len']}" if config["task"] == "char" else f", T = {config['seq_len']}"
    return (f"Training {cell_name(config['cell'])} on the {config['task']} task: hidden {config['hidden']}, "
            f"{plural(model.num_parameters(), 'parameter')}{data}, batch {config['batch']}, "
            f"{plural(config['steps'], 'step')}, Adam lr {config['lr']:g}, seed {config['seed']}{start}")


def _train(model, optimizer, problem, config: dict, step: int, record: Record, held, bar, stop):
    """Run the steps after `step` up to config['steps']. Returns the last finished step and None, or,
    when the loss diverges, the step reached and a `Diverged`."""
    params = model.parameters()
    every = config["eval_every"]
    start = record.losses[0] if record.losses else None
    good = Snapshot.take(step, model, optimizer)  # the last state whose loss was found fine
    while step < config["steps"] and not stop.requested:
        rng = np.random.default_rng([config["seed"], step + 1])  # per-step seeds: a resumed run sees the same data
        xs, targets = problem.batch(rng)
        outputs, _ = model(xs, lengths=problem.lengths(targets))  # a char batch's sentences end apart
        loss = problem.loss(outputs, targets)
        value = loss.item()
        start = value if start is None else start
        if not math.isfinite(value) or value > DIVERGENCE_FACTOR * start:
            return step, Diverged(step + 1, value, start, good)
        good.copy_from(step, model, optimizer)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(params, config["clip"])
        optimizer.step()
        step += 1
        record.losses.append(value)
        if step % every == 0 or step == config["steps"]:
            held_loss = _held_out_loss(model, problem, held)
            record.held_out.append((step, held_loss))
            if held_loss < record.best_loss:
                record.best, record.best_loss = Snapshot.take(step, model, optimizer), held_loss
        bar.update(value, record.latest_held_out())
    return step, None


def _held_out_loss(model, problem, held) -> float:
    xs, targets = held
    with no_grad():
        outputs, _ = model(xs)
        return problem.loss(outputs, targets).item()


def _write_outputs(out: Path, config: dict, problem, model, losses: list, held_out: list) -> list[str]:
    write_config(out / "config.json", config)
    write_history(out / "loss.csv", losses, held_out)
    written = ["config.json", "loss.csv"]
    baseline_label = "baseline" if config["task"] != "char" else "uniform guess"
    title = f"{config['cell'].upper()} on the {config['task']} task (hidden {config['hidden']})"
    missing = plot_history(out / "loss.png", losses, held_out, title, problem.metric, problem.baseline,
                           baseline_label)
    if missing:
        print(missing, file=sys.stderr)
    else:
        written.append("loss.png")
    written.append(draw_trained(model, problem, out / "unrolled.svg").name)
    return written


def _report(config: dict, problem, model, record: Record) -> None:
    recent = record.losses[-50:]
    _, held = record.held_out[-1]  # the last step is always scored
    best = f"; best {record.best_loss:.4f} at step {record.best.step} ({BEST})" if record.best is not None else ""
    if config["task"] == "char":
        print(f"Final loss {float(np.mean(recent)):.3f} nats/char (mean of the last {plural(len(recent), 'step')}; "
              f"{problem.describe_baseline()})")
        print(f"Held-out loss {held:.3f} on {problem.describe_held_out()}{best}")
        text = sample_text(model, problem.vocab, 240, SAMPLE_TEMPERATURE, problem.prime,
                           np.random.default_rng(config["seed"]))
        print(f"Sample (temperature {SAMPLE_TEMPERATURE}):\n{text}")
        return
    ratio = held / problem.baseline
    print(f"Final {problem.metric} {held:.4f} on {problem.describe_held_out()}; baseline {problem.baseline:.4f} "
          f"({problem.describe_baseline()}); ratio {ratio:.2f}{best}")
    if ratio < 0.9:
        print(f"{1 - ratio:.0%} below the baseline: the model carries information across the sequence")
    else:
        hint = (" (a plain RNN rarely does at this length: try --cell lstm or --cell gru)"
                if config["cell"] == "rnn" else " (try more --steps)")
        print(f"No better than the baseline: the model has not learned to carry information this far{hint}")
