"""Writing pictures to files. Only this needs the Graphviz `dot` program; without it the DOT text
is written instead, with one line saying how to install Graphviz."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import graphviz

log = logging.getLogger("tinygrad_rnn.viz")

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
DOT_SUFFIXES = (".dot", ".gv")
INSTALL_HINT = ("Graphviz's `dot` program is not installed, so {path} was written as DOT text instead; "
                "install Graphviz (apt-get install graphviz / brew install graphviz / "
                "conda install -c conda-forge graphviz) to render .svg, .png or .pdf")


def dot_available() -> bool:
    return shutil.which("dot") is not None


def render(graph, path, **draw_options) -> Path:
    """Write `graph` (a graphviz.Digraph, or a Tensor to draw with `draw_graph(**draw_options)`) to
    `path`: .svg, .png or .pdf through `dot`, .dot/.gv as DOT text. Returns the path written, which
    ends in .dot when `dot` is missing. A picture of draw_graph too large for `dot` to lay out in
    reasonable time raises LayoutTooLarge (a ValueError saying what to pass instead) before `dot`
    starts; its DOT text can still be written."""
    if not isinstance(graph, graphviz.Digraph):
        from .draw import draw_graph
        graph = draw_graph(graph, **draw_options)
    elif draw_options:
        raise TypeError("render: drawing options apply to a tensor, not to a finished Digraph")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in DOT_SUFFIXES:
        return _write_dot(graph, path)
    if suffix not in FORMATS:
        raise ValueError(f"render: cannot write {path.name!r}; use a .svg, .png, .pdf or .dot file name")
    if not dot_available():
        return _fallback(graph, path)
    try:
        data = graph.pipe(format=FORMATS[suffix])
    except graphviz.ExecutableNotFound:
        return _fallback(graph, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _write_dot(graph: graphviz.Digraph, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(graph.source, encoding="utf-8")
    return path


def _fallback(graph: graphviz.Digraph, path: Path) -> Path:
    written = _write_dot(graph, path.with_suffix(".dot"))
    log.warning(INSTALL_HINT.format(path=written))
    return written
