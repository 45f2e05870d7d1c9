"""Reading a user's text file, with an error that names the problem for each way it can fail."""
from __future__ import annotations

from pathlib import Path

from .errors import CLIError


def read_text(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise CLIError(f"text file not found: {path}")
    if p.is_dir():
        raise CLIError(f"{path} is a directory, expected a UTF-8 text file")
    try:
        raw = p.read_bytes()
    except OSError as error:
        raise CLIError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CLIError(f"{path} is not UTF-8 text (byte {error.start} cannot be decoded)") from None
    if not text.strip():
        raise CLIError(f"{path} is empty")
    return text
