"""Counting words right in messages: "1 step", "2 steps"."""
from __future__ import annotations


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """`n` and the noun, singular for exactly one: plural(1, "step") == "1 step"; thousands get commas."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"
