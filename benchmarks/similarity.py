"""Similarity report speed: ``resnet-signs similarity`` on a class of 300 (target: well under a minute on 2 cores).

The class grows from the test class of ``tests/similarity/planted.py`` (the samples, independent
answers and rewritten copies): student ``i`` is planted student ``i mod n`` with its own variable
names, inside the *executed* solution notebook (``solutions/``: outputs and figures included, ~320 KB),
so every notebook is read and parsed in full as a real submission would be. ``--against`` adds as
many collected solutions (the same answers under other names).

Times the whole command in a fresh process (Python start-up and imports included) and, inside one
process, the steps: reading and fingerprinting, scoring every pair, writing the report. Medians of
``--reps`` runs; the machine and its load are printed.

    python -m benchmarks.similarity [--reps 5] [--class-size 300] [--against 0]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.grading import machine

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ROOT / "solutions" / "residual_networks" / "Residual_Networks.ipynb"
sys.path.insert(0, str(ROOT / "tests"))
from similarity import planted  # noqa: E402 - the test class lives with the tests


def build_class(folder: Path, size: int, prefix: str = "student") -> None:
    """``size`` notebooks ``folder/<prefix>-NNN/Residual_Networks.ipynb`` (see the module's docstring)."""
    students = planted.students()
    executed = json.loads(EXECUTED.read_text())
    for i in range(size):
        student = students[i % len(students)]
        answers = {planted._grade_id(c): c for c in planted.notebook(student)["cells"] if planted._grade_id(c)}
        nb = copy.deepcopy(executed)
        for cell in nb["cells"]:
            answer = answers.get(planted._grade_id(cell))
            if answer is not None and planted._grade_id(cell) in planted.FUNCTIONS:
                cell["source"] = planted.rename("".join(answer["source"]),
                                                {name: f"{new}_{i}" for name, new in planted.RENAMES.items()})
        target = folder / f"{prefix}-{i:03d}" / planted.NOTEBOOK
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(nb), encoding="utf-8")


def _command(submissions: Path, out: Path, against: Path | None) -> float:
    argv = [sys.executable, "-m", "resnet_signs", "similarity", str(submissions), "--out", str(out)]
    argv += ["--against", str(against)] if against else []
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _steps(submissions: Path, out: Path, against: Path | None) -> dict[str, float]:
    """The steps of one run inside this process (imports already paid)."""
    from resnet_signs.similarity import api, documents, report
    from resnet_signs.similarity.scores import Comparison

    start = time.perf_counter()
    assignment = documents.load_assignment(ROOT / "autograder")
    folders = sorted(p for p in submissions.iterdir() if p.is_dir())
    students = [documents.read(p.name, "student", p / planted.NOTEBOOK, assignment) for p in folders]
    collected = [documents.read(str(p), "against", p, assignment) for p in sorted(against.rglob("*.ipynb"))] \
        if against else []
    read = time.perf_counter()
    comparison = Comparison(students, collected, assignment.functions)
    scores = comparison.scores(api.THRESHOLD)
    scored = time.perf_counter()
    run = api.SimilarityRun(students, collected, [], scores, comparison, assignment.functions, out,
                            review=api._worth_a_look(scores))
    report.csv_text(run), report.html_text(run)
    written = time.perf_counter()
    return {"read + fingerprint": read - start, "score every pair": scored - read, "write the report": written - scored,
            "rows": len(scores)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--class-size", type=int, default=300)
    parser.add_argument("--against", type=int, default=0, help="collected solutions compared too (default 0)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build_class(work / "class", args.class_size)
        against = None
        if args.against:
            build_class(work / "collected", args.against, prefix="found")
            against = work / "collected"
        walls = [_command(work / "class", work / f"out-{r}", against) for r in range(args.reps)]
        steps = [_steps(work / "class", work / "steps", against) for _ in range(args.reps)]
    load_after = os.getloadavg()
    print(f"\nMachine: {machine()}; load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/"
          f"{load_before[2]:.2f}, after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}")
    print(f"A class of {args.class_size} executed notebooks"
          f"{f' and {args.against} collected solutions' if args.against else ''}, medians of {args.reps} runs:\n")
    print("| | s (median) | min–max s |")
    print("|---|---:|---:|")
    print(f"| `resnet-signs similarity` (whole command) | {statistics.median(walls):.2f} | "
          f"{min(walls):.2f}–{max(walls):.2f} |")
    for name in ("read + fingerprint", "score every pair", "write the report"):
        values = [s[name] for s in steps]
        print(f"| {name} (in one process) | {statistics.median(values):.2f} | {min(values):.2f}–{max(values):.2f} |")
    print(f"\nrows in similarity.csv: {steps[0]['rows']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
