"""The sandbox's report channel: JSON lines on a pipe that only the runner reads.

The child writes one event per line on a file descriptor inherited from the runner (never a
file in a folder it could rewrite later): ``ready``, ``start``/``end`` of each step, a
``record`` (what a test captured, :class:`~resnet_signs.checks.records.TestRecord`) and
``done``. The reader treats every byte as hostile: lines over :data:`MAX_LINE` or a total over
:data:`MAX_TOTAL` stop the reading, anything that is not a well-formed event is counted and
dropped, and records are validated into typed objects. Student code can write on the pipe
too, but what it can forge is only a graph of its own making: the judge computes every value.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

from resnet_signs.checks.records import RecordError, TestRecord

MAX_LINE = 8 << 20
MAX_TOTAL = 64 << 20
EVENTS = ("ready", "start", "end", "record", "done")
OUTCOMES = ("ok", "error", "timeout", "undefined", "skipped")


class Writer:
    """The child's end: writes whole lines, retrying partial writes (bound before student code runs)."""

    def __init__(self, fd: int):
        self._fd, self._write = fd, os.write

    def send(self, event: str, **fields) -> None:
        data = (json.dumps({"event": event, **fields}, separators=(",", ":"), allow_nan=False) + "\n").encode()
        while data:
            data = data[self._write(self._fd, data):]


@dataclass
class Event:
    """One validated event."""

    event: str
    step: int | None = None
    outcome: str = "ok"
    detail: str = ""
    record: TestRecord | None = None


@dataclass
class Reader:
    """The parent's end: a thread turns the pipe into validated :class:`Event` objects."""

    fd: int
    events: list[Event] = field(default_factory=list)
    dropped: int = 0  # lines that were not events (student output on the pipe, malformed records)
    overflow: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> Reader:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def snapshot(self, since: int = 0) -> list[Event]:
        with self._lock:
            return self.events[since:]

    def _run(self) -> None:
        buffer, total = b"", 0
        with os.fdopen(self.fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                total += len(chunk)
                if total > MAX_TOTAL:
                    self.overflow = True
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._add(line)
                if len(buffer) > MAX_LINE:
                    self.overflow = True
                    break

    def _add(self, line: bytes) -> None:
        event = parse(line)
        with self._lock:
            if event is None:
                self.dropped += 1
            else:
                self.events.append(event)


def parse(line: bytes) -> Event | None:
    """The event a line holds, or ``None`` when it is not a well-formed one."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("event") not in EVENTS:
        return None
    step = data.get("step")
    if data["event"] in ("start", "end", "record") and (not isinstance(step, int) or isinstance(step, bool) or step < 0):
        return None
    if data["event"] == "end":
        outcome, detail = data.get("outcome"), data.get("detail", "")
        if outcome not in OUTCOMES or not isinstance(detail, str):
            return None
        return Event("end", step, outcome, detail[:500])
    if data["event"] == "record":
        try:
            return Event("record", step, record=TestRecord.from_json(data.get("record")))
        except RecordError as exc:  # kept, so the verdict can say why the test has no result
            return Event("record", step, outcome="error", detail=f"its record was malformed ({exc})")
    return Event(data["event"], step)
