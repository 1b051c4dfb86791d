"""Grade one submission: read it, run it in the sandbox, judge what it built in this clean process.

``grade_submission`` is the core's one entry point (see docs/CONTRACTS.md, Grading). It never
raises for anything a student did: an unreadable notebook, a crash, a hang, a memory bomb or a
tampered test each become a status and a score. The sandbox only *captures* what each test needs
(the graphs the student's functions build); the verdicts come from :class:`~.judge.Judge` here,
which rebuilds those graphs and computes every value itself, so nothing the student's code does
in the sandbox can produce a pass it did not build.

Every function is graded on its own: time is budgeted per function (:class:`~.model.Limits`);
when a function's test or answer cell hits a time or memory limit, or crashes the sandbox, its
remaining tests get that status without running, and a fresh child runs the others. Restarts
are bounded by the submission's time cap, not by a count that one bad function could spend.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from resnet_signs.checks.records import TestRecord
from resnet_signs.grading import course as courses
from resnet_signs.grading import plan as planning
from resnet_signs.grading import isolation, judging, runner
from resnet_signs.grading.judge import NO_RESULT, Judge
from resnet_signs.grading.model import FunctionGrade, Limits, Status, SubmissionGrade, TestResult

#: Most specific first: the status a function gets when several things went wrong. A tampered
#: test cell outranks an error: it is an integrity flag the instructor must see in grades.csv,
#: while the error stays visible in the detail and the feedback.
PRIORITY = (Status.MISSING, Status.MEMORY, Status.TIMEOUT, Status.TAMPERED, Status.ERROR)
NOT_REACHED = "not reached"
#: Judging builds Keras graphs and fills per-process caches: one thread at a time.
_JUDGE_LOCK = threading.Lock()
_JUDGES: dict[Path, Judge] = {}
_OUTCOME = {"timeout": Status.TIMEOUT, "error": Status.ERROR, "memory": Status.MEMORY, "skipped": Status.TIMEOUT}


def grade_submission(notebook_path, *, student: str, course, limits: Limits | None = None, workdir,
                     assignment: str | None = None) -> SubmissionGrade:
    """Grade one student's notebook against the course's tests.

    Args:
        notebook_path: the submitted ``.ipynb``.
        student: the student's id (copied into the result).
        course: the course directory (or a loaded :class:`~.course.Course`): source notebook, hidden
            tests and reference all come from it.
        limits: time, memory and output limits (defaults: :class:`Limits`).
        workdir: a folder this call may use: ``workdir/sandbox`` (the child's only writable folder)
            is recreated and removed.
        assignment: the assignment's folder under ``source/`` (default: the only graded one).

    Returns:
        The course's functions in notebook order with status, score and a one-line detail, every
        test's verdict, the wall-clock time and the capped output.

    Raises:
        GradingError: the instructor's side is broken (unreadable source notebook, inconsistent tests).
    """
    started = time.monotonic()
    limits = limits or Limits()
    if not isinstance(course, courses.Course):
        course = courses.load(Path(course), assignment)
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:  # any unreadable file is the student's: a status, not a crash
        return _invalid(student, course, f"not a readable notebook: {_one_line(exc)}", time.monotonic() - started)
    plan = planning.build(nb, course)
    judge_for(course, limits).observer.prepare()  # the judging process imports TensorFlow meanwhile
    sandbox = runner.sandbox_folder(Path(workdir), runner.child_env(Path(workdir) / "sandbox"), hide=(course.root,))
    deadline = started + limits.total(len(course.functions))
    try:
        execution = _execute(plan, course, Path(notebook_path), sandbox, limits, deadline)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    verdicts = _judge(course, plan, execution, limits)
    return _assemble(student, course, plan, execution, verdicts, time.monotonic() - started)


@dataclass
class _Execution:
    """What the children did: each step's first outcome, each test's record, notes."""

    outcomes: dict[int, tuple[str, str]] = field(default_factory=dict)
    records: dict[str, TestRecord | str] = field(default_factory=dict)  # a string: why there is none
    notes: list[str] = field(default_factory=list)
    output: str = ""
    foreign: int = 0  # lines on the report channel that were not the sandbox's events


def _execute(plan: planning.Plan, course: courses.Course, notebook: Path, sandbox: Path, limits: Limits,
             deadline: float) -> _Execution:
    shutil.rmtree(sandbox, ignore_errors=True)
    for sub in ("work", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True)
    shutil.copyfile(notebook, sandbox / "work" / notebook.name)
    execution, output, skip = _Execution(), runner.Output(limits.output_bytes), set()
    base = {"steps": [s.to_json() for s in plan.steps], **course.sandbox_tests(), "limits": asdict(limits),
            "max_file_bytes": runner.MAX_FILE_BYTES}
    env = runner.child_env(sandbox)
    while True:
        child_plan = {**base, "skip": sorted(skip), "observed": sorted(execution.records)}
        result = runner.run_child(child_plan, sandbox=sandbox, env=env, limits=limits, deadline=deadline,
                                  output=output, hide=(course.root,))
        _collect(result, plan, execution)
        if result.finished:
            break
        why = _death(result, limits)
        culprit = result.running
        if result.killed in ("memory", "processes"):
            culprit = _blame(result.growth if result.killed == "memory" else result.proc_growth, culprit, plan)
        if culprit is None:  # died outside any step: a restart would die the same way
            execution.notes.append(f"the sandbox {why} outside any cell")
            break
        status = _status_name(result)
        execution.outcomes.setdefault(culprit, (status, why))
        step = plan.steps[culprit]
        if step.function is not None and (step.kind == "observe" or step.answer):
            _disqualify(plan, execution, step.function, status, why, skip)
        skip.add(culprit)
        if result.killed == "total-timeout" or time.monotonic() >= deadline:
            break
    if not result.finished:  # the steps no child reached share the last one's fate
        unreached = [i for i in range(len(plan.steps)) if i not in execution.outcomes and i not in skip]
        for index in unreached:
            execution.outcomes[index] = (_status_name(result), NOT_REACHED)
        if unreached:
            execution.notes.append(f"the sandbox {why}; {len(unreached)} later cells/tests never ran")
    execution.output = output.text()
    return execution


def _collect(result: runner.Attempt, plan: planning.Plan, execution: _Execution) -> None:
    """Outcomes (first attempt's wins) and records, accepted only from the test step that is running."""
    running = None
    for event in result.events:
        step = plan.steps[event.step] if event.step is not None and event.step < len(plan.steps) else None
        if event.event == "start":
            running = event.step
        elif event.event == "end" and step is not None:
            execution.outcomes.setdefault(event.step, (event.outcome, event.detail))
            running = None
        elif event.event == "record":
            if step is None or event.step != running or step.kind != "observe" or step.test_id in execution.records:
                execution.foreign += 1
            elif event.record is None:
                execution.records[step.test_id] = event.detail
            elif event.record.test_id != step.test_id:
                execution.foreign += 1
            else:
                execution.records[step.test_id] = event.record
    execution.foreign += result.dropped


def _blame(growth: dict, running: int | None, plan: planning.Plan) -> int | None:
    """The step to charge a memory or process overrun to: the largest grower (``growth``: step ->
    what it left behind) of the section that grew most; the running step when that is its section."""
    by_section: dict = {}
    for step, grown in growth.items():
        section = plan.steps[step].function
        by_section[section] = by_section.get(section, 0) + grown
    current = plan.steps[running].function if running is not None else None
    section = max(by_section, key=by_section.get, default=current)
    if running is not None and section == current:
        return running
    steps = [s for s in growth if plan.steps[s].function == section]
    return max(steps, key=growth.get, default=None)


def _disqualify(plan, execution, function: str, status: str, why: str, skip: set) -> None:
    """A function hit a limit in its test or answer cell: its other steps are not run again."""
    for index, step in enumerate(plan.steps):
        if step.function == function:
            skip.add(index)
            if index not in execution.outcomes:
                execution.outcomes[index] = (status, f"not run: {function} {why}")


def _status_name(result: runner.Attempt) -> str:
    return {"memory": "memory", "processes": "error"}.get(result.killed, "timeout" if result.killed else "error")


def _death(result: runner.Attempt, limits: Limits) -> str:
    if result.killed == "memory":
        return f"went over the memory limit ({limits.memory_mb} MB)"
    if result.killed == "processes":
        return f"left too many processes or threads running (the cap is {isolation.MAX_PIDS})"
    if result.killed == "cell-timeout":
        return f"ran past the per-cell limit ({limits.cell_timeout:g} s) and ignored the interrupt"
    if result.killed == "function-timeout":
        return f"ran past its function's time budget ({limits.function_timeout:g} s) and ignored the interrupt"
    if result.killed == "total-timeout":
        return "ran past the whole submission's time limit"
    number = isolation.exit_signal(result.returncode)
    if number is not None:
        try:
            return f"crashed ({signal.Signals(number).name})"
        except ValueError:
            return f"crashed (signal {number})"
    return f"exited with status {result.returncode} (os._exit or a fatal error)"


def judge_for(course: courses.Course, limits: Limits) -> Judge:
    """One judge per course directory per process (its expected observations are computed once), observing
    in this process's judging process (:mod:`.judging`) under the submission's memory limit."""
    threads = judging.thread_settings(runner.child_env(Path(tempfile.gettempdir())))
    observer = judging.shared(limits.memory_mb, threads)
    judge = _JUDGES.get(course.root)
    if judge is None or judge.course is not course or judge.observer is not observer:
        judge = _JUDGES[course.root] = Judge(course, observer=observer)
    return judge


def _judge(course: courses.Course, plan: planning.Plan, execution: _Execution,
           limits: Limits) -> dict[str, tuple[bool, str]]:
    verdicts = {}
    with _JUDGE_LOCK:
        judge = judge_for(course, limits)
        for test in course.tests:
            record = execution.records.get(test.test_id)
            if isinstance(record, TestRecord):
                verdicts[test.test_id] = judge.verdict(test.test_id, record)
            elif isinstance(record, str):
                verdicts[test.test_id] = (False, f"✗ the test has no result: {record}")
            else:
                verdicts[test.test_id] = (False, _why_no_record(plan, execution, test.test_id))
    return verdicts


def _why_no_record(plan, execution, test_id: str) -> str:
    for index, step in enumerate(plan.steps):
        if step.test_id == test_id and index in execution.outcomes:
            outcome, detail = execution.outcomes[index]
            if outcome in ("timeout", "memory", "skipped", "error") and detail:
                return f"✗ the test did not run to the end: {detail}"
    return NO_RESULT


def _assemble(student, course, plan, execution, verdicts, elapsed) -> SubmissionGrade:
    tests = []
    for test in course.tests:
        passed, message = verdicts[test.test_id]
        tests.append(TestResult(test.test_id, test.function, test.points if passed else 0.0, test.points,
                                bool(passed), message, test.hidden))
    functions = [_function_grade(f, course, plan, execution, tests) for f in course.functions]
    notes = list(execution.notes)
    if execution.foreign:
        notes.append(f"{execution.foreign} lines on the grader's report channel were not the sandbox's (ignored)")
    return SubmissionGrade(student=student, functions=functions, tests=tests, execution_time=elapsed,
                           output=execution.output, tampered_cells=sorted(plan.tampered),
                           isolation=isolation.notes(), skipped_cells=list(plan.skipped_cells), notes=notes)


def _function_grade(function, course, plan, execution, tests) -> FunctionGrade:
    mine = [t for t in tests if t.function == function]
    statuses, details, notes = [], [], []
    if function not in plan.answers:
        statuses.append(Status.MISSING)
        details.append(f"no answer cell with grade_id {function}")
    undefined = False
    for index, step in enumerate(plan.steps):
        if step.function != function or index not in execution.outcomes:
            continue
        outcome, detail = execution.outcomes[index]
        if outcome == "undefined":
            undefined = True
        elif outcome in ("timeout", "memory", "skipped") or (outcome == "error" and (step.answer or step.kind == "observe")):
            statuses.append(_OUTCOME[outcome])
            if detail != NOT_REACHED and not detail.startswith("not run: "):
                details.append(f"{step.where()}: {detail}")
        elif outcome == "error":  # a cell of the section that grades nothing: worth a note, not a status
            notes.append(f"{step.where()}: {detail}")
    raised = _raised(function, course, execution)
    if raised and not undefined:
        statuses.append(Status.ERROR)
        details.append(f"{function} raised {raised}")
    if function in plan.answers and undefined and not statuses:
        statuses.append(Status.MISSING)
        details.append(f"{function} is not defined after its cell ran (renamed?)")
    for test_id, how in sorted(plan.tampered.items()):
        if course.test(test_id).function == function:
            statuses.append(Status.TAMPERED)
            details.append(f"test cell {test_id} was {how}; graded with the original")
    failed = [t.message.splitlines()[0] for t in mine if not t.passed]
    if failed and not details:
        details.append(failed[0])
    status = next((s for s in PRIORITY if s in statuses), Status.OK)
    score = sum(t.score for t in mine)
    extra = notes + _setup_failures(plan, execution) + execution.notes if statuses or failed else []
    return FunctionGrade(function, score, sum(t.max_score for t in mine), status, _clip("; ".join(details + extra)))


def _raised(function: str, course, execution: _Execution) -> str | None:
    """The first error the function raised when one of its tests called it ('not defined' aside)."""
    for test_id, record in execution.records.items():
        if isinstance(record, TestRecord) and course.test(test_id).function == function:
            for capture in record.captures:
                if capture.error and not capture.error.startswith(f"NameError: {function} is not defined"):
                    return capture.error
    return None


def _setup_failures(plan, execution) -> list[str]:
    """Cells before the first answer cell that failed (setup, imports): they may explain any loss."""
    notes = []
    for index, step in enumerate(plan.steps):
        outcome, detail = execution.outcomes.get(index, ("ok", ""))
        if step.function is None and outcome in _OUTCOME and detail != NOT_REACHED:
            notes.append(f"{step.where()}: {detail}")
    return notes


def _invalid(student, course, detail, elapsed) -> SubmissionGrade:
    tests = [TestResult(t.test_id, t.function, 0.0, t.points, False, f"✗ {detail}", t.hidden) for t in course.tests]
    functions = [FunctionGrade(f, 0.0, sum(t.points for t in course.tests if t.function == f), Status.INVALID_NOTEBOOK,
                               _clip(detail)) for f in course.functions]
    return SubmissionGrade(student=student, functions=functions, tests=tests, execution_time=elapsed)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _clip(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
