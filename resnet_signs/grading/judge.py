"""Verdicts: the judging half of every test, run in the clean parent only.

A test's record (:class:`~resnet_signs.checks.records.TestRecord`) holds what the student's
function *built*; the judge rebuilds those graphs, computes their outputs and compares them with
the reference's, observed the same way (capture, rebuild, compute) from the course's
``reference.py``. It never runs student code and never trusts a value computed next to it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from resnet_signs import paths
from resnet_signs.checks import diagnose
from resnet_signs.checks.capture import capture_test
from resnet_signs.checks.cases import BlockCase
from resnet_signs.checks.observe import observe_blocks, observe_models
from resnet_signs.checks.records import Capture, TestRecord, one_line
from resnet_signs.grading.course import Course, TestCell
from resnet_signs.grading.fingerprint import course_files, fingerprint

NO_RESULT = "✗ no result: the test did not run to the end"


class Judge:
    """Compares records with the reference of one course.

    The reference's observations are computed once per grading code version and kept on disk
    (:func:`cache_folder`, keyed by :meth:`cache_key`), so that a second process — a regrade of
    one student, another worker — reads them instead of rebuilding the reference's graphs.
    """

    def __init__(self, course: Course, cache: Path | None = None):
        self.course = course
        self._cache = cache if cache is not None else cache_folder(course)
        self._expected: dict[str, dict] = _read_cache(self._cache_file()) if self._cache else {}

    def cache_key(self) -> str:
        """The fingerprint of what decides the reference's observations (:mod:`.fingerprint`): the
        course's reference, hidden tests and source notebook, the checks' code, Keras' version and backend."""
        return fingerprint(files=course_files(self.course))[:24]

    def _cache_file(self) -> Path | None:
        return self._cache / f"expected-{self.cache_key()}.json" if self._cache else None

    def expected(self, test: TestCell) -> dict:
        """The reference's observation of the test's cases."""
        if test.test_id not in self._expected:
            from resnet_signs.grading.expected import block_observation, model_observation
            from resnet_signs.instructor import load_reference

            reference = load_reference(self.course.root)
            function = getattr(reference, test.function)
            if isinstance(test.cases[0], BlockCase):
                observation = block_observation(function, list(test.cases))
            else:
                observation = model_observation(function, list(test.cases), self.course.stand_ins)
            self._expected[test.test_id] = observation
            if self._cache:
                _write_cache(self._cache_file(), self._expected)
        return self._expected[test.test_id]

    def observe(self, test: TestCell, captures: list[Capture]) -> dict:
        if isinstance(test.cases[0], BlockCase):
            return observe_blocks(captures, list(test.cases))
        return observe_models(captures, list(test.cases))

    def verdict(self, test_id: str, record: TestRecord | None) -> tuple[bool, str]:
        """``(passed, message)``: the hint (several lines) on failure, one ✓ line on success."""
        test = self.course.test(test_id)
        if record is None:
            return False, NO_RESULT
        try:
            hint = self._hint(test, self.observe(test, list(record.captures)))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            return False, f"✗ what {test.function} built could not be judged ({one_line(exc)})"
        if hint:
            return False, hint
        return True, f"✓ {test_id}: passed."

    def _hint(self, test: TestCell, observation: dict) -> str | None:
        return diagnose.test_hint(test.function, test.kind, list(test.cases), observation, self.expected(test))


def cache_folder(course: Course) -> Path | None:
    """Where the reference's observations are kept: the course's ``.cache/`` when writable, else the
    user's cache folder (``paths.cache_dir()``), else nowhere (computed in every process)."""
    for folder in (course.root / ".cache", paths.cache_dir()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    return None


def _encode(value):
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode(value):
    if isinstance(value, dict):
        if "__array__" in value:
            return np.asarray(value["__array__"], dtype=value["dtype"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _read_cache(path: Path | None) -> dict:
    """Cached observations; anything unreadable counts as no cache (they are recomputed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {test_id: _decode(obs) for test_id, obs in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _write_cache(path: Path, observations: dict) -> None:
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
            json.dump({k: _encode(v) for k, v in observations.items()}, f)
        os.replace(f.name, path)
    except (OSError, TypeError, ValueError):
        pass  # a cache, not a result: grading goes on without it


def capture_in_process(course: Course, test_id: str, namespace: dict) -> TestRecord:
    """A test's record taken right here (plain nbgrader runs hidden test cells in the student's kernel)."""
    test = course.test(test_id)
    return TestRecord(test_id, tuple(capture_test(test.function, list(test.cases), namespace, course.stand_ins)))
