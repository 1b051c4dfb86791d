"""``resnet-signs demo``: a step says ✓ only when it did what it says; grades that differ from the
expected ones are a ✗ naming the rows, and the demo exits 1."""

from __future__ import annotations

import argparse
import csv

import pytest

from resnet_signs import demo
from resnet_signs.grading import api

HEADER = ["student", "function", "score", "max_score", "status"]
EXPECTED = [["solution", "identity_block", "3", "3", "ok"], ["solution", "ResNet50", "3", "3", "ok"],
            ["buggy", "identity_block", "0", "3", "ok"]]


def _csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([HEADER, *rows])


@pytest.fixture
def graded_as(tmp_path, monkeypatch):
    """Make the demo's grading step write ``rows`` as grades.csv (no sandbox) against EXPECTED."""
    course = tmp_path / "course"
    _csv(course / "samples" / "expected_grades.csv", EXPECTED)
    monkeypatch.setenv("RESNET_SIGNS_COURSE", str(course))

    def use(rows):
        def fake_grade(samples, *, out, **kwargs):
            assert samples == course / "samples"
            _csv(out / "grades.csv", rows)
            return api.GradeRun()

        monkeypatch.setattr(api, "grade", fake_grade)
        return tmp_path / "out"

    return use


def test_matching_grades_are_a_tick(graded_as):
    out = graded_as(EXPECTED)
    assert demo.step_grade(out, workers=1) == ("0 submissions graded; grades.csv matches "
                                                "autograder/samples/expected_grades.csv")


def test_differing_grades_are_a_cross_naming_the_rows(graded_as, monkeypatch, capsys):
    got = [EXPECTED[0], ["solution", "ResNet50", "0", "3", "timeout"]]
    out = graded_as(got)
    with pytest.raises(demo.GradesDiffer, match=r"solution/ResNet50: expected 3 ok, got 0 timeout; "
                                                r"buggy/identity_block: expected 0 ok, got no row$"):
        demo.step_grade(out, workers=1)
    capsys.readouterr()

    monkeypatch.setattr(demo, "STEPS", (("data", lambda args: "fine"), demo.STEPS[-1]))
    args = argparse.Namespace(out=out, workers=1, timeout=demo.DEMO_TIMEOUT)
    assert demo.run(args) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("[data] ✓ fine")
    assert lines[-1].startswith("[grade] ✗ failed: GradesDiffer: grades.csv differs from")
    assert not any(line.startswith("[grade] ✓") for line in lines) and "demo finished" not in "\n".join(lines)
