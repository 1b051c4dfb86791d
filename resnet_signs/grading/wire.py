"""Reading records that cross a process: every field checked, one line when one is wrong.

Whatever crosses a process boundary in the grader — the plan the sandbox child reads, the events
it sends back, a grade a worker returns or a ``record.json`` read from disk — is a dataclass with a
``from_json`` that takes what a JSON parser produced and checks it field by field with these
helpers, raising :class:`~resnet_signs.checks.records.RecordError` (one line, naming the field)
otherwise: the pattern of :mod:`resnet_signs.checks.records`, which the captures follow.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import TypeVar

from resnet_signs.checks.records import RecordError

E = TypeVar("E", bound=Enum)
#: Longest text field a record may hold unless a field says otherwise.
MAX_TEXT = 4096


def fields(data, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """``data`` as an object holding every ``required`` key and no key outside ``required + optional``."""
    if not isinstance(data, dict):
        raise RecordError(f"{what} must be an object, got {type(data).__name__}")
    unknown = sorted(str(k) for k in set(data) - set(required) - set(optional))
    if unknown:
        raise RecordError(f"{what} has unknown fields: {', '.join(unknown)[:200]}")
    missing = [k for k in required if k not in data]
    if missing:
        raise RecordError(f"{what} lacks the field {missing[0]!r}")
    return data


def text(value, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise RecordError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise RecordError(f"{what} is longer than {limit} characters")
    return value


def optional_text(value, what: str, limit: int = MAX_TEXT) -> str | None:
    return None if value is None else text(value, what, limit)


def integer(value, what: str, low: int = 0, high: int = 1 << 62) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RecordError(f"{what} must be a whole number from {low} to {high}, got {value!r}"[:300])
    return value


def optional_integer(value, what: str, low: int = 0, high: int = 1 << 62) -> int | None:
    return None if value is None else integer(value, what, low, high)


def number(value, what: str, low: float = 0.0, high: float = 1e12) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) \
            or not low <= value <= high:
        raise RecordError(f"{what} must be a number from {low:g} to {high:g}, got {value!r}"[:300])
    return float(value)


def optional_number(value, what: str, low: float = 0.0, high: float = 1e12) -> float | None:
    return None if value is None else number(value, what, low, high)


def flag(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise RecordError(f"{what} must be true or false, got {value!r}"[:300])
    return value


def choice(kind: type[E], value, what: str) -> E:
    """The member of the enum ``kind`` whose value is ``value``."""
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(member.value) for member in kind)
        raise RecordError(f"{what} must be one of {allowed}, got {value!r}"[:300]) from None


def items(value, what: str, limit: int) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise RecordError(f"{what} must be a list of at most {limit} items")
    return value


def mapping(value, what: str, limit: int) -> dict:
    if not isinstance(value, dict) or len(value) > limit:
        raise RecordError(f"{what} must be an object of at most {limit} entries")
    return value
