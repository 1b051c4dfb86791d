"""Putting grades into the real nbgrader gradebook, so ``nbgrader export`` and formgrader show them.

Only the grading parent process writes here (one writer, one student at a time, right after
that student finishes), so a SQLite gradebook is safe and an interrupted run keeps every
grade already recorded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

from resnet_signs.grading.model import SubmissionGrade
from resnet_signs.grading.submissions import ASSIGNMENT_ID, NOTEBOOK_NAME

NOTEBOOK_ID = Path(NOTEBOOK_NAME).stem
COURSE_ID = "resnet_signs"


@contextlib.contextmanager
def _open(db_url: str):
    """nbgrader's Gradebook, with this interpreter's scripts on PATH: a fresh gradebook is
    stamped by running the ``alembic`` script, which an unactivated venv would not find."""
    from nbgrader.api import Gradebook

    old = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old
    try:
        with Gradebook(db_url, course_id=COURSE_ID) as gb:
            yield gb
    finally:
        os.environ["PATH"] = old


def course_db_url(course: Path) -> str:
    """The gradebook URL that the course's ``nbgrader_config.py`` names (env ``RESNET_SIGNS_GRADEBOOK``)."""
    from resnet_signs.release.nbgrader_steps import load_config

    return str(load_config(course).CourseDirectory.db_url)


def ensure_assignment(db_url: str, course: Path) -> None:
    """Make sure the gradebook knows the assignment, its notebook and its grade cells.

    When it does not (a fresh gradebook), runs nbgrader's ``generate_assignment`` on the
    course's source, exactly as the instructor's release would, which records them.
    """
    from nbgrader.api import MissingEntry

    with _open(db_url) as gb:
        try:
            known = bool(gb.find_notebook(NOTEBOOK_ID, ASSIGNMENT_ID).grade_cells)
        except MissingEntry:
            known = False
    if not known:
        from resnet_signs.release.nbgrader_steps import generate_assignment, load_config

        generate_assignment(load_config(course, db_url=db_url), ASSIGNMENT_ID)


def record(db_url: str, grade: SubmissionGrade) -> None:
    """Store one student's automatic scores: the student, the submission, one grade per test cell.

    Args:
        db_url: SQLAlchemy URL of the gradebook (the assignment must be in it:
            :func:`ensure_assignment`).
        grade: the student's grade; each test's ``test_id`` names its grade cell.
    """
    from nbgrader.api import MissingEntry

    with _open(db_url) as gb, warnings.catch_warnings():
        # nbgrader's add_submission triggers SQLAlchemy autoflush warnings that are harmless.
        warnings.simplefilter("ignore")
        gb.update_or_create_student(grade.student)
        try:
            gb.find_submission(ASSIGNMENT_ID, grade.student)
        except MissingEntry:
            gb.add_submission(ASSIGNMENT_ID, grade.student)
        for test in grade.tests:
            try:
                row = gb.find_grade(test.test_id, NOTEBOOK_ID, ASSIGNMENT_ID, grade.student)
            except MissingEntry:
                continue  # a test the gradebook's version of the assignment does not have
            row.auto_score = float(test.score)
            row.needs_manual_grade = False
        gb.db.commit()


def read_scores(db_url: str) -> dict[str, dict[str, float]]:
    """``{student: {grade cell: auto score}}`` as nbgrader's API reads them back (for checks)."""
    scores: dict[str, dict[str, float]] = {}
    with _open(db_url) as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT_ID):
            notebook = submission.notebooks[0]
            scores[submission.student_id] = {g.name: g.auto_score for g in notebook.grades}
    return scores
