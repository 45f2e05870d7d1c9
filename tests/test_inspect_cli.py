"""`tinygrad-rnn inspect`, run as a user runs it, and its page opened in a real headless Chromium."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

TINY = ["--steps", "4", "--seq-len", "8", "--hidden", "8", "--batch", "4", "--quiet"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def cli(*args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_rnn", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inspect")
    out = {}
    for task, options in (("char", TINY), ("adding", ["--task", "adding", *TINY]),
                          ("copy", ["--task", "copy", "--cell", "lstm", *TINY])):
        result = cli("train", *options, "--out", root / task)
        assert result.returncode == 0, result.stderr
        out[task] = root / task / "model.npz"
    return out


@pytest.fixture(scope="module")
def pages(runs, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pages")
    out = {}
    for task, checkpoint in runs.items():
        page = root / f"{task}.html"
        result = cli("inspect", "--checkpoint", checkpoint, "-o", page)
        assert result.returncode == 0, result.stderr
        assert f"Wrote {page}" in result.stdout
        out[task] = page
    return out


def self_contained(page: str) -> None:
    for attribute in ("src", "href"):
        for value in re.findall(rf'\b{attribute}="([^"]*)"', page):
            assert value.startswith("data:image/png;base64,"), value[:60]
    assert "<script" not in page and "<link" not in page and "url(" not in page
    assert "default-src 'none'; img-src data:" in page  # the browser may load nothing else


def test_character_model_report(pages):
    page = pages["char"].read_text(encoding="utf-8")
    self_contained(page)
    assert "Units that follow something in the input" in page and "position in the word" in page
    assert page.count("<img ") >= 6 and page.count('<p class="look">') == page.count("<img ")
    assert "held-out text" in page and "↵" in page  # the default text crosses a line break
    assert "Not in this input, so not ranked: inside quotes, inside brackets" in page


def test_task_model_reports_have_no_text_views(pages):
    adding = pages["adding"].read_text(encoding="utf-8")
    self_contained(adding)
    assert "sum of the marked values so far" in adding and "reads numbers, not text" in adding
    assert "<pre" not in adding  # no text coloured by units
    copy = pages["copy"].read_text(encoding="utf-8")
    self_contained(copy)
    assert "the delimiter has been read" in copy and 'alt="connectivity map"' in copy


def test_given_text_and_units(runs, tmp_path):
    page = tmp_path / "mine.html"
    result = cli("inspect", "--checkpoint", runs["char"], "--text", "The cat sees a dog.", "--unit", "3",
                 "--unit", "0", "-o", page)
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert "Units you asked for" in text and "<b>unit 3</b>" in text and "<b>unit 0</b>" in text
    assert "the text given with --text" in text and "19 steps" in text


def test_help_and_a_one_character_text(runs, tmp_path):
    result = cli("inspect", "--help")
    assert result.returncode == 0 and "--checkpoint" in result.stdout and "--unit" in result.stdout
    page = tmp_path / "one.html"
    result = cli("inspect", "--checkpoint", runs["char"], "--text", "T", "-o", page)
    assert result.returncode == 0, result.stderr
    text = page.read_text(encoding="utf-8")
    assert "recorded over 1 step;" not in text and "recorded over 1 step." in text
    assert 'alt="heatmap of grads"' not in text and 'alt="heatmap of states"' in text  # nothing to predict


# -- in a real browser ---------------------------------------------------------------------------
PROBE = """<script>
const problems = [];
document.addEventListener('securitypolicyviolation', e => problems.push('blocked ' + e.blockedURI));
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  document.body.setAttribute('data-probe', JSON.stringify({
    images: images.length,
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt || i.src.slice(0, 40)),
    resources: performance.getEntriesByType('resource').map(r => r.name),
    problems: problems,
    text: document.body.innerText}));
});
</script>"""


def chromium(*args, timeout=90) -> subprocess.CompletedProcess:
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def rendered(page: Path, tmp_path: Path) -> dict:
    """What Chromium made of the page: a copy of it with a probe that reports, after loading, every
    image and whether it decoded, every resource fetched and every load the page's policy blocked."""
    source = page.read_text(encoding="utf-8")
    probed = source.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    probed = probed.replace("</body>", PROBE + "</body>")
    copy = tmp_path / f"probed-{page.name}"
    copy.write_text(probed, encoding="utf-8")
    result = chromium("--dump-dom", "--virtual-time-budget=10000", copy.as_uri())
    found = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert found, f"Chromium did not load the page: {result.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, tmp_path: Path) -> np.ndarray:
    shot = tmp_path / f"{page.stem}.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    return mpimg.imread(shot)[..., :3]


@pytest.mark.parametrize("task", ["char", "adding"])
def test_the_page_renders_in_chromium(pages, task, tmp_path):
    page = pages[task]
    probe = rendered(page, tmp_path)
    assert probe["images"] == page.read_text(encoding="utf-8").count("<img ") >= 6
    assert probe["broken"] == [] and probe["problems"] == []
    assert probe["resources"] == []  # nothing fetched: every image is inline
    for heading in ("Inside the cell", "Gradients through time", "What to look for"):
        assert heading in probe["text"]
    if task == "char":
        assert "Units that follow something in the input" in probe["text"]

    pixels = screenshot(page, tmp_path)
    assert pixels.shape[:2] == (2000, 1200)
    ink = np.any(pixels < 0.9, axis=-1)  # anything darker than near-white
    assert ink.mean() > 0.05, "the screenshot is nearly blank"
    colours = np.unique((pixels * 15).round().reshape(-1, 3), axis=0)
    assert len(colours) > 40, "the screenshot has too few colours for pictures"
    assert ink[:1000].mean() > 0.03 and ink[1000:].mean() > 0.03  # filled top and bottom, not one strip


def test_the_probe_catches_what_is_not_inline(pages, tmp_path):
    """A negative control: the same page with an image from the network fails the checks above."""
    broken = tmp_path / "broken.html"
    source = pages["adding"].read_text(encoding="utf-8")
    broken.write_text(source.replace("<img ", '<img src="http://192.0.2.1/x.png" alt="outside"><img ', 1),
                      encoding="utf-8")
    probe = rendered(broken, tmp_path)
    assert probe["broken"] == ["outside"]
    assert probe["problems"] == ["blocked http://192.0.2.1/x.png"]


# -- bad input: one line, exit 2 -------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad(runs, tmp_path_factory) -> dict[str, Path]:
    from tinygrad_rnn import RNN, save

    root = tmp_path_factory.mktemp("bad-inspect")
    files = {"weights": root / "weights.npz", "notes": root / "notes.txt", "dir": root}
    save(RNN(3, 4, output_size=2), str(files["weights"]))  # a model's weights, not a training checkpoint
    files["notes"].write_text("not a checkpoint at all\n")
    return {**files, **{task: path for task, path in runs.items()}}


BAD = {
    "weights saved with save()": (["--checkpoint", "{weights}"], "holds arrays without a run's description"),
    "a text file": (["--checkpoint", "{notes}"], "cannot read the checkpoint"),
    "missing checkpoint": (["--checkpoint", "{dir}/nothing.npz"], "no run at"),
    "characters never seen": (["--checkpoint", "{char}", "--text", "Tea for €5"], "never saw: '5€'"),
    "empty text": (["--checkpoint", "{char}", "--text", ""], "--text is empty"),
    "text too long": (["--checkpoint", "{char}", "--text", "a" * 1001], "keep it to 1000"),
    "unit out of range": (["--checkpoint", "{char}", "--unit", "8"], "--unit 8 is out of range: the model has 8"),
    "negative unit": (["--checkpoint", "{char}", "--unit", "-1"], "must not be negative"),
    "text for a task model": (["--checkpoint", "{adding}", "--text", "abc"], "leave out --text"),
    "not an html file": (["--checkpoint", "{char}", "-o", "{dir}/report.txt"], "ending in .html"),
    "missing folder": (["--checkpoint", "{char}", "-o", "{dir}/no/such/report.html"], "does not exist"),
}


@pytest.mark.parametrize("args, message", BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line_and_exit_2(args, message, bad, tmp_path):
    result = cli("inspect", *[a.format(**bad) for a in args], cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("tinygrad-rnn: error: "), result.stderr
    assert message in lines[0], lines[0]
    assert not (tmp_path / "report.html").exists()  # nothing written
