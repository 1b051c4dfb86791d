"""A stand-in for ``resnet_signs.grading.core.grade_submission`` in the front's fast tests.

It follows the contract (never raises for a student's mistake, returns a SubmissionGrade in
the course's function order) with trivial verdicts read from the answer cells' text, so the front's
tests exercise jobs, reuse, reports and the gradebook in milliseconds. The real core is
exercised by tests/grading/test_front_samples.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat

from resnet_signs.grading.model import FunctionGrade, Status, SubmissionGrade, TestResult

FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")

#: grade_id -> (function, points, hidden), as in docs/CONTRACTS.md.
TESTS = [(f"{fn}_{kind}", fn, 1.0, kind != "public") for fn, kinds in (
    ("identity_block", ("public", "hidden_values", "hidden_structure")),
    ("convolutional_block", ("public", "hidden_values", "hidden_structure")),
    ("ResNet50", ("public", "hidden_shapes", "hidden_variants")),
) for kind in kinds]


def grade_submission(notebook_path, *, student, course, limits, workdir, assignment=None):
    """Full marks for an answer cell that does not raise NotImplementedError; 'BUG' fails hidden tests.

    Env ``FAKE_CORE_LOG`` names a file that gets one line per graded student (to count calls);
    ``FAKE_CORE_INTERRUPT`` names a student at whom to raise KeyboardInterrupt (a killed run),
    ``FAKE_CORE_CRASH`` one at whom to raise RuntimeError (a bug in the grader).
    """
    if os.environ.get("FAKE_CORE_INTERRUPT") == student:
        raise KeyboardInterrupt
    if os.environ.get("FAKE_CORE_CRASH") == student:
        raise RuntimeError("a bug in the grader")
    if os.environ.get("FAKE_CORE_LOG"):
        with open(os.environ["FAKE_CORE_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(student) + "\n")
    assert (Path(course) / "source").is_dir() and Path(workdir).is_dir()
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
        answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    except Exception as exc:
        reason = f"not a notebook: {type(exc).__name__}"
        functions = [FunctionGrade(fn, 0.0, 3.0, Status.INVALID_NOTEBOOK, reason) for fn in FUNCTIONS]
        tests = [TestResult(t, fn, 0.0, pts, False, "the notebook could not be read", hidden)
                 for t, fn, pts, hidden in TESTS]
        return SubmissionGrade(student, functions, tests, 0.5)
    tests, functions = [], []
    for fn in FUNCTIONS:
        code = answers.get(fn)
        for test_id, tfn, pts, hidden in (t for t in TESTS if t[1] == fn):
            ok = code is not None and "NotImplementedError" not in code and not ("BUG" in code and hidden)
            hint = "ok" if ok else f"<b>{fn}</b> & friends: check the stride"
            tests.append(TestResult(test_id, fn, pts if ok else 0.0, pts, ok, hint, hidden))
        score = sum(t.score for t in tests if t.function == fn)
        status = Status.MISSING if code is None else Status.OK
        functions.append(FunctionGrade(fn, score, 3.0, status, "" if code else "no answer cell"))
    return SubmissionGrade(student, functions, tests, 1.25, output="printed <stuff>")
