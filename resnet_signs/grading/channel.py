"""The sandbox's report channel: JSON lines on a pipe that only the runner reads.

The child writes one :class:`Event` per line on a file descriptor inherited from the runner (never
a file in a folder it could rewrite later): ``ready``, ``start``/``end`` of each step, a ``record``
(what a test captured, :class:`~resnet_signs.checks.records.TestRecord`) and ``done``. The reader
treats every byte as hostile: lines over :data:`MAX_LINE` or a total over :data:`MAX_TOTAL` stop the
reading (the runner then stops the child and charges the step that was running), anything that is
not a well-formed event is counted and dropped (:meth:`Event.from_json` checks every field), and a
record that does not validate becomes the reason its test has no result. Student code can write on
the pipe too, but what it can forge is only a graph of its own making: the judge computes every value.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from resnet_signs.checks.records import RecordError, TestRecord
from resnet_signs.grading import wire
from resnet_signs.grading.model import Status

MAX_LINE = 8 << 20
MAX_TOTAL = 64 << 20
#: Longest detail the parent keeps of a step's outcome.
MAX_DETAIL = 500
#: How a step can end in the child: it cannot measure memory or tamper with cells.
STEP_STATUSES = (Status.OK, Status.ERROR, Status.TIMEOUT, Status.MISSING)


class EventKind(StrEnum):
    READY = "ready"  # the child is set up, before any student code
    START = "start"  # a step starts
    END = "end"  # a step ended, with its status
    RECORD = "record"  # what an observe step captured
    DONE = "done"  # every step ran


_WITH_STEP = (EventKind.START, EventKind.END, EventKind.RECORD)


@dataclass(frozen=True)
class Event:
    """One event of the sandbox child.

    Attributes:
        kind: what happened.
        step: the plan's step index (``start``, ``end``, ``record``).
        status: how the step ended (``end``): one of :data:`STEP_STATUSES` (``missing``: the tested
            function is not defined).
        detail: one line saying why (``end``), or why a ``record`` event holds no record.
        record: what the test captured (``record``); ``None`` when the child's record did not validate.
    """

    kind: EventKind
    step: int | None = None
    status: Status = Status.OK
    detail: str = ""
    record: TestRecord | None = None

    def to_json(self) -> dict:
        data: dict = {"event": self.kind.value}
        if self.kind in _WITH_STEP:
            data["step"] = self.step
        if self.kind is EventKind.END:
            data.update(status=self.status.value, detail=self.detail)
        if self.kind is EventKind.RECORD:
            data["record"] = self.record.to_json() if self.record is not None else None
        return data

    @classmethod
    def from_json(cls, data) -> Event:
        """Validate a parsed line; a ``record`` event whose record is malformed keeps the reason.

        Raises:
            RecordError: ``data`` is not a well-formed event (one line).
        """
        if not isinstance(data, dict):
            raise RecordError(f"an event must be an object, got {type(data).__name__}")
        kind = wire.choice(EventKind, data.get("event"), "event")
        allowed = {EventKind.END: ("step", "status", "detail"), EventKind.RECORD: ("step", "record")}.get(
            kind, ("step",) if kind in _WITH_STEP else ())
        data = wire.fields(data, f"a {kind.value} event", ("event", *allowed))
        step = wire.integer(data["step"], "step", 0, 1 << 20) if kind in _WITH_STEP else None
        if kind is EventKind.END:
            status = wire.choice(Status, data["status"], "status")
            if status not in STEP_STATUSES:
                raise RecordError(f"a step cannot end with status {status.value}")
            return cls(kind, step, status, wire.text(data["detail"], "detail", MAX_LINE)[:MAX_DETAIL])
        if kind is EventKind.RECORD:
            try:
                return cls(kind, step, record=TestRecord.from_json(data["record"]))
            except RecordError as exc:  # kept, so that the verdict can say why the test has no result
                return cls(kind, step, detail=f"its record was malformed ({exc})")
        return cls(kind, step)


class Writer:
    """The child's end: writes whole lines, retrying partial writes (bound before student code runs)."""

    def __init__(self, fd: int):
        self._fd, self._write, self._dumps = fd, os.write, json.dumps

    def send(self, event: Event) -> None:
        data = (self._dumps(event.to_json(), separators=(",", ":"), allow_nan=False) + "\n").encode()
        while data:
            data = data[self._write(self._fd, data):]


@dataclass
class Reader:
    """The parent's end: a thread turns the pipe into validated :class:`Event` objects."""

    fd: int
    events: list[Event] = field(default_factory=list)
    dropped: int = 0  # lines that were not events (student output on the pipe, forged or broken events)
    overflow: bool = False  # a line over MAX_LINE or a total over MAX_TOTAL stopped the reading
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
        return Event.from_json(json.loads(line))
    except (ValueError, RecursionError):  # not JSON (RecordError is a ValueError too)
        return None
