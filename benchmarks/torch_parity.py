"""Parity of the cells with PyTorch's, when torch is installed (it is never a dependency):

    python benchmarks/torch_parity.py

Loads PyTorch's weights into each cell, runs 5 steps in float64, and compares hidden states, input
gradients and weight gradients, then moves the weights back into a fresh PyTorch cell. Prints the
largest differences; exits non-zero on a mismatch."""
import sys

import numpy as np

from tinygrad_rnn import GRUCell, LSTMCell, RNNCell, Tensor


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


if __name__ == "__main__":
    try:
        import torch
    except ImportError:
        sys.exit("torch is not installed: pip install torch (CPU build) to run this comparison")
    check_cells(torch)
