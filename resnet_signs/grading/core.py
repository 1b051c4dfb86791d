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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from resnet_signs.checks.records import TestRecord, one_line
from resnet_signs.grading import channel, isolation, judging, runner
from resnet_signs.grading import course as courses
from resnet_signs.grading import plan as planning
from resnet_signs.grading.channel import EventKind
from resnet_signs.grading.judge import NO_RESULT, Judge
from resnet_signs.grading.model import FunctionGrade, Limits, Status, SubmissionGrade, TestResult
from resnet_signs.grading.plan import ChildPlan, StepKind
from resnet_signs.grading.runner import Kill

NOT_REACHED = "not reached"
#: Judging builds Keras graphs and fills per-process caches: one thread at a time.
_JUDGE_LOCK = threading.Lock()
_JUDGES: dict[Path, Judge] = {}


def grade_submission(notebook_path, *, student: str, course, limits: Limits | None = None, workdir,
                     assignment: str | None = None, threads: int = 0) -> SubmissionGrade:
    """Grade one student's notebook against the course's tests.

    Args:
        notebook_path: the submitted ``.ipynb``; a path with no file is a student who handed in nothing.
        student: the student's id (copied into the result).
        course: the course directory (or a loaded :class:`~.course.Course`): source notebook, hidden
            tests and reference all come from it.
        limits: time, memory and output limits (defaults: :class:`Limits`).
        workdir: a folder this call may use: ``workdir/sandbox`` (the child's only writable folder)
            is recreated and removed.
        assignment: the assignment's folder under ``source/`` (default: the only graded one).
        threads: TensorFlow threads for the sandbox child (0: TensorFlow's default, every core).

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
    if not Path(notebook_path).is_file():
        return _invalid(student, course, f"no {course.notebook_name} in the student's folder", 0.0)
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the student's: a status, not a crash
        return _invalid(student, course, f"not a readable notebook: {one_line(exc)}", time.monotonic() - started)
    plan = planning.build(nb, course)
    env = runner.child_env(Path(workdir) / "sandbox", threads)
    judge_for(course, limits, threads).observer.prepare()  # the judging process imports TensorFlow meanwhile
    sandbox = runner.sandbox_folder(Path(workdir), env, hide=(course.root,))
    deadline = started + limits.total(len(course.functions))
    try:
        execution = _execute(plan, course, Path(notebook_path), sandbox, limits, deadline, threads)
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    verdicts = _judge(course, plan, execution, limits, threads)
    return _assemble(student, course, plan, execution, verdicts, time.monotonic() - started)


@dataclass(frozen=True)
class StepOutcome:
    """How one step of the plan ended (the first child's word on it wins).

    Attributes:
        status: the one outcome vocabulary (``missing``: its observe step found the function undefined).
        detail: one line saying why.
        inherited: the step took its status from the step that caused it (it was never reached, or
            its function was disqualified): its detail adds nothing to the function's.
    """

    status: Status
    detail: str = ""
    inherited: bool = False


@dataclass
class _Execution:
    """What the children did: each step's outcome, each test's record, notes."""

    outcomes: dict[int, StepOutcome] = field(default_factory=dict)
    records: dict[str, TestRecord | str] = field(default_factory=dict)  # a string: why there is none
    notes: list[str] = field(default_factory=list)
    output: str = ""
    foreign: int = 0  # lines on the report channel that were not the sandbox's events


def _execute(plan: planning.Plan, course: courses.Course, notebook: Path, sandbox: Path, limits: Limits,
             deadline: float, threads: int = 0) -> _Execution:
    shutil.rmtree(sandbox, ignore_errors=True)
    for sub in ("work", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True)
    shutil.copyfile(notebook, sandbox / "work" / notebook.name)
    execution, output, skip = _Execution(), runner.Output(limits.output_bytes), set()
    env = runner.child_env(sandbox, threads)
    while True:
        child_plan = ChildPlan(tuple(plan.steps), course.requests(), course.stand_ins, limits, runner.MAX_FILE_BYTES,
                               frozenset(skip), frozenset(execution.records))
        result = runner.run_child(child_plan, sandbox=sandbox, env=env, limits=limits, deadline=deadline,
                                  output=output, hide=(course.root,))
        _collect(result, plan, execution)
        if result.finished:
            break
        why = _death(result, limits)
        culprit = result.running
        if result.killed in (Kill.MEMORY, Kill.PROCESSES):
            culprit = _blame(result.growth if result.killed is Kill.MEMORY else result.proc_growth, culprit, plan)
        if culprit is None:  # died outside any step: a restart would die the same way
            execution.notes.append(f"the sandbox {why} outside any cell")
            break
        execution.outcomes.setdefault(culprit, StepOutcome(result.status, why))
        step = plan.steps[culprit]
        if step.function is not None and (step.kind is StepKind.OBSERVE or step.answer):
            _disqualify(plan, execution, step.function, result.status, why, skip)
        skip.add(culprit)
        if result.killed is Kill.TOTAL_TIME or time.monotonic() >= deadline:
            break
    if not result.finished:  # the steps no child reached share the last one's fate
        unreached = [i for i in range(len(plan.steps)) if i not in execution.outcomes and i not in skip]
        for index in unreached:
            execution.outcomes[index] = StepOutcome(result.status, NOT_REACHED, inherited=True)
        if unreached:
            execution.notes.append(f"the sandbox {why}; {len(unreached)} later cells/tests never ran")
    execution.output = output.text()
    return execution


def _collect(result: runner.Attempt, plan: planning.Plan, execution: _Execution) -> None:
    """Outcomes (first attempt's wins) and records, accepted only from the test step that is running."""
    running = None
    for event in result.events:
        step = plan.steps[event.step] if event.step is not None and event.step < len(plan.steps) else None
        if event.kind is EventKind.START:
            running = event.step
        elif event.kind is EventKind.END and step is not None:
            execution.outcomes.setdefault(event.step, StepOutcome(event.status, event.detail))
            running = None
        elif event.kind is EventKind.RECORD:
            if step is None or event.step != running or step.kind is not StepKind.OBSERVE \
                    or step.test_id in execution.records:
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


def _disqualify(plan, execution, function: str, status: Status, why: str, skip: set) -> None:
    """A function hit a limit in its test or answer cell: its other steps are not run again."""
    for index, step in enumerate(plan.steps):
        if step.function == function:
            skip.add(index)
            if index not in execution.outcomes:
                execution.outcomes[index] = StepOutcome(status, f"not run: {function} {why}", inherited=True)


def _death(result: runner.Attempt, limits: Limits) -> str:
    """Why the child ended early, in the words of a grade's detail."""
    if result.killed is not None:
        return {
            Kill.MEMORY: f"went over the memory limit ({limits.memory_mb} MB)",
            Kill.PROCESSES: f"left too many processes or threads running (the cap is {isolation.MAX_PIDS})",
            Kill.CELL_TIME: f"ran past the per-cell limit ({limits.cell_timeout:g} s) and ignored the interrupt",
            Kill.FUNCTION_TIME: f"ran past its function's time budget ({limits.function_timeout:g} s) and ignored "
                                "the interrupt",
            Kill.TOTAL_TIME: "ran past the whole submission's time limit",
            Kill.CHANNEL: f"flooded the grader's report channel (over {channel.MAX_TOTAL >> 20} MiB, or a line "
                          f"over {channel.MAX_LINE >> 20} MiB)",
        }[result.killed]
    number = isolation.exit_signal(result.returncode)
    if number is not None:
        try:
            return f"crashed ({signal.Signals(number).name})"
        except ValueError:
            return f"crashed (signal {number})"
    return f"exited with status {result.returncode} (os._exit or a fatal error)"


def judge_for(course: courses.Course, limits: Limits, threads: int = 0) -> Judge:
    """One judge per course directory per process (its expected observations are computed once), observing
    in this process's judging process (:mod:`.judging`) under the submission's memory limit, with the
    sandbox child's TensorFlow threads."""
    observer = judging.shared(limits.memory_mb, judging.thread_settings(runner.child_env(Path("."), threads)))
    judge = _JUDGES.get(course.root)
    if judge is None or judge.course is not course or judge.observer is not observer:
        judge = _JUDGES[course.root] = Judge(course, observer=observer)
    return judge


def _judge(course: courses.Course, plan: planning.Plan, execution: _Execution, limits: Limits,
           threads: int) -> dict[str, tuple[bool, str]]:
    verdicts = {}
    with _JUDGE_LOCK:
        judge = judge_for(course, limits, threads)
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
        outcome = execution.outcomes.get(index)
        if (step.test_id == test_id and outcome is not None
                and outcome.status in (Status.ERROR, Status.TIMEOUT, Status.MEMORY) and outcome.detail):
            return f"✗ the test did not run to the end: {outcome.detail}"
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
        outcome = execution.outcomes.get(index)
        if step.function != function or outcome is None:
            continue
        if outcome.status is Status.MISSING:
            undefined = True
        elif outcome.status in (Status.TIMEOUT, Status.MEMORY) or (
                outcome.status is Status.ERROR and (step.answer or step.kind is StepKind.OBSERVE)):
            statuses.append(outcome.status)
            if not outcome.inherited:
                details.append(f"{step.where()}: {outcome.detail}")
        elif outcome.status is Status.ERROR:  # a cell of the section that grades nothing: worth a note, not a status
            notes.append(f"{step.where()}: {outcome.detail}")
    raised = _raised(function, plan, execution)
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
    status = max(statuses, default=Status.OK)
    score = sum(t.score for t in mine)
    extra = notes + _setup_failures(plan, execution) + execution.notes if statuses or failed else []
    return FunctionGrade(function, score, sum(t.max_score for t in mine), status, _clip("; ".join(details + extra)))


def _raised(function: str, plan: planning.Plan, execution: _Execution) -> str | None:
    """The first error the function raised when one of its tests called it (a test that found it
    undefined, status ``missing``, says so elsewhere)."""
    for index, step in enumerate(plan.steps):
        record = execution.records.get(step.test_id) if step.kind is StepKind.OBSERVE else None
        outcome = execution.outcomes.get(index)
        if step.function != function or not isinstance(record, TestRecord) or (
                outcome is not None and outcome.status is Status.MISSING):
            continue
        for capture in record.captures:
            if capture.error:
                return capture.error
    return None


def _setup_failures(plan, execution) -> list[str]:
    """Cells before the first answer cell that failed (setup, imports): they may explain any loss."""
    notes = []
    for index, step in enumerate(plan.steps):
        outcome = execution.outcomes.get(index)
        if step.function is None and outcome is not None and outcome.status is not Status.OK and not outcome.inherited:
            notes.append(f"{step.where()}: {outcome.detail}")
    return notes


def _invalid(student, course, detail, elapsed) -> SubmissionGrade:
    tests = [TestResult(t.test_id, t.function, 0.0, t.points, False, f"✗ {detail}", t.hidden) for t in course.tests]
    functions = [FunctionGrade(f, 0.0, sum(t.points for t in course.tests if t.function == f), Status.INVALID_NOTEBOOK,
                               _clip(detail)) for f in course.functions]
    return SubmissionGrade(student=student, functions=functions, tests=tests, execution_time=elapsed)


def _clip(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
