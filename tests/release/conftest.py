"""Shared helpers for the release tests: a tiny project to release and real nbgrader runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resnet_signs import paths

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "release"
COURSE = paths.PROJECT_ROOT / "autograder"
#: nbgrader's own outputs and state, never copied into a scratch course.
NBGRADER_STATE = ("gradebook.db", "release", "submitted", "autograded", "feedback", ".nbgrader.log", "__pycache__")


def make_tiny_project(root: Path) -> Path:
    """A project in ``root`` whose course holds the fixture notebooks (no TensorFlow)."""
    course = root / "autograder"
    course.mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    for assignment, name in (("residual_networks", "Residual_Networks"), ("why_resnets_work", "Why_ResNets_Work")):
        (course / "source" / assignment).mkdir(parents=True)
        shutil.copy(FIXTURES / f"{name}.md", course / "source" / assignment / f"{name}.md")
    return root


@pytest.fixture
def tiny_project(tmp_path) -> Path:
    return make_tiny_project(tmp_path)


def copy_course(destination: Path) -> Path:
    """Copy the course directory without nbgrader's state; returns the copy."""
    shutil.copytree(COURSE, destination, ignore=shutil.ignore_patterns(*NBGRADER_STATE))
    return destination


def nbgrader_env(course: Path) -> dict[str, str]:
    """Environment for a real ``nbgrader`` subprocess grading in ``course``."""
    env = dict(os.environ)
    env.update(
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),  # nbgrader runs `alembic`
        RESNET_SIGNS_COURSE=str(course),
        RESNET_SIGNS_DATA=str(paths.data_dir()),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.pop("RESNET_SIGNS_GRADEBOOK", None)
    return env


def nbgrader(course: Path, *args: str, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real nbgrader app in ``course`` (``env``: default :func:`nbgrader_env`); fail the test with its
    log when it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env or nbgrader_env(course),
        check=False, capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{output}"
    return result


def autograde(course: Path, assignment: str, notebook: str, submissions: dict[str, Path],
              env: dict | None = None) -> dict[str, dict]:
    """Submit each student's notebook, run ``nbgrader autograde`` (in ``env``, default :func:`nbgrader_env`)
    and read the gradebook.

    Returns:
        student -> {"score": total, "max_score": total possible, "cells": {grade_id: score}}.
    """
    from nbgrader.api import Gradebook

    for student, path in submissions.items():
        target = course / "submitted" / student / assignment / f"{notebook}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    nbgrader(course, "autograde", assignment, "--force", env=env)
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="resnet_signs") as gb:
        for student in submissions:
            submission = gb.find_submission(assignment, student)
            grades = submission.notebooks[0].grades
            scores[student] = {
                "score": submission.score,
                "max_score": submission.max_score,
                "cells": {g.name: g.score for g in grades},
            }
    return scores
