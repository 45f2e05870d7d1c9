"""Measurements that need a process of their own (run.py starts them):

    python benchmarks/probes.py rss SYSTEM CELL CONFIG [--baseline COMMIT]
        peak resident memory of one training step of one system (its first, in a fresh process), in bytes:
        what the operating system gives the process, so PyTorch's allocator counts as NumPy's does
    python benchmarks/probes.py collector [--torch] [--baseline COMMIT]
        the cycle collector's share of a long unroll, in a process with or without PyTorch imported

Each prints one line of JSON.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_rss_of(step) -> int:
    """Bytes the resident set grows by during the first call of `step` in this fresh process (its
    high-water mark, reset first). Not after a warm-up step: the C allocator keeps what a step
    freed and hands it out again, so a second step would seem to need almost nothing."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
    before = _status_kib("VmRSS")
    step()
    return (_status_kib("VmHWM") - before) * 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    rss = sub.add_parser("rss")
    rss.add_argument("system")
    rss.add_argument("cell")
    rss.add_argument("config")
    rss.add_argument("--baseline")
    col = sub.add_parser("collector")
    col.add_argument("--torch", action="store_true")
    col.add_argument("--baseline")
    args = parser.parse_args(argv)

    if args.what == "collector":
        if args.torch:
            import torch  # noqa: F401  (a large library's objects, as in a program that uses both)
        import graph_costs

        import tinygrad_rnn
        lib = tinygrad_rnn
        if args.baseline:
            import baseline
            lib = baseline.load(args.baseline)
        print(json.dumps(graph_costs.collector_share(lib)))
        return 0

    import run
    if args.system.startswith("before: "):
        import baseline
        run.BASELINE = baseline.load(args.baseline)
    run.limit_threads(1)
    batch, hidden, T = run.CONFIGS[args.config]
    p, xs, ys = run.make_problem(args.cell, batch, hidden, T)
    systems = run.make_systems(args.cell, p, xs, ys, only=args.system)
    step, _ = systems[args.system]
    print(json.dumps({"peak": peak_rss_of(step)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
