"""Reading a user's text file, with an error that names the problem for each way it can fail."""
from __future__ import annotations

from pathlib import Path

from .errors import CLIError

# A character model samples windows from the text, held in memory as one integer per character;
# past this size a run would exhaust memory long before it used the text.
MAX_TEXT_BYTES = 64 * 1024 * 1024


def read_text(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise CLIError(f"text file not found: {path}")
    if p.is_dir():
        raise CLIError(f"{path} is a directory, expected a UTF-8 text file")
    size = p.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise CLIError(f"{path} is too large ({size / 2**20:.0f} MiB; the limit is "
                       f"{MAX_TEXT_BYTES // 2**20} MiB): train on an excerpt")
    try:
        raw = p.read_bytes()
    except OSError as error:
        raise CLIError(f"cannot read {path}: {error.strerror or error}") from None
    if b"\0" in raw:
        raise CLIError(f"{path} looks like a binary file (it contains NUL bytes), expected UTF-8 text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CLIError(f"{path} is not UTF-8 text (byte {error.start} cannot be decoded)") from None
    if not text.strip():
        raise CLIError(f"{path} is empty")
    return text
