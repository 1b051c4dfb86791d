"""A plain-text progress bar with an ETA, on stderr.

On a terminal it redraws one line after each finished submission; elsewhere (CI logs, a
pipe) it prints a full line at most every ``interval`` seconds and one at the end, so logs
stay short.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

#: The name of the thread that redraws the bar between completions (tests check it ends).
TICKER_THREAD = "grading-progress"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts finished submissions and shows ``[####....] 3/8  elapsed 0:01:10  ETA 0:01:57``.

    Args:
        total: number of submissions to grade.
        stream: where to write (default ``sys.stderr``).
        interval: seconds between lines when ``stream`` is not a terminal.
        width: characters of the bar.
    """

    def __init__(self, total: int, stream: TextIO | None = None, interval: float = 30.0, width: int = 30,
                 workers: int = 1, limit: float | None = None):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.interval, self.width = interval, width
        self.workers, self.limit = max(1, workers), limit
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = self._last = self._finished_at = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def line(self, now: float | None = None) -> str:
        """The current state as one line (no newline).

        The ETA assumes the rest take as long as the finished ones did (per worker slot). When the
        submissions now running have outlived that (a hang running into its time limit), it
        becomes a range whose upper end is their time limit.
        """
        now = now or time.monotonic()
        elapsed, left = now - self.start, self.total - self.done
        filled = self.width * self.done // max(self.total, 1)
        if self.done == 0 and not self.limit:
            eta = "--:--:--"
        elif left == 0:
            eta = _clock(0)
        else:
            waves = -(-left // self.workers)  # rounds of `workers` submissions still to finish
            typical = (self._finished_at - self.start) / self.done * self.workers if self.done else None
            age = now - self._finished_at  # how long the running ones have run, at least
            if typical is not None and age <= typical:
                eta = _clock(typical * waves - age)
            elif self.limit:
                low = max(0.0, (typical or 0) * (waves - 1))
                eta = (f"{_clock(low)}-{_clock(low + max(0.0, self.limit - age))} "
                       "(a submission runs long: up to its time limit)")
            else:
                eta = "--:--:--"
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                f"  elapsed {_clock(elapsed)}  ETA {eta}")

    def start_ticking(self) -> Progress:
        """Redraw every few seconds between completions too, so a long wait shows in the ETA."""
        threading.Thread(target=self._tick, name=TICKER_THREAD, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _tick(self) -> None:
        while not self._stop.wait(5.0 if self.tty else self.interval):
            with self._lock:
                if self.done < self.total:
                    try:
                        self._write(time.monotonic(), "")
                    except (OSError, ValueError):  # the stream was closed under us: stop redrawing
                        return

    def _write(self, now: float, label: str) -> None:
        if self.tty:
            self.stream.write("\r" + self.line(now) + (f"  {label[:30]}" if label else "") + "\033[K")
        else:
            self.stream.write(self.line(now) + "\n")
            self._last = now
        self.stream.flush()

    def advance(self, label: str = "") -> None:
        """One more submission finished; ``label`` (e.g. the student) is shown on a terminal."""
        with self._lock:
            self.done += 1
            now = self._finished_at = time.monotonic()
            if self.tty:
                self._write(now, label)
                if self.done == self.total:
                    self.stream.write("\n")
                    self.stream.flush()
            elif self.done == self.total or now - self._last >= self.interval:
                self._write(now, label)
            if self.done == self.total:
                self._stop.set()
