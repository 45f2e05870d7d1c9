"""Parity with PyTorch, when torch is installed (it is never a dependency):

    python benchmarks/torch_parity.py

Cells: loads PyTorch's weights into each cell, runs 5 steps in float64, and compares hidden states,
input gradients and weight gradients, then moves the weights back into a fresh PyTorch cell.
Whole models: a torch module of an nn.RNN / LSTM / GRU with num_layers=2 and an nn.Linear head, loaded
into `RNN` with `load_torch_state_dict`, compared on outputs, final states and the gradients of the
inputs and of every parameter (in PyTorch's names), then exported back with `torch_state_dict`.
Last, the snippets of docs/pytorch_interop.md are run as written. Prints the largest differences;
exits non-zero on a mismatch."""
import sys
from pathlib import Path

import numpy as np

from tinygrad_rnn import RNN, GRUCell, LSTMCell, RNNCell, Tensor

ROOT = Path(__file__).resolve().parent.parent


def make_cell(kind, n=3, H=4):
    cls = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}[kind]
    return cls(n, H, dtype=np.float64, rng=11)


def check_cells(torch):
    rng = np.random.default_rng(16)
    for kind, theirs in (("rnn", torch.nn.RNNCell(3, 4)), ("lstm", torch.nn.LSTMCell(3, 4)),
                         ("gru", torch.nn.GRUCell(3, 4))):
        theirs = theirs.double()
        ours = make_cell(kind)
        ours.load_torch_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x = rng.standard_normal((5, 2, 3))
        X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        s = st_ = None
        total, total_t = 0, 0
        for t in range(5):
            s = ours(X[t], s)
            st_ = theirs(Xt[t], st_)
            h, ht = (s[0], st_[0]) if kind == "lstm" else (s, st_)
            total, total_t = total + (h * h).sum(), total_t + (ht * ht).sum()
            np.testing.assert_allclose(h.data, ht.detach().numpy(), rtol=1e-12, atol=1e-14)
        total.backward()
        total_t.backward()
        np.testing.assert_allclose(X.grad, Xt.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.U.grad, theirs.weight_ih.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.W.grad, theirs.weight_hh.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.b.grad, theirs.bias_ih.grad.numpy(), rtol=1e-10, atol=1e-14)
        back = type(theirs)(3, 4).double()
        back.load_state_dict({k: torch.from_numpy(v) for k, v in ours.torch_state_dict().items()})
        with torch.no_grad():
            a, b = back(Xt[0]), theirs(Xt[0])
        a, b = (a[0], b[0]) if kind == "lstm" else (a, b)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
        print(f"{kind}: outputs, input, U, W and b gradients, and the exported weights match torch")


def largest_difference(ours, theirs) -> tuple[float, float]:
    """(max absolute difference, max difference relative to the largest magnitude of theirs)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    diff = float(np.abs(ours - theirs).max())
    return diff, diff / max(float(np.abs(theirs).max()), 1e-300)


def check_models(torch, T=7, B=3, n_in=4, H=5, out=3, layers=2):
    rng = np.random.default_rng(17)
    for kind, recurrent in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        class TorchModel(torch.nn.Module):  # an nn.LSTM (or RNN, GRU) and an nn.Linear head
            def __init__(self, recurrent=recurrent):
                super().__init__()
                self.rnn = recurrent(n_in, H, num_layers=layers)
                self.linear = torch.nn.Linear(H, out)

            def forward(self, xs):
                hs, state = self.rnn(xs)
                return self.linear(hs), state

        torch.manual_seed(3)
        theirs = TorchModel().double()
        ours = RNN(n_in, H, output_size=out, cell=kind, num_layers=layers, dtype=np.float64)
        ours.load_torch_state_dict({k.removeprefix("rnn."): v.detach().numpy() for k, v in theirs.state_dict().items()})

        x = rng.standard_normal((T, B, n_in))
        w = rng.standard_normal((T, B, out))  # L = Σ w ⊙ ŷ: every output's gradient differs
        X, Xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, state = ours(X)
        ys_t, state_t = theirs(Xt)
        (ys * w).sum().backward()
        (ys_t * torch.from_numpy(w)).sum().backward()

        report = {"outputs": largest_difference(ys.data, ys_t.detach().numpy())}
        h_n = state_t[0] if kind == "lstm" else state_t
        h_ours = np.stack([s[0].data if kind == "lstm" else s.data for s in state])
        report["final h"] = largest_difference(h_ours, h_n.detach().numpy())
        if kind == "lstm":
            report["final c"] = largest_difference(np.stack([s[1].data for s in state]), state_t[1].detach().numpy())
        report["input grad"] = largest_difference(X.grad, Xt.grad.numpy())
        grads = {"linear.weight": ours.V.grad, "linear.bias": ours.c.grad}
        for k, cell in enumerate(ours.cells):
            grads[f"rnn.weight_ih_l{k}"], grads[f"rnn.weight_hh_l{k}"] = cell.U.grad, cell.W.grad
            grads[f"rnn.bias_ih_l{k}"] = cell.b.grad  # b = bias_ih + bias_hh: both get b's gradient
            grads[f"rnn.bias_hh_l{k}"] = (np.concatenate([cell.b.grad[:2 * H], cell.b_hn.grad]) if kind == "gru"
                                          else cell.b.grad)
        param_diffs = [largest_difference(grads[name], p.grad.numpy()) for name, p in theirs.named_parameters()]
        assert len(param_diffs) == len(grads) == 4 * layers + 2
        report["parameter grads"] = (max(d[0] for d in param_diffs), max(d[1] for d in param_diffs))

        back = TorchModel().double()  # and back: our weights in a fresh torch model compute the same function
        back.load_state_dict({("rnn." + k if not k.startswith("linear.") else k): torch.from_numpy(v)
                              for k, v in ours.torch_state_dict().items()})
        with torch.no_grad():
            report["exported outputs"] = largest_difference(back(Xt)[0].numpy(), ys_t.detach().numpy())

        worst = max(rel for _, rel in report.values())
        print(f"torch.nn.{recurrent.__name__}(num_layers={layers}) + nn.Linear, float64, T={T}, batch {B}:")
        for what, (absolute, relative) in report.items():
            print(f"  {what:<17} max |diff| {absolute:.1e}  relative {relative:.1e}")
        assert worst < 1e-10, f"{kind}: a difference of {worst:.1e} relative is more than rounding"


def check_docs(torch):
    """Run docs/pytorch_interop.md's python snippets as written, in order, in one namespace."""
    sys.path.insert(0, str(ROOT / "docs"))
    from snippets import python_snippets, run_page

    page = ROOT / "docs" / "pytorch_interop.md"
    run_page(page, everything=True)  # they are marked "not run" for the test suite, which has no torch
    print(f"{page.relative_to(ROOT)}: its {len(python_snippets(page))} python snippets ran")


if __name__ == "__main__":
    try:
        import torch
    except ImportError:
        sys.exit("torch is not installed: pip install torch (CPU build) to run this comparison")
    check_cells(torch)
    check_models(torch)
    check_docs(torch)
