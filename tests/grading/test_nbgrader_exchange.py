"""nbgrader's whole workflow on one machine, with its own exchange in a temporary folder and our grader.

Instructor: generate_assignment, release_assignment. Student: fetch_assignment, works (the solution
sample is copied in), submit. Instructor: collect, ``resnet-signs grade`` over ``submitted/``,
generate_feedback, release_feedback. Student: fetch_feedback, and the feedback shows our grade.
Every step is nbgrader's own command line; one grading run (the real grader) for the module.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT, NOTEBOOK = "residual_networks", "Residual_Networks"


def _run(argv: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def workflow(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("nbgrader-exchange")
    course, student_home, exchange = tmp / "course", tmp / "student", tmp / "exchange"
    for name in ("nbgrader_config.py", "hidden_tests.py", "reference.py"):
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "autograder" / name, course / name)
    shutil.copytree(ROOT / "autograder" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns("*.md"))
    student_home.mkdir()
    exchange.mkdir()
    exchange.chmod(0o777)  # as on a JupyterHub server: every user writes the inbound folder
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"), "JUPYTER_DATA_DIR": str(tmp / "jupyter-data")}
    env.pop("RESNET_SIGNS_GRADEBOOK", None)
    env.pop("RESNET_SIGNS_COURSE", None)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    where = [f"--Exchange.root={exchange}"]
    as_student = [*where, "--CourseDirectory.course_id=resnet_signs"]

    _run([*nbgrader, "generate_assignment", ASSIGNMENT, "--force"], course, env)
    _run([*nbgrader, "release_assignment", ASSIGNMENT, *where], course, env)
    _run([*nbgrader, "fetch_assignment", ASSIGNMENT, *as_student], student_home, env)
    shutil.copy(ROOT / "autograder" / "samples" / "solution" / f"{NOTEBOOK}.ipynb",
                student_home / ASSIGNMENT / f"{NOTEBOOK}.ipynb")  # the student's work
    _run([*nbgrader, "submit", ASSIGNMENT, *as_student], student_home, env)
    _run([*nbgrader, "collect", ASSIGNMENT, *where], course, env)
    grading = _run(["flock", "/tmp/heavy.lock", sys.executable, "-m", "resnet_signs", "grade", course / "submitted",
                    "--out", tmp / "out", "--course", course], ROOT, env, timeout=1800)
    _run([*nbgrader, "generate_feedback", ASSIGNMENT], course, env)
    _run([*nbgrader, "release_feedback", ASSIGNMENT, *where], course, env)
    _run([*nbgrader, "fetch_feedback", ASSIGNMENT, *as_student], student_home, env)
    return {"course": course, "student_home": student_home, "grading": grading, "student": getpass.getuser()}


@pytest.mark.slow
def test_the_student_fetches_feedback_generated_from_our_grades(workflow):
    student = workflow["student"]
    course = workflow["course"]
    submitted = course / "submitted" / student / ASSIGNMENT
    assert (submitted / "timestamp.txt").is_file()  # collected from the exchange
    autograded = course / "autograded" / student / ASSIGNMENT
    assert (autograded / f"{NOTEBOOK}.ipynb").is_file()
    assert (autograded / "timestamp.txt").read_text() == (submitted / "timestamp.txt").read_text()
    assert "9/9" in workflow["grading"].stdout.replace(" ", "")
    [feedback] = list((workflow["student_home"] / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK}.html"))
    page = feedback.read_text(encoding="utf-8")
    assert f"{NOTEBOOK} (Score: 9.0 / 9.0)" in page
    assert page.count("✓ passed") == 9


@pytest.mark.slow
def test_the_gradebook_has_the_submission_time_nbgrader_recorded(workflow):
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    course, student = workflow["course"], workflow["student"]
    stamp = (course / "submitted" / student / ASSIGNMENT / "timestamp.txt").read_text().strip()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        assert submission.timestamp == parse_utc(stamp).replace(tzinfo=None)
        assert submission.score == 9.0 and submission.max_score == 9.0
