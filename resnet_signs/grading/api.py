"""``grade()``: grade a folder of submissions and write every output. The CLI wraps this.

Output layout (all under ``out``; nothing is ever written elsewhere except the gradebook and the
course's ``autograded/<student>/<assignment>/`` notebooks, see :mod:`.autograded`):

- ``grades.csv``: rebuilt at the end from every per-student record in ``out`` (see :mod:`.reports`),
  so regrading one student (``student=``, or a folder holding one) keeps everyone else's rows;
- ``canvas.csv`` and ``tests.csv``: the Canvas gradebook import and the per-test pass rates, from
  the same records (see :mod:`.exports`);
- ``<slug>/results.json``, ``<slug>/feedback.html``: per student, ``slug`` from
  :func:`.submissions.safe_slug`;
- ``<slug>/record.json``: the grade and its cache key, written last and atomically as soon
  as the student is graded. A later run reuses it when the notebook and the grader are
  unchanged (unless ``force``), so re-running is idempotent and an interrupted run resumes
  without losing or redoing a finished student.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from resnet_signs import paths
from resnet_signs.errors import UsageError
from resnet_signs.grading import autograded, exports, gradebook, isolation, reports
from resnet_signs.grading import course as courses
from resnet_signs.grading.fingerprint import course_files, fingerprint, grading_files
from resnet_signs.grading.jobs import DEFAULT_GRADER, Job, auto_workers, check_scheduler, execute, threads_per_worker
from resnet_signs.grading.model import Limits, SubmissionGrade
from resnet_signs.grading.progress import Progress
from resnet_signs.grading.submissions import Submission, find_submissions, notebook_language, skipped_folders
from resnet_signs.release.nbgrader_steps import load_config


@dataclass
class GradeRun:
    """What :func:`grade` did.

    Attributes:
        grades: one grade per submission that was graded or reused.
        reused: students whose earlier grade was reused.
        failed: ``{student: message}`` where the grader itself failed (nothing recorded).
        skipped: folders that were not graded (hidden names such as ``.ipynb_checkpoints``).
        everyone: the grades in ``grades.csv``: this run's and those of students graded earlier
            into the same ``out`` (a one-student regrade keeps the others).
    """

    grades: list[SubmissionGrade] = field(default_factory=list)
    reused: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    everyone: list[SubmissionGrade] = field(default_factory=list)


def grade(
    submissions: Path,
    *,
    out: Path,
    workers: int | str = 1,
    timeout: float = Limits.function_timeout,
    memory_mb: int = Limits.memory_mb,
    scheduler: str | None = None,
    course: Path | None = None,
    assignment: str | None = None,
    db_url: str | None = None,
    student: str | None = None,
    canvas_column: str | None = None,
    force: bool = False,
    require_isolation: bool = False,
    progress: TextIO | None = None,
    grader: str = DEFAULT_GRADER,
) -> GradeRun:
    """Grade every submission under ``submissions`` and write the outputs to ``out``.

    Args:
        submissions: one folder per student (or nbgrader's ``submitted/`` layout).
        out: output folder; must not be inside ``submissions``.
        workers: local processes grading in parallel, or ``"auto"``: one per core as far as memory
            allows (:func:`.jobs.auto_workers`). Each worker's TensorFlow gets cores / workers threads.
        timeout: seconds each graded function's cells and tests may run (its budget; see
            :class:`~resnet_signs.grading.model.Limits`).
        memory_mb: memory limit of one submission's sandbox.
        scheduler: a Dask scheduler address (``tcp://HOST:PORT``) to run the jobs on instead.
        course: the nbgrader course directory (default: :func:`resnet_signs.paths.course_dir`): the
            source notebook, the hidden tests, the reference and the gradebook all come from it.
        assignment: the assignment under ``course/source/`` (default: the only graded one).
        db_url: the gradebook's SQLAlchemy URL (default: the course's nbgrader config).
        student: grade only this student's folder; everyone else's rows in ``out`` and the gradebook stay.
        canvas_column: the assignment column of ``canvas.csv``: Canvas's ``Name (id)`` updates that
            assignment, a bare name creates a new one (default: the assignment's id).
        force: grade again even when an earlier grade could be reused.
        require_isolation: refuse to grade (``UsageError``) where the sandbox gets no namespaces.
        progress: where the progress bar goes (default stderr).
        grader: ``module:function`` grading one notebook (tests substitute their own).

    Returns:
        A :class:`GradeRun`.

    Raises:
        UsageError: a bad argument (missing or empty folder, ``out`` inside it, workers < 1...).
    """
    root = Path(course) if course else paths.course_dir()
    submissions, out = Path(submissions), Path(out)
    if workers == "auto":
        workers = auto_workers()
    _check_arguments(submissions, out, workers, timeout, memory_mb, scheduler)
    _check_isolation(require_isolation)
    if canvas_column is not None and not canvas_column.strip():
        raise UsageError("--canvas-column needs a name, e.g. 'Residual Networks (1234)'")
    if not (root / "source").is_dir():
        raise UsageError(f"{root} is not a course directory (no source/ folder): pass --course")
    course = courses.load(root, assignment)
    found = _only(find_submissions(submissions, course.assignment, course.notebook_name), student, submissions)
    limits = Limits(function_timeout=float(timeout), memory_mb=int(memory_mb),
                    cell_timeout=min(Limits.cell_timeout, float(timeout)))
    version = grader_version(course, limits, grader)
    db_url = db_url or gradebook.course_db_url(course.root)
    gradebook.ensure_assignment(db_url, course)
    config = load_config(course.root, db_url=db_url)

    run, todo = GradeRun(skipped=skipped_folders(submissions)), []
    by_student: dict[str, Submission] = {s.student: s for s in found}
    for sub in found:
        key = _cache_key(sub, version)
        previous = None if force else _load_record(out / sub.slug / "record.json", key)
        if previous is not None:
            _finish(out, sub, previous, key, db_url, course, run, config)
            run.reused.add(sub.student)
        else:
            data = sub.notebook.read_bytes() if sub.notebook.is_file() else None
            todo.append((Job(sub.student, data, str(course.root), course.assignment, limits, grader,
                             threads=0 if scheduler else threads_per_worker(workers)), key))

    if todo and not scheduler:  # Dask workers choose their own isolation
        print(isolation.summary(), file=progress or sys.stderr)
    bar = Progress(len(todo), stream=progress, workers=1 if scheduler else min(workers, max(1, len(todo))),
                   limit=limits.total(len(course.functions))).start_ticking()
    keys = {job.student: key for job, key in todo}
    try:
        for job, result in execute([job for job, _ in todo], workers=workers, scheduler=scheduler):
            sub = by_student[job.student]
            if isinstance(result, Exception):
                run.failed[sub.student] = f"{type(result).__name__}: {result}".splitlines()[0]
            elif not isinstance(result, SubmissionGrade):  # a grader (--grader) that breaks the contract
                run.failed[sub.student] = f"the grader returned {type(result).__name__}, not a SubmissionGrade"
            else:
                _finish(out, sub, result, keys[job.student], db_url, course, run, config)
            bar.advance(sub.student)
    finally:
        bar.stop()  # also when grading stops with an error: the ticker must not outlive the run
    run.everyone = _everyone(out, run)
    reports.write_atomic(out / "grades.csv", reports.grades_csv(run.everyone))
    reports.write_atomic(out / "canvas.csv", exports.canvas_csv(
        run.everyone, column=canvas_column or course.assignment, points=sum(t.points for t in course.tests)))
    reports.write_atomic(out / "tests.csv", exports.tests_csv(exports.pass_rates(run.everyone)))
    return run


def _only(found: list[Submission], student: str | None, submissions: Path) -> list[Submission]:
    """``found``, or just ``student``'s submission (a clear error when there is none)."""
    if student is None:
        return found
    chosen = [s for s in found if s.student == student]
    if not chosen:
        names = [s.student for s in found]
        listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise UsageError(f"--student {student!r}: no such student folder in {submissions} (students: {listed})")
    return chosen


def _everyone(out: Path, run: GradeRun) -> list[SubmissionGrade]:
    """This run's grades and every other student's earlier record in ``out``.

    A student whose grading failed this time is left out (the grader could not confirm the old
    grade against the current notebook); delete ``out/<student>/`` to drop a student for good.
    """
    grades = {g.student: g for g in run.grades}
    for path in sorted(out.glob("*/record.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            student, grade = record["student"], SubmissionGrade.from_json(record["grade"])
        except (OSError, ValueError, KeyError, TypeError):  # RecordError is a ValueError
            continue  # unreadable: not a finished student
        if student not in grades and student not in run.failed:
            grades[student] = grade
    return list(grades.values())


def grader_version(course: courses.Course, limits: Limits, grader: str) -> str:
    """The fingerprint (:mod:`.fingerprint`) of everything that decides a grade besides the notebook:
    the versions, the course's files and the checks, the grading code, the grader and the limits."""
    if grader == DEFAULT_GRADER:
        code = grading_files()
    else:  # another grading function (tests): its own module is the code that decides
        code = [Path(importlib.import_module(grader.partition(":")[0]).__file__)]
    return fingerprint(grader, json.dumps(limits.to_json(), sort_keys=True), files=[*course_files(course), *code])


def _cache_key(sub: Submission, version: str) -> str:
    if not sub.notebook.is_file():
        return fingerprint(version, "no notebook")
    return fingerprint(version, "notebook", sub.notebook.read_bytes())


def _load_record(path: Path, key: str) -> SubmissionGrade | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return SubmissionGrade.from_json(record["grade"]) if record.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # RecordError is a ValueError
        return None  # absent, damaged or from another version: grade again


def _finish(out: Path, sub: Submission, grade: SubmissionGrade, key: str, db_url: str, course: courses.Course,
            run: GradeRun, config) -> None:
    """Write the student's outputs, then the gradebook (scores, submission time, late penalty) and
    the autograded notebook that formgrader and ``nbgrader generate_feedback`` read."""
    folder = (out / sub.slug).resolve()
    if folder.parent != out.resolve():  # safe_slug makes this impossible; refuse rather than trust it
        raise UsageError(f"refusing to write outside {out} for student {sub.student!r}")
    reports.write_student(folder, grade, {"key": key, "student": sub.student, "grade": grade.to_json()},
                          notebook_language(sub.notebook))
    notebook_id = course.source.stem
    gradebook.record(db_url, grade, course.assignment, notebook_id, gradebook.submission_timestamp(sub.notebook.parent))
    gradebook.assign_late_penalty(config, db_url, course.assignment, notebook_id, sub.student)
    autograded.write(config, db_url, grade, sub.notebook, course.assignment)
    run.grades.append(grade)


def _check_arguments(submissions: Path, out: Path, workers, timeout, memory_mb, scheduler) -> None:
    if not isinstance(workers, int) or workers < 1:
        raise UsageError(f"--workers must be a whole number of at least 1 or 'auto', got {workers!r}")
    if not isinstance(timeout, (int, float)) or not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout!r}")
    if not (isinstance(memory_mb, int) and memory_mb >= 256):
        raise UsageError(f"--memory-limit must be at least 256 (MB), got {memory_mb!r}")
    if scheduler:
        check_scheduler(scheduler)
    src, dst = submissions.resolve(), out.resolve()
    if dst == src or src in dst.parents:
        raise UsageError(f"--out {out} is inside the submissions folder {submissions}: choose a folder outside it")


def _check_isolation(required: bool) -> None:
    try:
        lacking = isolation.missing()
    except (ValueError, RuntimeError) as exc:  # a bad RESNET_SIGNS_ISOLATION
        raise UsageError(str(exc)) from None
    if required and lacking:
        raise UsageError(f"--require-isolation: {lacking}")


def print_summary(run: GradeRun, stream: TextIO | None = None) -> None:
    """The end-of-run table, the tests students fail most, then one line per grader failure."""
    stream = stream or sys.stdout
    print(reports.summary_table(run.grades, run.reused), file=stream)
    if run.everyone:
        print(exports.pass_rate_table(exports.pass_rates(run.everyone), students=len(run.everyone)), file=stream)
    for student, message in sorted(run.failed.items()):
        print(f"NOT GRADED {student}: the grader failed: {message}", file=stream)
    if run.skipped:
        print(f"not graded (hidden or cache folders): {', '.join(run.skipped)}", file=stream)
