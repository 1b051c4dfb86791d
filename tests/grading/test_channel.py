"""The sandbox's report channel: typed events on a pipe, every line validated, nothing a child writes
can crash the reader (a malformed line is dropped and counted; a malformed record is a reason)."""

from __future__ import annotations

import json
import os

import pytest

from resnet_signs.checks.records import Capture, RecordError, TestRecord
from resnet_signs.grading import channel
from resnet_signs.grading.channel import Event, EventKind
from resnet_signs.grading.model import Status

RECORD = TestRecord("identity_block_public", (Capture("public", False, {"layers": []}),))


@pytest.mark.parametrize(
    "event",
    [Event(EventKind.READY), Event(EventKind.START, 3), Event(EventKind.END, 3, Status.MISSING, "NameError: f"),
     Event(EventKind.END, 0, Status.TIMEOUT, "its function ran out of time"), Event(EventKind.RECORD, 5, record=RECORD),
     Event(EventKind.DONE)],
    ids=["ready", "start", "end-missing", "end-timeout", "record", "done"],
)
def test_events_survive_json(event):
    assert channel.parse(json.dumps(event.to_json()).encode()) == event


@pytest.mark.parametrize(
    "line",
    [b"not json", b"[]", b'{"event": "start"}', b'{"event": "start", "step": -1}', b'{"event": "start", "step": true}',
     b'{"event": "end", "step": 1, "outcome": "passed"}', b'{"event": "verdict", "step": 1}', b"{" * 100000,
     b'{"event": "end", "step": 1, "status": "passed", "detail": ""}',
     b'{"event": "end", "step": 1, "status": "memory", "detail": ""}',
     b'{"event": "end", "step": 1, "status": "tampered", "detail": ""}',
     b'{"event": "end", "step": 1, "status": "ok"}',
     b'{"event": "end", "step": 1, "status": "ok", "detail": 3}',
     b'{"event": "start", "step": 1, "limit": 60}',
     b'{"event": "ready", "step": 1}',
     b'{"event": "start", "step": 1e3}',
     b'{"event": "start", "step": 99999999999}',
     b'{"event": "record", "step": 1}',
     b'{"step": 1}',
     b'"start"'],
    ids=["text", "list", "no-step", "negative", "bool-step", "old-outcome-field", "unknown", "deep", "unknown-status",
         "memory-claimed", "tampered-claimed", "no-detail", "detail-not-text", "extra-field", "ready-with-step",
         "float-step", "huge-step", "record-field-missing", "no-event", "a-string"],
)
def test_lines_that_are_not_events_are_dropped(line):
    assert channel.parse(line) is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [({"test_id": "t", "captures": "x"}, "captures must be a list"),
     (None, "a record must be an object, got NoneType"),
     ({"test_id": "t", "captures": [{"case": "c", "training": False, "config": None}]},
      "a capture holds either a config or an error")],
    ids=["captures-not-a-list", "null", "neither-config-nor-error"],
)
def test_a_malformed_record_keeps_the_reason(record, reason):
    event = channel.parse(json.dumps({"event": "record", "step": 3, "record": record}).encode())
    assert event.kind is EventKind.RECORD and event.step == 3 and event.record is None and reason in event.detail


def test_a_long_detail_is_kept_short():
    event = channel.parse(json.dumps({"event": "end", "step": 0, "status": "error", "detail": "x" * 10_000}).encode())
    assert event.status is Status.ERROR and len(event.detail) == channel.MAX_DETAIL


def test_from_json_raises_one_line():
    with pytest.raises(RecordError, match=r"^a step cannot end with status memory$"):
        Event.from_json({"event": "end", "step": 0, "status": "memory", "detail": ""})
    with pytest.raises(RecordError, match=r"^event must be one of ready, start, end, record, done, got 'x'$"):
        Event.from_json({"event": "x"})


def test_events_cross_a_real_pipe_and_overlong_lines_stop_the_reading(monkeypatch):
    read_end, write_end = os.pipe()
    reader = channel.Reader(read_end).start()
    writer = channel.Writer(write_end)
    writer.send(Event(EventKind.READY))
    writer.send(Event(EventKind.START, 0))
    os.write(write_end, b"junk written by a student\n")
    writer.send(Event(EventKind.END, 0, Status.OK, ""))
    os.close(write_end)
    reader.join()
    assert [(e.kind.value, e.step) for e in reader.snapshot()] == [("ready", None), ("start", 0), ("end", 0)]
    assert reader.dropped == 1 and not reader.overflow

    monkeypatch.setattr(channel, "MAX_LINE", 100)
    read_end, write_end = os.pipe()
    reader = channel.Reader(read_end).start()
    os.write(write_end, b"x" * 1000)
    os.close(write_end)
    reader.join()
    assert reader.overflow


def test_a_flood_stops_the_reading(monkeypatch):
    monkeypatch.setattr(channel, "MAX_TOTAL", 1000)
    read_end, write_end = os.pipe()
    reader = channel.Reader(read_end).start()
    try:
        for _ in range(20):
            os.write(write_end, b"y" * 99 + b"\n")
    except BrokenPipeError:
        pass  # the reader stopped and closed its end: what a flooding child meets
    os.close(write_end)
    reader.join()
    assert reader.overflow and reader.dropped <= 10
