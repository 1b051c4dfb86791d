"""The grading front (jobs, reuse, reports, gradebook, CLI) against a fake core: fast and exact.

The fake (tests/grading/fake_core.py) follows the core's contract with trivial verdicts, so
these tests pin down what the front does with grades; tests/grading/test_variants.py grades
real submissions with the real core.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from resnet_signs import cli, paths
from resnet_signs.grading import gradebook
from resnet_signs.grading.api import grade
from resnet_signs.grading.course import load as load_course
from resnet_signs.grading.progress import Progress
from resnet_signs.grading.submissions import find_submissions, safe_slug

ROOT = Path(__file__).resolve().parents[2]
FAKE = f"{__package__}.fake_core:grade_submission"
SOLVED = "def {fn}(*args):\n    return 1\n"
STUB = "def {fn}(*args):\n    raise NotImplementedError()\n"
BUGGY = "def {fn}(*args):\n    return 2  # BUG\n"
WEIRD = "Zoë d'Arc, \"=1+1\" <script>"
BOB_SUBMITTED = "2026-03-01 12:30:00.000000 UTC"
#: (grade_id, function, points, hidden) of the real course's test cells, which the fake course copies.
TESTS = [(t.test_id, t.function, t.points, t.hidden) for t in load_course(paths.course_dir()).tests]


def _notebook(answers: dict[str, str]) -> nbformat.NotebookNode:
    """A notebook with the contract's answer and test cells (nbgrader metadata as in the source)."""
    cells = [nbformat.v4.new_markdown_cell("# Residual Networks")]
    for fn in ("identity_block", "convolutional_block", "ResNet50"):
        if fn in answers:
            cells.append(nbformat.v4.new_code_cell(answers[fn], metadata={"nbgrader": {
                "grade": False, "grade_id": fn, "locked": False, "schema_version": 3, "solution": True,
                "task": False}}))
        for test_id, tfn, points, hidden in TESTS:
            if tfn == fn:
                text = f"### BEGIN HIDDEN TESTS\nassert {fn}\n### END HIDDEN TESTS" if hidden else f"assert {fn}"
                cells.append(nbformat.v4.new_code_cell(text, metadata={"nbgrader": {
                    "grade": True, "grade_id": test_id, "locked": True, "points": points,
                    "schema_version": 3, "solution": False, "task": False}}))
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                          "display_name": "Python 3"}})


def _write(path: Path, nb) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _answers(template: str, **overrides: str) -> dict[str, str]:
    base = {fn: template.format(fn=fn) for fn in ("identity_block", "convolutional_block", "ResNet50")}
    return {**base, **overrides}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course directory: the real nbgrader_config.py, hidden tests and reference, and a small source
    notebook with the same graded cells (the fake core never judges: it reads the tests and points there)."""
    root = tmp_path_factory.mktemp("course")
    for name in ("nbgrader_config.py", "hidden_tests.py", "reference.py"):
        shutil.copy(ROOT / "autograder" / name, root)
    _write(root / "source" / "residual_networks" / "Residual_Networks.ipynb", _notebook(_answers(SOLVED)))
    return root


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    """Students covering the front's cases: layouts, odd names, missing and corrupt notebooks."""
    root = tmp_path_factory.mktemp("submissions")
    _write(root / "alice" / "Residual_Networks.ipynb", _notebook(_answers(SOLVED)))
    _write(root / "bob" / "residual_networks" / "Residual_Networks.ipynb", _notebook(_answers(STUB)))
    (root / "bob" / "residual_networks" / "timestamp.txt").write_text(BOB_SUBMITTED,
                                                                      encoding="utf-8")  # nbgrader submit
    (root / "bob" / "residual_networks" / "submission_secret.txt").write_text("s3cret", encoding="utf-8")
    _write(root / WEIRD / "Residual_Networks.ipynb", _notebook(_answers(SOLVED, ResNet50=BUGGY.format(fn="ResNet50"))))
    _write(root / "名前 with space" / "Residual_Networks.ipynb", _notebook(_answers(SOLVED)))
    (root / "carol").mkdir()  # handed in nothing
    (root / "dave").mkdir()
    (root / "dave" / "Residual_Networks.ipynb").write_text("{not json", encoding="utf-8")
    (root / ".ipynb_checkpoints").mkdir()  # hidden folders are not students, but the summary lists them
    return root


@pytest.fixture(scope="module")
def graded(course, submissions, tmp_path_factory):
    """One grading run shared by the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("run") / "out"
    db = f"sqlite:///{out.parent / 'gradebook.db'}"
    log = out.parent / "calls.log"
    os.environ["FAKE_CORE_LOG"] = str(log)
    try:
        result = grade(submissions, out=out, course=course, db_url=db, grader=FAKE, progress=io.StringIO())
    finally:
        del os.environ["FAKE_CORE_LOG"]
    return {"out": out, "db": db, "result": result, "log": log}


def _rows(out: Path) -> list[list[str]]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_grades_csv_has_one_row_per_student_and_function_in_documented_order(graded):
    rows = _rows(graded["out"])
    assert rows[0] == ["student", "function", "score", "max_score", "status"]
    fns = ["identity_block", "convolutional_block", "ResNet50"]
    students = sorted(["alice", "bob", WEIRD, "名前 with space", "carol", "dave"])
    assert [r[:2] for r in rows[1:]] == [[s, fn] for s in students for fn in fns]
    table = {(r[0], r[1]): (r[2], r[4]) for r in rows[1:]}
    assert table["alice", "ResNet50"] == ("3", "ok")
    assert table["bob", "identity_block"] == ("0", "ok")  # the nbgrader layout is found
    assert table[WEIRD, "ResNet50"] == ("1", "ok") and table[WEIRD, "identity_block"] == ("3", "ok")
    assert table["carol", "identity_block"] == ("0", "invalid-notebook")
    assert table["dave", "convolutional_block"] == ("0", "invalid-notebook")
    assert not graded["result"].failed


def test_hidden_folders_are_not_graded_but_listed(graded, capsys):
    from resnet_signs.grading.api import print_summary

    assert graded["result"].skipped == [".ipynb_checkpoints"]
    print_summary(graded["result"])
    assert "not graded (hidden or cache folders): .ipynb_checkpoints" in capsys.readouterr().out


def test_odd_names_get_safe_folders_and_keep_their_real_name(graded):
    out = graded["out"]
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 6 and all("/" not in f and not f.startswith(".") for f in folders)
    weird = out / safe_slug(WEIRD)
    assert json.loads((weird / "record.json").read_text(encoding="utf-8"))["student"] == WEIRD
    page = (weird / "feedback.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert not (out.parent / "dots").exists() and not (out.parent / "Residual_Networks.ipynb").exists()


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", "", "\x00x", "é" * 300, "CON", "ok_name-1.x"])
def test_safe_slug_never_escapes_and_never_clashes(name):
    slug = safe_slug(name)
    assert slug and not slug.startswith(".") and "/" not in slug and "\\" not in slug and "\x00" not in slug
    assert len(slug) <= 90
    assert (slug == name) == (name == "ok_name-1.x" or name == "CON")
    assert safe_slug("a b") != safe_slug("a_b") != safe_slug("a/b")


def test_results_json_is_gradescope_format(graded):
    results = json.loads((graded["out"] / safe_slug(WEIRD) / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 7 and results["execution_time"] == 1.2
    assert [t["name"] for t in results["tests"]] == [f"{fn}: {t}" for t, fn, _, _ in TESTS]
    vis = {t["name"].split(": ")[1]: t["visibility"] for t in results["tests"]}
    assert vis["identity_block_public"] == "visible" and vis["ResNet50_hidden_shapes"] == "after_published"
    failed = [t for t in results["tests"] if t["score"] == 0]
    assert [t["name"] for t in failed] == ["ResNet50: ResNet50_hidden_shapes", "ResNet50: ResNet50_hidden_variants"]
    assert all(t["output"].startswith("failed: ") and t["max_score"] == 1 for t in failed)
    carol = json.loads((graded["out"] / "carol" / "results.json").read_text(encoding="utf-8"))
    assert "no Residual_Networks.ipynb" in carol["output"]


def test_feedback_says_passed_and_failed_in_words_with_the_hint(graded):
    page = (graded["out"] / safe_slug(WEIRD) / "feedback.html").read_text(encoding="utf-8")
    assert page.count("✓ passed") == 7 and page.count("✗ failed") == 2
    assert "&lt;b&gt;ResNet50&lt;/b&gt; &amp; friends: check the stride" in page


def test_gradebook_holds_the_auto_scores(graded):
    scores = gradebook.read_scores(graded["db"], "residual_networks")
    assert set(scores) == {"alice", "bob", WEIRD, "名前 with space", "carol", "dave"}
    assert scores["alice"] == {t: 1.0 for t, _, _, _ in TESTS}
    assert scores[WEIRD]["ResNet50_hidden_variants"] == 0.0 and scores["bob"]["identity_block_public"] == 0.0


def test_nbgrader_export_lists_the_students(graded, course, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "export", f"--db={graded['db']}", "--to=export.csv"],
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    with open(tmp_path / "export.csv", newline="", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    # nbgrader's exporter joins fields with bare commas, so a name holding a comma is split
    # there (our grades.csv quotes it); the student is still exported, under the name's first part.
    assert set(rows) == {"alice", "bob", WEIRD.split(",")[0], "名前 with space", "carol", "dave"}
    assert float(rows["alice"]["raw_score"]) == 9 and float(rows["bob"]["raw_score"]) == 0


def test_second_run_reuses_every_grade_and_writes_identical_files(graded, course, submissions):
    out = graded["out"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    graded["log"].unlink()
    os.environ["FAKE_CORE_LOG"] = str(graded["log"])
    try:
        again = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE,
                      progress=io.StringIO())
    finally:
        del os.environ["FAKE_CORE_LOG"]
    assert not graded["log"].exists()  # nothing graded again
    assert len(again.reused) == 6
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_interrupted_run_resumes_without_regrading_finished_students(graded, course, submissions, tmp_path,
                                                                    monkeypatch):
    out, db, log = tmp_path / "out", graded["db"], tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_CORE_LOG", str(log))
    monkeypatch.setenv("FAKE_CORE_INTERRUPT", "carol")  # a Ctrl-C in the middle of the run
    with pytest.raises(KeyboardInterrupt):
        grade(submissions, out=out, course=course, db_url=db, grader=FAKE, progress=io.StringIO())
    first = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert first and all((out / safe_slug(s) / "record.json").is_file() for s in first)
    monkeypatch.delenv("FAKE_CORE_INTERRUPT")
    log.unlink()
    result = grade(submissions, out=out, course=course, db_url=db, grader=FAKE, progress=io.StringIO())
    second = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(first + second) == sorted(["alice", "bob", WEIRD, "名前 with space", "carol", "dave"])
    assert result.reused == set(first) and len(_rows(out)) == 1 + 6 * 3


def test_force_grades_again(graded, course, submissions, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    monkeypatch.setenv("FAKE_CORE_LOG", str(tmp_path / "calls.log"))
    result = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE, force=True,
                   progress=io.StringIO())
    assert not result.reused and len((tmp_path / "calls.log").read_text().splitlines()) == 6


def test_two_worker_processes_give_the_same_grades(graded, course, submissions, tmp_path):
    out = tmp_path / "out"
    result = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE,
                   workers=2, progress=io.StringIO())
    assert not result.failed
    assert (out / "grades.csv").read_bytes() == (graded["out"] / "grades.csv").read_bytes()


def test_a_grader_crash_is_reported_and_not_cached(graded, course, submissions, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_CORE_CRASH", "bob")
    out = tmp_path / "out"
    result = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE,
                   progress=io.StringIO())
    assert result.failed == {"bob": "RuntimeError: a bug in the grader"}
    assert not (out / "bob").exists() and "bob" not in {r[0] for r in _rows(out)}
    assert len(_rows(out)) == 1 + 5 * 3


def test_a_damaged_record_is_graded_again_never_trusted(graded, course, submissions, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    path = out / "alice" / "record.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["grade"]["functions"][0]["status"] = "excellent"  # the key still matches
    path.write_text(json.dumps(record), encoding="utf-8")
    monkeypatch.setenv("FAKE_CORE_LOG", str(tmp_path / "calls.log"))
    result = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE,
                   progress=io.StringIO())
    assert (tmp_path / "calls.log").read_text().splitlines() == ['"alice"'] and len(result.reused) == 5
    assert (out / "alice" / "record.json").read_bytes() == (graded["out"] / "alice" / "record.json").read_bytes()


def test_a_grader_that_returns_something_else_than_a_grade_is_reported(graded, course, submissions, tmp_path):
    result = grade(submissions, out=tmp_path / "out", course=course, db_url=graded["db"],
                   grader=f"{__package__}.fake_core:grade_breaking_the_contract", student="alice",
                   progress=io.StringIO())
    assert result.failed == {"alice": "the grader returned dict, not a SubmissionGrade"}
    assert not (tmp_path / "out" / "alice").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_each_job_passes_its_threads_to_the_grader(graded, course, submissions, tmp_path, workers):
    from resnet_signs.grading.jobs import threads_per_worker

    out = tmp_path / "out"
    grade(submissions, out=out, course=course, db_url=graded["db"], workers=workers, student="alice",
          grader=f"{__package__}.fake_core:grade_reporting_threads", progress=io.StringIO())
    record = json.loads((out / "alice" / "record.json").read_text(encoding="utf-8"))
    assert record["grade"]["output"] == f"threads={threads_per_worker(workers)}"


def test_progress_prints_periodic_lines_when_not_a_terminal(tmp_path):
    with open(tmp_path / "log", "w") as stream:
        bar = Progress(4, stream=stream, interval=3600)
        for name in "abcd":
            bar.advance(name)
    lines = (tmp_path / "log").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[" + "#" * 30 + "] 4/4") and "ETA 0:00:00" in lines[0]


def _cli_error(capsys, *argv) -> str:
    assert cli.main(["grade", *map(str, argv)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("resnet-signs grade: error: ")
    return err


def test_cli_errors_are_one_line(capsys, tmp_path, submissions, course):
    assert "no such folder" in _cli_error(capsys, tmp_path / "nope", "--out", tmp_path / "o")
    (tmp_path / "empty").mkdir()
    assert "holds no student folder" in _cli_error(capsys, tmp_path / "empty", "--out", tmp_path / "o")
    assert "inside the submissions folder" in _cli_error(capsys, submissions, "--out", submissions / "out")
    assert "inside the submissions folder" in _cli_error(capsys, submissions, "--out", submissions)
    for bad in ("0", "-3", "two"):
        assert "--workers must be a whole number" in _cli_error(capsys, submissions, "--out", tmp_path / "o",
                                                                "--workers", bad)
    assert "--timeout must be a positive" in _cli_error(capsys, submissions, "--out", tmp_path / "o", "--timeout", "0")
    assert "--memory-limit must be at least" in _cli_error(capsys, submissions, "--out", tmp_path / "o",
                                                           "--memory-limit", "lots")
    assert "--scheduler must look like" in _cli_error(capsys, submissions, "--out", tmp_path / "o",
                                                      "--scheduler", "localhost")
    assert "is not a course directory (no source/ folder)" in _cli_error(capsys, submissions, "--out", tmp_path / "o",
                                                                       "--course", tmp_path)


def test_submissions_in_a_course_directory_are_read_from_submitted(tmp_path, course):
    _write(tmp_path / "submitted" / "erin" / "residual_networks" / "Residual_Networks.ipynb", _notebook({}))
    shutil.copy(course / "nbgrader_config.py", tmp_path)
    [sub] = find_submissions(tmp_path, "residual_networks", "Residual_Networks.ipynb")
    assert sub.student == "erin" and sub.notebook.is_file()


@pytest.mark.slow
def test_dask_cluster_gives_the_same_grades(graded, course, submissions, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    # The cluster's worker processes import the fake core from the tests folder.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parents[1]), *sys.path]))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        out = tmp_path / "out"
        result = grade(submissions, out=out, course=course, db_url=graded["db"], grader=FAKE,
                       scheduler=cluster.scheduler_address, progress=io.StringIO())
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert not result.failed and not result.reused
    assert (out / "grades.csv").read_bytes() == (graded["out"] / "grades.csv").read_bytes()


def test_unreachable_scheduler_is_a_one_line_error(capsys, graded, submissions, course, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = _cli_error(capsys, submissions, "--out", tmp_path / "o", "--course", course,
                     "--db", graded["db"], "--scheduler", f"tcp://127.0.0.1:{port}")
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert not _ticker_alive(), "the progress bar's ticker outlived a grading run that stopped with an error"


def _ticker_alive(wait_s: float = 2.0) -> bool:
    import threading
    import time

    from resnet_signs.grading.progress import TICKER_THREAD

    deadline = time.monotonic() + wait_s
    while any(t.name == TICKER_THREAD and t.is_alive() for t in threading.enumerate()):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


def test_the_ticker_stops_quietly_when_its_stream_is_closed():
    import io

    stream = io.StringIO()
    bar = Progress(3, stream=stream, interval=0.01).start_ticking()
    stream.close()
    assert not _ticker_alive()
    bar.stop()


def test_auto_workers_fit_the_cores_and_the_memory():
    from resnet_signs.grading.jobs import WORKER_MEMORY_MB, auto_workers, threads_per_worker

    assert auto_workers(cores=8, available_mb=100 * WORKER_MEMORY_MB) == 8
    assert auto_workers(cores=8, available_mb=2 * WORKER_MEMORY_MB + 10) == 2
    assert auto_workers(cores=2, available_mb=100) == 1  # never zero
    assert [threads_per_worker(w, cores=2) for w in (1, 2, 4)] == [2, 1, 1]
    assert threads_per_worker(3, cores=16) == 5


def test_the_eta_becomes_a_range_up_to_the_time_limit_when_a_submission_runs_long():
    import io

    bar = Progress(4, stream=io.StringIO(), workers=2, limit=300)
    start = bar.start
    bar.done, bar._finished_at = 2, start + 20  # two finished after 20 s: 20 s per wave of two
    assert bar.line(now=start + 25).endswith("ETA 0:00:15")
    line = bar.line(now=start + 100)  # the last two have run 80 s, four times the typical time
    assert "ETA 0:00:00-0:03:40 (a submission runs long: up to its time limit)" in line


def _copy_run(graded, tmp_path) -> tuple[Path, str]:
    """A private copy of the shared run's outputs and gradebook, to change without disturbing it."""
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    shutil.copy(graded["out"].parent / "gradebook.db", tmp_path / "gradebook.db")
    return out, f"sqlite:///{tmp_path / 'gradebook.db'}"


def test_regrading_one_student_keeps_everyone_else(graded, course, submissions, tmp_path, monkeypatch):
    out, db = _copy_run(graded, tmp_path)
    class_rows = _rows(out)
    fixed = tmp_path / "subs"
    shutil.copytree(submissions, fixed)
    _write(fixed / "bob" / "residual_networks" / "Residual_Networks.ipynb", _notebook(_answers(SOLVED)))
    monkeypatch.setenv("FAKE_CORE_LOG", str(tmp_path / "calls.log"))
    result = grade(fixed, out=out, course=course, db_url=db, grader=FAKE, student="bob",
                   progress=io.StringIO())
    assert (tmp_path / "calls.log").read_text().splitlines() == ['"bob"']  # only bob graded
    assert [g.student for g in result.grades] == ["bob"] and len(result.everyone) == 6
    rows = _rows(out)
    assert [r for r in rows if r[0] != "bob"] == [r for r in class_rows if r[0] != "bob"]
    assert [r[2] for r in rows if r[0] == "bob"] == ["3", "3", "3"]  # was 0, 0, 0
    scores = gradebook.read_scores(db, "residual_networks")
    assert sum(scores["bob"].values()) == 9 and scores[WEIRD]["ResNet50_hidden_variants"] == 0.0
    assert set(scores) == {"alice", "bob", WEIRD, "名前 with space", "carol", "dave"}


def test_a_folder_holding_one_student_keeps_the_others_rows(graded, course, submissions, tmp_path):
    out, db = _copy_run(graded, tmp_path)
    one = tmp_path / "late"
    shutil.copytree(submissions / "alice", one / "alice")
    grade(one, out=out, course=course, db_url=db, grader=FAKE, progress=io.StringIO())
    assert _rows(out) == _rows(graded["out"])


def test_an_unknown_student_is_a_one_line_error_and_changes_nothing(capsys, graded, course, submissions, tmp_path):
    out, db = _copy_run(graded, tmp_path)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    err = _cli_error(capsys, submissions, "--out", out, "--course", course, "--db", db, "--student", "zed")
    assert "--student 'zed': no such student folder in" in err and "alice, bob" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert "--canvas-column needs a name" in _cli_error(capsys, submissions, "--out", out, "--course", course,
                                                        "--db", db, "--canvas-column", " ")


def test_canvas_csv_has_canvas_columns_and_one_total_per_student(graded):
    with open(graded["out"] / "canvas.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "residual_networks"]
    assert rows[1] == ["Points Possible", "", "", "", "", "9"]
    totals = {r[0]: r[5] for r in rows[2:]}
    assert totals == {"alice": "9", "bob": "0", WEIRD: "7", "名前 with space": "9", "carol": "0", "dave": "0"}
    assert all(r[3] == r[0] and r[1] == r[2] == r[4] == "" for r in rows[2:])
    assert [r[0] for r in rows[2:]] == sorted(totals)


def test_canvas_column_names_an_existing_assignment(graded, course, submissions, tmp_path):
    out, db = _copy_run(graded, tmp_path)
    grade(submissions, out=out, course=course, db_url=db, grader=FAKE, canvas_column="Residual Networks (1234)",
          progress=io.StringIO())
    assert (out / "canvas.csv").read_text(encoding="utf-8").splitlines()[0].endswith(",Residual Networks (1234)")


def test_pass_rates_put_the_most_failed_tests_first(graded, capsys):
    from resnet_signs.grading.api import print_summary

    with open(graded["out"] / "tests.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # bob (stubs), carol (nothing), dave (corrupt) fail everything; WEIRD also fails ResNet50's hidden tests.
    assert [r["test"] for r in rows[:2]] == ["ResNet50_hidden_shapes", "ResNet50_hidden_variants"]
    assert rows[0] == {"test": "ResNet50_hidden_shapes", "function": "ResNet50", "hidden": "yes", "students": "6",
                       "passed": "2", "failed": "4", "failure_rate": "0.667"}
    assert [r["test"] for r in rows[2:]] == [t for t, *_ in TESTS if not t.startswith("ResNet50_hidden")]
    assert {r["failed"] for r in rows[2:]} == {"3"}
    print_summary(graded["result"])
    table = capsys.readouterr().out.split("tests failed most (6 students):\n")[1].splitlines()
    assert table[1].split()[:3] == ["ResNet50_hidden_shapes", "ResNet50", "4/6"] and table[1].endswith("67%")


def test_pass_rates_of_a_fake_record_set():
    from resnet_signs.grading.exports import pass_rate_table, pass_rates
    from resnet_signs.grading.model import SubmissionGrade, TestResult

    def student(name, failing):
        tests = [TestResult(t, fn, 0.0 if t in failing else 1.0, 1.0, t not in failing, "", hidden)
                 for t, fn, _, hidden in TESTS]
        return SubmissionGrade(name, [], tests, 1.0)

    rates = pass_rates([student("a", {"convolutional_block_public"}),
                        student("b", {"convolutional_block_public", "identity_block_hidden_values"}),
                        student("c", set())])
    assert [(r.test_id, r.failed) for r in rates[:3]] == [("convolutional_block_public", 2),
                                                          ("identity_block_hidden_values", 1),
                                                          ("identity_block_public", 0)]
    assert pass_rates([]) == []
    assert "... 4 more in tests.csv" in pass_rate_table(rates, students=3, limit=5)


def _autograded(course: Path, student: str) -> Path:
    return course / "autograded" / student / "residual_networks" / "Residual_Networks.ipynb"


def test_autograded_notebooks_hold_our_verdicts_as_nbgrader_scores_them(graded, course):
    from nbgrader.utils import determine_grade, is_grade

    scores = gradebook.read_scores(graded["db"], "residual_networks")
    for student in ("alice", "bob", WEIRD, "名前 with space"):
        nb = nbformat.read(str(_autograded(course, student)), as_version=4)
        graded_cells = [c for c in nb.cells if is_grade(c)]
        assert [c.metadata.nbgrader["grade_id"] for c in graded_cells] == [t for t, *_ in TESTS]
        assert all(c.metadata.nbgrader.get("checksum") for c in graded_cells)  # restored from the gradebook
        # nbgrader's own reading of each test cell's output gives the score we recorded
        assert {c.metadata.nbgrader["grade_id"]: determine_grade(c)[0] for c in graded_cells} == scores[student]
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert len(answers) == 3 and not any(c.outputs for c in answers)  # the student's own outputs are gone
    nb = nbformat.read(str(_autograded(course, WEIRD)), as_version=4)
    [failed] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ResNet50_hidden_shapes"]
    assert failed.outputs[0].output_type == "error" and "check the stride" in failed.outputs[0].evalue
    assert not _autograded(course, "carol").exists() and not _autograded(course, "dave").exists()


def test_the_submission_time_is_recorded_and_nbgraders_files_follow_it(graded, course):
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    with Gradebook(graded["db"]) as gb:
        assert gb.find_submission("residual_networks", "bob").timestamp == parse_utc(BOB_SUBMITTED).replace(tzinfo=None)
        assert gb.find_submission("residual_networks", "alice").timestamp is None  # an LMS folder has none
    folder = _autograded(course, "bob").parent
    assert (folder / "timestamp.txt").read_text() == BOB_SUBMITTED
    assert (folder / "submission_secret.txt").read_text() == "s3cret"


def test_late_submissions_get_nbgraders_penalty_and_deleted_test_cells_come_back(course, tmp_path):
    from nbgrader.api import Gradebook

    late_course = tmp_path / "course"
    shutil.copytree(course, late_course, ignore=shutil.ignore_patterns("autograded", "*.db"))
    with open(late_course / "nbgrader_config.py", "a", encoding="utf-8") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    subs, db = tmp_path / "subs", f"sqlite:///{tmp_path / 'gradebook.db'}"
    for student, when in (("early", "2026-03-01 11:00:00 UTC"), ("late", "2026-03-01 13:00:00 UTC")):
        _write(subs / student / "residual_networks" / "Residual_Networks.ipynb", _notebook(_answers(SOLVED)))
        (subs / student / "residual_networks" / "timestamp.txt").write_text(when, encoding="utf-8")
    deleted = _notebook(_answers(SOLVED))
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "ResNet50_public"]
    _write(subs / "deleter" / "Residual_Networks.ipynb", deleted)
    gradebook.ensure_assignment(db, load_course(late_course))
    with Gradebook(db) as gb:
        gb.update_or_create_assignment("residual_networks", duedate="2026-03-01 12:00:00 UTC")
    grade(subs, out=tmp_path / "out", course=late_course, db_url=db, grader=FAKE, progress=io.StringIO())
    with Gradebook(db) as gb:
        penalty = {s: gb.find_submission_notebook("Residual_Networks", "residual_networks", s).late_submission_penalty
                   for s in ("early", "late", "deleter")}
        late_score = gb.find_submission("residual_networks", "late").score
    assert penalty == {"early": None, "late": 9.0, "deleter": None} and late_score == 9.0
    nb = nbformat.read(str(_autograded(late_course, "deleter")), as_version=4)
    [back] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ResNet50_public"]
    assert back.outputs[0].text.startswith("✓ passed")


def test_a_manual_score_survives_regrading_and_asks_for_review(graded, course, submissions, tmp_path):
    from nbgrader.api import Gradebook

    out, db = _copy_run(graded, tmp_path)
    with Gradebook(db) as gb:
        gb.find_grade("ResNet50_hidden_shapes", "Residual_Networks", "residual_networks", WEIRD).manual_score = 1.0
        gb.db.commit()
    grade(submissions, out=out, course=course, db_url=db, grader=FAKE, student=WEIRD, progress=io.StringIO())
    with Gradebook(db) as gb:
        row = gb.find_grade("ResNet50_hidden_shapes", "Residual_Networks", "residual_networks", WEIRD)
        assert (row.auto_score, row.manual_score, row.score, row.needs_manual_grade) == (0.0, 1.0, 1.0, True)
        other = gb.find_grade("ResNet50_hidden_variants", "Residual_Networks", "residual_networks", WEIRD)
        assert (other.manual_score, other.needs_manual_grade) == (None, False)
