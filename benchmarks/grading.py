"""Autograder throughput: seconds per submission and submissions per minute for 1, 2 and N workers.

Grades sample submissions from ``autograder/samples/`` (``--force``, so nothing is reused)
several times per worker count and reports medians, next to the time of
``python -c "import tensorflow"`` (the floor of any sandboxed run) and a description of the
machine. Prints a Markdown table.

    python -m benchmarks.grading [--reps 3] [--samples solution,conv-shortcut-wrong-stride,...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "autograder" / "samples"
# The infinite-loop sample measures the timeout, not throughput: left out by default.
DEFAULT_SAMPLES = ("solution", "untouched-release", "conv-shortcut-wrong-stride", "identity-shortcut-after-relu")


def machine() -> str:
    """CPU model, cores, RAM, Python and TensorFlow versions, in one line."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = next(int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
        ram = f"{kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    tf = next((f"{d} {metadata.version(d)}" for d in ("tensorflow-cpu", "tensorflow") if _installed(d)), "no TF")
    return f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()}, {tf}"


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


def time_import_tensorflow() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return time.perf_counter() - start


def time_grading(names: list[str], workers: int, work: Path) -> float:
    """Seconds to grade ``names`` (a fresh copy, a fresh output folder, a fresh gradebook)."""
    from resnet_signs.grading.api import grade

    subs = work / "submissions"
    shutil.rmtree(work, ignore_errors=True)
    for name in names:
        shutil.copytree(SAMPLES / name, subs / name)
    db = f"sqlite:///{work / 'gradebook.db'}"
    # The gradebook's one-time assignment setup is not part of the per-submission cost.
    from resnet_signs.grading import gradebook
    from resnet_signs.paths import course_dir

    gradebook.ensure_assignment(db, course_dir())
    with open(os.devnull, "w") as quiet:
        start = time.perf_counter()
        result = grade(subs, out=work / "out", workers=workers, db_url=db, force=True, progress=quiet)
        seconds = time.perf_counter() - start
    if result.failed:
        raise SystemExit(f"the grader failed on {sorted(result.failed)}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="repetitions per setting (median reported)")
    parser.add_argument("--samples", default=",".join(DEFAULT_SAMPLES), help="comma-separated sample folders")
    parser.add_argument("--workers", default=f"1,2,{os.cpu_count()}", help="worker counts to measure")
    args = parser.parse_args(argv)
    names = [n for n in args.samples.split(",") if n]
    missing = [n for n in names if not (SAMPLES / n / "Residual_Networks.ipynb").is_file()]
    if missing:
        print(f"no such sample(s): {missing}: run python autograder/samples/make_samples.py --update", file=sys.stderr)
        return 2
    counts = sorted({int(w) for w in args.workers.split(",")})
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    imports = [time_import_tensorflow() for _ in range(args.reps)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        for workers in counts:
            times = [time_grading(names, workers, Path(tmp) / f"w{workers}-{r}") for r in range(args.reps)]
            wall = statistics.median(times)
            rows.append((workers, wall, wall / len(names), 60 * len(names) / wall, min(times), max(times)))

    print(f"\nMachine: {machine()}")
    print(f"Samples: {len(names)} ({', '.join(names)}); {args.reps} repetitions per row; medians.\n")
    print("| workers | wall s (median) | s / submission | submissions / min | min-max wall s |")
    print("|---:|---:|---:|---:|---:|")
    for workers, wall, per, spm, lo, hi in rows:
        print(f"| {workers} | {wall:.1f} | {per:.1f} | {spm:.2f} | {lo:.1f}-{hi:.1f} |")
    print(f"\n`python -c \"import tensorflow\"`: median {statistics.median(imports):.1f} s over {args.reps} runs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
