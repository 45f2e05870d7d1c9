"""`load_run`: a run of `tinygrad-rnn train` as Python objects, and the checkpoint format it reads."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_rnn import RNN, Run, load, load_run, save
from tinygrad_rnn.cli import main
from tinygrad_rnn.commands.problems import make_problem
from tinygrad_rnn.runs import VERSION

TINY = ["--steps", "6", "--seq-len", "8", "--hidden", "8", "--batch", "4", "--quiet"]


def train(out: Path, *options) -> Path:
    assert main(["train", *TINY, *map(str, options), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """One tiny run of every task with every cell."""
    root = tmp_path_factory.mktemp("runs")
    return {(task, cell): train(root / f"{task}-{cell}", "--task", task, "--cell", cell)
            for task in ("char", "adding", "copy") for cell in ("rnn", "lstm", "gru")}


def csv_rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "loss.csv", newline="") as f:
        return list(csv.DictReader(f))


def held_out_loss(run: Run) -> float:
    """The model's loss on the run's held-out data, computed here from the loaded weights."""
    problem = make_problem(run.config, None, run.vocab)
    xs, targets = problem.held_out(run.config["seed"])
    outputs, _ = run.model(xs)
    return problem.loss(outputs, targets).item()


@pytest.mark.parametrize("task", ["char", "adding", "copy"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_load_run_gives_back_what_train_saved(runs, task, cell):
    folder = runs[task, cell]
    run = load_run(folder)
    assert isinstance(run.model, RNN) and run.model.cell_type == cell
    assert run.config == json.loads((folder / "config.json").read_text())
    assert run.step == 6 and [row["step"] for row in run.history] == list(range(1, 7))
    # the history is the run's loss.csv, training and held-out columns alike
    for row, written in zip(run.history, csv_rows(folder), strict=True):
        assert row["loss"] == pytest.approx(float(written["loss"]), rel=1e-5)
        assert (row["held_out"] is None) == (written["held_out"] == "")
    # the weights are the trained ones: they score the held-out data as training recorded it
    assert held_out_loss(run) == pytest.approx(run.history[-1]["held_out"], rel=1e-5)
    assert (run.vocab is not None) == (task == "char")
    # the folder and its model.npz are the same run
    again = load_run(folder / "model.npz")
    for name, value in run.model.state_dict().items():
        np.testing.assert_array_equal(value, again.model.state_dict()[name])


def test_best_checkpoint_is_the_step_of_the_lowest_held_out_loss(runs):
    folder = runs["char", "gru"]
    last, best = load_run(folder), load_run(folder / "best.npz")
    held = [(row["step"], row["held_out"]) for row in last.history if row["held_out"] is not None]
    step, value = min(held, key=lambda r: r[1])
    assert best.step == step and len(best.history) == step
    assert held_out_loss(best) == pytest.approx(value, rel=1e-5)


@pytest.mark.parametrize("options", [[], ["--length", "40", "--prime", "The ", "--temperature", "0.9", "--seed", "7"]])
def test_sampling_a_loaded_run_equals_the_command_line(runs, options):
    folder = runs["char", "lstm"]
    shown = subprocess.run([sys.executable, "-m", "tinygrad_rnn", "sample", "--checkpoint", str(folder / "model.npz"),
                            *options], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    given = dict(zip(options[::2], options[1::2]))
    text = load_run(folder).sample(length=int(given.get("--length", 300)), prime=given.get("--prime"),
                                   temperature=float(given.get("--temperature", 0.6)), seed=int(given.get("--seed", 0)))
    assert shown.stdout == text + "\n"
    assert len(text) == len(given.get("--prime", "The")) + int(given.get("--length", 300))


def test_sample_depends_on_the_seed_and_reads_the_prime(runs):
    run = load_run(runs["char", "rnn"])
    assert run.sample(50, seed=1) == run.sample(50, seed=1) != run.sample(50, seed=2)
    assert run.sample(5, prime="Ada ").startswith("Ada ")


def test_sample_refuses_what_it_cannot_do(runs):
    run = load_run(runs["char", "rnn"])
    for kwargs, words in [({"prime": "€"}, "never saw"), ({"prime": ""}, "non-empty"),
                          ({"temperature": 0}, "temperature"), ({"temperature": float("nan")}, "temperature"),
                          ({"length": -1}, "length")]:
        with pytest.raises(ValueError, match=words):
            run.sample(**kwargs)
    with pytest.raises(ValueError, match="adding task.*character model"):
        load_run(runs["adding", "rnn"]).sample()


def rewrite(src: Path, dst: Path, change) -> Path:
    """A copy of a checkpoint with its entries (meta as a dict) changed by `change`."""
    entries = load(src)
    entries["meta"] = json.loads(entries["meta"].tobytes())
    change(entries)
    entries["meta"] = np.frombuffer(json.dumps(entries["meta"]).encode(), dtype=np.uint8)
    save(entries, dst)
    return dst


def test_a_newer_or_different_format_is_refused_by_name(runs, tmp_path):
    src = runs["char", "rnn"] / "model.npz"
    newer = rewrite(src, tmp_path / "newer.npz", lambda e: e["meta"].update(version=VERSION + 1))
    with pytest.raises(ValueError, match=rf"newer tinygrad_rnn.*version {VERSION + 1}.*reads 1 to {VERSION}"):
        load_run(newer)
    other = rewrite(src, tmp_path / "other.npz", lambda e: e["meta"].update(format="someone-else/v9"))
    with pytest.raises(ValueError, match="another kind.*someone-else/v9"):
        load_run(other)
    damaged = rewrite(src, tmp_path / "damaged.npz", lambda e: e["meta"].update(version="two"))
    with pytest.raises(ValueError, match="damaged"):
        load_run(damaged)
    # through the command line: one line, exit 2
    result = subprocess.run([sys.executable, "-m", "tinygrad_rnn", "sample", "--checkpoint", str(newer)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "newer" in result.stderr


def test_a_version_1_checkpoint_still_loads(runs, tmp_path):
    """Version 1 had no held-out losses and no sizes in its description."""
    def to_version_1(entries):
        del entries["held_out"]
        for key in ("input_size", "output_size", "best"):
            entries["meta"].pop(key)
        entries["meta"]["version"] = 1

    old = rewrite(runs["copy", "gru"] / "model.npz", tmp_path / "v1.npz", to_version_1)
    run = load_run(old)
    assert all(row["held_out"] is None for row in run.history) and len(run.history) == 6
    assert held_out_loss(run) == pytest.approx(load_run(runs["copy", "gru"]).history[-1]["held_out"], rel=1e-5)


def test_what_is_not_a_run_says_what_it_is(runs, tmp_path):
    with pytest.raises(FileNotFoundError, match="no run at"):
        load_run(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has no model.npz"):
        load_run(tmp_path / "empty")
    save(RNN(3, 4), tmp_path / "weights.npz")  # a plain state dict, as the docs save one
    with pytest.raises(ValueError, match=r"state dict.*load_state_dict"):
        load_run(tmp_path / "weights.npz")
    (tmp_path / "notes.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a .npz"):
        load_run(tmp_path / "notes.npz")
    promises_more = rewrite(runs["adding", "rnn"] / "model.npz", tmp_path / "bigger.npz",
                            lambda e: e["meta"]["config"].update(hidden=16))
    with pytest.raises(ValueError, match="does not hold the model its description promises"):
        load_run(promises_more)


def test_repr_names_the_run(runs):
    text = repr(load_run(runs["adding", "lstm"]))
    assert "lstm" in text and "adding" in text and "step 6 of 6" in text
