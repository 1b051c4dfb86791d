"""The sandboxed child: runs a submission's steps and records observations, never verdicts.

Started by :mod:`resnet_signs.grading.runner` as ``python -m resnet_signs.grading.sandbox PLAN``.
Code steps run in an IPython ``InteractiveShell`` (so magics such as ``%matplotlib`` work);
observe steps call ``hidden_tests.observe`` on the notebook's globals and write what it saw
(:mod:`resnet_signs.grading.observations`). Progress goes to a JSON-lines file, one line when
a step starts and one when it ends, so that the parent knows which step was running when
this process died. Nothing is judged here: student code may have patched anything.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from signal import ITIMER_REAL, setitimer  # bound now: a student who patches ``signal`` cannot disarm us

#: The default seed of the sandbox (the notebook's setup may set its own).
SEED = 0


class CellTimeout(BaseException):
    """Raised in the running step when it passes the per-cell limit.

    A ``BaseException`` so that ``except Exception`` in student code does not swallow it;
    the parent kills the process when even that is caught.
    """


_armed = False


def _on_alarm(signum, frame):
    if _armed:
        raise CellTimeout("the cell ran past its time limit")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _configure_tensorflow() -> None:
    """Seeds always; on a GPU, memory growth and deterministic kernels (tolerances live in the judges)."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if gpus:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)


class Progress:
    """Line-buffered JSON-lines log of step starts and ends."""

    def __init__(self, path: Path):
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    def write(self, **event) -> None:
        self._file.write(json.dumps(event) + "\n")
        self._file.flush()


def _shell_class():
    from IPython.core.interactiveshell import InteractiveShell

    class Shell(InteractiveShell):
        """A headless shell: ``%matplotlib`` picks its backend and there is no GUI loop to start."""

        def enable_gui(self, gui=None):
            pass

    return Shell


def run(plan: dict) -> None:
    """Run the plan's steps, skipping ``plan["skip"]`` and the tests in ``plan["observed"]``."""
    global _armed
    from resnet_signs.grading import observations
    from resnet_signs.instructor import load_hidden_tests

    progress = Progress(Path(plan["progress"]))
    results = Path(plan["results"])
    _configure_tensorflow()
    observe = load_hidden_tests().observe  # bound before any student code runs
    save = observations.save
    shell = _shell_class().instance(colors="nocolor")  # plain tracebacks: the output is read in a report
    namespace = shell.user_ns
    skip, observed, limit = set(plan["skip"]), set(plan["observed"]), float(plan["cell_timeout"])
    signal.signal(signal.SIGALRM, _on_alarm)
    progress.write(event="ready", time=time.time())
    for index, step in enumerate(plan["steps"]):
        if index in skip or step.get("test_id") in observed:
            continue
        progress.write(event="start", step=index, time=time.time())
        outcome, detail = "ok", ""
        try:
            _armed = True
            setitimer(ITIMER_REAL, limit)
            if step["kind"] == "code":
                result = shell.run_cell(step["source"], store_history=False)
                error = result.error_before_exec or result.error_in_exec
            else:
                defined = callable(namespace.get(step["function"]))
                observation = observe(step["test_id"], namespace)
                _armed = False
                save(results, step["test_id"], observation)
                error = None if defined else NameError(f"{step['function']} is not defined")
                outcome = "ok" if defined else "undefined"
        except CellTimeout as exc:
            error = exc
        except BaseException as exc:  # noqa: BLE001 - whatever the step did is reported, not raised
            error = exc
        finally:
            _armed = False
            setitimer(ITIMER_REAL, 0)
        if isinstance(error, CellTimeout):
            outcome, detail = "timeout", "ran past the per-cell time limit"
        elif error is not None and outcome == "ok":
            outcome, detail = "error", _one_line(error)
        elif error is not None:
            detail = _one_line(error)
        sys.stdout.flush()
        sys.stderr.flush()
        progress.write(event="end", step=index, outcome=outcome, detail=detail, time=time.time())
    progress.write(event="done")


def _limit_resources(max_file_bytes: int) -> None:
    """Hard limits, set before any student code: no file over ``max_file_bytes``, no core dumps."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault must not write gigabytes of core


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    _limit_resources(int(plan["max_file_bytes"]))
    run(plan)
    sys.stdout.flush()
    # Skip interpreter teardown: student threads or atexit hooks must not hang a finished run.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
