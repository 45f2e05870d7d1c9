"""Terminal pictures of a sequence of positive numbers on a log scale."""
from __future__ import annotations

import math

BARS = "▁▂▃▄▅▆▇█"


def log_range(series: list[list[float]]) -> tuple[float, float]:
    """The smallest and largest log10 over several series, so their sparklines share one scale."""
    logs = [math.log10(v) for values in series for v in values if v > 0 and math.isfinite(v)]
    return (min(logs), max(logs)) if logs else (0.0, 0.0)


def sparkline(values: list[float], lo: float | None = None, hi: float | None = None) -> str:
    """One bar per value, its height the value's log10 between lo and hi; zero shows as a space."""
    if lo is None or hi is None:
        lo, hi = log_range([values])
    span = hi - lo
    out = []
    for v in values:
        if not (v > 0) or not math.isfinite(v):
            out.append(" " if v == 0 else "?")
            continue
        level = 0.5 if span == 0 else (math.log10(v) - lo) / span
        out.append(BARS[min(len(BARS) - 1, max(0, round(level * (len(BARS) - 1))))])
    return "".join(out)
