"""A progress bar with the training loss and the latest held-out loss: tqdm when installed,
otherwise a line every tenth of the run."""
from __future__ import annotations

import sys
import time


class _Lines:
    """What the user sees without tqdm: occasional lines with the step, the losses and the speed."""

    def __init__(self, total: int, initial: int) -> None:
        self.total, self.count, self.start, self.t0 = total, initial, initial, time.perf_counter()
        self.every = max(1, (total - initial) // 10)

    def update(self, loss: float, held_out: float | None = None) -> None:
        self.count += 1
        if (self.count - self.start) % self.every == 0 or self.count == self.total:
            rate = (self.count - self.start) / max(time.perf_counter() - self.t0, 1e-9)
            held = "" if held_out is None else f"  held-out {held_out:.4f}"
            print(f"step {self.count}/{self.total}  loss {loss:.4f}{held}  {rate:.1f} steps/s", file=sys.stderr)

    def close(self) -> None:
        pass


class _Bar:
    def __init__(self, total: int, initial: int) -> None:
        from tqdm import tqdm
        self.bar = tqdm(total=total, initial=initial, unit="step", desc="train", dynamic_ncols=True)

    def update(self, loss: float, held_out: float | None = None) -> None:
        shown = {"loss": f"{loss:.4f}"}
        if held_out is not None:
            shown["held-out"] = f"{held_out:.4f}"
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _Silent:
    def update(self, loss: float, held_out: float | None = None) -> None:
        pass

    def close(self) -> None:
        pass


def progress(total: int, initial: int = 0, quiet: bool = False):
    if quiet:
        return _Silent()
    try:
        return _Bar(total, initial)
    except ImportError:
        print('(for a progress bar: pip install "tinygrad_rnn[train]")', file=sys.stderr)
        return _Lines(total, initial)
