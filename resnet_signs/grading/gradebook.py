"""Putting grades into the real nbgrader gradebook, so ``nbgrader export`` and formgrader show them.

Only the grading parent process writes here (one writer, one student at a time, right after
that student finishes), so a SQLite gradebook is safe and an interrupted run keeps every
grade already recorded.
"""

from __future__ import annotations

import contextlib
import warnings
from datetime import datetime
from pathlib import Path

from resnet_signs import paths
from resnet_signs.grading.model import SubmissionGrade

COURSE_ID = "resnet_signs"


@contextlib.contextmanager
def _open(db_url: str):
    """nbgrader's Gradebook (a fresh one is stamped by running ``alembic``: see
    :func:`resnet_signs.paths.interpreter_scripts_on_path`)."""
    from nbgrader.api import Gradebook

    with paths.interpreter_scripts_on_path(), Gradebook(db_url, course_id=COURSE_ID) as gb:
        yield gb


def course_db_url(course: Path) -> str:
    """The gradebook URL that the course's ``nbgrader_config.py`` names (env ``RESNET_SIGNS_GRADEBOOK``)."""
    from resnet_signs.release.nbgrader_steps import load_config

    return str(load_config(course).CourseDirectory.db_url)


def ensure_assignment(db_url: str, course) -> None:
    """Make sure the gradebook knows the assignment, its notebook and its grade cells.

    ``course`` is the loaded :class:`~resnet_signs.grading.course.Course`.

    When it does not (a fresh gradebook), runs nbgrader's ``generate_assignment`` on the
    course's source, exactly as the instructor's release would, which records them.
    """
    from nbgrader.api import MissingEntry

    with _open(db_url) as gb:
        try:
            known = bool(gb.find_notebook(course.source.stem, course.assignment).grade_cells)
        except MissingEntry:
            known = False
    if not known:
        from resnet_signs.release.nbgrader_steps import generate_assignment, load_config

        generate_assignment(load_config(course.root, db_url=db_url), course.assignment)


def submission_timestamp(folder: Path) -> datetime | None:
    """When the submission in ``folder`` was handed in: nbgrader's ``timestamp.txt`` (written by
    ``nbgrader submit``, kept by ``collect``), read as nbgrader reads it; ``None`` when absent,
    empty or unreadable (then nbgrader's late penalty cannot apply, as under ``nbgrader autograde``)."""
    from nbgrader.utils import parse_utc

    try:
        text = (folder / "timestamp.txt").read_text(encoding="utf-8").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, OverflowError):
        return None


def record(db_url: str, grade: SubmissionGrade, assignment: str, notebook_id: str,
           timestamp: datetime | None = None) -> None:
    """Store one student's automatic scores: the student, the submission, one grade per test cell.

    Args:
        db_url: SQLAlchemy URL of the gradebook (the assignment must be in it:
            :func:`ensure_assignment`).
        grade: the student's grade; each test's ``test_id`` names its grade cell.
        assignment: the assignment's id; ``notebook_id``: its notebook's name without ``.ipynb``.
        timestamp: when the student submitted (:func:`submission_timestamp`); compared with the
            assignment's due date for nbgrader's late penalty (:func:`assign_late_penalty`).
    """
    from nbgrader.api import MissingEntry

    with _open(db_url) as gb, warnings.catch_warnings():
        # nbgrader's add_submission triggers SQLAlchemy autoflush warnings that are harmless.
        warnings.simplefilter("ignore")
        gb.update_or_create_student(grade.student)
        extra = {"timestamp": timestamp} if timestamp is not None else {}
        gb.update_or_create_submission(assignment, grade.student, **extra)
        for test in grade.tests:
            try:
                row = gb.find_grade(test.test_id, notebook_id, assignment, grade.student)
            except MissingEntry:
                continue  # a test the gradebook's version of the assignment does not have
            row.auto_score = float(test.score)
            # as nbgrader's SaveAutoGrades: a grader's manual score over an auto score asks for review again
            row.needs_manual_grade = row.manual_score is not None
        gb.db.commit()


def assign_late_penalty(config, db_url: str, assignment: str, notebook_id: str, student: str) -> None:
    """nbgrader's late penalty for the submission, by nbgrader's own step (``AssignLatePenalties``,
    the last one ``nbgrader autograde`` runs) with the course's ``LateSubmissionPlugin`` settings:
    none unless the assignment has a due date and the course configures a penalty."""
    from nbformat.v4 import new_notebook
    from nbgrader.preprocessors import AssignLatePenalties

    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": notebook_id, "student": student}}
    with paths.interpreter_scripts_on_path():
        AssignLatePenalties(config=config).preprocess(new_notebook(), resources)


def read_scores(db_url: str, assignment: str) -> dict[str, dict[str, float]]:
    """``{student: {grade cell: auto score}}`` as nbgrader's API reads them back (for checks)."""
    scores: dict[str, dict[str, float]] = {}
    with _open(db_url) as gb:
        for submission in gb.assignment_submissions(assignment):
            notebook = submission.notebooks[0]
            scores[submission.student_id] = {g.name: g.auto_score for g in notebook.grades}
    return scores
