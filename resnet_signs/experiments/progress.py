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
        """Report one finished run: ``what`` ("plain-56 seed 1") and its numbers by name ("train_error"),
        in the current language (the words through the catalogues; numbers and net names as they are)."""
        from resnet_signs import i18n

        self.count += 1
        values = ", ".join(f"{i18n.gettext(key.replace('_', ' '))} {value:.3f}" for key, value in numbers.items())
        elapsed = time.perf_counter() - self._start
        self._write(i18n.format("  {name} [{count}/{total}] {what}: {values} (after {seconds} s)", name=self.name,
                                count=self.count, total=self.total, what=i18n.translate_message(what),
                                values=values, seconds=f"{elapsed:.0f}"))


def _print(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
