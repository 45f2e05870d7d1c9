"""The files a training run leaves in its folder, besides the checkpoint: config, loss history,
loss curve and the unrolled diagram."""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

PLOT_HINT = 'pip install "tinygrad_rnn[plot]"'


def new_run_dir(root: str = "runs") -> Path:
    """runs/<UTC timestamp>/, with a suffix if two runs start within the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    path, n = Path(root) / stamp, 1
    while path.exists():
        n += 1
        path = Path(root) / f"{stamp}-{n}"
    return path


def write_config(path: Path, config: dict) -> None:
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def write_history(path: Path, losses: list[float], held_out: list[tuple[int, float]]) -> None:
    """loss.csv: one row per step with its training loss, and the held-out loss where it was measured."""
    measured = dict(held_out)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "loss", "held_out"])
        for step, loss in enumerate(losses, start=1):
            held = measured.get(step)
            writer.writerow([step, f"{loss:.6g}", "" if held is None else f"{held:.6g}"])


def smooth(values: list[float], window: int) -> list[float]:
    """Running mean over the last `window` values, so the trend shows through minibatch noise."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_history(path: Path, losses: list[float], held_out: list[tuple[int, float]], title: str, metric: str,
                 baseline: float | None, baseline_label: str) -> str | None:
    """Write the loss curve (see `history_figure`); returns None, or a sentence saying why there is no plot."""
    try:
        fig = history_figure(losses, held_out, title, metric, baseline, baseline_label)
    except ImportError:
        return f"no loss plot: matplotlib is not installed ({PLOT_HINT})"
    fig.savefig(path, dpi=120)
    return None


def history_figure(losses: list[float], held_out: list[tuple[int, float]], title: str, metric: str,
                   baseline: float | None, baseline_label: str):
    """The training loss of every step and its running mean, the held-out loss where it was
    measured, and the baseline, against the step. Raises ImportError without matplotlib."""
    from matplotlib.figure import Figure  # no pyplot: no window, no display needed, faster to import
    from matplotlib.ticker import MaxNLocator

    steps = range(1, len(losses) + 1)
    fig = Figure(figsize=(7, 4), layout="tight")
    ax = fig.add_subplot()
    ax.plot(steps, losses, color="#9ecae1", linewidth=0.8, label="training loss, per step")
    ax.plot(steps, smooth(losses, max(1, len(losses) // 50)), color="#08519c", linewidth=1.8,
            label="training loss, running mean")
    if held_out:
        held_steps, held_values = zip(*held_out)
        ax.plot(held_steps, held_values, color="#e7298a", linewidth=1.6, marker="o", markersize=3,
                label="held-out loss")
    if baseline is not None:
        ax.axhline(baseline, color="#d95f02", linestyle="--", linewidth=1.2, label=baseline_label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
