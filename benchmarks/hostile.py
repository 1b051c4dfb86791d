"""What a hostile classmate costs a correct notebook: the solution graded alone and beside each of the
judge's hostile variants (autograder/samples/make_samples.py), in one worker.

Each folder is graded whole by :func:`resnet_signs.grading.api.grade` (``workers=1``, default limits,
``force``), the folders in turns so that a change of the machine's load hits them alike. Prints per
folder the median and range of the wall time, the solution's grade and time, and what the hostile
notebook got per function; the machine and its load. Issue 19: a folder of one correct notebook and
three such graphs once kept ``resnet-signs grade --workers 1`` busy for 17 minutes with no grade for anyone.

    python -m benchmarks.hostile [--reps 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from resnet_signs import paths
from resnet_signs.grading.api import grade
from resnet_signs.grading.judging import TEST_SECONDS

HOSTILE = ("judge-compute-heavy", "judge-activation-heavy", "judge-nested-lambda", "judge-huge-nested")


def _make_samples():
    path = paths.course_dir() / "samples" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples", path)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up there
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="gradings of each folder; medians are reported")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    samples = _make_samples()
    chosen = [v for v in samples.VARIANTS if v.name in ("solution", *HOSTILE)]
    load = os.getloadavg()
    walls: dict[str, list[float]] = {}
    solution_s: dict[str, list[float]] = {}
    scores: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        samples.write(work / "notebooks", chosen)
        folders = {"solution alone": ["solution"], **{f"solution + {h}": ["solution", h] for h in HOSTILE}}
        for name, members in folders.items():
            for member in members:
                (work / name / member).parent.mkdir(parents=True, exist_ok=True)
                (work / name / member).symlink_to(work / "notebooks" / member, target_is_directory=True)
        grade(work / "solution alone", out=work / "warm", force=True, db_url=f"sqlite:///{work / 'warm.db'}",
              progress=io.StringIO())  # the course's cache of the reference's observations, warm
        for rep in range(args.reps):
            for name in folders:
                out = work / f"out-{rep}-{name}"
                began = time.perf_counter()
                result = grade(work / name, out=out, workers=1, force=True, db_url=f"sqlite:///{out}.db",
                               progress=io.StringIO())
                walls.setdefault(name, []).append(time.perf_counter() - began)
                by_student = {g.student: g for g in result.grades}
                solution = by_student["solution"]
                solution_s.setdefault(name, []).append(solution.execution_time)
                row = {"solution": f"{solution.score:g}/{solution.max_score:g}"}
                for student, g in by_student.items():
                    if student != "solution":
                        row["hostile"] = ", ".join(f"{f.function} {f.score:g}" for f in g.functions)
                scores[name] = row
    print(f"\nA correct notebook beside a hostile one, `grade(workers=1)`, {args.reps} runs per folder; "
          f"load average {load[0]:.2f} -> {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores. The judge's time "
          f"limit per test: {TEST_SECONDS:g} s.\n")
    print("| folder | wall s (median) | min–max s | the solution's grade | its time s (median) | the hostile one got |")
    print("|---|---:|---:|---:|---:|---|")
    for name in folders:
        w = walls[name]
        print(f"| {name} | {statistics.median(w):.1f} | {min(w):.1f}–{max(w):.1f} | {scores[name]['solution']} | "
              f"{statistics.median(solution_s[name]):.1f} | {scores[name].get('hostile', '–')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
