"""The sandboxed child: runs a submission's steps and reports what its tests captured, never verdicts.

Started by :mod:`resnet_signs.grading.runner` as ``python -m resnet_signs.grading.sandbox
--channel FD`` with the plan as JSON on stdin (a :class:`~resnet_signs.grading.plan.ChildPlan`,
checked field by field before anything runs). Code steps run in an IPython ``InteractiveShell``
(so magics such as ``%matplotlib`` work); observe steps capture what the student's function
builds (:func:`resnet_signs.checks.capture.capture_test`) and send it on the report channel
(:mod:`resnet_signs.grading.channel`). Nothing here knows an answer: this process imports no
reference, no hidden expected value and no course file, and the course directory is not even
visible to it (:mod:`resnet_signs.grading.isolation`).

Budgets: each step may run for what its function has left in this child
(:class:`~resnet_signs.grading.model.SectionClock`; a ``SIGALRM`` interrupts it); once a function's
test or answer cell runs out of time, the rest of that function's steps are reported as timed out
without running, and the next function starts with its own budget. The parent kills this process
when an interrupt is ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import time
from signal import ITIMER_REAL, setitimer  # bound now: a student who patches ``signal`` cannot disarm us

from resnet_signs.grading.channel import Event, EventKind, Writer
from resnet_signs.grading.model import SectionClock, Status
from resnet_signs.grading.plan import ChildPlan, StepKind

#: The default seed of the sandbox (the notebook's setup may set its own).
SEED = 0


class CellTimeout(BaseException):
    """Raised in the running step when it passes its time limit.

    A ``BaseException`` so that ``except Exception`` in student code does not swallow it;
    the parent kills the process when even that is caught.
    """


_armed = False


def _on_alarm(signum, frame):
    if _armed:
        raise CellTimeout("the cell ran past its time limit")


def _configure_tensorflow() -> None:
    """Seeds always; on a GPU, memory growth and deterministic kernels."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if gpus:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)


def _shell_class():
    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        """A headless shell: ``%matplotlib`` picks its backend and there is no GUI loop to start."""

        def enable_gui(self, gui=None):
            pass

    return Shell


def run(plan: ChildPlan, channel: Writer) -> None:
    """Run the plan's steps, skipping ``plan.skip`` and the tests in ``plan.observed``."""
    global _armed
    from resnet_signs import paths
    from resnet_signs.checks.capture import private_copy
    from resnet_signs.checks.records import TestRecord, one_line
    from resnet_signs.grading import strays
    from resnet_signs.grading.isolation import PROCESS_KILL

    _configure_tensorflow()
    capture_test = private_copy()  # before any student code: patching the public modules cannot reach it
    shell = _shell_class().instance(colors="nocolor")  # plain tracebacks: the output is read in a report
    namespace = shell.user_ns
    own_namespace = paths.sandbox_owns_pid_namespace()  # read before any student code
    clock = SectionClock(plan.limits)  # seconds each section has run in this child
    over: set = set()  # sections out of time: their remaining steps do not run
    signal.signal(signal.SIGALRM, _on_alarm)
    channel.send(Event(EventKind.READY))
    for index, step in enumerate(plan.steps):
        if index in plan.skip or step.test_id in plan.observed:
            continue
        section = step.function
        limit = clock.limit(section)
        if section in over or limit <= 0:
            if section is not None:
                over.add(section)
            channel.send(Event(EventKind.END, index, Status.TIMEOUT, "its function ran out of time"))
            continue
        channel.send(Event(EventKind.START, index))
        status, detail, record, started = Status.OK, "", None, time.monotonic()
        try:
            _armed = True
            setitimer(ITIMER_REAL, limit)
            if step.kind is StepKind.CODE:
                result = shell.run_cell(step.source, store_history=False)
                error = result.error_before_exec or result.error_in_exec
            else:
                request = plan.tests[step.test_id]
                defined = callable(namespace.get(request.function))
                record = TestRecord(step.test_id, tuple(capture_test(request.function, list(request.cases), namespace,
                                                                     plan.stand_ins)))
                error = None if defined else NameError(f"{request.function} is not defined")
                status = Status.OK if defined else Status.MISSING
        except CellTimeout as exc:
            error = exc
        except BaseException as exc:  # noqa: BLE001 - whatever the step did is reported, not raised
            error = exc
        finally:
            _armed = False
            setitimer(ITIMER_REAL, 0)
        # What the step left is gone before the next step starts (resnet_signs.grading.strays); the step
        # pays for the wait: at least strays.WAIT, else the time it has left.
        killed, remaining = strays.end(own_namespace, max(strays.WAIT, limit - (time.monotonic() - started)))
        crowd = strays.hold_while_crowded(PROCESS_KILL)
        clock.charge(section, time.monotonic() - started)
        if isinstance(error, CellTimeout):
            status, detail = Status.TIMEOUT, f"ran past its time limit ({limit:.0f} s)"
            if section is not None and (step.kind is StepKind.OBSERVE or step.answer):
                over.add(section)  # a function's test or answer cell hung: its other tests would hang too
        elif error is not None:
            status, detail = (Status.ERROR if status is Status.OK else status), one_line(error)
        if (remaining or crowd >= PROCESS_KILL) and status is Status.OK:
            status = Status.ERROR
            detail = (f"left {remaining} processes that would not exit" if remaining
                      else f"left {crowd} threads running")
        elif killed and status is Status.OK:
            detail = f"left {killed} processes running (killed before the next step)"
        sys.stdout.flush()
        sys.stderr.flush()
        if record is not None:
            channel.send(Event(EventKind.RECORD, index, record=record))
        channel.send(Event(EventKind.END, index, status, detail))
    channel.send(Event(EventKind.DONE))


def _limit_resources(max_file_bytes: int) -> None:
    """Hard limits, set before any student code: no file over ``max_file_bytes``, no core dumps."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault must not write gigabytes of core


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="resnet_signs.grading.sandbox")
    parser.add_argument("--channel", type=int, required=True, help="file descriptor of the report pipe")
    args = parser.parse_args(argv[1:])
    channel = Writer(args.channel)  # bound before any student code
    try:  # the parent closes its end: student code reading stdin gets EOF
        plan = ChildPlan.from_json(json.loads(sys.stdin.read()))
    except ValueError as exc:  # RecordError, or not JSON: nothing runs
        print(f"sandbox: the plan is malformed: {exc}", flush=True)
        return 2
    _limit_resources(plan.max_file_bytes)
    run(plan, channel)
    sys.stdout.flush()
    # Skip interpreter teardown: student threads or atexit hooks must not hang a finished run.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
