"""Typed records of the feedback-on-submit service: what crosses between the service and its grading
worker (one JSON object a line on a pipe), and what the service keeps on disk per submission.

Each is a frozen dataclass whose ``from_json`` checks the field names and types and raises
:class:`RecordError` (one line) otherwise: a worker that died mid-line, a truncated state file or a
file someone edited is refused, never half-read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from enum import Enum

MAX_TEXT = 2000


class RecordError(ValueError):
    """A record is malformed; the message is one line saying what is wrong."""


class Outcome(str, Enum):  # noqa: UP042 - StrEnum would change str(Outcome.X); JSON sees the same value
    """What became of one submission (the state file's ``outcome``)."""

    GRADED = "graded"  # graded (or an earlier identical grade reused) and recorded
    NOT_GRADED = "not-graded"  # the grader failed, crashed or timed out: the instructor grades it by hand
    SUPERSEDED = "superseded"  # the same student submitted again later: only the latest is graded
    REJECTED = "rejected"  # not the student's (the folder's owner is someone else)


_TYPES = {"str": str, "float": (int, float), "bool": bool, "int": int}


def _from_json(cls, text: str):
    """``cls(**fields)`` from one JSON object whose fields are exactly ``cls``'s, each of its type."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise RecordError(f"{cls.__name__}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RecordError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    expected = {f.name: f.type for f in fields(cls)}
    if set(data) != set(expected):
        raise RecordError(f"{cls.__name__}: fields {sorted(map(str, data))[:20]} instead of {sorted(expected)}")
    for name, kind in expected.items():
        value = data[name]
        if kind == "Outcome":
            try:
                data[name] = Outcome(value)
            except ValueError:
                raise RecordError(f"{cls.__name__}.{name}: unknown outcome {str(value)[:40]!r}") from None
            continue
        wanted = _TYPES[kind]
        if not isinstance(value, wanted) or (kind != "bool" and isinstance(value, bool)):
            raise RecordError(f"{cls.__name__}.{name} must be {kind}, got {type(value).__name__}")
        if kind == "str" and len(value) > MAX_TEXT:
            raise RecordError(f"{cls.__name__}.{name} is longer than {MAX_TEXT} characters")
    return cls(**data)


def _to_json(record) -> str:
    data = asdict(record)
    return json.dumps({k: (v.value if isinstance(v, Enum) else v) for k, v in data.items()}, ensure_ascii=False,
                      sort_keys=True)


@dataclass(frozen=True)
class Ready:
    """The worker's first line: it is warm (TensorFlow imported, sandbox zygote started, the judge's
    reference observations loaded) after grading the course's own source notebook once."""

    seconds: float
    score: float
    max_score: float
    isolation: str

    def to_json(self) -> str:
        return _to_json(self)

    @classmethod
    def from_json(cls, text: str) -> Ready:
        return _from_json(cls, text)


@dataclass(frozen=True)
class GradeRequest:
    """Grade ``student``'s collected submission (``submitted/<student>/<assignment>/``)."""

    student: str
    submission: str  # the inbound folder's name (for the worker's log)

    def to_json(self) -> str:
        return _to_json(self)

    @classmethod
    def from_json(cls, text: str) -> GradeRequest:
        return _from_json(cls, text)


@dataclass(frozen=True)
class GradeReply:
    """What grading one submission gave.

    Attributes:
        graded: False when the grader itself failed (``detail`` says why; nothing was recorded).
        reused: an earlier grade of the same notebook by the same grader was reused (not graded again).
        feedback: ``released``, ``generated`` (not released: the service does not release), or a
            one-line reason it failed.
    """

    student: str
    submission: str
    graded: bool
    score: float
    max_score: float
    reused: bool
    feedback: str
    seconds: float
    detail: str

    def to_json(self) -> str:
        return _to_json(self)

    @classmethod
    def from_json(cls, text: str) -> GradeReply:
        return _from_json(cls, text)


@dataclass(frozen=True)
class Done:
    """The state file of one processed submission: written last, so a submission without one is
    processed (again) after a restart, and one with it never is."""

    submission: str
    student: str
    timestamp: str
    outcome: Outcome
    score: float
    max_score: float
    feedback: str
    seconds: float
    detail: str
    notebook_sha256: str

    def to_json(self) -> str:
        return _to_json(self)

    @classmethod
    def from_json(cls, text: str) -> Done:
        return _from_json(cls, text)
