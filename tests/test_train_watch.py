"""What `train` watches: the held-out loss, the best checkpoint, divergence and memory; and the
command line's small courtesies (--version, each subcommand's help, singular and plural)."""
from __future__ import annotations

import csv
import math
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tinygrad_rnn import load_run
from tinygrad_rnn.cli import main
from tinygrad_rnn.commands import memory
from tinygrad_rnn.commands.errors import CLIError
from tinygrad_rnn.commands.problems import AddingProblem, CharProblem, CopyProblem
from tinygrad_rnn.optim import Adam, clip_grad_norm
from tinygrad_rnn.runs import build_model
from tinygrad_rnn.tasks import make_corpus

TINY = ["--seq-len", "8", "--hidden", "8", "--batch", "4", "--quiet"]


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "loss.csv", newline="") as f:
        return list(csv.DictReader(f))


# -- the held-out loss and the best checkpoint --------------------------------------------------------
def test_held_out_loss_is_in_loss_csv_on_a_schedule_and_at_the_end(tmp_path, capsys):
    assert main(["train", "--steps", "120", *TINY, "--out", str(tmp_path / "run")]) == 0
    table = rows(tmp_path / "run")
    scored = [int(r["step"]) for r in table if r["held_out"]]
    assert scored == list(range(2, 121, 2))  # every steps // 50 = 2 steps, and the last one
    assert "Held-out loss" in capsys.readouterr().out


def test_char_held_out_data_is_the_tail_that_training_never_reads():
    text = "ab" * 900 + "#c" * 100  # '#' appears only in the last tenth
    problem = CharProblem(text, 16, 8)
    assert len(problem.held_data) == 200
    np.testing.assert_array_equal(np.concatenate([problem.train_data, problem.held_data]), problem.data)
    hash_id = problem.vocab.index["#"]
    for seed in range(200):
        xs, targets = problem.batch(np.random.default_rng(seed))
        assert (xs.argmax(-1) != hash_id).all() and (targets != hash_id).all()
    xs, targets = problem.held_out(0)
    assert xs.shape[1] == problem.held_out_size == (200 - 1) // 16
    assert problem.vocab.decode(xs.argmax(-1)[:, 0]) == "#c" * 8
    assert problem.vocab.decode(targets[:, 0]) == "c#" * 8


def test_a_text_too_short_to_hold_some_out_says_how_long_it_must_be():
    with pytest.raises(CLIError, match="needs at least 18 .9 to train on and 9 held out"):
        CharProblem("x" * 17, 8, 4)
    CharProblem("x" * 18, 8, 4)


def test_tasks_held_out_batch_is_fixed_and_apart_from_training():
    for problem in (AddingProblem(12, 8), CopyProblem(5, 8)):
        (a, ta), (b, tb) = problem.held_out(3), problem.held_out(3)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ta, tb)
        assert a.shape[1] == problem.held_out_size == 1000
        train_x, _ = problem.batch(np.random.default_rng([3, 1]))
        assert not np.array_equal(train_x[:, 0], a[:, 0])


def test_best_checkpoint_and_held_out_history_survive_an_interrupted_run(tmp_path, monkeypatch):
    """Ctrl-C at step 50 of 120, then --resume: the same losses, held-out losses and best checkpoint
    as a run that never stopped."""
    import os
    import signal

    from tinygrad_rnn.commands import train as train_command

    assert main(["train", "--steps", "120", *TINY, "--out", str(tmp_path / "straight")]) == 0

    class CtrlCAt50:  # the progress bar of the interrupted run presses Ctrl-C after step 50
        def __init__(self, total, initial=0, quiet=False):
            self.count = initial

        def update(self, loss, held_out=None):
            self.count += 1
            if self.count == 50:
                os.kill(os.getpid(), signal.SIGINT)

        def close(self):
            pass

    monkeypatch.setattr(train_command, "progress", CtrlCAt50)
    assert main(["train", "--steps", "120", *TINY, "--out", str(tmp_path / "stopped")]) == 130
    assert load_run(tmp_path / "stopped").step == 50
    monkeypatch.undo()
    assert main(["train", "--resume", str(tmp_path / "stopped"), "--quiet"]) == 0
    assert rows(tmp_path / "stopped") == rows(tmp_path / "straight")  # losses and held-out losses alike
    straight, resumed = load_run(tmp_path / "straight" / "best.npz"), load_run(tmp_path / "stopped" / "best.npz")
    assert resumed.step == straight.step
    for name, value in straight.model.state_dict().items():
        np.testing.assert_array_equal(value, resumed.model.state_dict()[name])


def test_resuming_in_place_keeps_an_earlier_best(tmp_path):
    """A learning rate too large for the resumed steps makes the held-out loss worse: best.npz must
    stay the state of step 10 instead of being replaced by the resumed run's first score."""
    out = tmp_path / "run"
    assert main(["train", "--steps", "10", *TINY, "--out", str(out)]) == 0
    before = load_run(out / "best.npz")
    assert before.step == 10
    assert main(["train", "--resume", str(out), "--steps", "14", "--lr", "2", "--quiet"]) == 0
    held = [r["held_out"] for r in load_run(out).history]
    assert min(held[10:]) > held[9]  # every resumed score is worse than step 10's
    after = load_run(out / "best.npz")
    assert after.step == 10
    for name, value in before.model.state_dict().items():
        np.testing.assert_array_equal(value, after.model.state_dict()[name])


# -- divergence ----------------------------------------------------------------------------------------
def test_a_diverging_run_stops_with_one_line_and_exit_3_keeping_the_last_good_state(tmp_path):
    out = tmp_path / "run"
    result = cli("train", "--lr", "1e9", "--quiet", "--out", out)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and "diverged" in lines[0] and "smaller --lr" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    run = load_run(out)
    assert all(np.isfinite(v).all() for v in run.model.state_dict().values())
    assert all(math.isfinite(r["loss"]) for r in run.history) and run.step == len(run.history)
    resumed = cli("train", "--resume", out, "--lr", "1e-3", "--steps", run.step + 3, "--quiet")
    assert resumed.returncode == 0, resumed.stderr


class PoisonedProblem(AddingProblem):
    """The adding problem, except that the loss becomes NaN at a chosen step."""

    def __init__(self, poison_at: int) -> None:
        super().__init__(6, 4)
        self.calls, self.poison_at = 0, poison_at

    def loss(self, outputs, targets):
        self.calls += 1
        loss = super().loss(outputs, targets)
        return loss * float("nan") if self.calls == self.poison_at else loss


def test_a_nan_loss_rolls_back_to_the_state_whose_loss_was_fine():
    from tinygrad_rnn.commands.train import Record, _train

    class Never:
        requested = False

    states = []  # the weights after each finished step

    class Watch:
        def update(self, loss, held_out=None):
            states.append(model.state_dict())

        def close(self):
            pass

    config = {"seed": 0, "steps": 1000, "clip": 5.0, "eval_every": 20}  # no held-out scoring before the NaN
    problem = PoisonedProblem(poison_at=5)
    model = build_model("gru", 2, 4, 1, seed=0)
    states.append(model.state_dict())
    record = Record([], [], None, math.inf)
    step, diverged = _train(model, Adam(model.parameters(), lr=1e-2), problem, config, 0, record,
                            problem.batch(np.random.default_rng(9), 1), Watch(), Never())
    assert diverged is not None and math.isnan(diverged.loss) and diverged.step == 5
    assert len(record.losses) == 4 and all(math.isfinite(v) for v in record.losses)
    assert diverged.good.step == 3  # its loss, found at step 4, was fine; step 4's weights gave the NaN
    for name, value in states[3].items():
        np.testing.assert_array_equal(diverged.good.weights[name], value)


# -- memory --------------------------------------------------------------------------------------------
def test_a_size_that_does_not_fit_is_refused_before_training(tmp_path):
    result = cli("train", "--batch", "100000", "--steps", "1", "--out", tmp_path / "run")
    assert result.returncode == 2, result.stderr
    line, = result.stderr.strip("\n").split("\n")
    assert "needs about" in line and "GB of memory (estimated)" in line and "available" in line, line
    assert not (tmp_path / "run").exists()  # nothing was started


def test_check_fits_compares_the_estimate_with_what_is_available():
    problem = AddingProblem(30, 64)
    model = build_model("lstm", 2, 64, 1, seed=0)
    config = {"cell": "lstm", "hidden": 64, "batch": 64}
    memory.check_fits(config, problem, model, held_out_batch=1000, available=10**9)
    with pytest.raises(CLIError, match=r"about \d.* MB of memory \(estimated\), and 1\.0 MB is available"):
        memory.check_fits(config, problem, model, held_out_batch=1000, available=10**6)
    assert memory.available_bytes() is None or memory.available_bytes() > 0


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("problem", [CharProblem(make_corpus(size=4000), 24, 16), AddingProblem(40, 32),
                                     CopyProblem(6, 24)], ids=["char", "adding", "copy"])
def test_the_estimate_bounds_the_measured_peak_of_a_training_step(cell, problem):
    """Never below what a step really takes, and not wildly above (the refusal must not be timid)."""
    hidden = 48
    model = build_model(cell, problem.input_size, hidden, problem.output_size, seed=0)
    optimizer = Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    for _ in range(2):  # the second step: Adam's moments exist, as in a long run
        tracemalloc.start()
        xs, targets = problem.batch(rng)
        outputs, _ = model(xs)
        loss = problem.loss(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(model.parameters(), 5.0)
        optimizer.step()
        del xs, targets, outputs, loss
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    estimate = memory.training_bytes(cell, hidden, problem.input_size, problem.output_size, problem.time_steps,
                                     problem.batch_size, model.num_parameters())
    assert peak <= estimate <= 3 * peak, (peak, estimate)


# -- the command line's courtesies -----------------------------------------------------------------------
def test_version():
    from importlib import metadata
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"tinygrad-rnn {metadata.version('tinygrad_rnn')}"


@pytest.mark.parametrize("command", ["train", "sample", "draw", "gradflow"])
def test_a_subcommand_error_points_to_that_subcommand_help(command):
    result = cli(command, "--no-such-option")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"(see 'tinygrad-rnn {command} --help')"), result.stderr


def test_one_step_is_singular(tmp_path):
    result = cli("train", "--steps", "1", *TINY, "--out", tmp_path / "one")
    assert result.returncode == 0, result.stderr
    assert "1 step," in result.stdout and "Trained step 1 in" in result.stdout
    # "1 steps" as a count, not the tail of a rate such as "453.1 steps/s"
    assert not re.search(r"(?<![\d.])1 steps", result.stdout + result.stderr)
    again = cli("train", "--resume", tmp_path / "one", "--quiet")
    assert again.returncode == 2
    assert "already trained 1 step," in again.stderr and "at step 1 of 1" not in again.stderr
    smaller = cli("train", "--resume", tmp_path / "one", "--steps", "1", "--quiet")
    assert "--steps 1 is the total to reach" in smaller.stderr


def test_the_run_prints_how_to_inspect_it(tmp_path):
    out = tmp_path / "run"
    result = cli("train", "--steps", "2", *TINY, "--out", out)
    assert f"tinygrad-rnn inspect --checkpoint {out / 'model.npz'} -o {out / 'report.html'}" in result.stdout


def test_step_axes_have_whole_number_ticks():
    from matplotlib.figure import Figure

    from tinygrad_rnn.commands.outputs import history_figure
    from tinygrad_rnn.diagnostics import plot_hidden_grad_norms

    fig = history_figure([3.0, 2.5, 2.0], [(3, 2.2)], "t", "loss", 3.9, "uniform guess")
    ax = Figure().add_subplot()
    plot_hidden_grad_norms([("a", np.array([1.0, 0.5, 0.25])), ("b", np.array([1.0, 0.9, 0.8]))], ax=ax)
    for axes in (fig.axes[0], ax):
        lo, hi = axes.get_xlim()
        ticks = [t for t in axes.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_trained_picture_names_the_cells_states_and_uses_the_training_loss(tmp_path):
    out = tmp_path / "copy"
    result = cli("train", "--task", "copy", "--cell", "lstm", "--steps", "1", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    picture = next(p for p in out.iterdir() if p.stem == "unrolled").read_text()
    assert "h_t and c_t" in picture and "a_t is" not in picture
    assert "cluster_t28" in picture  # the whole 8 + 20 step sequence was scored, its middle elided
    assert "scored on every step as in training" in picture
