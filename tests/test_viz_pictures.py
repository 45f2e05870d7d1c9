"""Pictures that stay readable and never mislead: elision in every view, the refusal of a layout too
large for dot, the fixed colour scale, the legend on every picture, Jupyter display without dot, the
hints' arguments, the gallery's code, and viz reading the graph only through the node interface."""
import re
import shutil
from pathlib import Path

import graphviz
import numpy as np
import pytest
from test_viz import clusters, with_loop, with_rnn

from tinygrad_rnn import RNNCell, Tensor
from tinygrad_rnn.viz import LayoutTooLarge, draw_graph, phase, render, step
from tinygrad_rnn.viz.style import SCALE

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")


def fills(source: str) -> dict[str, str]:
    return dict(re.findall(r'^\t+(\w+) \[.*?fillcolor="(#\w+)"', source, re.M))


# ----------------------------------------------------------------------------------------------
# elision
# ----------------------------------------------------------------------------------------------
def test_a_long_unroll_is_elided_by_itself_and_says_so():
    loss, _ = with_rnn("rnn", T=40)
    source = draw_graph(loss).source
    assert len(clusters(source)) == 12 and "… 28 steps …" in source
    assert "elided to keep the picture readable" in source and "max_steps=&#x27;all&#x27;" not in source
    assert "max_steps='all' draws every step" in source
    assert len(clusters(draw_graph(loss, max_steps="all").source)) == 40
    assert len(clusters(draw_graph(loss, max_steps=4).source)) == 4
    assert "… " not in draw_graph(with_rnn("rnn", T=12)[0]).source  # short enough: nothing left out


def test_max_steps_elides_the_ops_view_of_a_hand_written_loop():
    """Everything a step computes outside the cell (ŷ_t, its loss, the running sum, the target) goes
    with the step: at 40 steps, six steps' worth of nodes are drawn."""
    loss, _ = with_loop("rnn", T=40)
    six = draw_graph(loss, view="ops", max_steps=6).source
    assert clusters(six) == [f"cluster_t{k}" for k in (1, 2, 3, 38, 39, 40)]
    every = draw_graph(loss, view="ops", max_steps="all").source
    drawn = len(re.findall(r"^\t+n\d+ \[", six, re.M))
    assert drawn < len(re.findall(r"^\t+n\d+ \[", every, re.M)) / 4
    assert six.count("<B>mean</B>") <= 6 + 1          # one loss per drawn step (and none of the others)
    auto = draw_graph(loss, view="ops").source        # elided by itself too
    assert 2 <= len(clusters(auto)) <= 12 and "steps …" in auto


def test_the_folded_view_of_a_long_unroll_stays_one_node_per_kind():
    loss, _ = with_loop("rnn", T=40)
    source = draw_graph(loss, view="folded").source
    assert len(re.findall(r"^\t(\w+) \[label=", source, re.M)) == 4 and "a -> a" in source


def test_elision_of_each_phase():
    cell, dec = RNNCell(2, 3, rng=0), RNNCell(2, 3, rng=1)
    h = None
    for _ in range(30):
        h = cell(np.ones((1, 2)), h)
    for _ in range(30):
        h = dec(np.ones((1, 2)), h)
    source = draw_graph(h.sum(), max_steps=4).source
    assert clusters(source) == ["cluster_t1", "cluster_t2", "cluster_t29", "cluster_t30"]
    assert re.findall(r"subgraph (cluster_p2_t\d+)", source) == [f"cluster_p2_t{k}" for k in (1, 2, 29, 30)]
    assert source.count("… 26 steps …") == 2


# ----------------------------------------------------------------------------------------------
# layouts too large for dot
# ----------------------------------------------------------------------------------------------
def test_an_oversized_layout_is_refused_before_dot_starts(tmp_path, monkeypatch):
    def no_dot(*args, **kwargs):
        raise AssertionError("dot was started")

    monkeypatch.setattr(graphviz.Digraph, "pipe", no_dot)
    monkeypatch.setattr(graphviz.Digraph, "render", no_dot)
    loss, _ = with_rnn("lstm", T=60)
    dot = draw_graph(loss, view="ops", max_steps="all")
    for attempt in (lambda: render(dot, tmp_path / "big.svg"), dot.pipe, lambda: dot.render(tmp_path / "big")):
        with pytest.raises(LayoutTooLarge, match=r"max_steps=\d+") as info:
            attempt()
        assert "\n" not in str(info.value)
    fits = info.value.max_steps
    assert 2 <= fits < 60 and info.value.nodes > info.value.limit
    smaller = draw_graph(loss, view="ops", max_steps=fits)
    smaller.check_layout()      # what the message advises does fit
    assert not list(tmp_path.iterdir())
    assert render(dot, tmp_path / "big.dot").exists()   # DOT text needs no layout: written
    shown = dot._repr_mimebundle_()
    assert list(shown) == ["text/plain"] and "Not drawn" in shown["text/plain"]


def test_cli_draw_of_500_steps_elides_or_refuses_in_one_line(tmp_path):
    from test_cli import cli
    out = tmp_path / "ops.dot"
    result = cli("draw", "--steps", "500", "--view", "ops", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "steps …" in out.read_text()
    refused = cli("draw", "--steps", "500", "--view", "ops", "--max-steps", "500", "-o", tmp_path / "ops.svg")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "--max-steps" in refused.stderr
    assert not (tmp_path / "ops.svg").exists()


# ----------------------------------------------------------------------------------------------
# colours
# ----------------------------------------------------------------------------------------------
def last_state_loss(T):
    """A chain whose loss reads the last state only: ∂L/∂a_T is v, whatever T."""
    cell = RNNCell(2, 3, rng=0)
    cell.W.data *= 0.3
    a, states = None, []
    for _ in range(T):
        a = cell(np.full((1, 2), 0.5), a)
        states.append(a)
    loss = (a * np.array([[0.5, -1.0, 2.0]])).sum()
    loss.backward()
    return loss, states


def test_the_same_norm_gets_the_same_colour_in_two_figures():
    short, s_states = last_state_loss(3)
    long, l_states = last_state_loss(12)
    assert np.isclose(s_states[-1].grad_norm, l_states[-1].grad_norm)
    a = fills(draw_graph(short, show_grads=True).source)
    b = fills(draw_graph(long, show_grads=True).source)
    assert a["a_3"] == b["a_12"] == SCALE.colour(s_states[-1].grad_norm)
    assert a["a_1"] != b["a_1"]                        # different norms, different decades
    for states, f in ((s_states, a), (l_states, b)):
        for k, s in enumerate(states, start=1):
            assert f[f"a_{k}"] == SCALE.colour(s.grad_norm)


def test_colours_go_by_decade_and_the_key_shows_the_decades_drawn():
    assert SCALE.colour(0.011) == SCALE.colour(0.099) != SCALE.colour(0.1)  # a 2x range is one colour
    assert SCALE.colour(1e-30) == SCALE.decade_colour(SCALE.LOW)
    loss, states = last_state_loss(12)
    assert "‖∂L/∂" not in draw_graph(loss).source    # no gradients asked for: no key
    source = draw_graph(loss, show_grads=True, max_steps="all").source
    decades = SCALE.decades([s.grad_norm for s in states])
    assert len(decades) >= 3
    for d in decades:
        assert SCALE.decade_colour(d) in source and SCALE.decade_text(d) in source
    assert SCALE.decade_colour(decades[-1] + 1) not in re.search(r"label=<<TABLE BORDER=\"1\".*", source).group(0)


def test_circles_are_one_size():
    """A label never makes its circle bigger: one width for every circle, numbers or not."""
    loss, _ = last_state_loss(6)
    source = draw_graph(loss, show_grads=True).source
    default = re.search(r"^\tnode \[(.*shape=circle.*)\]$", source, re.M).group(1)
    assert "fixedsize=shape" in default and "width=0.78" in default and "height=0.78" in default
    lines = re.findall(r"^\t+(?!(?:graph|node|edge) \[)\w+ \[.*$", source, re.M)
    circles = [ln for ln in lines if "shape=" not in ln]
    assert len(circles) >= 12 and not any("width=" in ln for ln in circles)


def test_the_ops_view_shows_a_gradient_without_a_roles_colour():
    loss, _ = with_rnn("rnn", T=3)
    loss.backward()
    source = draw_graph(loss, view="ops", show_grads=True).source
    state_lines = [ln for ln in source.splitlines() if "‖∂L/∂·‖" in ln]
    assert len(state_lines) == 3
    for line in state_lines:
        assert 'fillcolor="#009E73"' in line           # still the hidden state's colour
        assert re.search(r'BGCOLOR="(#\w+)"', line)    # the norm's colour is a swatch of its own


# ----------------------------------------------------------------------------------------------
# the legend on every picture; Jupyter without dot
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("view", ["unfolded", "folded", "ops"])
def test_every_view_has_its_legend_and_a_title(view):
    loss, _ = with_rnn("lstm", T=3)
    source = draw_graph(loss, view=view, title="Trained model").source
    assert "Trained model" in source
    assert ("shared parameters" in source) if view != "ops" else ("cluster_legend" in source)
    if view != "ops":
        assert "<I>b</I><SUB>y</SUB>" in source and "cell state" in source   # c_t is the LSTM's cell state


def test_the_picture_train_writes_keeps_its_legend(tmp_path):
    from tinygrad_rnn import RNN
    from tinygrad_rnn.commands.problems import AddingProblem, CharProblem
    from tinygrad_rnn.commands.trained_picture import draw_trained
    from tinygrad_rnn.tasks import make_corpus
    model = RNN(2, 4, output_size=1, cell="gru", rng=0)
    out = draw_trained(model, AddingProblem(10, 2), tmp_path / "unrolled.dot")
    text = out.read_text()
    assert "shared parameters" in text and "Trained adding model" in text and "fixed log scale" in text
    assert text.count("-> L") == 1          # the adding task reads the last output only
    # a character window that stops at a sentence's end is drawn over its own steps only: every
    # state it shows has a gradient (none is padding)
    problem = CharProblem(make_corpus(), 48, 4)  # its first window (seed 0) stops at a sentence end
    assert problem.lengths(problem.batch(np.random.default_rng(0), 1)[1]) is not None
    model = RNN(problem.input_size, 8, output_size=problem.output_size, rng=0)
    text = draw_trained(model, problem, tmp_path / "char.dot").read_text()
    assert "shared parameters" in text and "Trained char model" in text
    assert "‖∂L/∂a‖ = 0\"" not in text and "‖∂L/∂a‖ = 0.0\"" not in text


def test_jupyter_display_without_dot_shows_the_hint_and_the_dot_text(tmp_path, monkeypatch):
    loss, _ = with_rnn("rnn", T=2)
    dot = draw_graph(loss)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on the way
    shown = dot._repr_mimebundle_(include=["image/svg+xml"])
    assert list(shown) == ["text/plain"]
    hint, rest = shown["text/plain"].split("\n", 1)
    assert "apt-get install graphviz" in hint and rest.strip() == dot.source.strip()


def test_jupyter_display_never_raises(monkeypatch):
    loss, _ = with_rnn("rnn", T=2)
    dot = draw_graph(loss)

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    assert "install Graphviz" in dot._repr_mimebundle_()["text/plain"]

    def broken(*args, **kwargs):
        raise RuntimeError("")

    monkeypatch.setattr(graphviz.Digraph, "pipe", broken)
    assert "RuntimeError" in dot._repr_mimebundle_()["text/plain"]


@needs_dot
def test_jupyter_display_with_dot_is_the_svg():
    loss, _ = with_rnn("rnn", T=2)
    shown = draw_graph(loss)._repr_mimebundle_()
    assert "<svg" in shown["image/svg+xml"]


# ----------------------------------------------------------------------------------------------
# hints, the gallery, and reading the graph through the node interface only
# ----------------------------------------------------------------------------------------------
def test_hints_check_their_arguments():
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="viz.step"):
            with step(bad):
                pass
    with pytest.raises(ValueError, match="viz.phase"):
        with phase(""):
            pass


def test_hints_change_nothing_but_the_picture():
    cell = RNNCell(2, 3, rng=0)
    a = None
    with phase("warm-up"):
        for t in range(3):
            with step(t):
                a = cell(Tensor(np.ones((1, 2))), a)
    loss = a.sum()
    loss.backward()
    assert cell.W.grad is not None and 'label="warm-up  t = 3"' in draw_graph(loss).source


def test_every_gallery_snippet_is_on_the_page_as_it_runs():
    import sys
    sys.path.insert(0, str(ROOT / "docs"))
    from figure_code.gallery import SNIPPETS, run
    page = (ROOT / "docs" / "seeing_the_graph.md").read_text(encoding="utf-8")
    for name, code in SNIPPETS.items():
        assert f"```python\n{code}```" in page, name
        assert f"figures/{name}.svg" in page, name
        assert run(name).source.startswith("digraph")


def test_viz_reads_the_graph_through_the_node_interface_only():
    private = re.compile(r"(?<!self)\.(_[a-z]\w*)\b")
    allowed = {"_repr_mimebundle_"}  # graphviz's own Jupyter hook, which Picture overrides
    for path in sorted((ROOT / "tinygrad_rnn" / "viz").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        names = {m for m in private.findall(text)} - allowed
        assert not names, f"{path.name} reads private names {sorted(names)}"
        assert not re.search(r"\.data\b|\.grad\b|isinstance\([^)]*Parameter", text), path.name
