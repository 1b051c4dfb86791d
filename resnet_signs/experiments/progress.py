"""One line per finished training run, so a half-hour lab is not half an hour of silence."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


class Progress:
    """Counts an experiment's runs and prints ``depth [3/18] plain-56 seed 1: train error 0.031 (after 95 s)``.

    Args:
        name: the experiment (``depth``...), printed first.
        write: where the lines go (default: stdout, flushed, so a notebook shows them as they come).

    ``total`` (runs to come) is set by whoever makes the list of runs (:func:`pool.run_jobs`).
    """

    def __init__(self, name: str, write: Callable[[str], None] | None = None):
        self.name, self.total, self.count = name, 0, 0
        self._write = write or _print
        self._start = time.perf_counter()

    def done(self, what: str, **numbers: float) -> None:
        self.count += 1
        values = ", ".join(f"{key.replace('_', ' ')} {value:.3f}" for key, value in numbers.items())
        elapsed = time.perf_counter() - self._start
        self._write(f"  {self.name} [{self.count}/{self.total}] {what}: {values} (after {elapsed:.0f} s)")


def _print(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
