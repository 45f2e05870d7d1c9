"""`Picture`: the graphviz.Digraph that draw_graph returns, with two promises on top.

- A picture too large for `dot` to lay out in reasonable time is refused before `dot` starts
  (`LayoutTooLarge`, one line saying what to pass instead) by `pipe`, `render` and
  `tinygrad_rnn.viz.render`. The limits are measured: `dot` takes a few seconds at about these
  sizes on a laptop-class core and minutes beyond (benchmarks in docs/seeing_the_graph.md).
- In Jupyter it never raises: without the `dot` program (or when a picture is refused) the cell
  shows one line saying why and the DOT text.
"""
from __future__ import annotations

import re

import graphviz

# Nodes that `dot` lays out in a few seconds. The ops view ties parameters to every step, which
# makes dot's crossing minimisation grow much faster than the size of the picture.
LAYOUT_LIMITS = {"ops": 280, "unfolded": 2000, "folded": 2000}
NO_DOT = ("Graphviz's `dot` program is not installed, so this picture is shown as DOT text; install "
          "Graphviz (apt-get install graphviz / brew install graphviz / conda install -c conda-forge graphviz) "
          "to see it drawn.")
_NODE = re.compile(r'^\t+(?!(?:graph|node|edge) \[)(?:\w+|"[^"]*") \[', re.M)  # node statements


class LayoutTooLarge(ValueError):
    """A picture with more nodes than `dot` lays out in reasonable time. `max_steps` is the largest
    number of steps that fits (None where fewer steps would not help)."""

    def __init__(self, message: str, nodes: int, limit: int, max_steps: int | None) -> None:
        super().__init__(message)
        self.nodes, self.limit, self.max_steps = nodes, limit, max_steps


class Picture(graphviz.Digraph):
    """A graphviz.Digraph made by draw_graph (everything a Digraph does works the same)."""

    view_name: str | None = None     # which view drew it
    per_step: float = 0.0            # nodes drawn per time step
    fixed_nodes: int = 0             # nodes that do not grow with the steps (parameters, legend, ...)

    def node_count(self) -> int:
        return len(_NODE.findall(self.source))

    def check_layout(self) -> None:
        """Raise LayoutTooLarge before `dot` would spend minutes on this picture."""
        limit = LAYOUT_LIMITS.get(self.view_name or "")
        if limit is None:
            return
        nodes = self.node_count()
        if nodes <= limit:
            return
        steps = int((limit - self.fixed_nodes) // self.per_step) if self.per_step else 0
        fits = steps if steps >= 2 else None
        advice = f"pass max_steps={fits} (or fewer) to draw_graph" if fits else "draw a smaller graph"
        if self.view_name == "ops":
            advice += ", or use view='unfolded'"
        raise LayoutTooLarge(f"this {self.view_name} view has {nodes} nodes, more than Graphviz's dot lays out "
                             f"in reasonable time (about {limit}); {advice}", nodes, limit, fits)

    def pipe(self, *args, **kwargs):
        self.check_layout()
        return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        self.check_layout()
        return super().render(*args, **kwargs)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """What Jupyter shows: the rendered picture, else one line saying why and the DOT text."""
        try:
            self.check_layout()
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except LayoutTooLarge as exc:
            why = f"Not drawn: {exc}."
        except graphviz.ExecutableNotFound:
            why = NO_DOT
        except Exception as exc:  # a notebook cell must show something, never a traceback
            first = (str(exc).splitlines() or [""])[0]
            why = f"Graphviz could not draw this picture ({type(exc).__name__}: {first})."
        return {"text/plain": f"{why}\n\n{self.source}"}
