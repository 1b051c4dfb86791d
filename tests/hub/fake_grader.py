"""A grader for the watch service's tests: the front's fake verdicts, and students whose grading is slow,
hangs or crashes the grading process.

``FAKE_GRADER_LOG`` names a file that gets ``start <student>`` and ``end <student>`` around each
grading (to count how often a submission was graded); ``FAKE_GRADER_SLOW`` the seconds the student
``slow`` takes.
"""

from __future__ import annotations

import os
import signal
import time

from grading.fake_core import grade_submission as fake_grade


def _log(event: str, student: str) -> None:
    if os.environ.get("FAKE_GRADER_LOG"):
        with open(os.environ["FAKE_GRADER_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{event} {student}\n")


def grade_submission(notebook_path, *, student, course, limits, workdir, assignment=None, threads=0):
    _log("start", student)
    if student == "hangs":
        while True:
            time.sleep(1)
    if student == "crashes":
        os.kill(os.getpid(), signal.SIGSEGV)
    if student == "slow":
        time.sleep(float(os.environ.get("FAKE_GRADER_SLOW", "4")))
    grade = fake_grade(notebook_path, student=student, course=course, limits=limits, workdir=workdir,
                       assignment=assignment)
    _log("end", student)
    return grade
