"""The code blocks of the documentation pages, read the one way the tests, the tutorial's figure code
and its notebook all read them.

A fenced block opened with ```python is a snippet. The snippets of one page run in order in one
namespace, as a reader runs them top to bottom. An HTML comment on the line just before a block
marks it (markers are invisible on the rendered page):

    <!-- not run: REASON -->   the tests do not run this block; say why (it trains for minutes, it
                               needs torch, it is an excerpt of the library's source, ...)
    <!-- figure: NAME -->      the block's last line is an expression that draws the figure
                               docs/figures/NAME.svg (see docs/make_tutorial.py)
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*(not run|figure)\s*:\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced block: its language, its code, the line its code starts on, and its marker."""

    page: Path
    language: str
    code: str
    line: int                  # 1-based line of the block's first line of code
    fence_line: int            # 1-based line of the opening fence
    marker: str | None = None  # "not run" or "figure"
    note: str = ""             # the reason, or the figure's name

    @property
    def runs(self) -> bool:
        return self.language == "python" and self.marker != "not run"

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with the marker on the line before it, if any."""
    lines = Path(page).read_text(encoding="utf-8").split("\n")
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != opening.group(1):
            end += 1
        if end == len(lines):
            raise ValueError(f"{Path(page).name}:{i + 1}: a code block is never closed")
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        found.append(Block(Path(page), opening.group(2).lower(), "\n".join(lines[i + 1:end]) + "\n", i + 2, i + 1,
                           marker.group(1) if marker else None, marker.group(2) if marker else ""))
        i = end + 1
    return found


def python_snippets(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language == "python"]


def stray_markers(page: Path) -> list[str]:
    """Markers that mark nothing (not on the line just before a python block), or lack their note."""
    text = Path(page).read_text(encoding="utf-8").split("\n")
    marked = {b.fence_line - 1 for b in python_snippets(page) if b.marker}
    problems = []
    for number, line in enumerate(text, start=1):
        match = MARKER.match(line)
        if match and (number not in marked or not match.group(2)):
            problems.append(f"{Path(page).name}:{number}: {line.strip()}")
    return problems


def split_figure(block: Block) -> tuple[str, str]:
    """A figure block as (the code before its last line, the expression on its last line)."""
    tree = ast.parse(block.code)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or last.lineno != last.end_lineno:
        raise ValueError(f"{block.where}: a figure's block must end with a one-line expression that draws it")
    lines = block.code.rstrip("\n").split("\n")
    return "\n".join(lines[:last.lineno - 1]) + "\n", lines[last.lineno - 1]


def run_page(page: Path, everything: bool = False) -> dict:
    """Run a page's python snippets in order in one namespace, as written (with `everything`, the
    ones marked "not run" too). Returns the figures drawn, by name. An error names the page and line."""
    namespace: dict = {"__name__": "__main__"}
    figures = {}
    for block in python_snippets(page):
        if not (block.runs or everything):
            continue
        padding = "\n" * (block.line - 1)  # tracebacks give the page's own line numbers
        if block.marker == "figure":
            code, expression = split_figure(block)
            exec(compile(padding + code, str(block.page), "exec"), namespace)
            last = padding + "\n" * code.count("\n") + expression
            figures[block.note] = eval(compile(last, str(block.page), "eval"), namespace)
        else:
            exec(compile(padding + block.code, str(block.page), "exec"), namespace)
    return figures
