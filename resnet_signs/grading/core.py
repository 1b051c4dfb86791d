"""Grade one submission: read it, run it in the sandbox, judge what it did in this clean process.

``grade_submission`` is the core's one entry point (see docs/CONTRACTS.md, Grading). It
never raises for anything a student did: an unreadable notebook, a crash, a hang, a memory
bomb or a tampered test each become a status and a score. Verdicts come from
``hidden_tests.judge`` here, on observations the sandbox wrote as data, so nothing the
student's code patched in the sandbox (numpy, ``assert``, the checks) can turn a failure
into a pass: a missing observation is a fail.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import nbformat

from resnet_signs import paths
from resnet_signs.grading import observations, runner
from resnet_signs.grading import plan as planning
from resnet_signs.grading.model import FUNCTIONS, FunctionGrade, Limits, Status, SubmissionGrade, TestResult
from resnet_signs.instructor import load_hidden_tests

#: Most specific first: the status a function gets when several things went wrong. A tampered
#: test cell outranks an error: it is an integrity flag the instructor must see in grades.csv,
#: while the error stays visible in the detail and the feedback.
PRIORITY = (Status.MISSING, Status.MEMORY, Status.TIMEOUT, Status.TAMPERED, Status.ERROR)
NOT_REACHED = "not reached"
#: Judging runs the reference (Keras) and fills per-process caches: one thread at a time.
_JUDGE_LOCK = threading.Lock()
_OUTCOME = {"timeout": Status.TIMEOUT, "error": Status.ERROR, "memory": Status.MEMORY}


def grade_submission(notebook_path, *, student: str, source_notebook, limits: Limits | None = None,
                     workdir) -> SubmissionGrade:
    """Grade one student's notebook against the source notebook's tests.

    Args:
        notebook_path: the submitted ``.ipynb``.
        student: the student's id (copied into the result).
        source_notebook: the nbgrader source notebook (answer/test cells, points, canonical tests).
        limits: time, memory and output limits (defaults: :class:`Limits`).
        workdir: a folder this call may use: ``workdir/sandbox`` (the child's only writable folder)
            and ``workdir/plans`` are recreated and removed.

    Returns:
        The functions in ``FUNCTIONS`` order with status, score and a one-line detail, every
        test's verdict, the wall-clock time and the capped output.

    Raises:
        GradingError: the instructor's side is broken (unreadable source notebook).
    """
    started = time.monotonic()
    limits = limits or Limits()
    spec = planning.read_spec(Path(source_notebook), FUNCTIONS)
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:  # any unreadable file is the student's: a status, not a crash
        return _invalid(student, spec, f"not a readable notebook: {_one_line(exc)}", time.monotonic() - started)
    plan = planning.build(nb, spec)
    sandbox = Path(workdir) / "sandbox"
    try:
        execution = _execute(plan, Path(notebook_path), sandbox, limits, started + limits.timeout)
        verdicts = _judge(spec, sandbox / "results")
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
    return _assemble(student, spec, plan, execution, verdicts, time.monotonic() - started)


class _Execution:
    """What the children did: the first outcome of each step and notes on each attempt."""

    def __init__(self):
        self.outcomes: dict[int, tuple[str, str]] = {}
        self.notes: list[str] = []
        self.output = ""


def _execute(plan: planning.Plan, notebook: Path, sandbox: Path, limits: Limits, deadline: float) -> _Execution:
    shutil.rmtree(sandbox, ignore_errors=True)
    for sub in ("work", "home", "tmp", "results"):
        (sandbox / sub).mkdir(parents=True)
    shutil.copyfile(notebook, sandbox / "work" / notebook.name)
    execution, output, skip = _Execution(), runner.Output(limits.output_bytes), set()
    env = _child_env(sandbox)
    plans = sandbox.parent / "plans"  # outside the sandbox: read-only to the child
    plans.mkdir(parents=True, exist_ok=True)
    for attempt in range(runner.MAX_RESTARTS + 1):
        observed = sorted(p.stem for p in (sandbox / "results").glob("*.json"))
        progress = sandbox / "results" / f"progress-{attempt}.jsonl"
        plan_file = plans / f"plan-{attempt}.json"
        plan_file.write_text(json.dumps({
            "steps": plan.steps, "skip": sorted(skip), "observed": observed, "cell_timeout": limits.cell_timeout,
            "max_file_bytes": runner.MAX_FILE_BYTES,
            "results": str(sandbox / "results"), "progress": str(progress),
        }))
        result = runner.run_child(plan_file, progress, sandbox=sandbox, env=env, limits=limits,
                                  deadline=deadline, output=output)
        for event in result.events:
            if event.get("event") == "end":
                execution.outcomes.setdefault(event["step"], (event.get("outcome", "error"), event.get("detail", "")))
        if result.finished:
            break
        culprit = result.running
        why = _death(result, limits)
        if culprit is None:  # died outside any step (at start-up): a restart would die the same way
            break
        execution.outcomes.setdefault(culprit, (_status_name(result), why))
        skip.add(culprit)
        if result.killed == "total-timeout":
            break
    else:
        execution.notes.append(f"gave up after {runner.MAX_RESTARTS} restarts")
    if not result.finished:  # the steps the last child never reached share its fate
        unreached = [i for i in range(len(plan.steps)) if i not in execution.outcomes and i not in skip]
        for index in unreached:
            execution.outcomes[index] = (_status_name(result), NOT_REACHED)
        if unreached:
            execution.notes.append(f"the sandbox {why}; {len(unreached)} later cells/tests never ran")
    shutil.rmtree(plans, ignore_errors=True)
    execution.output = output.text()
    return execution


def _status_name(result: runner.Attempt) -> str:
    return {"memory": "memory", "cell-timeout": "timeout", "total-timeout": "timeout"}.get(result.killed, "error")


def _death(result: runner.Attempt, limits: Limits) -> str:
    if result.killed == "memory":
        return f"went over the memory limit ({limits.memory_mb} MB)"
    if result.killed == "cell-timeout":
        return f"ran past the per-cell limit ({limits.cell_timeout:g} s) and ignored the interrupt"
    if result.killed == "total-timeout":
        return f"ran past the whole-submission limit ({limits.timeout:g} s)"
    number = runner.signal_of(result.returncode)
    if number is not None:
        try:
            return f"crashed ({signal.Signals(number).name})"
        except ValueError:
            return f"crashed (signal {number})"
    return f"exited with status {result.returncode} (os._exit or a fatal error)"


def _child_env(sandbox: Path) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(sandbox / "home"),
        "TMPDIR": str(sandbox / "tmp"),
        "MPLCONFIGDIR": str(sandbox / "tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "NBGRADER_EXECUTION": "autograde",  # training cells run their smoke budget
        "RESNET_SIGNS_DATA": str(paths.data_dir()),
        "RESNET_SIGNS_COURSE": str(paths.course_dir()),
        "RESNET_SIGNS_MODELS": str(sandbox / "tmp" / "models"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_DETERMINISTIC_OPS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "OMP_NUM_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _judge(spec: planning.Spec, results: Path) -> dict[str, tuple[bool, str] | None]:
    """Each test's ``(passed, message)``, or ``None`` when the sandbox recorded no observation."""
    verdicts = {}
    with _JUDGE_LOCK:
        hidden = load_hidden_tests()
        for test in spec.tests:
            observation = observations.load(results, test.test_id)
            verdicts[test.test_id] = None if observation is None else hidden.judge(test.test_id, observation)
    return verdicts


def _assemble(student, spec, plan, execution, verdicts, elapsed) -> SubmissionGrade:
    tests = []
    for test in spec.tests:
        verdict = verdicts[test.test_id]
        passed, message = verdict if verdict is not None else (False, "✗ no result: the test did not run to the end")
        tests.append(TestResult(test.test_id, test.function, test.points if passed else 0.0, test.points,
                                bool(passed), message, test.hidden))
    functions = [_function_grade(f, spec, plan, execution, tests) for f in spec.functions]
    return SubmissionGrade(student=student, functions=functions, tests=tests, execution_time=elapsed,
                           output=execution.output, tampered_cells=sorted(plan.tampered),
                           isolation=runner.isolation_notes())


def _function_grade(function, spec, plan, execution, tests) -> FunctionGrade:
    mine = [t for t in tests if t.function == function]
    statuses, details = [], []
    if function not in plan.answers:
        statuses.append(Status.MISSING)
        details.append(f"no answer cell with grade_id {function}")
    undefined = False
    for index, step in enumerate(plan.steps):
        if step["function"] != function or index not in execution.outcomes:
            continue
        outcome, detail = execution.outcomes[index]
        where = _where(step)
        if outcome == "undefined":
            undefined = True
        elif outcome in _OUTCOME:
            statuses.append(_OUTCOME[outcome])
            if detail != NOT_REACHED:  # explained once by the execution's note
                details.append(f"{where}: {detail}")
    if function in plan.answers and undefined and not statuses:
        statuses.append(Status.MISSING)
        details.append(f"{function} is not defined after its cell ran (renamed?)")
    for test_id, how in sorted(plan.tampered.items()):
        if spec.test(test_id).function == function:
            statuses.append(Status.TAMPERED)
            details.append(f"test cell {test_id} was {how}; graded with the original")
    for cell, section, name in plan.suspicious:
        if section in (function, None):
            details.append(f"cell {cell} uses the instructor's {name}: check it by hand")
    failed = [t.message for t in mine if not t.passed]
    if failed and not details:
        details.append(failed[0])
    status = next((s for s in PRIORITY if s in statuses), Status.OK)
    score = sum(t.score for t in mine)
    notes = _unowned_failures(plan, execution) + execution.notes if statuses or failed else []
    detail = "; ".join(details + notes)
    return FunctionGrade(function, score, sum(t.max_score for t in mine), status, _clip(detail))


def _unowned_failures(plan, execution) -> list[str]:
    """Cells before the first answer cell that failed (setup, imports): they may explain any loss."""
    notes = []
    for index, step in enumerate(plan.steps):
        outcome, detail = execution.outcomes.get(index, ("ok", ""))
        if step["function"] is None and outcome in _OUTCOME and detail != NOT_REACHED:
            notes.append(f"cell {step['cell']}: {detail}")
    return notes


def _where(step: dict) -> str:
    if step["kind"] == "observe":
        return f"test {step['test_id']}"
    return f"answer cell {step['function']}" if step["answer"] else f"cell {step['cell']}"


def _invalid(student, spec, detail, elapsed) -> SubmissionGrade:
    tests = [TestResult(t.test_id, t.function, 0.0, t.points, False, f"✗ {detail}", t.hidden) for t in spec.tests]
    functions = [FunctionGrade(f, 0.0, sum(t.points for t in spec.tests if t.function == f), Status.INVALID_NOTEBOOK,
                               _clip(detail)) for f in spec.functions]
    return SubmissionGrade(student=student, functions=functions, tests=tests, execution_time=elapsed)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _clip(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
