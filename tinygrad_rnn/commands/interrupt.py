"""Ctrl-C during training: finish the current step, then stop so a consistent checkpoint can be saved."""
from __future__ import annotations

import signal


class StopOnInterrupt:
    """Inside this block the first SIGINT only sets `requested`; a second one interrupts at once.

    Stopping between steps (instead of wherever KeyboardInterrupt lands) means the parameters and the
    optimizer state are never saved half-updated.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> StopOnInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous)
