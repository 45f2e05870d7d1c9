"""Bad input and numerical faults end in a clear message; long runs do not leak."""
import gc
import tracemalloc

import numpy as np
import pytest

from tinygrad_rnn import Linear, RNNCell, Tensor, detect_anomaly
from tinygrad_rnn import functional as F


# -- errors that teach --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
])
def test_binary_shape_mismatch_names_op_and_shapes(make):
    a, b = Tensor(np.ones((3, 4)), requires_grad=True), Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(2, 4\)") as info:
        make(a, b)
    assert str(info.value).split(":")[0] in ("add", "sub", "mul", "div")


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        Tensor(np.ones((3, 4))) @ Tensor(np.ones((5, 2)))


def test_non_numeric_data_cannot_be_a_tensor():
    with pytest.raises(TypeError):
        Tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        Tensor(np.array([object()], dtype=object))


def test_cell_rejects_wrong_width_naming_shapes():
    cell = RNNCell(3, 4, rng=0)
    with pytest.raises(ValueError, match=r"RNNCell.*\(batch, 3\).*\(2, 5\)"):
        cell(Tensor(np.ones((2, 5))))
    with pytest.raises(ValueError, match=r"a_prev.*\(2, 4\).*\(2, 6\)"):
        cell(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 6))))


def test_losses_name_bad_input():
    logits = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="target 7 at row 1"):
        F.cross_entropy(logits, np.array([0, 7]))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"mse_loss.*\(2, 3\).*\(3, 2\)"):
        F.mse_loss(logits, np.zeros((3, 2)))


def test_failed_load_state_dict_changes_nothing():
    layer = Linear(2, 3, rng=0)
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    bad = {"weight": np.zeros((3, 2)), "bias": np.zeros(4)}   # weight fine, bias wrong: nothing changes
    with pytest.raises(ValueError, match="'bias' has shape"):
        layer.load_state_dict(bad)
    with pytest.raises(KeyError, match="missing"):
        layer.load_state_dict({"weight": np.zeros((3, 2))})
    with pytest.raises(KeyError, match="unexpected"):
        layer.load_state_dict({**before, "extra": np.zeros(1)})
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


# -- detect_anomaly -------------------------------------------------------------------------------
def test_anomaly_in_forward_names_op_module_and_time_step():
    cell = RNNCell(2, 3, rng=0)
    xs = [np.ones((1, 2)) for _ in range(5)]
    xs[3] = np.array([[np.nan, 1.0]])
    a = None
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        for x in xs:
            a = cell(Tensor(x), a)
    message = str(info.value)
    assert "'linear'" in message and "(1, 2)" in message
    assert "RNNCell (time step 4)" in message  # the fourth input: steps count from 1, as in the pictures


def test_anomaly_in_backward_names_op():
    x = Tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt().sum()   # finite forward, infinite slope at 0
    with detect_anomaly(), pytest.raises(FloatingPointError, match="backward of 'sqrt'"):
        y.backward()


def test_anomaly_off_by_default_lets_nan_through():
    with np.errstate(all="ignore"):
        y = Tensor([-1.0]).log()
    assert np.isnan(y.data).all()


# -- memory ---------------------------------------------------------------------------------------
def _train_step(cell, head, xs, target, lr=0.01):
    a = None
    for x in xs:
        a = cell(x, a)
    loss = F.mse_loss(head(a), target)
    loss.backward()
    for p in cell.parameters() + head.parameters():
        p.data -= lr * p.grad
        p.grad = None
    return loss.item()


def test_training_iterations_do_not_leak():
    rng = np.random.default_rng(0)
    cell, head = RNNCell(4, 16, rng=1), Linear(16, 1, rng=2)
    xs = [Tensor(rng.standard_normal((8, 4)).astype(np.float32)) for _ in range(20)]
    target = Tensor(rng.standard_normal((8, 1)).astype(np.float32))
    for _ in range(20):  # warm up caches
        _train_step(cell, head, xs, target)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            _train_step(cell, head, xs, target)
        gc.collect()
        after_100 = tracemalloc.get_traced_memory()[0]
        for _ in range(400):
            _train_step(cell, head, xs, target)
        gc.collect()
        after_500 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # one step's graph is ~100 KB; a leak of even one graph per iteration would add ~40 MB
    assert after_500 - after_100 < 256 * 1024, (after_100, after_500)


def test_graph_is_freed_by_reference_counting_alone():
    """No reference cycles: dropping the loss frees the graph without the cycle collector."""
    import weakref
    gc.disable()
    try:
        x = Tensor(np.ones((2, 3)), requires_grad=True)
        cell = RNNCell(3, 4, rng=0)
        a = cell(x)
        probe = weakref.ref(a)
        loss = (a * a).sum()
        loss.backward()
        del a, loss
        assert probe() is None
    finally:
        gc.enable()


def test_optimizer_step_with_a_bad_grad_changes_no_parameter():
    from tinygrad_rnn.optim import SGD
    layer = Linear(2, 3, rng=0)
    before = [p.data.copy() for p in layer.parameters()]
    layer.weight.grad = np.ones((3, 2), np.float32)   # fine, and first in the list
    layer.bias.grad = np.ones(5, np.float32)          # wrong shape
    with pytest.raises(ValueError, match=r"grad has shape \(5,\)"):
        SGD(layer.parameters(), lr=0.1).step()
    for p, old in zip(layer.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


# -- long sequences -------------------------------------------------------------------------------
def test_rnn_trains_a_step_over_20000_steps():
    from tinygrad_rnn import RNN
    from tinygrad_rnn.optim import SGD
    rng = np.random.default_rng(3)
    rnn = RNN(2, 8, output_size=1, rng=0)
    xs = rng.standard_normal((20_000, 1, 2)).astype(np.float32)
    before = rnn.cells[0].W.data.copy()
    outputs, _ = rnn(xs)
    loss = F.mse_loss(outputs[-1], np.zeros((1, 1), np.float32))
    loss.backward()
    grads = [p.grad for p in rnn.parameters()]
    assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
    SGD(rnn.parameters(), lr=0.1).step()
    assert not np.array_equal(rnn.cells[0].W.data, before)


def _peak_bytes_of_chunked_training(total_steps, chunk=50):
    from tinygrad_rnn import RNN
    from tinygrad_rnn.nn.rnn import detach_state
    rng = np.random.default_rng(4)
    rnn = RNN(2, 16, output_size=1, rng=0)
    xs = rng.standard_normal((total_steps, 4, 2)).astype(np.float32)
    ys = rng.standard_normal((total_steps, 4, 1)).astype(np.float32)
    state = None
    gc.collect()
    tracemalloc.start()
    try:
        for start in range(0, total_steps, chunk):
            outputs, state = rnn(xs[start:start + chunk], state)
            F.mse_loss(outputs, ys[start:start + chunk]).backward()
            rnn.zero_grad()
            state = detach_state(state)   # truncated BPTT across chunks
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_truncated_bptt_keeps_memory_bounded():
    """Training a long stream in detached chunks: the peak does not grow with the stream's length."""
    short, long = _peak_bytes_of_chunked_training(500), _peak_bytes_of_chunked_training(4000)
    assert long < 1.3 * short + 64 * 1024, (short, long)
