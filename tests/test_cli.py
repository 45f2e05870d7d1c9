"""The `tinygrad-rnn` command, run as a user runs it: in a subprocess, with tiny settings."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

TINY = ["--steps", "4", "--seq-len", "8", "--hidden", "8", "--batch", "4", "--quiet"]
HAVE_DOT = shutil.which("dot") is not None
DIAGRAM = "unrolled.svg" if HAVE_DOT else "unrolled.dot"  # without Graphviz the DOT text is written instead


def cli(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def losses(run_dir: Path) -> list[str]:
    with open(run_dir / "loss.csv", newline="") as f:
        return [row[1] for row in csv.reader(f)][1:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    result = cli("train", *TINY, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


# -- each subcommand ----------------------------------------------------------------------------------
def test_help_on_every_subcommand():
    for command in ([], ["train"], ["sample"], ["draw"], ["gradflow"]):
        result = cli(*command, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout, command


def test_train_writes_every_file(trained):
    for name in ("model.npz", "config.json", "loss.csv", "loss.png", DIAGRAM):
        assert (trained / name).stat().st_size > 0, name
    assert len(losses(trained)) == 4
    config = json.loads((trained / "config.json").read_text())
    assert config["task"] == "char" and config["hidden"] == 8 and config["steps"] == 4
    assert ("<svg" if HAVE_DOT else "cluster_t") in (trained / DIAGRAM).read_text()


def test_train_reports_final_loss_and_sample(tmp_path):
    result = cli("train", *TINY, "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    assert re.search(r"Final loss \d+\.\d+", result.stdout)
    assert "Sample (temperature 0.6):\nThe" in result.stdout


def test_default_out_is_a_timestamped_run_folder(tmp_path):
    result = cli("train", *TINY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert re.fullmatch(r"\d{8}-\d{6}(-\d+)?", run.name)
    assert (run / "model.npz").exists()


@pytest.mark.parametrize("task, baseline", [("adding", "0.1667"), ("copy", "0.5199")])
def test_long_range_tasks_report_the_baseline(tmp_path, task, baseline):
    args = ["--steps", "2", "--hidden", "8", "--batch", "4", "--quiet", "--seq-len", "20"]
    result = cli("train", "--task", task, "--cell", "gru", *args, "--out", tmp_path / task)
    assert result.returncode == 0, result.stderr
    assert f"baseline {baseline}" in result.stdout
    assert (tmp_path / task / DIAGRAM).exists()


def test_text_file_trains_a_character_model(tmp_path):
    text = tmp_path / "poem.txt"
    text.write_text("ünïcode lines repeat, ünïcode lines repeat.\n" * 5, encoding="utf-8")
    result = cli("train", *TINY, "--cell", "lstm", "--text", text, "--out", tmp_path / "run")
    assert result.returncode == 0, result.stderr
    sample = cli("sample", "--checkpoint", tmp_path / "run" / "model.npz", "--length", "10", "--prime", "ü")
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout.startswith("ü")


def test_sample_reads_what_train_wrote(trained):
    result = cli("sample", "--checkpoint", trained / "model.npz", "--length", "25", "--temperature", "0.5",
                 "--prime", "The ", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The ") and len(result.stdout.rstrip("\n")) == 4 + 25
    again = cli("sample", "--checkpoint", trained / "model.npz", "--length", "25", "--temperature", "0.5",
                "--prime", "The ", "--seed", "1")
    assert again.stdout == result.stdout


@pytest.mark.parametrize("suffix", [".svg", ".dot"])
def test_draw_writes_the_format_of_the_suffix(tmp_path, suffix):
    out = tmp_path / f"rnn{suffix}"
    result = cli("draw", "--cell", "gru", "--steps", "3", "--grads", "-o", out)
    assert result.returncode == 0, result.stderr
    if HAVE_DOT or suffix == ".dot":
        text = out.read_text()
        assert ("<svg" in text) if suffix == ".svg" else ("cluster_t" in text)
    else:  # no Graphviz: the DOT text instead, and one line saying how to install it
        assert "cluster_t" in out.with_suffix(".dot").read_text() and "Graphviz" in result.stderr


def test_draw_views(tmp_path):
    for view in ("folded", "ops"):
        out = tmp_path / f"{view}.dot"
        result = cli("draw", "--view", view, "--steps", "2", "-o", out)
        assert result.returncode == 0, result.stderr
        assert out.read_text().startswith(("digraph", "strict digraph"))


def test_gradflow_prints_a_table_and_a_sparkline(tmp_path):
    out = tmp_path / "flow.png"
    result = cli("gradflow", "--steps", "12", "--rho", "0.5", "--hidden", "6", "-o", out)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s+12\s+1\.000e\+00", result.stdout, re.M)  # ‖∂L/∂a_T‖ of a unit readout
    line = next(s for s in result.stdout.splitlines() if s.strip().startswith("RNN") and "▁" in s)
    bars = line.split()[-1]
    assert len(bars) == 12 and bars[0] == "▁" and bars[-1] == "█"  # vanishing: small early, big late
    assert out.stat().st_size > 0


def test_gradflow_compare_shows_three_cells(tmp_path):
    result = cli("gradflow", "--compare", "--steps", "6", "--hidden", "4", "-o", tmp_path / "cmp.png")
    assert result.returncode == 0, result.stderr
    header = next(s for s in result.stdout.splitlines() if s.strip().startswith("t "))
    assert header.split() == ["t", "RNN", "LSTM", "GRU"]


# -- reproducibility and resuming -------------------------------------------------------------------
def test_same_seed_gives_the_same_loss_history(tmp_path, trained):
    runs = {}
    for name, seed in (("again", 0), ("other", 4)):  # `trained` used the default seed, 0
        result = cli("train", *TINY, "--seed", seed, "--out", tmp_path / name)
        assert result.returncode == 0, result.stderr
        runs[name] = losses(tmp_path / name)
    assert runs["again"] == losses(trained)
    assert runs["other"] != losses(trained)


def test_resume_continues_from_the_saved_step(tmp_path, trained):
    straight = tmp_path / "straight"
    assert cli("train", *TINY[2:], "--steps", "7", "--out", straight).returncode == 0
    resumed = tmp_path / "resumed"
    result = cli("train", "--resume", trained / "model.npz", "--steps", "7", "--quiet", "--out", resumed)
    assert result.returncode == 0, result.stderr
    assert "resuming at step 4" in result.stderr + result.stdout
    assert losses(resumed) == losses(straight)  # same data, weights and Adam state as one long run
    assert json.loads((resumed / "config.json").read_text())["steps"] == 7


def test_ctrl_c_saves_a_resumable_checkpoint(tmp_path):
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        process = subprocess.Popen([sys.executable, "-m", "tinygrad_rnn", "train", "--steps", "100000",
                                    "--seq-len", "8", "--hidden", "8", "--batch", "4", "--out", str(out)],
                                   stdout=subprocess.PIPE, stderr=err, text=True)
        deadline = time.time() + 60
        def progress() -> str:  # the bar may be caught halfway through a multi-byte character
            return log.read_bytes().decode("utf-8", errors="replace")

        while not re.search(r"\|\s*[1-9]\d*/100000", progress()):  # the bar has counted a step
            assert process.poll() is None and time.time() < deadline, progress()
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
    stderr = log.read_text()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "Resume with: tinygrad-rnn train --resume" in stderr
    saved = len(losses(out))
    assert saved >= 1
    result = cli("train", "--resume", out / "model.npz", "--steps", saved + 2, "--quiet")
    assert result.returncode == 0, result.stderr
    assert len(losses(out)) == saved + 2


# -- every bad input: exit 2, one line, no traceback -------------------------------------------------
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, trained) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    files = {"dir": root / "folder", "empty": root / "empty.txt", "latin1": root / "latin1.txt",
             "short": root / "short.txt", "garbage": root / "garbage.npz", "truncated": root / "truncated.npz",
             "foreign": root / "foreign.npz", "mismatch": root / "mismatch.npz", "adding": root / "adding"}
    files["dir"].mkdir()
    files["empty"].write_text("")
    files["binary"] = root / "binary.bin"
    files["binary"].write_bytes(b"\x00\x01\x02 valid UTF-8 but binary \x00" * 10)
    files["huge"] = root / "huge.txt"
    with open(files["huge"], "wb") as f:  # sparse: takes no disk, reports its size
        f.truncate(65 * 1024 * 1024)
    files["latin1"].write_bytes("café crème".encode("latin-1"))
    files["short"].write_text("abc")
    files["garbage"].write_bytes(os.urandom(200))
    data = (trained / "model.npz").read_bytes()
    files["truncated"].write_bytes(data[: len(data) // 2])
    np.savez(files["foreign"], weight=np.zeros((2, 2)))
    with np.load(trained / "model.npz") as archive:  # a description that promises a bigger model
        entries = dict(archive)
    meta = json.loads(entries["meta"].tobytes())
    meta["config"]["hidden"] = 16
    entries["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(files["mismatch"], **entries)
    result = cli("train", "--task", "adding", "--steps", "1", "--hidden", "4", "--batch", "2", "--quiet",
                 "--out", files["adding"])
    assert result.returncode == 0, result.stderr
    return files


BAD = {
    "negative steps": ["train", "--steps", "-3"],
    "zero steps": ["train", "--steps", "0"],
    "zero lr": ["train", "--lr", "0"],
    "negative lr": ["train", "--lr", "-0.1"],
    "nan lr": ["train", "--lr", "nan"],
    "zero seq-len": ["train", "--seq-len", "0"],
    "word for hidden": ["train", "--hidden", "many"],
    "unknown cell": ["train", "--cell", "transformer"],
    "unknown task": ["train", "--task", "chess"],
    "unknown option": ["train", "--epochs", "3"],
    "text with adding": ["train", "--task", "adding", "--text", "{empty}"],
    "adding seq-len 1": ["train", "--task", "adding", "--seq-len", "1"],
    "missing text": ["train", "--text", "{dir}/nothing.txt"],
    "text is a directory": ["train", "--text", "{dir}"],
    "empty text": ["train", "--text", "{empty}"],
    "non-UTF-8 text": ["train", "--text", "{latin1}"],
    "binary text": ["train", "--text", "{binary}"],
    "huge text": ["train", "--text", "{huge}"],
    "text shorter than seq-len": ["train", "--text", "{short}", "--seq-len", "8"],
    "resume missing": ["train", "--resume", "{dir}/nothing.npz"],
    "resume other size": ["train", "--resume", "{adding}/model.npz", "--hidden", "9"],
    "resume already done": ["train", "--resume", "{adding}/model.npz", "--steps", "1"],
    "out is a file": ["train", "--steps", "1", "--out", "{empty}"],
    "out holds a run": ["train", "--task", "adding", "--steps", "1", "--out", "{adding}"],
    "zero temperature": ["sample", "--checkpoint", "{garbage}", "--temperature", "0"],
    "negative temperature": ["sample", "--checkpoint", "{garbage}", "--temperature", "-1"],
    "negative length": ["sample", "--checkpoint", "{garbage}", "--length", "-5"],
    "no checkpoint option": ["sample"],
    "missing checkpoint": ["sample", "--checkpoint", "{dir}/nothing.npz"],
    "checkpoint is a directory": ["sample", "--checkpoint", "{dir}"],
    "corrupt checkpoint": ["sample", "--checkpoint", "{garbage}"],
    "truncated checkpoint": ["sample", "--checkpoint", "{truncated}"],
    "foreign checkpoint": ["sample", "--checkpoint", "{foreign}"],
    "checkpoint of another size": ["sample", "--checkpoint", "{mismatch}"],
    "checkpoint of the adding task": ["sample", "--checkpoint", "{adding}/model.npz"],
    "text checkpoint": ["sample", "--checkpoint", "{empty}"],
    "draw to unknown format": ["draw", "-o", "{dir}/graph.jpg"],
    "draw zero steps": ["draw", "--steps", "0"],
    "draw unknown view": ["draw", "--view", "sideways"],
    "draw into missing folder": ["draw", "-o", "{dir}/no/such/graph.svg"],
    "gradflow zero rho": ["gradflow", "--rho", "0"],
    "gradflow plot format": ["gradflow", "--steps", "3", "-o", "{dir}/flow.txt"],
    "unknown command": ["fly"],
    "no command": [],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line_and_exit_2(args, bad_files, tmp_path):
    args = [a.format(**bad_files) for a in args]
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("tinygrad-rnn: error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_sample_of_unknown_prime_character(trained):
    result = cli("sample", "--checkpoint", trained / "model.npz", "--prime", "€")
    assert result.returncode == 2 and "€" in result.stderr and len(result.stderr.splitlines()) == 1


# -- optional dependencies missing: say how to get them, keep going ------------------------------------
def test_without_tqdm_progress_is_printed_as_lines(monkeypatch, capsys):
    from tinygrad_rnn.commands.progress import progress
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    bar = progress(total=20, initial=0)
    for step in range(20):
        bar.update(1.0 / (step + 1))
    bar.close()
    err = capsys.readouterr().err
    assert 'pip install "tinygrad_rnn[train]"' in err and "step 20/20  loss 0.0500" in err


def test_without_matplotlib_the_plot_is_skipped_with_a_hint(monkeypatch, tmp_path):
    from tinygrad_rnn.commands.outputs import plot_history
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    note = plot_history(tmp_path / "loss.png", [3.0, 2.0], [(2, 2.5)], "title", "loss", None, "")
    assert 'pip install "tinygrad_rnn[plot]"' in note and not (tmp_path / "loss.png").exists()


def test_huge_and_binary_text_files_are_named_for_what_they_are(bad_files, tmp_path):
    huge = cli("train", "--text", bad_files["huge"], cwd=tmp_path)
    assert huge.returncode == 2 and "too large" in huge.stderr
    binary = cli("train", "--text", bad_files["binary"], cwd=tmp_path)
    assert binary.returncode == 2 and "binary" in binary.stderr


def test_draw_max_steps_all_draws_every_step(tmp_path):
    out = tmp_path / "all.dot"
    result = cli("draw", "--steps", "20", "--max-steps", "all", "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_text().count("cluster_t") == 20 and "elided" not in out.read_text()
    result = cli("draw", "--steps", "20", "-o", tmp_path / "default.dot")  # the default elides 20 steps
    assert "elided" in (tmp_path / "default.dot").read_text()
