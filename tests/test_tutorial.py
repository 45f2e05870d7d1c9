"""The tutorial tells the truth about its figures, and runs as a notebook.

docs/tutorial.md is the single source: docs/make_tutorial.py copies its snippets into
docs/figure_code/tutorial.py (the code docs/make_figures.py draws the figures with; test_docs.py
checks the committed figures are what that code draws today) and into docs/tutorial.ipynb.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
from snippets import python_snippets  # noqa: E402

PAGE = DOCS / "tutorial.md"


def test_figure_code_and_notebook_are_made_from_the_tutorial_as_it_is():
    result = subprocess.run([sys.executable, str(DOCS / "make_tutorial.py"), "--check"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_figure_is_drawn_by_the_snippet_just_above_it():
    text = PAGE.read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\(figures/([^)]+)\.svg\)", text)
    figures = [b for b in python_snippets(PAGE) if b.marker == "figure"]
    assert len(figures) >= 7 and shown == [b.note for b in figures]  # every picture has its snippet, in order
    lines = text.split("\n")
    for block in figures:
        end = block.line + block.code.count("\n")  # the closing fence, 0-based
        following = [line for line in lines[end + 1:] if line.strip()][0]
        assert following.startswith("![") and f"figures/{block.note}.svg" in following, block.where
        assert block.note.startswith("tutorial_") and (DOCS / "figures" / f"{block.note}.svg").exists()


def test_the_figure_code_draws_exactly_the_tutorials_figures():
    sys.path.insert(0, str(DOCS))
    from figure_code import tutorial

    names = [b.note for b in python_snippets(PAGE) if b.marker == "figure"]
    assert [name for name, _ in tutorial.FIGURES] == names
    source = (DOCS / "figure_code" / "tutorial.py").read_text(encoding="utf-8")
    for block in python_snippets(PAGE)[:1]:  # spot check: the first snippet, line for line, one level in
        for line in block.code.strip("\n").split("\n"):
            assert ("    " + line if line.strip() else "") in source.split("\n")


def test_the_notebook_runs_and_shows_its_diagrams_inline(tmp_path):
    import nbclient
    import nbformat

    notebook = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") and cell.get("execution_count") is None
               for cell in notebook.cells if cell.cell_type == "code")  # committed with outputs stripped
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert code == [b.code.rstrip("\n") for b in python_snippets(PAGE)]

    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    figures = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.metadata.get("figure")]
    assert len(figures) >= 7
    for cell in figures:
        kinds = {kind for output in cell.outputs for kind in output.get("data", {})}
        assert kinds & {"image/svg+xml", "image/png"}, (cell.metadata["figure"], kinds)
    graphs = [cell for cell in figures if "unfolded" in cell.metadata["figure"]]
    assert all(any("image/svg+xml" in o.get("data", {}) for o in cell.outputs) for cell in graphs)
    printed = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "(4, 4)" in printed and "Run(" in printed
    assert (tmp_path / "runs" / "tutorial" / "model.npz").exists()
    json.dumps(nbformat.writes(notebook))  # the executed notebook is still a valid document
