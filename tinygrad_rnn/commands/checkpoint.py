"""Training checkpoints: one .npz holding the weights, the optimizer state, the loss history and a
JSON description (task, cell, sizes, vocabulary, step) that is enough to rebuild the model.

Everything is stored as plain arrays (the JSON as UTF-8 bytes), so `load` never unpickles.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..serialization import load, save
from .errors import CLIError

FORMAT = "tinygrad-rnn/train"
VERSION = 1


def write_checkpoint(path: Path, model, optimizer_arrays: dict, meta: dict, history: list[float]) -> None:
    entries = {f"model.{k}": v for k, v in model.state_dict().items()}
    entries.update({f"optim.{k}": np.asarray(v) for k, v in optimizer_arrays.items()})
    entries["history"] = np.asarray(history, dtype=np.float64)
    text = json.dumps({"format": FORMAT, "version": VERSION, **meta})
    entries["meta"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    save(entries, str(path))


def read_checkpoint(path: str) -> tuple[dict, dict, dict, list[float]]:
    """(meta, model state, optimizer arrays, loss history), or a CLIError saying what is wrong."""
    p = Path(path)
    if not p.exists():
        raise CLIError(f"checkpoint not found: {path}")
    if p.is_dir():
        raise CLIError(f"{path} is a directory; pass the model.npz inside it")
    try:
        entries = load(str(p))
    except Exception as error:  # the loader's message already says why the file is unusable
        message = str(error.args[0] if error.args else error).removeprefix("load: ")
        raise CLIError(f"cannot read the checkpoint: {message}") from None
    if "meta" not in entries:
        raise CLIError(f"{path} is not a tinygrad-rnn training checkpoint (it has no 'meta' entry)")
    try:
        meta = json.loads(np.asarray(entries["meta"], dtype=np.uint8).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise CLIError(f"{path}: the checkpoint's description is damaged") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or not isinstance(meta.get("config"), dict):
        raise CLIError(f"{path} is not a tinygrad-rnn training checkpoint")
    _check_config(meta["config"], path)
    model = {k[len("model."):]: v for k, v in entries.items() if k.startswith("model.")}
    optim = {k[len("optim."):]: v for k, v in entries.items() if k.startswith("optim.")}
    history = [float(x) for x in np.asarray(entries.get("history", []))]
    return meta, model, optim, history


def load_weights(model, state: dict, path: str) -> None:
    """Put the saved weights into a freshly built model; a mismatch means the checkpoint is another model."""
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as error:
        message = error.args[0] if error.args else error
        raise CLIError(f"{path} does not hold the model its description promises: {message}") from None


def _check_config(config: dict, path: str) -> None:
    """The fields a model is rebuilt from must be there and make sense before anything is built."""
    ok = (config.get("task") in ("char", "adding", "copy") and config.get("cell") in ("rnn", "lstm", "gru")
          and all(isinstance(config.get(k), int) and config[k] >= 1 for k in ("hidden", "seq_len", "batch", "steps"))
          and isinstance(config.get("lr"), (int, float)) and config["lr"] > 0)
    if not ok:
        raise CLIError(f"{path}: the checkpoint's description is damaged (bad or missing settings)")
