"""The grader's data model: one outcome vocabulary ordered by severity, the section clock, and the grade
as one type whose JSON form is checked field by field when it is read back."""

from __future__ import annotations

import copy
import json

import pytest

from resnet_signs.checks.records import RecordError
from resnet_signs.grading.model import FunctionGrade, Limits, SectionClock, Status, SubmissionGrade, TestResult
from resnet_signs.grading.runner import Kill

GRADE = SubmissionGrade(
    student="Zoë d'Arc",
    functions=[FunctionGrade("identity_block", 3.0, 3.0, Status.OK),
               FunctionGrade("convolutional_block", 1.0, 3.0, Status.TIMEOUT,
                             "test x: ran past its time limit (60 s)")],
    tests=[TestResult("identity_block_public", "identity_block", 1.0, 1.0, True, "✓ passed.", False),
           TestResult("convolutional_block_hidden_values", "convolutional_block", 0.0, 1.0, False, "✗ hint\nline 2",
                      True)],
    execution_time=12.5, output="printed", tampered_cells=["identity_block_public"], isolation=["bwrap"],
    skipped_cells=[4, 7], notes=["a note"])


def test_statuses_are_ordered_by_severity_and_the_worst_wins():
    assert list(Status) == sorted(Status)  # declared mildest first
    assert Status.OK < Status.ERROR < Status.TAMPERED < Status.TIMEOUT < Status.MEMORY < Status.MISSING \
        < Status.INVALID_NOTEBOOK
    assert max([Status.ERROR, Status.TIMEOUT, Status.TAMPERED]) is Status.TIMEOUT
    assert max([], default=Status.OK) is Status.OK
    assert Status.MEMORY >= Status.TIMEOUT and not Status.ERROR > Status.TAMPERED
    assert Status("invalid-notebook") is Status.INVALID_NOTEBOOK and Status.OK.value == "ok"


def test_a_kill_maps_to_the_one_vocabulary():
    assert {kill: kill.status for kill in Kill} == {
        Kill.MEMORY: Status.MEMORY, Kill.PROCESSES: Status.ERROR, Kill.CELL_TIME: Status.TIMEOUT,
        Kill.FUNCTION_TIME: Status.TIMEOUT, Kill.TOTAL_TIME: Status.TIMEOUT, Kill.CHANNEL: Status.ERROR}


def test_the_section_clock_counts_each_section_once_and_gives_the_next_limit():
    clock = SectionClock(Limits(function_timeout=100, cell_timeout=60))
    assert clock.limit("f") == 60 and clock.limit(None) == 60
    clock.charge("f", 70)
    clock.charge(None, 5)
    assert clock.used("f") == 70 and clock.limit("f") == 30 and clock.limit("g") == 60 and clock.used(None) == 5
    assert not clock.over_budget("f", 30) and clock.over_budget("f", 31)
    clock.charge("f", 40)
    assert clock.limit("f") == 0


def test_a_grade_survives_json():
    assert SubmissionGrade.from_json(json.loads(json.dumps(GRADE.to_json()))) == GRADE
    assert GRADE.to_json()["functions"][1]["status"] == "timeout"


def test_limits_survive_json():
    limits = Limits(function_timeout=30, cell_timeout=20, memory_mb=3000, output_bytes=10, timeout=None)
    assert Limits.from_json(json.loads(json.dumps(limits.to_json()))) == limits


def _broken(change):
    data = copy.deepcopy(GRADE.to_json())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.pop("tests"), r"a grade lacks the field 'tests'"),
        (lambda d: d.update(verdict="pass"), r"a grade has unknown fields: verdict"),
        (lambda d: d["functions"][0].update(status="passed"), r"status must be one of ok, error, .*got 'passed'"),
        (lambda d: d["functions"][0].update(score="3"), r"score must be a number"),
        (lambda d: d["functions"][0].update(score=float("inf")), r"score must be a number"),
        (lambda d: d["functions"][0].pop("detail"), r"a function grade lacks the field 'detail'"),
        (lambda d: d["tests"][0].update(passed=1), r"passed must be true or false, got 1"),
        (lambda d: d["tests"][0].update(hidden=None), r"hidden must be true or false"),
        (lambda d: d["tests"].append("x"), r"a test result must be an object, got str"),
        (lambda d: d.update(student=7), r"student must be a string, got int"),
        (lambda d: d.update(execution_time=-1), r"execution_time must be a number from 0"),
        (lambda d: d.update(skipped_cells=[True]), r"a skipped cell must be a whole number"),
        (lambda d: d.update(notes="one"), r"notes must be a list"),
    ],
    ids=["no-tests", "extra-field", "unknown-status", "score-as-text", "infinite-score", "no-detail",
         "passed-not-bool", "hidden-null", "test-not-an-object", "student-not-text", "negative-time",
         "bool-cell", "notes-not-a-list"],
)
def test_a_damaged_grade_is_one_line(change, reason):
    with pytest.raises(RecordError, match=reason) as error:
        SubmissionGrade.from_json(_broken(change))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("data", [None, [], "grade", {"limits": {}}])
def test_limits_from_anything_else_is_one_line(data):
    with pytest.raises(RecordError):
        Limits.from_json(data)
