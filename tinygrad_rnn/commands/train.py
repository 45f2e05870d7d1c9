"""`tinygrad-rnn train`: fit a recurrent model to a task, save everything needed to look at it and
to resume it, and report the result against the task's baseline."""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..optim import Adam, clip_grad_norm
from ..tasks import Vocab
from .checkpoint import load_weights, read_checkpoint, write_checkpoint
from .config import new_config, resumed_config
from .diagram import draw_trained
from .errors import CLIError
from .generate import sample_text
from .interrupt import StopOnInterrupt
from .models import build_model, cell_name
from .outputs import new_run_dir, plot_history, write_config, write_history
from .problems import make_problem
from .progress import progress
from .textfile import read_text
from .threads import use_one_blas_thread

EXIT_INTERRUPTED = 130  # the shell's convention for a run stopped by Ctrl-C
EVAL_BATCH = 1000
SAMPLE_TEMPERATURE = 0.6  # a little below 1: fewer misspellings, still varied


def run(args) -> int:
    use_one_blas_thread()
    if args.text is not None:
        args.text = str(Path(args.text).resolve())  # so --resume finds it from anywhere
    if args.resume:
        meta, weights, optim_arrays, history = read_checkpoint(args.resume)
        step = int(meta.get("step", 0))
        config = resumed_config(args, meta["config"], step)
        vocab = Vocab(meta["vocab"]) if meta.get("vocab") else None
        out = Path(args.out) if args.out else Path(args.resume).parent
    else:
        config, step, history, vocab = new_config(args), 0, [], None
        out = Path(args.out) if args.out else new_run_dir()

    text = read_text(config["text"]) if config["text"] else None
    problem = make_problem(config, text, vocab)
    model = build_model(config["cell"], problem.input_size, config["hidden"], problem.output_size, config["seed"])
    optimizer = Adam(model.parameters(), lr=config["lr"])
    if args.resume:
        load_weights(model, weights, args.resume)
        try:
            optimizer.load_state_dict(optim_arrays)
        except (KeyError, ValueError) as error:
            raise CLIError(f"{args.resume}: the optimizer state does not fit the model: {error}") from None
        history = history[:step]
    _prepare_out(out, resuming=bool(args.resume))

    print(_headline(config, problem, model, step))
    first, started = step, time.perf_counter()
    with StopOnInterrupt() as stop:
        bar = progress(config["steps"], step, quiet=args.quiet)
        try:
            step = _train(model, optimizer, problem, config, step, history, bar, stop)
        finally:
            bar.close()
    seconds = time.perf_counter() - started

    checkpoint = out / "model.npz"
    meta = {"config": config, "step": step,
            "vocab": problem.vocab.chars if config["task"] == "char" else None,
            "prime": problem.prime if config["task"] == "char" else None}
    write_checkpoint(checkpoint, model, optimizer.state_dict(), meta, history)
    written = _write_outputs(out, config, problem, model, history)
    if stop.requested:
        print(f"\nInterrupted at step {step} of {config['steps']}: saved {checkpoint}\n"
              f"Resume with: tinygrad-rnn train --resume {checkpoint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"Trained steps {first + 1}-{step} in {seconds:.1f} s ({(step - first) / seconds:.1f} steps/s)")
    _report(config, problem, model, history)
    print(f"Wrote {out}/: {', '.join(['model.npz', *written])}")
    if config["task"] == "char":
        print(f"More text: tinygrad-rnn sample --checkpoint {checkpoint}")
    return 0


def _prepare_out(out: Path, resuming: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file, expected a folder")
    if not resuming and (out / "model.npz").exists():  # never overwrite an earlier run's checkpoint
        raise CLIError(f"--out {out} already holds a run (model.npz): continue it with "
                       f"--resume {out / 'model.npz'}, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)


def _headline(config: dict, problem, model, step: int) -> str:
    start = f", resuming at step {step}" if step else ""
    data = f", seq-len {config['seq_len']}" if config["task"] == "char" else f", T = {config['seq_len']}"
    return (f"Training {cell_name(config['cell'])} on the {config['task']} task: hidden {config['hidden']}, "
            f"{model.num_parameters():,} parameters{data}, batch {config['batch']}, "
            f"{config['steps']} steps, Adam lr {config['lr']:g}, seed {config['seed']}{start}")


def _train(model, optimizer, problem, config: dict, step: int, history: list, bar, stop) -> int:
    """Run the steps after `step` up to config['steps']; returns the number of the last finished step."""
    params = model.parameters()
    while step < config["steps"] and not stop.requested:
        step += 1
        rng = np.random.default_rng([config["seed"], step])  # per-step seeds: a resumed run sees the same data
        xs, targets = problem.batch(rng)
        outputs, _ = model(xs)
        loss = problem.loss(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(params, config["clip"])
        optimizer.step()
        value = loss.item()
        if not math.isfinite(value):
            raise CLIError(f"the loss became {value} at step {step}; try a smaller --lr")
        history.append(value)
        bar.update(value)
    return step


def _write_outputs(out: Path, config: dict, problem, model, history: list) -> list[str]:
    write_config(out / "config.json", config)
    write_history(out / "loss.csv", history)
    written = ["config.json", "loss.csv"]
    baseline_label = "baseline" if config["task"] != "char" else "uniform guess"
    title = f"{config['cell'].upper()} on the {config['task']} task (hidden {config['hidden']})"
    missing = plot_history(out / "loss.png", history, title, problem.metric, problem.baseline, baseline_label)
    if missing:
        print(missing, file=sys.stderr)
    else:
        written.append("loss.png")
    written.append(draw_trained(model, problem, out / "unrolled.svg").name)
    return written


def _report(config: dict, problem, model, history: list) -> None:
    recent = float(np.mean(history[-50:]))
    if config["task"] == "char":
        print(f"Final loss {recent:.3f} nats/char (mean of the last {min(50, len(history))} steps; "
              f"{problem.describe_baseline()})")
        text = sample_text(model, problem.vocab, 240, SAMPLE_TEMPERATURE, problem.prime,
                           np.random.default_rng(config["seed"]))
        print(f"Sample (temperature {SAMPLE_TEMPERATURE}):\n{text}")
        return
    rng = np.random.default_rng([config["seed"], 2**31])  # held-out sequences, never used for training
    xs, targets = problem.batch(rng, EVAL_BATCH)
    with no_grad():
        outputs, _ = model(xs)
        metric = problem.loss(outputs, targets).item()
    ratio = metric / problem.baseline
    print(f"Final {problem.metric} {metric:.4f} on {EVAL_BATCH} fresh sequences; baseline {problem.baseline:.4f} "
          f"({problem.describe_baseline()}); ratio {ratio:.2f}")
    if ratio < 0.9:
        print(f"{1 - ratio:.0%} below the baseline: the model carries information across the sequence")
    else:
        hint = (" (a plain RNN rarely does at this length: try --cell lstm or --cell gru)"
                if config["cell"] == "rnn" else " (try more --steps)")
        print(f"No better than the baseline: the model has not learned to carry information this far{hint}")
