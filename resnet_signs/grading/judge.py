"""Verdicts: the judging half of every test, on the grader's side only.

A test's record (:class:`~resnet_signs.checks.records.TestRecord`) holds what the student's
function *built*; the judge rebuilds those graphs, computes their outputs and compares them with
the reference's, observed the same way (capture, rebuild, compute) from the course's
``reference.py``. It never runs student code and never trusts a value computed next to it.

Where the graphs are built and run is the *observer*'s business: :class:`InProcess` (the notebook's
kernel under plain nbgrader, the tests, the benchmarks) or the grader's judging process
(:class:`resnet_signs.grading.judging.JudgingProcess`), which runs them under a time and a memory
limit so that a graph that costs too much costs only its own test. Either way a graph is refused
unbuilt when its estimated cost is over the test's :class:`~resnet_signs.checks.cost.Budget` (a
multiple of the reference's cost on the same case).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from resnet_signs import paths
from resnet_signs.checks import diagnose, observations
from resnet_signs.checks.cases import BlockCase
from resnet_signs.checks.cost import Budget
from resnet_signs.checks.records import Capture, RecordError, TestRecord, one_line
from resnet_signs.grading.course import Course, GradingError, TestCell
from resnet_signs.grading.fingerprint import course_files, fingerprint

NO_RESULT = "✗ no result: the test did not run to the end"
#: Verdicts of a judging that hit a limit, by :attr:`JudgingFailed.kind` (``{function}``, ``{limit}``, ``{how}``).
FAILED_JUDGING = {
    "memory": "✗ judging what {function} built went over the grader's memory limit ({limit} MB)",
    "time": "✗ judging what {function} built took longer than the grader's time limit for judging ({limit} s)",
    "crash": "✗ judging what {function} built stopped the grader's judging process ({how})",
}


class JudgingFailed(Exception):
    """Observing one test's captures hit a limit or killed the judging process: the test fails, naming it.

    Attributes:
        kind: ``"memory"``, ``"time"`` or ``"crash"`` (a key of :data:`FAILED_JUDGING`).
        limit: the limit that was reached (MB or seconds), if any.
        how: for a crash, how the process ended.
    """

    def __init__(self, kind: str, limit: float | int | None = None, how: str = ""):
        super().__init__(f"{kind} {limit or how}")
        self.kind, self.limit, self.how = kind, limit, how

    def verdict(self, function: str) -> str:
        limit = f"{self.limit:g}" if isinstance(self.limit, float) else self.limit
        return FAILED_JUDGING[self.kind].format(function=function, limit=limit, how=self.how)


class InProcess:
    """Builds and runs graphs in this process (no limits beyond the cost budget)."""

    def versions(self) -> str:
        """What the observations depend on besides the course and the package: Keras and its backend."""
        import keras

        return f"keras {keras.__version__} {keras.backend.backend()}"

    def observe(self, test: TestCell, captures: list[Capture], budget: Budget | None) -> observations.Observation:
        from resnet_signs.checks.observe import observe_blocks, observe_models

        if isinstance(test.cases[0], BlockCase):
            return observe_blocks(captures, list(test.cases), budget=budget)
        return observe_models(captures, list(test.cases), budget=budget)

    def reference(self, course: Course, test: TestCell) -> observations.Observation:
        """The reference's observation of the test's cases, made as a student's is (capture, rebuild, compute)."""
        from resnet_signs.grading.expected import block_observation, model_observation
        from resnet_signs.instructor import load_reference

        function = getattr(load_reference(course.root), test.function)
        if isinstance(test.cases[0], BlockCase):
            return block_observation(function, list(test.cases))
        return model_observation(function, list(test.cases), course.stand_ins)


class Judge:
    """Compares records with the reference of one course.

    The reference's observations are computed once per grading code version and kept on disk
    (:func:`cache_folder`, keyed by :meth:`cache_key`), so that a second process — a regrade of
    one student, another worker — reads them instead of rebuilding the reference's graphs.

    Args:
        course: the course.
        cache: the cache folder (default: :func:`cache_folder`).
        observer: where graphs are built and run (default: :class:`InProcess`).
    """

    def __init__(self, course: Course, cache: Path | None = None, *, observer=None):
        self.course = course
        self.observer = observer if observer is not None else InProcess()
        self._cache = cache if cache is not None else cache_folder(course)
        self._expected: dict[str, observations.Observation] | None = None

    def cache_key(self) -> str:
        """The fingerprint of what decides the reference's observations (:mod:`.fingerprint`): the
        course's reference, hidden tests and source notebook, the checks' code, Keras' version and backend."""
        return fingerprint(files=course_files(self.course))[:24]

    def _cache_file(self) -> Path | None:
        return self._cache / f"expected-{self.cache_key()}.json" if self._cache else None

    def expected(self, test: TestCell) -> observations.Observation:
        """The reference's observation of the test's cases.

        Raises:
            GradingError: the reference could not be observed (it failed its own test, or the judging
                process could not run it).
        """
        if self._expected is None:
            self._expected = _read_cache(self._cache_file()) if self._cache else {}
        if test.test_id not in self._expected:
            try:
                observation = self.observer.reference(self.course, test)
            except JudgingFailed as exc:
                raise GradingError(f"the reference's {test.test_id} could not be observed: "
                                   f"{exc.verdict(test.function)[2:]}") from None
            failures = observation.failures()
            if failures:
                raise GradingError(f"the reference fails {test.test_id}: {failures[0][:300]}")
            self._expected[test.test_id] = observation
            if self._cache:
                _write_cache(self._cache_file(), self._expected)
        return self._expected[test.test_id]

    def verdict(self, test_id: str, record: TestRecord | None) -> tuple[bool, str]:
        """``(passed, message)``: the hint (several lines) on failure, one ✓ line on success."""
        test = self.course.test(test_id)
        if record is None:
            return False, NO_RESULT
        expected = self.expected(test)
        try:
            observation = self.observer.observe(test, list(record.captures), Budget.from_observation(expected))
            hint = diagnose.test_hint(test.function, test.kind, list(test.cases), observation, expected)
        except JudgingFailed as exc:
            return False, exc.verdict(test.function)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            return False, f"✗ what {test.function} built could not be judged ({one_line(exc)})"
        if hint:
            return False, hint
        return True, f"✓ {test_id}: passed."


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


def _read_cache(path: Path | None) -> dict:
    """Cached observations, each validated; anything unreadable counts as no cache (they are recomputed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(test_id): observations.from_json(obs) for test_id, obs in data["tests"].items()}
    except (OSError, ValueError, TypeError, AttributeError, KeyError, RecordError):
        return {}


def _write_cache(path: Path, expected: dict) -> None:
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
            json.dump({"tests": {k: v.to_json() for k, v in expected.items()}}, f)
        os.replace(f.name, path)
    except (OSError, TypeError, ValueError):
        pass  # a cache, not a result: grading goes on without it


def capture_in_process(course: Course, test_id: str, namespace: dict) -> TestRecord:
    """A test's record taken right here (plain nbgrader runs hidden test cells in the student's kernel)."""
    from resnet_signs.checks.capture import capture_test

    test = course.test(test_id)
    return TestRecord(test_id, tuple(capture_test(test.function, list(test.cases), namespace, course.stand_ins)))
