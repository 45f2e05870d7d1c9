"""The library as it was at an earlier commit, importable beside today's as `tinygrad_rnn_baseline`,
so that old and new code are timed interleaved in one process (`run.py --baseline COMMIT`).

The package's imports are all relative, so a copy of its folder under another name is a complete,
independent package.
"""
from __future__ import annotations

import importlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = "tinygrad_rnn_baseline"


def load(commit: str):
    """Import the package as it was at `commit` (a commit, tag or branch of this repository)."""
    folder = Path(tempfile.mkdtemp(prefix="tinygrad_rnn_baseline_"))
    archive = folder / "package.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), commit, "tinygrad_rnn"],
                   check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    (folder / "tinygrad_rnn").rename(folder / NAME)
    sys.path.insert(0, str(folder))
    return importlib.import_module(NAME)
