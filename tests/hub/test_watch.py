"""The feedback-on-submit service against nbgrader's exchange layout, with a fake grader (fast).

Submissions are written into the inbound folder the way ``nbgrader submit`` writes them; the
service's worker is a real subprocess running :mod:`tests.hub.fake_grader` (the front's fake
verdicts, plus students whose grading is slow, hangs or crashes). The real grader on a real hub is
tests/hub/test_jupyterhub.py's.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest

from resnet_signs import cli, paths
from resnet_signs.grading import course as courses
from resnet_signs.grading import gradebook
from resnet_signs.hub import inbound
from resnet_signs.hub.records import Done, GradeReply, Outcome, RecordError
from resnet_signs.hub.watch import Service, Settings

from .courses import make_course

TESTS = Path(__file__).resolve().parents[1]
GRADER = "hub.fake_grader:grade_submission"
ASSIGNMENT, NOTEBOOK = "residual_networks", "Residual_Networks.ipynb"
SOLUTION = paths.PROJECT_ROOT / "autograder" / "samples" / "solution" / NOTEBOOK
START = datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A course directory whose gradebook already knows the assignment (nbgrader's generate_assignment once)."""
    course = make_course(tmp_path_factory.mktemp("template") / "course")
    gradebook.ensure_assignment(gradebook.course_db_url(course), courses.load(course))
    return course


@pytest.fixture()
def setup(template, tmp_path, monkeypatch) -> dict:
    """A fresh copy of the course, an empty exchange, the fake grader importable by the worker."""
    course = tmp_path / "course"
    shutil.copytree(template, course)
    exchange = tmp_path / "exchange"
    (exchange / "resnet_signs" / "inbound").mkdir(parents=True)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]).strip(os.pathsep))
    monkeypatch.setenv("FAKE_GRADER_LOG", str(tmp_path / "grader.log"))
    monkeypatch.delenv("RESNET_SIGNS_GRADEBOOK", raising=False)
    return {"course": course, "exchange": exchange, "log": tmp_path / "grader.log", "tmp": tmp_path}


def settings(setup: dict, **overrides) -> Settings:
    values = dict(course=setup["course"], exchange=setup["exchange"], release_feedback=True, poll=0.1, settle=0.2,
                  submission_timeout=60, grader=GRADER, check_owner=False, once=True)
    return Settings(**{**values, **overrides})


def submit(setup: dict, student: str, minutes: int = 0, *, bug: bool = False, complete: bool = True) -> Path:
    """An inbound folder as ``nbgrader submit`` leaves it (``complete=False``: stopped before its last file)."""
    stamp = (START + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    folder = setup["exchange"] / "resnet_signs" / "inbound" / f"{student}+{ASSIGNMENT}+{stamp}+{secrets.token_hex(4)}"
    folder.mkdir()
    notebook = SOLUTION.read_text(encoding="utf-8")
    if bug:  # the fake grader fails the hidden tests of a function whose answer says BUG
        nb = json.loads(notebook)
        cell = next(c for c in nb["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == "convolutional_block")
        cell["source"] = "".join(cell["source"]) + "\n# BUG\n"
        notebook = json.dumps(nb)
    (folder / NOTEBOOK).write_text(notebook, encoding="utf-8")
    (folder / "timestamp.txt").write_text(stamp)
    if complete:
        (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
    return folder


def run_once(setup: dict, **overrides) -> list[str]:
    """Run the service until every complete submission is processed; its log lines."""
    log = io.StringIO()
    Service(settings(setup, **overrides), log).run()
    return log.getvalue().splitlines()


def graded(setup: dict) -> list[str]:
    """The fake grader's log: ``start X`` / ``end X`` for each grading (the warm-up included)."""
    log = setup["log"]
    return [line for line in log.read_text().splitlines() if "(warm-up)" not in line] if log.exists() else []


def states(setup: dict) -> dict[str, Done]:
    """Each student's latest submission's state file."""
    found = [Done.from_json(path.read_text()) for path in (setup["course"] / ".watch" / "done").glob("*.json")]
    return {done.student: done for done in sorted(found, key=lambda d: d.timestamp)}


def feedback_released(setup: dict, folder: Path) -> Path:
    """Where the student's ``fetch_feedback`` looks for this submission's feedback."""
    from nbgrader.utils import notebook_hash

    secret = (folder / "submission_secret.txt").read_text()
    digest = notebook_hash(secret=secret, notebook_id="Residual_Networks")
    return setup["exchange"] / "resnet_signs" / "feedback" / f"{digest}.html"


def test_each_submission_is_graded_recorded_and_its_feedback_released_once(setup, tmp_path):
    ada, bob = submit(setup, "ada"), submit(setup, "bob", 1, bug=True)
    submit(setup, "cy", 2, bug=True)
    submit(setup, "cy", 3)  # cy submitted again: only the latest counts
    (tmp_path / "answers.txt").write_text("the reference")
    (ada / "notes.txt").symlink_to(tmp_path / "answers.txt")
    lines = run_once(setup)
    assert graded(setup) == ["start ada", "end ada", "start bob", "end bob", "start cy", "end cy"]
    done = states(setup)
    assert (done["ada"].outcome, done["ada"].score, done["ada"].feedback) == (Outcome.GRADED, 9.0, "released")
    assert (done["bob"].outcome, done["bob"].score) == (Outcome.GRADED, 7.0)
    assert (done["cy"].outcome, done["cy"].score) == (Outcome.GRADED, 9.0)
    assert gradebook.read_scores(gradebook.course_db_url(setup["course"]), ASSIGNMENT)["bob"][
        "convolutional_block_hidden_values"] == 0.0
    assert (setup["course"] / "submitted" / "bob" / ASSIGNMENT / "timestamp.txt").is_file()
    assert (setup["course"] / "grades" / "bob" / "record.json").is_file()
    page = feedback_released(setup, bob).read_text(encoding="utf-8")
    assert "check the stride" in page and "Score: 7.0 / 9.0" in page
    assert "check the stride" not in feedback_released(setup, ada).read_text(encoding="utf-8")
    # a symbolic link in a submission is never followed (it could point at the answers)
    collected = setup["course"] / "submitted" / "ada" / ASSIGNMENT
    assert (collected / NOTEBOOK).is_file() and not (collected / "notes.txt").exists()
    assert "left out 1 link" in done["ada"].detail
    per_student = [line for line in lines if "submitted 2026-12-01" in line]
    assert len(per_student) == 4, lines  # one line per submission
    assert "bob (submitted 2026-12-01 09:01:00.000000 UTC): graded 7/9" in per_student[1]
    assert "cy (submitted 2026-12-01 09:02:00.000000 UTC): superseded" in per_student[2]

    again = run_once(setup)  # a restart: nothing is graded twice, nothing is logged twice
    assert graded(setup) == ["start ada", "end ada", "start bob", "end bob", "start cy", "end cy"]
    assert not [line for line in again if "submitted 2026-12-01" in line]


def test_a_half_written_submission_is_not_read_until_complete(setup):
    folder = submit(setup, "ada", complete=False)
    service = Service(settings(setup), io.StringIO())
    service.start_worker()
    try:
        for _ in range(4):
            service.step()
            time.sleep(0.25)
        assert graded(setup) == [] and states(setup) == {}
        (folder / "submission_secret.txt").write_text(secrets.token_hex(32))  # half of the secret so far
        service.step()
        time.sleep(0.25)
        service.step()
        assert graded(setup) == []
        (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
        service.step()  # first look at the complete folder: it must stay unchanged for `settle`
        assert graded(setup) == []
        time.sleep(0.3)
        service.step()
        assert graded(setup) == ["start ada", "end ada"]
    finally:
        service.worker.stop()


def test_settler_waits_for_a_folder_to_stop_changing(setup):
    folder = submit(setup, "ada")
    clock = [0.0]
    settler = inbound.Settler(settle=1.0, clock=lambda: clock[0])
    [sub] = inbound.scan(setup["exchange"] / "resnet_signs" / "inbound", ASSIGNMENT)
    assert not settler.ready(sub)
    clock[0] = 0.5
    assert not settler.ready(sub)
    (folder / "extra.txt").write_text("still copying")
    clock[0] = 1.2
    assert not settler.ready(sub)  # changed: the wait starts again
    clock[0] = 2.0
    assert not settler.ready(sub)
    clock[0] = 2.3
    assert settler.ready(sub)


def test_a_hanging_or_crashing_grading_is_reported_and_the_next_submission_graded(setup):
    submit(setup, "hangs")
    submit(setup, "crashes", 1)
    submit(setup, "zoe", 2)
    lines = run_once(setup, submission_timeout=4)
    done = states(setup)
    assert done["hangs"].outcome is Outcome.NOT_GRADED and "longer than 4 s" in done["hangs"].detail
    assert done["crashes"].outcome is Outcome.NOT_GRADED and "SIGSEGV" in done["crashes"].detail
    assert done["zoe"].outcome is Outcome.GRADED and done["zoe"].score == 9.0
    assert any("hangs (submitted" in line and "NOT GRADED" in line and "--student hangs" in line for line in lines)
    assert graded(setup) == ["start hangs", "start crashes", "start zoe", "end zoe"]
    assert not _processes_of(setup["course"])  # the hung worker and everything it started are gone


def test_killing_the_service_mid_grade_then_restarting_grades_the_submission_once(setup):
    submit(setup, "ada")
    submit(setup, "slow", 1)
    env = dict(os.environ, FAKE_GRADER_SLOW="3")
    script = ("import sys; from pathlib import Path; from resnet_signs.hub.watch import Settings, watch; "
              f"watch(Settings(course=Path(sys.argv[1]), exchange=Path(sys.argv[2]), grader={GRADER!r}, poll=0.1, "
              "settle=0.2, release_feedback=True, check_owner=False, once=True))")
    argv = [sys.executable, "-c", script, str(setup["course"]), str(setup["exchange"])]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lambda: "start slow" in graded(setup), 120)
        worker = [p for p in psutil.Process(first.pid).children() if "resnet_signs.hub.worker" in " ".join(p.cmdline())]
        first.kill()  # mid-grade: slow's grading has started and not ended
        first.wait(10)
        _wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in worker), 20)
    finally:
        if first.poll() is None:
            first.kill()
    assert graded(setup) == ["start ada", "end ada", "start slow"] and "slow" not in states(setup)

    second = subprocess.run(argv, env=env, check=False, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert graded(setup) == ["start ada", "end ada", "start slow", "start slow", "end slow"]
    assert states(setup)["slow"].outcome is Outcome.GRADED
    [line] = [line for line in second.stdout.splitlines() if "submitted 2026-12-01" in line]
    assert "slow (submitted" in line and "graded 9/9" in line


def test_names_nbgrader_would_not_write_are_not_submissions(setup):
    inbound_dir = setup["exchange"] / "resnet_signs" / "inbound"
    for name in ("..+residual_networks+2026-12-01 09:00:00 UTC+ab",
                 ".hidden+residual_networks+2026-12-01 09:00:00 UTC+ab",
                 "ada+residual_networks+not a time+ab", "ada+other_assignment+2026-12-01 09:00:00 UTC+ab", "ada"):
        (inbound_dir / name).mkdir()
    assert inbound.scan(inbound_dir, ASSIGNMENT) == []


def test_a_folder_not_owned_by_the_student_it_names_is_rejected(setup):
    submit(setup, "mallory-is-not-root")  # written by this test's user, not by that student
    log = io.StringIO()
    [sub] = inbound.scan(setup["exchange"] / "resnet_signs" / "inbound", ASSIGNMENT)
    done = Service(settings(setup, check_owner=True), log).process(sub)
    assert done.outcome is Outcome.REJECTED and not (setup["course"] / "submitted").exists()
    assert "mallory-is-not-root (submitted" in log.getvalue() and "rejected: the folder belongs to" in log.getvalue()


@pytest.mark.parametrize(("argv", "message"), [
    (["--exchange", "/nonexistent/exchange"], "no exchange folder /nonexistent/exchange"),
    (["--exchange", "{exchange}", "--poll", "0"], "--poll must be a positive number"),
    (["--exchange", "{exchange}", "--course", "/nonexistent"], "is not a course directory"),
])  # fmt: skip
def test_bad_arguments_are_one_line_errors(setup, capsys, argv, message):
    argv = [a.format(exchange=setup["exchange"]) for a in argv]
    if "--course" not in argv:
        argv += ["--course", str(setup["course"])]
    assert cli.main(["watch", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_records_refuse_what_they_were_not_written_as():
    good = GradeReply("ada", "ada+a+t+r", True, 9.0, 9.0, False, "released", 1.5, "").to_json()
    assert GradeReply.from_json(good).score == 9.0
    for bad in (good[:-5], json.dumps({**json.loads(good), "score": "9"}), json.dumps({**json.loads(good), "x": 1}),
                json.dumps({**json.loads(good), "graded": 1}), "[]"):
        with pytest.raises(RecordError):
            GradeReply.from_json(bad)


def _processes_of(course: Path) -> list[psutil.Process]:
    """Live processes whose command line names ``course`` (a worker, a zygote)."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if process.info["status"] != psutil.STATUS_ZOMBIE and str(course) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)
