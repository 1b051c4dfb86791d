"""The real grader with nothing skipped: every code cell runs, tagged ``skip-when-grading`` or not.

tests/grading/test_variants.py grades variants with it and with the real grader and compares: skipping
the unchanged figure, demo and training cells must never change a grade.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from resnet_signs.grading import core
from resnet_signs.grading import course as courses


def grade_submission(notebook_path, *, course, assignment=None, **kwargs):
    loaded = courses.load(Path(course), assignment)
    every_cell = dataclasses.replace(loaded, skip_texts=frozenset())
    return core.grade_submission(notebook_path, course=every_cell, assignment=assignment, **kwargs)
