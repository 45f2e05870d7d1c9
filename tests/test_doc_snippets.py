"""Every python snippet of README.md and docs/*.md runs as written.

The snippets of a page run in order in one namespace (a page may build on its earlier snippets),
in a fresh folder, with matplotlib drawing off screen. A snippet that must not run carries the
marker `<!-- not run: REASON -->` on the line just before its fence (see docs/snippets.py); those
are listed here so that they stay few.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
from snippets import python_snippets, run_page, stray_markers  # noqa: E402

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Pages being rewritten elsewhere whose snippets do not run yet; each entry must go as soon as its
# page runs (strict: the test fails when a listed page starts passing).
NOT_YET: dict[str, str] = {}  # page -> why it cannot run yet (the test fails once it does)


def test_there_are_pages_with_snippets():
    assert sum(len(python_snippets(page)) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_snippet_runs_as_written(page, tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")  # plt.show() and friends draw off screen
    monkeypatch.chdir(tmp_path)
    if page.name in NOT_YET:
        try:
            run_page(page)
        except Exception:
            pytest.xfail(NOT_YET[page.name])
        raise AssertionError(f"{page.name} runs now: remove it from NOT_YET")
    run_page(page)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_markers_mark_a_python_snippet_and_say_why(page):
    assert not stray_markers(page)


def test_the_snippets_that_do_not_run_are_few_and_known():
    skipped = {f"{b.page.name}:{b.line}": b.note for page in PAGES for b in python_snippets(page)
               if b.marker == "not run"}
    assert all(note for note in skipped.values()), skipped
    pages = {where.split(":")[0] for where in skipped}
    assert pages <= {"pytorch_interop.md", "internals.md"}, skipped
