"""Whole-model PyTorch interop of `RNN`, without torch: PyTorch's documented names, shapes and
equations are written out here in NumPy, and the model must agree with them."""
from __future__ import annotations

import numpy as np
import pytest

from tinygrad_rnn import RNN, Tensor

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def documented_layout(kind: str, n_in: int, H: int, layers: int, out: int | None, bias: bool = True) -> dict:
    """torch.nn.RNN / LSTM / GRU(n_in, H, num_layers=layers) as PyTorch documents its parameters, in
    state_dict order, then an nn.Linear(H, out) attribute named `linear`: weight_ih_l{k} is
    (G·H, n_in) for k = 0 and (G·H, H) above, weight_hh_l{k} (G·H, H), bias_ih_l{k} and bias_hh_l{k} (G·H,)."""
    G = GATES[kind]
    shapes = {}
    for k in range(layers):
        shapes[f"weight_ih_l{k}"] = (G * H, n_in if k == 0 else H)
        shapes[f"weight_hh_l{k}"] = (G * H, H)
        if bias:
            shapes[f"bias_ih_l{k}"] = (G * H,)
            shapes[f"bias_hh_l{k}"] = (G * H,)
    if out is not None:
        shapes["linear.weight"], shapes["linear.bias"] = (out, H), (out,)
    return shapes


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def torch_forward(kind: str, sd: dict, xs: np.ndarray, layers: int, H: int):
    """PyTorch's documented equations in NumPy: the top layer's outputs (or the Linear head's) for
    xs (T, B, I), from zero states, and each layer's final state."""
    T, B, _ = xs.shape
    inp, finals = xs, []
    for k in range(layers):
        W_ih, W_hh = sd[f"weight_ih_l{k}"], sd[f"weight_hh_l{k}"]
        b_ih = sd.get(f"bias_ih_l{k}", np.zeros(W_ih.shape[0]))
        b_hh = sd.get(f"bias_hh_l{k}", np.zeros(W_ih.shape[0]))
        h, c, hs = np.zeros((B, H)), np.zeros((B, H)), []
        for t in range(T):
            gi, gh = inp[t] @ W_ih.T + b_ih, h @ W_hh.T + b_hh
            if kind == "rnn":
                h = np.tanh(gi + gh)
            elif kind == "lstm":
                i, f = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                g, o = np.tanh(gi[:, 2 * H:3 * H] + gh[:, 2 * H:3 * H]), sigmoid(gi[:, 3 * H:] + gh[:, 3 * H:])
                c = f * c + i * g
                h = o * np.tanh(c)
            else:
                r, z = sigmoid(gi[:, :H] + gh[:, :H]), sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - z) * n + z * h
            hs.append(h)
        finals.append((h, c) if kind == "lstm" else h)
        inp = np.stack(hs)
    if "linear.weight" in sd:
        return inp @ sd["linear.weight"].T + sd["linear.bias"], finals
    return inp, finals


def random_torch_weights(kind, n_in, H, layers, out, seed=0, bias=True) -> dict:
    rng = np.random.default_rng(seed)
    layout = documented_layout(kind, n_in, H, layers, out, bias)
    return {name: rng.uniform(-0.6, 0.6, shape) for name, shape in layout.items()}


CASES = [(kind, layers, out) for kind in GATES for layers in (1, 2, 3) for out in (None, 2)]


@pytest.mark.parametrize("kind, layers, out", CASES)
def test_names_and_shapes_are_pytorchs_documented_layout(kind, layers, out):
    rnn = RNN(3, 5, output_size=out, cell=kind, num_layers=layers, rng=0)
    sd = rnn.torch_state_dict()
    assert [(k, v.shape) for k, v in sd.items()] == list(documented_layout(kind, 3, 5, layers, out).items())
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in sd.values())


def test_without_biases_there_are_no_bias_entries():
    rnn = RNN(3, 5, cell="lstm", num_layers=2, bias=False, rng=0)
    assert list(rnn.torch_state_dict()) == list(documented_layout("lstm", 3, 5, 2, None, bias=False))


@pytest.mark.parametrize("kind, layers, out", CASES)
def test_loaded_weights_follow_pytorchs_equations(kind, layers, out):
    sd = random_torch_weights(kind, 3, 4, layers, out)  # both biases non-zero, as a trained torch model has
    rnn = RNN(3, 4, output_size=out, cell=kind, num_layers=layers, rng=1, dtype=np.float64)
    rnn.load_torch_state_dict(sd)
    xs = np.random.default_rng(2).standard_normal((6, 2, 3))
    outputs, state = rnn(xs)
    expected, finals = torch_forward(kind, sd, xs, layers, 4)
    np.testing.assert_allclose(outputs.data, expected, rtol=1e-12, atol=1e-12)
    for ours, theirs in zip(state, finals, strict=True):
        for a, b in zip(ours if kind == "lstm" else [ours], theirs if kind == "lstm" else [theirs], strict=True):
            np.testing.assert_allclose(a.data, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", list(GATES))
def test_gradients_are_those_of_pytorchs_parameters(kind):
    """∂L/∂weight_ih_l1 etc. by central differences of the NumPy reference, against the model's own
    gradients mapped to PyTorch's names (U ↔ weight_ih, b ↔ bias_ih and bias_hh, a GRU's b_hn ↔ the
    n part of bias_hh, V ↔ linear.weight, c ↔ linear.bias)."""
    H, layers = 3, 2
    sd = random_torch_weights(kind, 2, H, layers, 2, seed=3)
    xs = np.random.default_rng(4).standard_normal((4, 2, 2))
    w = np.random.default_rng(5).standard_normal((4, 2, 2))  # L = Σ w ⊙ ŷ

    rnn = RNN(2, H, output_size=2, cell=kind, num_layers=layers, dtype=np.float64)
    rnn.load_torch_state_dict(sd)
    outputs, _ = rnn(Tensor(xs))
    (outputs * w).sum().backward()
    ours = {"linear.weight": rnn.V.grad, "linear.bias": rnn.c.grad}
    for k, cell in enumerate(rnn.cells):
        ours[f"weight_ih_l{k}"], ours[f"weight_hh_l{k}"], ours[f"bias_ih_l{k}"] = cell.U.grad, cell.W.grad, cell.b.grad
        ours[f"bias_hh_l{k}"] = (np.concatenate([cell.b.grad[:2 * H], cell.b_hn.grad]) if kind == "gru"
                                 else cell.b.grad)

    rng = np.random.default_rng(6)
    for name, value in sd.items():
        for index in {tuple(rng.integers(0, n) for n in value.shape) for _ in range(4)}:
            plus, minus = dict(sd), dict(sd)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][index] += 1e-6
            minus[name][index] -= 1e-6
            numeric = ((torch_forward(kind, plus, xs, layers, H)[0] * w).sum()
                       - (torch_forward(kind, minus, xs, layers, H)[0] * w).sum()) / 2e-6
            assert ours[name][index] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (name, index)


@pytest.mark.parametrize("kind, layers, out", CASES)
def test_round_trip(kind, layers, out):
    rnn = RNN(3, 4, output_size=out, cell=kind, num_layers=layers, rng=7, dtype=np.float64)
    copy = RNN(3, 4, output_size=out, cell=kind, num_layers=layers, rng=8, dtype=np.float64)
    copy.load_torch_state_dict(rnn.torch_state_dict())
    for name, value in rnn.state_dict().items():  # every parameter back exactly, a GRU's b_hn included
        np.testing.assert_array_equal(copy.state_dict()[name], value)
    # from PyTorch's side: the export of an imported dict computes the same function
    sd = random_torch_weights(kind, 3, 4, layers, out, seed=9)
    rnn.load_torch_state_dict(sd)
    again = rnn.torch_state_dict()
    assert list(again) == list(sd)
    xs = np.random.default_rng(10).standard_normal((5, 2, 3))
    np.testing.assert_allclose(torch_forward(kind, again, xs, layers, 4)[0], torch_forward(kind, sd, xs, layers, 4)[0],
                               rtol=1e-12, atol=1e-12)


def test_the_export_is_a_copy():
    rnn = RNN(3, 4, output_size=2, num_layers=2, rng=0)
    sd = rnn.torch_state_dict()
    sd["weight_hh_l1"][:] = 0
    sd["linear.weight"][:] = 0
    assert np.abs(rnn.cells[1].W.data).sum() > 0 and np.abs(rnn.V.data).sum() > 0


def bad(sd: dict, **changes) -> dict:
    out = dict(sd)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del out[key]
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("change, error, words", [
    (lambda sd: bad(sd, bias_hh_l1=None), KeyError, r"missing \['bias_hh_l1'\]"),
    (lambda sd: bad(sd, weight_ih_l2=np.zeros((12, 4))), KeyError, r"unexpected \['weight_ih_l2'\].*num_layers=2"),
    (lambda sd: bad(sd, linear__bias=None), KeyError, r"missing \['linear.bias'\]"),
    (lambda sd: bad(sd, weight_hh_l1=np.zeros((12, 5))), ValueError, r"'weight_hh_l1' has shape \(12, 5\), expected "
                                                                     r"\(12, 4\)"),
    (lambda sd: bad(sd, linear__weight=np.zeros((4, 2))), ValueError, r"'linear.weight' has shape \(4, 2\)"),
    (lambda sd: bad(sd, bias_ih_l1=np.array(["a"] * 12)), TypeError, r"'bias_ih_l1' has dtype"),
])
def test_a_bad_state_dict_is_named_and_changes_nothing(change, error, words):
    rnn = RNN(3, 4, output_size=2, cell="gru", num_layers=2, rng=0)
    before = rnn.state_dict()
    good = random_torch_weights("gru", 3, 4, 2, 2, seed=1)  # layer 0 would load; the error is in layer 1 or after
    with pytest.raises(error, match=words):
        rnn.load_torch_state_dict(change(good))
    for name, value in before.items():
        np.testing.assert_array_equal(rnn.state_dict()[name], value)


def test_a_model_without_an_output_layer_refuses_linear_entries():
    rnn = RNN(3, 4, cell="lstm", rng=0)
    sd = random_torch_weights("lstm", 3, 4, 1, 2)
    with pytest.raises(KeyError, match=r"unexpected \['linear.weight', 'linear.bias'\]"):
        rnn.load_torch_state_dict(sd)


def test_a_prefixed_state_dict_gets_a_hint():
    """A torch module holding the LSTM as `self.lstm` names its weights 'lstm.weight_ih_l0'."""
    rnn = RNN(3, 4, output_size=2, cell="lstm", rng=0)
    sd = {("lstm." + k if not k.startswith("linear.") else k): v
          for k, v in random_torch_weights("lstm", 3, 4, 1, 2).items()}
    with pytest.raises(KeyError, match=r"start with 'lstm\.'.*removeprefix"):
        rnn.load_torch_state_dict(sd)
    rnn.load_torch_state_dict({k.removeprefix("lstm."): v for k, v in sd.items()})
