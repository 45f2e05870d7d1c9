"""The documentation stays true to the files and names it points at."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Every public name of the contract, as a user imports or calls it.
PUBLIC = ["Tensor", "no_grad", "grad", "set_default_dtype", "save", "load", "Module", "Parameter", "Linear",
          "Embedding", "RNNCell", "LSTMCell", "GRUCell", "RNN", "F.softmax", "F.log_softmax", "F.cross_entropy",
          "F.mse_loss", "F.stack", "F.concat", "SGD", "Adam", "Adagrad", "clip_grad_norm", "draw_graph",
          "hidden_grad_norms", "gradcheck", "strategies", "load_torch_state_dict", "torch_state_dict", "load_run",
          "tinygrad-rnn train", "tinygrad-rnn sample", "tinygrad-rnn draw", "tinygrad-rnn gradflow",
          "tinygrad-rnn --version", "Dropout", "manual_seed", "F.where", "F.maximum", "F.minimum", "F.leaky_relu",
          "F.softplus", "F.elu", "F.gelu", "F.silu", "F.dropout", "F.one_hot", "F.gather", "F.nll_loss",
          "F.binary_cross_entropy", "F.binary_cross_entropy_with_logits", "F.logsumexp", "F.var", "F.std",
          "F.argmax", "F.argmin", "F.squeeze", "F.unsqueeze", "F.flatten", "F.expand", "F.split", "F.chunk",
          "min", "argmax", "argmin", "squeeze", "unsqueeze", "flatten", "expand", "split", "chunk", "logsumexp",
          "var", "std", "permute", "view", "gather", "edge_shapes"]


def test_api_reference_covers_every_public_name():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    fenced = re.findall(r"```\w*\n(.*?)```", text, re.S)
    inline = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    code = " ".join(fenced + inline)  # names count where they are shown as code
    missing = [name for name in PUBLIC if not re.search(rf"(?<!\w){re.escape(name)}\b", code)]
    assert not missing, f"docs/api.md does not document {missing}"


def test_every_linked_file_exists():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_committed_figures_are_current():
    """Each figure in docs/figures/ is what docs/make_figures.py draws today from its code."""
    import shutil
    import subprocess
    import sys

    if shutil.which("dot") is None:
        raise AssertionError("Graphviz's dot is needed to check the figures (.ci/run installs it)")
    result = subprocess.run([sys.executable, str(DOCS / "make_figures.py"), "--check"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
