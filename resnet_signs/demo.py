"""``resnet-signs demo``: the course pipeline end to end, saying what each step did.

The steps, in order (each needs the previous one's output):
1. data      - the prepared SIGNS files load with the course's shapes;
2. release   - the student release and the solutions are in sync with the one source notebook;
3. solution  - the worked solution runs top to bottom (smoke-sized training, as under nbgrader);
4. grade     - the sample submissions are autograded in isolated sandboxes, compared with their
               expected grades, and the grade table is printed.

A step prints ✓ with what it did, or ✗ with why it failed (its grades differing from the expected
ones included) and the demo stops there with exit status 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="where the demo writes (default: out/demo)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded in parallel (default: 2)")
    parser.add_argument("--timeout", type=float, default=DEMO_TIMEOUT,
                        help="seconds per graded function: the samples need a few; the hung one uses it all "
                             "(default: %(default)s)")


#: Per-function budget for grading the samples: ample for the real ones (a few seconds each), and
#: what the hanging sample costs. The expected grades are the same under the default 120 s.
DEMO_TIMEOUT = 30.0


def step_data() -> str:
    from resnet_signs.data import load_dataset

    x_train, _, x_test, _, classes = load_dataset()
    return f"{x_train.shape[0]} training and {x_test.shape[0]} test images, {len(classes)} classes, {x_train.shape[1:]}"


def step_release() -> str:
    from resnet_signs.release.pipeline import release

    stale = release(None, check=True)
    if stale:
        raise CourseError(f"generated notebooks are stale ({'; '.join(stale)}): run `make release`")
    return "assignments/ and solutions/ are in sync with autograder/source/ (nbgrader generate_assignment)"


def step_solution(out: Path) -> str:
    import nbformat
    from nbclient import NotebookClient

    solution = paths.checkout_root() / "solutions" / "residual_networks" / "Residual_Networks.ipynb"
    nb = nbformat.read(solution, as_version=4)
    workdir = out / "solution"
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, paths.QUICK_ENV: "1", "MPLBACKEND": "Agg"}
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute(
        env=env
    )
    nbformat.write(nb, workdir / "Residual_Networks.ipynb")
    return f"{len(nb.cells)} cells ran without error; executed copy in {workdir / 'Residual_Networks.ipynb'}"


class GradesDiffer(Exception):
    """The samples' grades are not their expected grades."""


def step_grade(out: Path, workers: int, timeout: float = DEMO_TIMEOUT) -> str:
    from resnet_signs.grading.api import grade
    from resnet_signs.grading.reports import summary_table

    samples = paths.course_dir() / "samples"
    run = grade(samples, out=out / "grades", workers=workers, timeout=timeout)
    print(summary_table(run.grades, run.reused))
    with open(samples / "expected_grades.csv", newline="") as f:
        expected = list(csv.DictReader(f))
    with open(out / "grades" / "grades.csv", newline="") as f:
        got = list(csv.DictReader(f))
    if got != expected:
        raise GradesDiffer("grades.csv differs from autograder/samples/expected_grades.csv: "
                           f"{_differences(expected, got)}")
    return f"{len(run.grades)} submissions graded; grades.csv matches autograder/samples/expected_grades.csv"


def _differences(expected: list[dict], got: list[dict], shown: int = 3) -> str:
    """The first rows that differ, ``student/function: expected SCORE STATUS, got SCORE STATUS``."""
    def rows(table):
        return {(r.get("student"), r.get("function")): f"{r.get('score')} {r.get('status')}" for r in table}

    want, have = rows(expected), rows(got)
    keys = [k for k in dict.fromkeys([*want, *have]) if want.get(k) != have.get(k)]
    said = [f"{s}/{f}: expected {want.get((s, f), 'no row')}, got {have.get((s, f), 'no row')}"
            for s, f in keys[:shown]]
    return "; ".join(said) + (f" (and {len(keys) - shown} more)" if len(keys) > shown else "")


#: The pipeline, in order: each step needs the previous one's output and returns what it did.
STEPS = (
    ("data", lambda args: step_data()),
    ("release", lambda args: step_release()),
    ("solution", lambda args: step_solution(args.out)),
    ("grade", lambda args: step_grade(args.out, args.workers, args.timeout)),
)


def run(args: argparse.Namespace) -> int:
    if paths.checkout_root() is None:
        # The demo grades the course's samples against its solutions: answers, which no wheel ships.
        raise CourseError("the demo runs the course's own pipeline on the repository's solutions/ and "
                          "autograder/samples/, which the installed package does not carry (they hold answers): "
                          "run `make demo` in a checkout of the course repository")
    for name, step in STEPS:
        started = time.monotonic()
        print(f"[{name}] running...", flush=True)
        try:
            said = step(args)
        except CourseError:
            raise
        except Exception as exc:  # noqa: BLE001 - report and stop: later steps need this one's output
            print(f"[{name}] ✗ failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            return 1
        print(f"[{name}] ✓ {said} ({time.monotonic() - started:.0f} s)", flush=True)
    print(f"demo finished: outputs in {args.out}/")
    return 0
