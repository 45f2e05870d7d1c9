"""Keep what is made from docs/tutorial.md equal to it: run `python docs/make_tutorial.py`.

The tutorial's python snippets are its single source. From them this writes
- docs/figure_code/tutorial.py: the snippets in the page's order, up to its last figure, as the body
  of one function; the last line of a snippet marked `<!-- figure: NAME -->` draws the figure NAME
  (docs/make_figures.py runs it and writes docs/figures/NAME.svg);
- docs/tutorial.ipynb: the page as a notebook, one code cell per snippet, outputs stripped; the
  image below a figure's snippet is left out, since the cell shows the picture itself.

    python docs/make_tutorial.py            # write both
    python docs/make_tutorial.py --check    # exit 1 naming each one that is out of date
"""
from __future__ import annotations

import io
import json
import re
import sys
import textwrap
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from snippets import Block, blocks, split_figure  # noqa: E402

PAGE = HERE / "tutorial.md"
FIGURE_CODE = HERE / "figure_code" / "tutorial.py"
NOTEBOOK = HERE / "tutorial.ipynb"

HEADER = '''\
# Generated from docs/tutorial.md by docs/make_tutorial.py: edit the tutorial, then run
# `python docs/make_tutorial.py` (a test fails while this file differs from what it writes).
"""The figures of docs/tutorial.md, drawn by exactly the code the tutorial shows beside them.

`tutorial()` runs the tutorial's python snippets in the page's order, up to its last figure, as a
reader runs them; the last line of a snippet marked `<!-- figure: NAME -->` draws the figure NAME.
"""
import contextlib
import functools
import io
import os
import tempfile


@functools.cache
def tutorial() -> dict:
    """Every figure of the tutorial, by file name. The snippets run in a fresh folder, with what they
    print kept quiet, so the files they write and their output go nowhere."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        os.chdir(folder)
        try:
            return _snippets()
        finally:
            os.chdir(here)


def _snippets() -> dict:
    figures = {}
'''

FOOTER = '''    return figures


def _figure(name: str):
    return lambda: tutorial()[name]


FIGURES = [(name, _figure(name)) for name in [
{names}
]]
'''


def _indented(block: Block, code: str) -> str:
    """The code one level in, refusing a string that spans lines (indenting would change it)."""
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.STRING and token.start[0] != token.end[0]:
            raise SystemExit(f"make_tutorial: {block.where}: a string spanning lines cannot be copied into a function")
    return textwrap.indent(code, "    ", lambda line: bool(line.strip()))


def figure_code(page: Path = PAGE) -> str:
    python = [b for b in blocks(page) if b.language == "python"]
    if any(b.marker == "not run" for b in python):
        raise SystemExit("make_tutorial: the tutorial runs every snippet (the notebook does): drop 'not run'")
    figures = [i for i, b in enumerate(python) if b.marker == "figure"]
    if not figures:
        raise SystemExit("make_tutorial: the tutorial marks no figure")
    body = []
    for block in python[:figures[-1] + 1]:
        if block.marker == "figure":
            code, expression = split_figure(block)
            code = _indented(block, code) if code.strip() else ""
            body.append(f"    # docs/tutorial.md, line {block.line}: figure {block.note}\n"
                        + code + f'    figures["{block.note}"] = {expression.strip()}\n')
        else:
            body.append(f"    # docs/tutorial.md, line {block.line}\n" + _indented(block, block.code))
    names = [python[i].note for i in figures]
    return HEADER + "\n" + "\n".join(body) + FOOTER.format(names="\n".join(f'    "{n}",' for n in names))


def notebook(page: Path = PAGE) -> str:
    lines = page.read_text(encoding="utf-8").split("\n")
    python = {b.fence_line: b for b in blocks(page) if b.language == "python"}
    cells, text, i = [], [], 0
    while i < len(lines):
        block = python.get(i + 1)
        if block is None:
            text.append(lines[i])
            i += 1
            continue
        if block.marker:
            text.pop()  # the marker line: the notebook's cell is the figure itself
        cells.append(_markdown(text))
        cells.append({"cell_type": "code", "execution_count": None,
                      "metadata": {"figure": block.note} if block.marker == "figure" else {}, "outputs": [],
                      "source": block.code.rstrip("\n")})
        text, i = [], block.line + block.code.count("\n")  # past the closing fence
        if block.marker == "figure":  # the picture below it on the page: the cell draws it
            while i < len(lines) and not lines[i].strip():
                i += 1
            if i < len(lines) and re.fullmatch(rf"!\[[^\]]*\]\(figures/{re.escape(block.note)}\.svg\)", lines[i]):
                i += 1
    cells.append(_markdown(text))
    cells = [cell for cell in cells if cell["source"]]
    for n, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{n:02d}"
        cell["source"] = cell["source"].splitlines(keepends=True)
    document = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"},
                                             "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def _markdown(lines: list[str]) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines).strip("\n")}


def main(argv: list[str]) -> int:
    made = {FIGURE_CODE: figure_code(), NOTEBOOK: notebook()}
    if "--check" in argv:
        stale = [p for p, text in made.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"out of date: {path.relative_to(HERE.parent)} (run python docs/make_tutorial.py)")
        return 1 if stale else 0
    for path, text in made.items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
