"""Generate the figures in docs/figures/ from real code: run `python docs/make_figures.py`.

The code behind each figure lives in docs/figure_code/ (one module per page or topic, each with a
`FIGURES` list), so every picture is drawn from what a model actually recorded or computed.
A module that sets `CHECKED = False` (figures of a trained model) is left out of --check.

    python docs/make_figures.py               # write every figure
    python docs/make_figures.py --png DIR     # also PNG copies in DIR, to look at them
    python docs/make_figures.py --check       # exit 1 naming each committed figure that is out of date
    python docs/make_figures.py --only NAME   # just the figures whose file name starts with NAME

Needs Graphviz's `dot` and matplotlib (pip install "tinygrad_rnn[plot]").
"""
from __future__ import annotations

import importlib
import pkgutil
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "figures"
sys.path.insert(0, str(HERE))  # figure_code/ sits beside this file


def all_figures(checked_only: bool = False) -> list[tuple[str, object]]:
    """(file name, function) of every figure. A module with `CHECKED = False` draws from a trained
    model: its bytes differ across CPUs (BLAS kernels round differently), so --check skips it."""
    import figure_code
    figures = []
    for info in sorted(pkgutil.iter_modules(figure_code.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"figure_code.{info.name}")
        if checked_only and not getattr(module, "CHECKED", True):
            continue
        figures.extend(getattr(module, "FIGURES", []))
    names = [name for name, _ in figures]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise SystemExit(f"make_figures: figure names used twice: {clash}")
    return figures


def write(result, path: Path, png_dir: Path | None) -> Path:
    """Write one figure; the suffix comes from what was drawn (.svg for graphs and plots)."""
    import graphviz

    from tinygrad_rnn.viz import render

    if isinstance(result, graphviz.Digraph):
        path = path.with_suffix(".svg")
        render(result, path)
        if png_dir is not None:
            render(result, png_dir / (path.stem + ".png"))
    elif isinstance(result, str):
        path = path.with_suffix(".html")
        path.write_text(result, encoding="utf-8")
    else:  # a matplotlib Figure
        import matplotlib
        matplotlib.rcParams["svg.hashsalt"] = "tinygrad_rnn"  # stable ids: the file changes only with the data
        path = path.with_suffix(".svg")
        result.savefig(path, metadata={"Date": None})
        if png_dir is not None:
            result.savefig(png_dir / (path.stem + ".png"), dpi=100)
    return path


def main(argv: list[str]) -> int:
    if shutil.which("dot") is None:
        print("make_figures: Graphviz's `dot` is needed (apt-get install graphviz / brew install graphviz)")
        return 1
    png_dir = Path(argv[argv.index("--png") + 1]) if "--png" in argv else None
    only = argv[argv.index("--only") + 1] if "--only" in argv else ""
    check = "--check" in argv
    figures = [(n, f) for n, f in all_figures(checked_only=check) if n.startswith(only)]
    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp()) if check else OUT
    target.mkdir(parents=True, exist_ok=True)
    stale = []
    for name, make in figures:
        path = write(make(), target / name, png_dir)
        if check:
            committed = OUT / path.name
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                stale.append(committed.relative_to(HERE.parent))
        else:
            print(path.relative_to(HERE.parent))
    if check:
        shutil.rmtree(target)
        for path in stale:
            print(f"out of date: {path} (run python docs/make_figures.py)")
        return 1 if stale else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
