"""Checkpoints: round trips, atomic replacement, refusal of bad files, and state dicts that do not
fit changing nothing."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import tinygrad_rnn.serialization as serialization
from tinygrad_rnn import RNN, Tensor, load, save
from tinygrad_rnn.optim import Adam


def params_of(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same(a: dict, b: dict):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        np.testing.assert_array_equal(a[k], b[k])


def files_in(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_module_round_trip(tmp_path, cell):
    model = RNN(3, 4, 2, cell=cell, num_layers=2, rng=0)
    path = tmp_path / "model.npz"
    save(model, path)
    loaded = load(path)
    assert_same(loaded, model.state_dict())
    other = RNN(3, 4, 2, cell=cell, num_layers=2, rng=99)
    other.load_state_dict(loaded)
    xs = np.random.default_rng(1).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(model(xs)[0].data, other(xs)[0].data)
    assert files_in(tmp_path) == ["model.npz"]


def test_dict_round_trip_keeps_dtypes_shapes_and_any_key(tmp_path):
    state = {"a": np.arange(6, dtype=np.float64).reshape(2, 3), "b": np.float32(1.5), "step": np.array(7),
             "file": np.zeros(2), "allow_pickle": np.ones(1), "nested.name/with slash": np.ones((1, 1, 2)),
             "t": Tensor(np.ones(3, dtype=np.float32), requires_grad=True)}
    save(state, str(tmp_path / "ckpt"))  # no suffix is added
    loaded = load(tmp_path / "ckpt")
    expected = {k: np.asarray(v.data if isinstance(v, Tensor) else v) for k, v in state.items()}
    assert_same(loaded, expected)


def test_optimizer_state_round_trip(tmp_path):
    model = RNN(2, 3, 1, rng=0)
    opt = Adam(model.parameters())
    out, _ = model(np.ones((3, 1, 2)))
    out.sum().backward()
    opt.step()
    save(opt, tmp_path / "opt.npz")
    fresh = Adam(model.parameters())
    fresh.load_state_dict(load(tmp_path / "opt.npz"))
    assert_same(fresh.state_dict(), opt.state_dict())


def test_save_replaces_an_existing_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"x": np.zeros(3)}, path)
    save({"x": np.ones(3)}, path)
    np.testing.assert_array_equal(load(path)["x"], np.ones(3))
    assert files_in(tmp_path) == ["ckpt.npz"]


@pytest.mark.parametrize("failure", ["write", "replace", "interrupt"])
def test_a_failed_save_keeps_the_old_checkpoint_and_no_temporary(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.npz"
    save({"x": np.zeros(3), "y": np.zeros(2)}, path)
    original = path.read_bytes()
    calls = []

    def write_then_fail(member, array, allow_pickle=True):
        calls.append(1)
        if len(calls) == 2:  # after the first array reached the temporary file
            raise OSError("disk full")
        real_write(member, array, allow_pickle=allow_pickle)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    def replace_fails(*args, **kwargs):
        raise OSError("cannot rename")

    real_write = np.lib.format.write_array
    if failure == "write":
        monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    elif failure == "replace":
        monkeypatch.setattr(serialization.os, "replace", replace_fails)
    else:
        monkeypatch.setattr(serialization.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt if failure == "interrupt" else OSError):
        save({"x": np.ones(3), "y": np.ones(2)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert files_in(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(load(path)["x"], np.zeros(3))


def test_a_failed_first_save_leaves_nothing(tmp_path):
    with pytest.raises(TypeError, match="'bad' holds Python objects"):
        save({"ok": np.zeros(2), "bad": np.array([{"a": 1}], dtype=object)}, tmp_path / "c.npz")
    assert files_in(tmp_path) == []
    with pytest.raises(TypeError, match="Module or a dict"):
        save([np.zeros(2)], tmp_path / "c.npz")
    with pytest.raises(TypeError, match="keys must be non-empty strings"):
        save({1: np.zeros(2)}, tmp_path / "c.npz")
    assert files_in(tmp_path) == []


# ----------------------------------------------------------------------------------------------
# Bad files
# ----------------------------------------------------------------------------------------------
def test_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(RNN(3, 8, 2, rng=0), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=r"ckpt\.npz.*(truncated|damaged)"):
            load(path)


def test_damaged_member_is_rejected(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"x": np.arange(100.0)}, path)
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # inside the array's bytes: the zip's checksum no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"ckpt\.npz.*damaged"):
        load(path)


def test_foreign_files_are_rejected(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint\n")
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hello")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    for path in (text, npy, empty):
        with pytest.raises(ValueError, match=rf"{path.name}.*not a \.npz checkpoint"):
            load(path)
    with pytest.raises(ValueError, match=r"other\.zip.*not an array"):
        load(other_zip)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load(tmp_path / "missing.npz")


class _Evil:
    """Unpickling this would create a file: the proof that a checkpoint ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickles_are_never_loaded(tmp_path):
    marker = tmp_path / "pwned"
    inside = tmp_path / "objects.npz"
    np.savez(inside, ok=np.zeros(2), evil=np.array([_Evil(str(marker))], dtype=object))
    with pytest.raises(ValueError, match=r"objects\.npz.*pickled"):
        load(inside)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"w": _Evil(str(marker))}))
    with pytest.raises(ValueError, match=r"raw\.pkl.*not a \.npz checkpoint"):
        load(raw)
    assert not marker.exists()


# ----------------------------------------------------------------------------------------------
# State dicts that do not fit change nothing
# ----------------------------------------------------------------------------------------------
def test_mismatched_state_dicts_change_nothing(tmp_path):
    model = RNN(3, 4, 2, cell="lstm", rng=0)
    before = params_of(model)
    good = {k: v + 1 for k, v in before.items()}
    cases = [
        ({k: v for k, v in good.items() if k != "c"}, KeyError, "missing.*'c'"),
        ({**good, "cells.1.U": np.zeros((16, 4))}, KeyError, "unexpected.*cells.1.U"),
        ({**good, "V": np.zeros((4, 2))}, ValueError, r"'V' has shape \(4, 2\).*\(2, 4\)"),
        ({**good, "cells.0.b": np.zeros(15)}, ValueError, "cells.0.b"),
    ]
    for state, error, match in cases:
        with pytest.raises(error, match=match):
            model.load_state_dict(state)
        assert_same(params_of(model), before)
    # and through a checkpoint of a different model
    save(RNN(3, 5, 2, cell="lstm", rng=1), tmp_path / "other.npz")
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict(load(tmp_path / "other.npz"))
    assert_same(params_of(model), before)
