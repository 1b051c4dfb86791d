"""A plain-text progress bar with an ETA, on stderr.

On a terminal it redraws one line after each finished submission; elsewhere (CI logs, a
pipe) it prints a full line at most every ``interval`` seconds and one at the end, so logs
stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts finished submissions and shows ``[####....] 3/8  elapsed 0:01:10  ETA 0:01:57``.

    Args:
        total: number of submissions to grade.
        stream: where to write (default ``sys.stderr``).
        interval: seconds between lines when ``stream`` is not a terminal.
        width: characters of the bar.
    """

    def __init__(self, total: int, stream: TextIO | None = None, interval: float = 30.0, width: int = 30):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.interval, self.width = interval, width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = self._last = time.monotonic()

    def line(self, now: float | None = None) -> str:
        """The current state as one line (no newline)."""
        elapsed = (now or time.monotonic()) - self.start
        filled = self.width * self.done // max(self.total, 1)
        eta = "--:--:--" if self.done == 0 else _clock(elapsed / self.done * (self.total - self.done))
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                f"  elapsed {_clock(elapsed)}  ETA {eta}")

    def advance(self, label: str = "") -> None:
        """One more submission finished; ``label`` (e.g. the student) is shown on a terminal."""
        self.done += 1
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line(now) + (f"  {label[:30]}" if label else "") + "\033[K")
            if self.done == self.total:
                self.stream.write("\n")
        elif self.done == self.total or now - self._last >= self.interval:
            self.stream.write(self.line(now) + "\n")
            self._last = now
        self.stream.flush()
