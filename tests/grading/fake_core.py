"""A stand-in for ``resnet_signs.grading.core.grade_submission`` in the front's fast tests.

It follows the contract (never raises for a student's mistake, returns a SubmissionGrade in
the course's function order, with the course's tests and points) with trivial verdicts read from the
answer cells' text, so the front's tests exercise jobs, reuse, reports and the gradebook in
milliseconds. The real core is exercised by tests/grading/test_front_samples.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from resnet_signs.grading import course as courses
from resnet_signs.grading.model import FunctionGrade, Status, SubmissionGrade, TestResult


def grade_submission(notebook_path, *, student, course, limits, workdir, assignment=None, threads=0):
    """Full marks for an answer cell that does not raise NotImplementedError; 'BUG' fails hidden tests.

    The functions, tests and points are the course's (its source notebook and hidden_tests.py), as
    for the real core. Env ``FAKE_CORE_LOG`` names a file that gets one line per graded student (to
    count calls); ``FAKE_CORE_INTERRUPT`` names a student at whom to raise KeyboardInterrupt (a killed
    run), ``FAKE_CORE_CRASH`` one at whom to raise RuntimeError (a bug in the grader).
    """
    if os.environ.get("FAKE_CORE_INTERRUPT") == student:
        raise KeyboardInterrupt
    if os.environ.get("FAKE_CORE_CRASH") == student:
        raise RuntimeError("a bug in the grader")
    if os.environ.get("FAKE_CORE_LOG"):
        with open(os.environ["FAKE_CORE_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(student) + "\n")
    assert Path(workdir).is_dir()
    graded = courses.load(Path(course), assignment)
    points = {fn: sum(t.points for t in graded.tests if t.function == fn) for fn in graded.functions}
    try:
        if not Path(notebook_path).is_file():  # the contract: a path with no file is a student who handed in nothing
            raise FileNotFoundError(f"no {graded.notebook_name} in the student's folder")
        nb = nbformat.read(str(notebook_path), as_version=4)
        answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    except Exception as exc:  # noqa: BLE001 - as the real core: an unreadable file is the student's
        reason = str(exc) if isinstance(exc, FileNotFoundError) else f"not a notebook: {type(exc).__name__}"
        functions = [FunctionGrade(fn, 0.0, points[fn], Status.INVALID_NOTEBOOK, reason) for fn in graded.functions]
        tests = [TestResult(t.test_id, t.function, 0.0, t.points, False, "the notebook could not be read", t.hidden)
                 for t in graded.tests]
        return SubmissionGrade(student, functions, tests, 0.5)
    tests, functions = [], []
    for fn in graded.functions:
        code = answers.get(fn)
        for test in (t for t in graded.tests if t.function == fn):
            ok = code is not None and "NotImplementedError" not in code and not ("BUG" in code and test.hidden)
            hint = "ok" if ok else f"<b>{fn}</b> & friends: check the stride"
            tests.append(TestResult(test.test_id, fn, test.points if ok else 0.0, test.points, ok, hint, test.hidden))
        score = sum(t.score for t in tests if t.function == fn)
        status = Status.MISSING if code is None else Status.OK
        functions.append(FunctionGrade(fn, score, points[fn], status, "" if code else "no answer cell"))
    return SubmissionGrade(student, functions, tests, 1.25, output="printed <stuff>")


def grade_reporting_threads(notebook_path, *, threads=0, **kwargs):
    """The fake's grade, its output naming the TensorFlow threads the job passed (no module state carries them)."""
    grade = grade_submission(notebook_path, **kwargs)
    grade.output = f"threads={threads}"
    return grade


def grade_breaking_the_contract(notebook_path, **kwargs):
    """A grader that returns the grade as a dict: the front refuses it (NOT GRADED), never writes it."""
    return grade_submission(notebook_path, **kwargs).to_json()
