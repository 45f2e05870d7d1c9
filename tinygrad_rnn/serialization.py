"""Checkpoints: a state dict (name -> array) as a `.npz` file.

`save` never leaves a half-written checkpoint: it writes a temporary file in the destination's
folder, flushes it to disk, then renames it over the destination (atomic on POSIX and Windows).
`load` never unpickles: object arrays are refused, so a checkpoint cannot run code.
"""
from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

# mkstemp makes owner-only files; a checkpoint gets the usual permissions instead (read once, at import)
_UMASK = os.umask(0)
os.umask(_UMASK)


def _as_arrays(obj) -> dict[str, np.ndarray]:
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise TypeError(f"save: expected a Module or a dict of arrays, got {type(obj).__name__}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"save: keys must be non-empty strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.hasobject:
            raise TypeError(f"save: '{key}' holds Python objects ({type(value).__name__}); only numeric "
                            "arrays can be saved")
        arrays[key] = array
    return arrays


def save(module_or_state_dict, path) -> None:
    """Write a Module's state_dict() (or any dict of arrays) to `path` as an uncompressed .npz,
    atomically. The path is used as given (no suffix is added)."""
    arrays = _as_arrays(module_or_state_dict)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            # the .npz layout (one .npy member per array) written directly, so any key is allowed
            with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for key, array in arrays.items():
                    with archive.open(key + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:  # interrupted or failed: the old checkpoint stays, the temporary goes
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path) -> dict[str, np.ndarray]:
    """Read a checkpoint written by `save` (or np.savez): a dict of arrays, fully read into memory.

    A file that is not a .npz archive, is truncated or damaged, or holds pickled objects raises
    ValueError naming the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":
            raise ValueError(f"load: {path!r} is a truncated or damaged .npz checkpoint (no zip directory at its end)")
        raise ValueError(f"load: {path!r} is not a .npz checkpoint (not a zip archive)")
    state = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for name in archive.files:
                value = archive[name]
                if not isinstance(value, np.ndarray):  # np.load gives raw bytes for a non-.npy member
                    raise ValueError(f"load: {path!r} is not a .npz checkpoint (member {name!r} is not an array)")
                state[name] = value
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ValueError(f"load: {path!r} holds pickled Python objects; checkpoints may only hold numeric "
                             "arrays, and pickles are never loaded (they can run code)") from None
        if str(exc).startswith("load:"):
            raise
        raise ValueError(f"load: {path!r} is a damaged .npz checkpoint: {exc}") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ValueError(f"load: {path!r} is a damaged .npz checkpoint: {exc}") from None
    return state
