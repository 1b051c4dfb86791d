"""Where the time of grading one submission goes: sandbox start-up, the notebook's steps, judging.

Runs the core's stages on the fixture solution (tests/grading/fixtures/correct.ipynb, or
``--notebook`` with ``--source``) several times and prints a Markdown table of medians:
the child's start-up (process, namespaces, TensorFlow import, until its first step), the
steps (answer cells and observations), the parent's judging (the first call also observes the
reference, once per process), and the whole ``grade_submission`` wall time.

    python -m benchmarks.grading_core [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "grading" / "fixtures"


def _events(results: Path) -> list[dict]:
    lines = (results / "progress-0.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def measure(notebook: Path, source: Path, work: Path) -> dict[str, float]:
    """One run of each stage, in seconds."""
    import nbformat

    from resnet_signs.grading import core
    from resnet_signs.grading import plan as planning
    from resnet_signs.grading.model import FUNCTIONS, Limits

    spec = planning.read_spec(source, FUNCTIONS)
    plan = planning.build(nbformat.read(str(notebook), as_version=4), spec)
    sandbox = work / "sandbox"
    start_wall, start = time.time(), time.perf_counter()
    core._execute(plan, notebook, sandbox, Limits(), time.monotonic() + 600)
    executed = time.perf_counter() - start
    events = _events(sandbox / "results")
    ready = next(e["time"] for e in events if e["event"] == "ready")
    judge_start = time.perf_counter()
    core._judge(spec, sandbox / "results")
    judged = time.perf_counter() - judge_start
    whole_start = time.perf_counter()
    core.grade_submission(notebook, student="bench", source_notebook=source, workdir=work / "again")
    return {
        "child start-up (to its first step)": ready - start_wall,
        "steps (cells and observations)": executed - (ready - start_wall),
        "judging": judged,
        "grade_submission, whole": time.perf_counter() - whole_start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--notebook", type=Path, default=FIXTURES / "correct.ipynb", help="submission to grade")
    parser.add_argument("--source", type=Path, default=FIXTURES / "source.ipynb", help="its source notebook")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        for rep in range(args.reps):
            runs.append(measure(args.notebook, args.source, Path(tmp) / str(rep)))
    print(f"\nSubmission: {args.notebook.relative_to(ROOT) if args.notebook.is_relative_to(ROOT) else args.notebook}; "
          f"{args.reps} repetitions; medians.\n")
    print("| stage | median s | min-max s |")
    print("|---|---:|---:|")
    for stage in runs[0]:
        # The first judging of a process also observes the reference: reported on its own.
        values = [r[stage] for r in (runs[1:] if stage == "judging" and len(runs) > 1 else runs)]
        name = "judging (reference cached)" if stage == "judging" and len(runs) > 1 else stage
        print(f"| {name} | {statistics.median(values):.1f} | {min(values):.1f}-{max(values):.1f} |")
    print(f"| judging, first call of the process | {runs[0]['judging']:.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
