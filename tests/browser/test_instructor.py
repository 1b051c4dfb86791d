"""The instructor's JupyterLab: formgrader shows the totals `resnet-signs grade` wrote."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import defaultdict

import pytest

from resnet_signs import paths

pytestmark = pytest.mark.browser

COURSE = paths.PROJECT_ROOT / "autograder"
#: A few samples, enough for different totals: a full score and a partial one.
STUDENTS = ("solution", "conv-bn-axis-wrong")


def _expected_totals() -> dict[str, str]:
    """``student -> "score / max"`` from the samples' checked expected grades."""
    score, max_score = defaultdict(float), defaultdict(float)
    with open(COURSE / "samples" / "expected_grades.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            score[row["student"]] += float(row["score"])
            max_score[row["student"]] += float(row["max_score"])
    return {s: f"{score[s]:g} / {max_score[s]:g}" for s in STUDENTS}


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory, browser):
    """A temp copy of the course, graded over a few samples (after ``browser``: no Chromium, no grading)."""
    work = tmp_path_factory.mktemp("instructor")
    course = work / "course"
    shutil.copytree(
        COURSE, course,
        ignore=shutil.ignore_patterns("gradebook.db", "samples", "submitted", "autograded", "feedback",
                                      ".nbgrader.log"),
    )  # fmt: skip
    for student in STUDENTS:
        shutil.copytree(COURSE / "samples" / student, work / "submissions" / student)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    graded = subprocess.run(
        [sys.executable, "-m", "resnet_signs", "grade", str(work / "submissions"),
         "--out", str(work / "out"), "--course", str(course)],
        check=False, capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert graded.returncode == 0, graded.stderr[-2000:]
    return course


@pytest.fixture(scope="module")
def instructor_lab(graded_course, start_lab):
    """The graded course served with formgrader on."""
    server = start_lab("instructor", graded_course, graded_course.parent / "config")
    yield server
    server.stop()


def test_formgrader_lists_each_students_total(page, instructor_lab, shots):
    page.goto(instructor_lab.link("/formgrader/manage_students"))
    try:
        for student, total in _expected_totals().items():
            row = page.locator("tr", has=page.locator("td", has_text=student)).first
            row.wait_for()
            assert row.locator(".score").inner_text().strip() == total, student
    finally:
        page.screenshot(path=str(shots / "formgrader_students.png"))


def test_instructor_lab_has_formgrader_menu(page, instructor_lab, shots):
    page.goto(instructor_lab.link("/lab") + "&reset")
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_text("Formgrader", exact=True).first.wait_for()
    page.screenshot(path=str(shots / "instructor_menu.png"))


def test_formgrader_opens_a_submission_for_review(page, instructor_lab, graded_course, shots):
    """The submission view renders the autograded notebook that `resnet-signs grade` wrote."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded_course / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook("Residual_Networks", "residual_networks", "conv-bn-axis-wrong").id
    page.goto(instructor_lab.link(f"/formgrader/submissions/{submission}/"))
    try:
        page.get_by_text("✓ passed").first.wait_for()
        page.get_by_text("✗ failed").first.wait_for()  # the wrong BatchNorm axis fails convolutional_block's tests
        assert "Submission notebook file not found" not in page.content()
    finally:
        page.screenshot(path=str(shots / "formgrader_submission.png"), full_page=False)
