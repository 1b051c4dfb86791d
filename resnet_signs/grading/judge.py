"""Verdicts: the judging half of every test, run in the clean parent only.

A test's record (:class:`~resnet_signs.checks.records.TestRecord`) holds what the student's
function *built*; the judge rebuilds those graphs, computes their outputs and compares them with
the reference's, observed the same way (capture, rebuild, compute) from the course's
``reference.py``. It never runs student code and never trusts a value computed next to it.
"""

from __future__ import annotations

from resnet_signs.checks import diagnose
from resnet_signs.checks.capture import capture_test
from resnet_signs.checks.cases import BlockCase
from resnet_signs.checks.observe import observe_blocks, observe_models
from resnet_signs.checks.records import Capture, TestRecord, one_line
from resnet_signs.grading.course import Course, TestCell

NO_RESULT = "✗ no result: the test did not run to the end"


class Judge:
    """Compares records with the reference of one course (expected observations computed once)."""

    def __init__(self, course: Course):
        self.course = course
        self._expected: dict[str, dict] = {}

    def expected(self, test: TestCell) -> dict:
        """The reference's observation of the test's cases."""
        if test.test_id not in self._expected:
            from resnet_signs.checks.generate import block_observation, model_observation
            from resnet_signs.instructor import load_reference

            reference = load_reference(self.course.root)
            function = getattr(reference, test.function)
            if isinstance(test.cases[0], BlockCase):
                observation = block_observation(function, list(test.cases))
            else:
                observation = model_observation(function, list(test.cases), self.course.stand_ins)
            self._expected[test.test_id] = observation
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
        want = self.expected(test)
        cases = list(test.cases)
        if not isinstance(cases[0], BlockCase):
            for case in cases:
                hint = diagnose.model_hint(observation, want, case)
                if hint and test.kind != "public" and not hint.startswith("✗ ResNet50("):
                    hint = hint.replace("✗ ", f"✗ with input_shape={case.input_shape}, classes={case.classes}: ", 1)
                if hint:
                    return hint
            return None
        if test.kind == "structure":
            return diagnose.structure_hint_for(test.function, observation, want, cases)
        if test.kind == "values" and diagnose.block_hint(test.function, observation, want, cases,
                                                          check_structure=False) is None:
            return None
        return diagnose.block_hint(test.function, observation, want, cases)


def capture_in_process(course: Course, test_id: str, namespace: dict) -> TestRecord:
    """A test's record taken right here (plain nbgrader runs hidden test cells in the student's kernel)."""
    test = course.test(test_id)
    return TestRecord(test_id, tuple(capture_test(test.function, list(test.cases), namespace, course.stand_ins)))
