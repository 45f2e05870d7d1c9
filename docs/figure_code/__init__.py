"""The code behind every figure in docs/figures/, one module per page or topic.

Each module has `FIGURES`: a list of (file name, function) pairs. A function takes no arguments and
returns what is drawn: a graphviz.Digraph (written as SVG by `dot`), a matplotlib Figure (SVG), or a
str (written as it is, e.g. an HTML snippet). `docs/make_figures.py` writes them all.
"""
