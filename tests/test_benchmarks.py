"""The benchmark's correctness check on tiny configurations: every system it times (the library's
cell loop and `RNN`, and PyTorch where installed) gives the hand-written NumPy step's gradients.
No timings are asserted here; benchmarks/run.py is the evidence for speed."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import run  # noqa: E402  (benchmarks/run.py)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("batch, hidden, T", [(1, 4, 3), (3, 5, 7)])
def test_library_gradients_equal_numpy_floor_float64(kind, batch, hidden, T):
    checked = run.check_gradients(kind, batch, hidden, T, dtype=np.float64)
    assert "library loop" in checked and "numpy batched" in checked


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_library_gradients_equal_numpy_floor_tiny_float32(kind):
    batch, hidden, T = run.CONFIGS["tiny"]
    run.check_gradients(kind, batch, hidden, T)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("batched", [False, True])
def test_floor_matches_a_finite_difference(kind, batched):
    """The floor itself is right: its loss changes by its gradient along a random direction."""
    eps = 1e-6
    step = run.numpy_floor.step_batched if batched else run.numpy_floor.step
    p, xs, ys = run.make_problem(kind, 2, 3, 4, dtype=np.float64)
    _, g = step(kind, p, xs, ys)
    rng = np.random.default_rng(1)
    direction = {k: rng.standard_normal(v.shape) for k, v in p.items()}
    plus = {k: p[k] + eps * direction[k] for k in p}
    minus = {k: p[k] - eps * direction[k] for k in p}
    numeric = (step(kind, plus, xs, ys)[0] - step(kind, minus, xs, ys)[0]) / (2 * eps)
    analytic = sum(float(np.vdot(g[k], direction[k])) for k in p)
    assert np.isclose(numeric, analytic, rtol=1e-6)


def test_quick_report_runs(tmp_path, monkeypatch):
    """The report is produced end to end (tiny config, one round, no memory sweep)."""
    out = tmp_path / "RESULTS.md"
    assert run.main(["--configs", "tiny", "--cells", "rnn", "--repeats", "1", "--no-memory",
                     "--output", str(out)]) == 0
    text = out.read_text()
    assert "| library loop |" in text and "## Machine" in text
