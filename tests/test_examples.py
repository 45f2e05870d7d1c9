"""Each example runs to the end with tiny settings, as a user would run it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *args, cwd) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_char_rnn(tmp_path):
    out = run("char_rnn.py", "--steps", "3", "--hidden", "8", "--seq-len", "8", "--batch", "4", cwd=tmp_path)
    assert "step     3  loss" in out
    assert "\nThe " in out  # the sample starts from its prime


def test_adding_problem(tmp_path):
    out = run("adding_problem.py", "--T", "6", "--steps", "3", "--hidden", "4", "--batch", "4", cwd=tmp_path)
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[2:5]] == ["RNN", "LSTM", "GRU"]
    assert "baseline (always answer 1): MSE 0.1667" in out


def test_vanishing_gradients(tmp_path):
    out = run("vanishing_gradients.py", "--T", "10", "--rhos", "0.5,1.5", "--hidden", "6", "-o", "sweep.png",
              cwd=tmp_path)
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("0.5", "1.5"))]
    first_small, first_large = float(rows[0][1]), float(rows[1][1])
    assert first_small < 1e-2 < first_large  # ρ = 0.5 vanishes, ρ = 1.5 does not
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_draw_unrolled(tmp_path):
    run("draw_unrolled.py", "--T", "3", "--format", "dot", "--out", "pics", cwd=tmp_path)
    for name in ("unfolded", "folded", "ops", "grads"):
        assert "digraph" in (tmp_path / "pics" / f"{name}.dot").read_text()
    assert "cluster_t" in (tmp_path / "pics" / "unfolded.dot").read_text()


def test_variable_lengths(tmp_path):
    out = run("variable_lengths.py", "--steps", "3", "--hidden", "8", "--batch", "4", cwd=tmp_path)
    assert "step    3  loss" in out
    difference = float(out.strip().splitlines()[-1].split()[-1])
    assert difference < 1e-5  # the padded batch gives its sentences' own gradients
