"""Benchmarks: one training step of small recurrent networks, the library against a NumPy floor.

    .venv/bin/python benchmarks/run.py                      # everything, writes benchmarks/RESULTS.md
    .venv/bin/python benchmarks/run.py --quick              # under a minute
    .venv/bin/python benchmarks/run.py --configs tiny,small --cells rnn --repeats 20

A step is forward over T time steps, an output layer ŷ_t = V h_t + c, the MSE loss over all outputs
and full BPTT, in float32, with input size = output size = hidden size. Every system is timed in the
same process, interleaved round by round after warm-up rounds, so a noisy shared machine slows them
alike; the table reports the median of each divided by the median of the hand-written NumPy step.

Before timing, each library and PyTorch system's gradients are checked against the NumPy floor's
(`check_gradients`, also run by tests/test_benchmarks.py).
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import graph_costs  # noqa: E402  (beside this file)
import numpy_floor  # noqa: E402

import tinygrad_rnn  # noqa: E402
from tinygrad_rnn import GRUCell, LSTMCell, RNNCell, Tensor, no_grad  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is only a point of comparison, never needed
    torch = None

CONFIGS = {  # name: (batch, hidden, T)
    "tiny": (1, 16, 20),
    "small": (16, 64, 50),
    "medium": (32, 256, 100),
    "long": (4, 32, 1000),
}
CELLS = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
REPEATS = {"tiny": 30, "small": 15, "medium": 7, "long": 5}
WARMUP = 2

SYSTEM_NOTES = {
    "numpy": "hand-written NumPy BPTT, one step at a time (the floor)",
    "numpy batched": "hand-written NumPy, input/output products batched over T",
    "library loop": "tinygrad_rnn: a Python loop over the cell + Linear, loss per step",
    "library RNN": "tinygrad_rnn: the `RNN` sequence model (output layer included)",
    "torch loop": "PyTorch eager, Python loop over nn.RNNCell/LSTMCell/GRUCell + nn.Linear",
    "torch fused": "PyTorch nn.RNN/LSTM/GRU (fused C++) + nn.Linear",
    "before: loop": "the library loop as the code was at the --baseline commit",
    "before: RNN": "the `RNN` model as the code was at the --baseline commit",
}


# ------------------------------------------------------------------------------------------------
# The systems: each `make_*` returns (step, grads); step() runs one training step from zeroed
# gradients, grads() returns the last step's gradients in numpy_floor's layout.
# ------------------------------------------------------------------------------------------------
def make_problem(kind: str, batch: int, hidden: int, T: int, seed: int = 0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    p = numpy_floor.init_weights(kind, hidden, hidden, hidden, rng, dtype)
    xs = rng.standard_normal((T, batch, hidden)).astype(dtype)
    ys = rng.standard_normal((T, batch, hidden)).astype(dtype)
    return p, xs, ys


def make_numpy(kind, p, xs, ys, batched=False):
    fn = numpy_floor.step_batched if batched else numpy_floor.step
    out = {}

    def step():
        out["loss"], out["grads"] = fn(kind, p, xs, ys)

    return step, lambda: out["grads"]


def _library_cell(kind, p, dtype, lib=tinygrad_rnn):
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    cell = {"rnn": lib.RNNCell, "lstm": lib.LSTMCell, "gru": lib.GRUCell}[kind](D, H, dtype=dtype)
    cell.load_torch_state_dict({k: p[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    return cell


def _cell_grads(cell, head_weight, head_bias) -> dict:
    """A library cell's gradients in PyTorch's layout (only the parts numpy_floor defines one way:
    biases that the library folds together are compared through their sum's gradient)."""
    g = {"weight_ih": cell.U.grad, "weight_hh": cell.W.grad, "bias_ih": cell.b.grad,
         "V": head_weight.grad, "c": head_bias.grad}
    if hasattr(cell, "b_hn"):  # a GRU
        g["bias_hh_n"] = cell.b_hn.grad
    return g


def make_library_loop(kind, p, xs, ys, lib=tinygrad_rnn):
    """The user's own code: a loop over the cell, an output layer and a loss per step."""
    cell = _library_cell(kind, p, xs.dtype, lib)
    head = lib.Linear(*p["V"].shape[::-1], dtype=xs.dtype)
    mse = lib.functional.mse_loss
    head.load_state_dict({"weight": p["V"], "bias": p["c"]})
    T = xs.shape[0]

    def step():
        cell.zero_grad()
        head.zero_grad()
        state, loss = None, 0.0
        for t in range(T):
            state = cell(xs[t], state)
            h = state[0] if kind == "lstm" else state
            loss = loss + mse(head(h), ys[t])
        loss = loss / T
        loss.backward()

    return step, lambda: _cell_grads(cell, head.weight, head.bias)


def make_library_rnn(kind, p, xs, ys, lib=tinygrad_rnn):
    """The `RNN` sequence model with its output layer, as a user would train it."""
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    model = lib.RNN(D, H, output_size=p["V"].shape[0], cell=kind, dtype=xs.dtype)
    mse = lib.functional.mse_loss
    model.cells[0].load_torch_state_dict({k: p[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    model.V.data[...] = p["V"]
    model.c.data[...] = p["c"]

    def step():
        model.zero_grad()
        outputs, _ = model(xs)
        mse(outputs, ys).backward()

    return step, lambda: _cell_grads(model.cells[0], model.V, model.c)


def _torch_grads(module, head, suffix="") -> dict:
    g = {k: getattr(module, k + suffix).grad.numpy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    g.update(V=head.weight.grad.numpy(), c=head.bias.grad.numpy())
    return g


def _torch_load(module, p, suffix=""):
    with torch.no_grad():
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(module, k + suffix).copy_(torch.from_numpy(p[k]))


def _torch_head(p):
    head = torch.nn.Linear(p["V"].shape[1], p["V"].shape[0], dtype=torch.from_numpy(p["V"]).dtype)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(p["V"]))
        head.bias.copy_(torch.from_numpy(p["c"]))
    return head


def make_torch_loop(kind, p, xs, ys):
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    cls = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind]
    cell = cls(D, H, dtype=torch.from_numpy(xs).dtype)
    _torch_load(cell, p)
    head = _torch_head(p)
    params = list(cell.parameters()) + list(head.parameters())
    txs, tys = torch.from_numpy(xs), torch.from_numpy(ys)
    T = xs.shape[0]

    def step():
        for q in params:
            q.grad = None
        state, loss = None, 0.0
        for t in range(T):
            state = cell(txs[t], state)
            h = state[0] if kind == "lstm" else state
            loss = loss + torch.nn.functional.mse_loss(head(h), tys[t])
        loss = loss / T
        loss.backward()

    return step, lambda: _torch_grads(cell, head)


def make_torch_fused(kind, p, xs, ys):
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    rnn = cls(D, H, dtype=torch.from_numpy(xs).dtype)
    _torch_load(rnn, p, "_l0")
    head = _torch_head(p)
    params = list(rnn.parameters()) + list(head.parameters())
    txs, tys = torch.from_numpy(xs), torch.from_numpy(ys)

    def step():
        for q in params:
            q.grad = None
        outputs, _ = rnn(txs)
        torch.nn.functional.mse_loss(head(outputs), tys).backward()

    return step, lambda: _torch_grads(rnn, head, "_l0")


def library_has_rnn() -> bool:
    return hasattr(tinygrad_rnn, "RNN")


BASELINE = None  # the library at an earlier commit (run.py --baseline), timed beside today's


def make_systems(kind, p, xs, ys, with_torch=True, only: str | None = None) -> dict:
    """{name: (step, grads)} of every system there is here (or just the one named `only`)."""
    builders = {"numpy": lambda: make_numpy(kind, p, xs, ys),
                "numpy batched": lambda: make_numpy(kind, p, xs, ys, batched=True),
                "library loop": lambda: make_library_loop(kind, p, xs, ys)}
    if library_has_rnn():
        builders["library RNN"] = lambda: make_library_rnn(kind, p, xs, ys)
    if BASELINE is not None:
        builders["before: loop"] = lambda: make_library_loop(kind, p, xs, ys, BASELINE)
        builders["before: RNN"] = lambda: make_library_rnn(kind, p, xs, ys, BASELINE)
    if with_torch and torch is not None:
        builders["torch loop"] = lambda: make_torch_loop(kind, p, xs, ys)
        builders["torch fused"] = lambda: make_torch_fused(kind, p, xs, ys)
    return {name: build() for name, build in builders.items() if only is None or name == only}


# ------------------------------------------------------------------------------------------------
# Correctness: every system's gradients equal the floor's
# ------------------------------------------------------------------------------------------------
def _library_form(kind: str, grads: dict, hidden: int) -> dict:
    """Gradients in PyTorch's layout -> the library's. For RNN and LSTM the library's `b` is
    bias_ih + bias_hh, whose gradient is either one's; for the GRU, `b` has bias_ih's gradient and
    `b_hn` is the n part of bias_hh."""
    g = dict(grads)
    bias_hh = g.pop("bias_hh", None)
    if kind == "gru" and bias_hh is not None:
        g["bias_hh_n"] = bias_hh[2 * hidden:]
    return g


def check_gradients(kind: str, batch: int, hidden: int, T: int, dtype=np.float32, rtol=None,
                    with_torch=True) -> list[str]:
    """Run one step of every system and assert that its gradients equal the NumPy floor's.
    Returns the names of the systems checked."""
    p, xs, ys = make_problem(kind, batch, hidden, T, dtype=dtype)
    rtol = rtol if rtol is not None else (2e-3 if dtype == np.float32 else 1e-9)
    systems = make_systems(kind, p, xs, ys, with_torch=with_torch)
    step, grads = systems.pop("numpy")
    step()
    floor = _library_form(kind, grads(), hidden)
    for name, (step, grads) in systems.items():
        step()
        got = _library_form(kind, grads(), hidden)
        for key, expected in floor.items():
            actual = np.asarray(got[key], dtype=np.float64)
            scale = float(np.abs(expected).max()) or 1.0
            if not np.allclose(actual, expected, rtol=rtol, atol=rtol * scale):
                worst = float(np.abs(actual - expected).max())
                raise AssertionError(f"{name} ({kind}, B{batch} H{hidden} T{T}): gradient of {key} differs "
                                     f"from the NumPy floor's by up to {worst:.3g} (largest {scale:.3g})")
    return list(systems)


# ------------------------------------------------------------------------------------------------
# Timing: interleaved rounds, medians
# ------------------------------------------------------------------------------------------------
def time_systems(systems: dict, repeats: int, warmup: int = WARMUP) -> dict[str, list[float]]:
    """Seconds per step of each system. Each round runs every system once, starting from a
    different one each round, so slow phases of a shared machine are spread over all of them."""
    names = list(systems)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(warmup + repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            step = systems[name][0]
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def bench_steps(configs, cells, repeats, log) -> dict:
    """{(kind, config): {system: [seconds, ...]}}, after checking every system's gradients."""
    results = {}
    for kind in cells:
        for config in configs:
            batch, hidden, T = CONFIGS[config]
            checked = check_gradients(kind, batch, hidden, T)
            p, xs, ys = make_problem(kind, batch, hidden, T)
            systems = make_systems(kind, p, xs, ys)
            n = repeats or REPEATS[config]
            results[kind, config] = time_systems(systems, n)
            med = {k: statistics.median(v) for k, v in results[kind, config].items()}
            log(f"  {kind:4s} {config:6s} (gradients checked: {', '.join(checked)}) " +
                "  ".join(f"{k} {v * 1e3:.2f}ms" for k, v in med.items()))
    return results


# ------------------------------------------------------------------------------------------------
# Per-op overhead: forward + backward of one small op, against the same arithmetic in NumPy
# ------------------------------------------------------------------------------------------------
def _per_call(fn, number: int, repeats: int) -> float:
    """Median over `repeats` of the mean time of `number` calls, in seconds."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


CHAIN = 100


def bench_ops(number: int = 2000, repeats: int = 7) -> list[dict]:
    rng = np.random.default_rng(0)
    v = rng.standard_normal(8).astype(np.float32)
    w = rng.standard_normal(8).astype(np.float32)
    m1 = rng.standard_normal((8, 8)).astype(np.float32)
    m2 = rng.standard_normal((8, 8)).astype(np.float32)
    a, b = Tensor(v, requires_grad=True), Tensor(w, requires_grad=True)
    A, B = Tensor(m1, requires_grad=True), Tensor(m2, requires_grad=True)
    g8, g88 = np.ones(8, np.float32), np.ones((8, 8), np.float32)

    def lib(make, seed, leaves):
        def run():
            for leaf in leaves:
                leaf.grad = None
            make().backward(seed)
        return run

    def np_mul():
        v * w
        return g8 * w, g8 * v

    def np_matmul():
        m1 @ m2
        return g88 @ m2.T, m1.T @ g88

    def np_tanh():
        out = np.tanh(v)
        return g8 * (1 - out * out)

    def lib_chain():  # 100 multiplications in a row: the cost per node of a longer graph
        a.grad = b.grad = None
        y = a
        for _ in range(CHAIN):
            y = y * b
        y.backward(g8)

    def np_chain():
        ys = [v]
        for _ in range(CHAIN):
            ys.append(ys[-1] * w)
        g, gw = g8, np.zeros_like(w)
        for y in reversed(ys[:-1]):
            gw += g * y
            g = g * w
        return g, gw

    def lib_chain_fwd():
        y = a
        for _ in range(CHAIN):
            y = y * b

    def np_chain_fwd():
        y = v
        for _ in range(CHAIN):
            y = y * w

    cases = [
        ("a * b (8,)", lib(lambda: a * b, g8, (a, b)), np_mul, lambda: a * b, lambda: v * w),
        ("a @ b (8, 8)", lib(lambda: A @ B, g88, (A, B)), np_matmul, lambda: A @ B, lambda: m1 @ m2),
        ("tanh (8,)", lib(lambda: a.tanh(), g8, (a,)), np_tanh, lambda: a.tanh(), lambda: np.tanh(v)),
    ]
    rows = []
    for name, lib_fb, np_fb, lib_f, np_f in cases:
        t_lib, t_np = _per_call(lib_fb, number, repeats), _per_call(np_fb, number, repeats)
        with no_grad():
            t_nograd = _per_call(lib_f, number, repeats)
        t_npf = _per_call(np_f, number, repeats)
        rows.append({"op": name, "library": t_lib, "numpy": t_np, "no_grad": t_nograd, "numpy_fwd": t_npf})
    per_node = number // CHAIN
    t_lib, t_np = _per_call(lib_chain, per_node, repeats) / CHAIN, _per_call(np_chain, per_node, repeats) / CHAIN
    with no_grad():
        t_nograd = _per_call(lib_chain_fwd, per_node, repeats) / CHAIN
    t_npf = _per_call(np_chain_fwd, per_node, repeats) / CHAIN
    rows.append({"op": f"y = y * b, {CHAIN} in a chain, per node", "library": t_lib, "numpy": t_np,
                 "no_grad": t_nograd, "numpy_fwd": t_npf})
    return rows


# ------------------------------------------------------------------------------------------------
# Memory: peak of one step against T (tracemalloc sees NumPy's allocations)
# ------------------------------------------------------------------------------------------------
def peak_bytes(step) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def bench_memory(kind: str, batch: int, hidden: int, lengths) -> dict:
    """Peak bytes of one step for each T, per system; the slope is the cost of one more time step."""
    peaks: dict[str, list[int]] = {}
    for T in lengths:
        p, xs, ys = make_problem(kind, batch, hidden, T)
        systems = make_systems(kind, p, xs, ys, with_torch=False)
        for name, (step, _) in systems.items():
            step()  # warm: parameters' .grad buffers exist before measuring
            peaks.setdefault(name, []).append(peak_bytes(step))
            del step
        del systems
    saved = numpy_floor.SAVED[kind]
    must_keep = batch * 4 * (saved["hidden"] * hidden + saved["output"] * hidden)
    out = {}
    for name, values in peaks.items():
        slope, intercept = np.polyfit(lengths, values, 1)
        fitted = slope * np.asarray(lengths) + intercept
        worst = float(np.max(np.abs(fitted - values)) / max(values))
        out[name] = {"peaks": values, "per_step": float(slope), "ratio": float(slope) / must_keep,
                     "nonlinearity": worst}
    return {"must_keep": must_keep, "lengths": list(lengths), "systems": out}


# ------------------------------------------------------------------------------------------------
# Peak RSS (each system in a fresh process: PyTorch's allocator counts as NumPy's does)
# ------------------------------------------------------------------------------------------------
RSS_WORK = [("rnn", "medium"), ("lstm", "medium"), ("gru", "medium"), ("rnn", "long")]


def bench_rss(systems: list[str], baseline: str | None, log) -> dict:
    """{(cell, config): {system: bytes}} from benchmarks/probes.py, one process per measurement."""
    import json
    import subprocess
    probe = str(Path(__file__).resolve().parent / "probes.py")
    out = {}
    for kind, config in RSS_WORK:
        row = {}
        for name in systems:
            cmd = [sys.executable, probe, "rss", name, kind, config] + (["--baseline", baseline] if baseline else [])
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode != 0:
                log(f"  rss {name} {kind} {config}: failed: {result.stderr.strip()[-200:]}")
                continue
            row[name] = json.loads(result.stdout.strip().splitlines()[-1])["peak"]
        out[kind, config] = row
        log(f"  rss {kind} {config}: " + "  ".join(f"{k} {v / 2**20:.1f} MiB" for k, v in row.items()))
    return out


def bench_collector(baseline: str | None, log) -> dict:
    """The collector's share of a long unroll, without and with PyTorch imported, today and before."""
    import json
    import subprocess
    probe = str(Path(__file__).resolve().parent / "probes.py")
    out = {}
    for code in ["today"] + (["before"] if baseline else []):
        for with_torch in [False] + ([True] if torch is not None else []):
            cmd = [sys.executable, probe, "collector"] + (["--torch"] if with_torch else []) + \
                  (["--baseline", baseline] if code == "before" else [])
            result = subprocess.run(cmd, capture_output=True, text=True, check=True)
            out[code, with_torch] = json.loads(result.stdout.strip().splitlines()[-1])
            log(f"  collector {code}{' with torch' if with_torch else ''}: {out[code, with_torch]['ratio']:.2f}x")
    return out


# ------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------
def limit_threads(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:
        print("threadpoolctl is not installed: BLAS threads left as they are", file=sys.stderr)
    if torch is not None:
        torch.set_num_threads(n)


def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- CPU: {cpu}, {os.cpu_count()} logical cores; {platform.system()} {platform.machine()}",
             f"- Python {platform.python_version()}, NumPy {np.__version__}, "
             f"PyTorch {torch.__version__ if torch else 'not installed'}"]
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            kernel = f", kernel {pool['architecture']}" if pool.get("architecture") else ""
            version = f" {pool['version']}" if pool.get("version") else ""
            lines.append(f"- {pool.get('user_api')}: {pool.get('internal_api')}{version}{kernel}, "
                         f"{pool.get('num_threads')} threads ({Path(pool['filepath']).name})")
    except ImportError:
        lines.append("- BLAS: threadpoolctl not installed, kernel and threads unknown")
    if torch is not None:
        lines.append(f"- PyTorch threads: {torch.get_num_threads()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        lines.append(f"- {var}={os.environ[var]}" if var in os.environ else f"- {var} unset")
    return lines


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}" if seconds < 0.1 else f"{seconds * 1e3:.0f}"


def step_tables(results: dict, configs, cells) -> list[str]:
    lines = []
    for kind in cells:
        names = []
        for config in configs:
            for name in results[kind, config]:
                if name not in names:
                    names.append(name)
        header = "| " + kind.upper() + " system | " + " | ".join(
            f"{c} B{CONFIGS[c][0]} H{CONFIGS[c][1]} T{CONFIGS[c][2]}" for c in configs) + " |"
        lines += [header, "|---|" + "---:|" * len(configs)]
        for name in names:
            cells_ = []
            for config in configs:
                times = results[kind, config]
                if name not in times:
                    cells_.append("–")
                    continue
                ratio = statistics.median(times[name]) / statistics.median(times["numpy"])
                cells_.append(f"{ratio:.2f}x")
            lines.append(f"| {name} | " + " | ".join(cells_) + " |")
        lines.append("")
        lines.append(f"Milliseconds per {kind.upper()} step, median [min–max]:")
        lines.append("")
        lines += ["| system | " + " | ".join(configs) + " |", "|---|" + "---:|" * len(configs)]
        for name in names:
            row = []
            for config in configs:
                times = results[kind, config].get(name)
                row.append("–" if not times else
                           f"{_fmt_ms(statistics.median(times))} [{_fmt_ms(min(times))}–{_fmt_ms(max(times))}]")
            lines.append(f"| {name} | " + " | ".join(row) + " |")
        lines.append("")
    return lines


def op_table(rows) -> list[str]:
    lines = ["| op | library fwd+bwd (µs) | NumPy fwd+bwd (µs) | ratio | library fwd, no_grad (µs) | "
             "NumPy fwd (µs) |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['op']}` | {r['library'] * 1e6:.2f} | {r['numpy'] * 1e6:.2f} | "
                     f"{r['library'] / r['numpy']:.1f}x | {r['no_grad'] * 1e6:.2f} | {r['numpy_fwd'] * 1e6:.2f} |")
    return lines


def memory_table(kind, batch, hidden, mem) -> list[str]:
    lines = [f"{kind.upper()}, B{batch} H{hidden}, T in {mem['lengths']}: BPTT must keep "
             f"{mem['must_keep'] / 1024:.0f} KiB per time step ({_saved_text(kind)}).", "",
             "| system | peak at each T (MiB) | bytes per time step | × must keep | off a line by |",
             "|---|---|---:|---:|---:|"]
    for name, m in mem["systems"].items():
        peaks = ", ".join(f"{v / 2**20:.1f}" for v in m["peaks"])
        lines.append(f"| {name} | {peaks} | {m['per_step'] / 1024:.0f} KiB | {m['ratio']:.2f}x | "
                     f"{m['nonlinearity'] * 100:.1f}% |")
    return lines


def _saved_text(kind):
    saved = numpy_floor.SAVED[kind]
    return (f"{saved['hidden']} arrays (B, H) and {saved['output']} (B, O), float32: what the hand-written "
            "backward keeps")


def _median(results, kind, config, name):
    times = results.get((kind, config), {}).get(name)
    return statistics.median(times) if times else None


def targets(results, configs, cells, op_rows, memory, rss, costs) -> list[str]:
    """Every numeric target of this wave's issues, with what this run measured and a verdict."""
    rows = []

    def add(what, value, ok):
        rows.append(f"| {what} | {value} | {'met' if ok else 'missed'} |")

    def ratio_row(what, num, den, limit, kinds, where):
        for kind in kinds:
            for config in where:
                a, b = _median(results, kind, config, num), _median(results, kind, config, den)
                if a is not None and b is not None:
                    add(f"{what}, {kind.upper()} {config}", f"{a / b:.2f}x", a / b <= limit)

    if torch is not None:
        ratio_row("`RNN` / PyTorch fused ≤ 1.0", "library RNN", "torch fused", 1.0,
                  [k for k in cells if k != "lstm"], configs)
        ratio_row("`RNN` / PyTorch fused ≤ 1.0", "library RNN", "torch fused", 1.0,
                  ["lstm"] if "lstm" in cells else [], [c for c in configs if c != "long"])
        ratio_row("`RNN` / PyTorch fused ≤ 3.0", "library RNN", "torch fused", 3.0,
                  ["lstm"] if "lstm" in cells else [], [c for c in configs if c == "long"])
        ratio_row("loop / PyTorch eager loop ≤ 1.0", "library loop", "torch loop", 1.0, cells, configs)
    if BASELINE is not None:
        ratio_row("loop / the same loop before ≤ 1.0", "library loop", "before: loop", 1.0, cells, configs)
        ratio_row("`RNN` / `RNN` before ≤ 1.0", "library RNN", "before: RNN", 1.0, cells, configs)
    for kind, config in RSS_WORK:
        row = rss.get((kind, config), {})
        if "torch loop" in row and config == "medium":
            add(f"peak RSS, loop / PyTorch eager loop ≤ 1.0, {kind.upper()} {config}",
                f"{row['library loop'] / 2**20:.1f} / {row['torch loop'] / 2**20:.1f} MiB",
                row["library loop"] <= row["torch loop"])
        if "torch fused" in row and config == "medium":
            add(f"peak RSS, `RNN` / PyTorch fused ≤ 1.0, {kind.upper()} {config}",
                f"{row['library RNN'] / 2**20:.1f} / {row['torch fused'] / 2**20:.1f} MiB",
                row["library RNN"] <= row["torch fused"])
    for kind, (batch, hidden, mem) in memory.items():
        if 100 in mem["lengths"]:
            i = mem["lengths"].index(100)
            lib, floor = mem["systems"]["library loop"]["peaks"][i], mem["systems"]["numpy"]["peaks"][i]
            add(f"peak (tracemalloc), loop / hand-written NumPy BPTT ≤ 1.5, {kind.upper()} B{batch} H{hidden} T100",
                f"{lib / floor:.2f}x", lib / floor <= 1.5)
    if "kept" in costs:
        share = costs["kept"]["today"]["share"]
        add("a loss kept after backward() ≤ 5% of the forward's peak (2-layer LSTM, T20 B8 H32)",
            f"{share * 100:.1f}%", share <= 0.05)
    for (code, with_torch), c in costs.get("collector", {}).items():
        if code == "today":
            add(f"collector on / off, loop over RNNCell B4 H32 T1000{', PyTorch imported' if with_torch else ''} ≤ 1.1",
                f"{c['ratio']:.2f}x", c["ratio"] <= 1.1)
    for r in op_rows:
        if r["op"].startswith("a * b"):
            add("`a * b` on 8 elements, forward + backward ≤ 9.4 µs", f"{r['library'] * 1e6:.2f} µs",
                r["library"] * 1e6 <= 9.4)
    return ["| target | measured | verdict |", "|---|---:|---|"] + rows


def costs_tables(costs) -> list[str]:
    lines = []
    if "kept" in costs:
        lines += ["| code | forward peak | held by each kept loss | share |", "|---|---:|---:|---:|"]
        for code, k in costs["kept"].items():
            lines.append(f"| {code} | {k['forward_peak'] / 1024:.0f} KiB | {k['per_kept_loss'] / 1024:.1f} KiB | "
                         f"{k['share'] * 100:.1f}% |")
        lines.append("")
    if "objects" in costs:
        lines += ["| code | objects the cycle collector tracks, per graph node |", "|---|---:|"]
        lines += [f"| {code} | {n:.2f} |" for code, n in costs["objects"].items()]
        lines.append("")
    if "collector" in costs:
        lines += ["| code | PyTorch imported | CPU s, collector on | off | on / off |", "|---|---|---:|---:|---:|"]
        for (code, with_torch), c in costs["collector"].items():
            lines.append(f"| {code} | {'yes' if with_torch else 'no'} | {c['on']:.3f} | {c['off']:.3f} | "
                         f"{c['ratio']:.2f}x |")
        lines.append("")
    return lines


def rss_table(rss) -> list[str]:
    names = []
    for row in rss.values():
        names += [n for n in row if n not in names]
    lines = ["| work | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for (kind, config), row in rss.items():
        b, h, t = CONFIGS[config]
        lines.append(f"| {kind.upper()} B{b} H{h} T{t} | " +
                     " | ".join(f"{row[n] / 2**20:.1f}" if n in row else "–" for n in names) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=None,
                        help="comma-separated: " + ",".join(CONFIGS) + " (default: all; tiny,small with --quick)")
    parser.add_argument("--cells", default="rnn,lstm,gru", help="comma-separated: rnn,lstm,gru")
    parser.add_argument("--repeats", type=int, default=0, help="timed rounds per config (default: by config)")
    parser.add_argument("--quick", action="store_true", help="few rounds, small memory sweep: under a minute")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory sweep")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and PyTorch threads (default 1: at these sizes a second thread mostly "
                             "spins, and two runtimes' spinning threads on two cores disturb each other)")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "RESULTS.md"),
                        help="Markdown report to write ('-' for none)")
    parser.add_argument("--baseline", metavar="COMMIT",
                        help="also time the library as it was at COMMIT, interleaved with today's")
    args = parser.parse_args(argv)
    global BASELINE
    if args.baseline:
        import baseline
        BASELINE = baseline.load(args.baseline)
    configs = args.configs or ("tiny,small" if args.quick else ",".join(CONFIGS))
    configs = [c.strip() for c in configs.split(",") if c.strip()]
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            parser.error(f"unknown config {c!r}; choose from {', '.join(CONFIGS)}")
    for c in cells:
        if c not in CELLS:
            parser.error(f"unknown cell {c!r}; choose from {', '.join(CELLS)}")
    repeats = args.repeats or (3 if args.quick else 0)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    # Importing PyTorch leaves ~150,000 objects for the garbage collector to rescan on every full
    # collection, which a step building a long graph triggers; a process without the comparison
    # has ~20,000. Freezing them keeps that cost out of every system's times alike.
    gc.collect()
    gc.freeze()
    limit_threads(args.threads)
    log("machine:\n" + "\n".join(machine()))
    notes = []
    if torch is None:
        notes.append("PyTorch is not installed: its rows are skipped (pip install torch to compare).")
    if not library_has_rnn():
        notes.append("tinygrad_rnn has no `RNN` sequence model yet: its row is skipped.")
    log("timing training steps ...")
    results = bench_steps(configs, cells, repeats, log)
    log("timing single ops ...")
    op_rows = bench_ops(number=500 if args.quick else 2000, repeats=5 if args.quick else 9)
    memory, rss, costs = {}, {}, {}
    if not args.no_memory:
        log("measuring memory ...")
        batch, hidden = (16, 64) if args.quick else (32, 256)
        lengths = (10, 20, 40) if args.quick else (25, 50, 100, 200)
        for kind in cells:
            memory[kind] = (batch, hidden, bench_memory(kind, batch, hidden, lengths))
        if not args.quick:
            names = ["numpy", "library loop", "library RNN"] + (["torch loop", "torch fused"] if torch else []) + \
                    (["before: loop", "before: RNN"] if args.baseline else [])
            rss = bench_rss(names, args.baseline, log)
        log("measuring what the graph costs ...")
        libs = {"today": tinygrad_rnn} | ({"before": BASELINE} if BASELINE is not None else {})
        costs["kept"] = {code: graph_costs.kept_loss(lib) for code, lib in libs.items()}
        costs["objects"] = {code: graph_costs.tracked_objects_per_node(lib) for code, lib in libs.items()}
        costs["collector"] = bench_collector(args.baseline, log)

    out = ["# Benchmark results", "",
           f"`{' '.join(['python benchmarks/run.py'] + (argv if argv is not None else sys.argv[1:]))}`, "
           f"{time.perf_counter() - started:.0f} s.", "", "## Machine", ""] + machine()
    out += ["", "## One training step, as a ratio to the hand-written NumPy step (lower is faster)", "",
            "Forward over T steps, output layer ŷ_t = V h_t + c, MSE over all outputs, full BPTT; float32, "
            f"input size = output size = hidden size; {args.threads} BLAS/PyTorch thread(s). "
            "Medians of interleaved rounds "
            f"({repeats or 'per config: ' + str(REPEATS)} timed after {WARMUP} warm-up). Every system's "
            "gradients were checked against the NumPy step's before timing.", ""]
    out += [f"- **{name}**: {note}" for name, note in SYSTEM_NOTES.items()] + [""]
    out += [f"> {n}" for n in notes] + ([""] if notes else [])
    out += ["## Targets", "", "Each numeric target of the issues, as this run measured it (times are medians "
            "of interleaved rounds; see the tables below).", ""]
    out += targets(results, configs, cells, op_rows, memory, rss, costs) + [""]
    out += step_tables(results, configs, cells)
    out += ["## Per-op overhead", "", "Forward and backward of one small op (`y = op(...)`, `y.backward(g)`) "
            "against the same arithmetic in bare NumPy (forward and both vjps); the last row divides a "
            f"chain of {CHAIN} such nodes by {CHAIN}, so one backward call's setup is shared as in a "
            "training step.", ""] + op_table(op_rows)
    if memory:
        out += ["", "## Peak memory of one step (tracemalloc)", "",
                "Peak traced allocation during one step minus what was allocated before it; the slope of a "
                "least-squares line through the peaks is the cost of one more time step.", ""]
        for kind, (batch, hidden, mem) in memory.items():
            out += memory_table(kind, batch, hidden, mem) + [""]
    if rss:
        out += ["", "## Peak resident memory of one training step (MiB)", "",
                "The first step of each system in a fresh process (benchmarks/probes.py): the growth of the "
                "process's high-water mark, so PyTorch's allocator counts as NumPy's does.", ""] + rss_table(rss)
    if costs:
        out += ["", "## What the graph costs", "",
                "A loss kept after backward() (`losses.append(loss)`) by an `RNN` (2-layer LSTM, T20 B8 H32); the "
                "objects the cycle collector tracks per node of a loop's graph; and the collector's share of "
                "one step of a loop over `RNNCell` (B4 H32 T1000, a loss per step), in processes of its own "
                "(the timing tables above freeze the objects already there when they start).", ""]
        out += costs_tables(costs)
    notes_file = Path(__file__).resolve().parent / "NOTES.md"
    if notes_file.exists():  # the hand-written reading of these numbers: targets, profile, what is left
        out += ["", notes_file.read_text().strip()]
    text = "\n".join(out).rstrip() + "\n"
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text)
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
