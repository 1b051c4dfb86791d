"""Grading speed, side by side in one run: our grader, ``nbgrader autograde`` and the floor.

On the same machine and the same notebook (the solution sample):

- **ours**: ``resnet-signs grade`` of one submission as a whole command (a fresh process: Python,
  TensorFlow, the zygote, the sandbox child, judging; the reference's observations come from the
  course's cache, as in any regrade);
- **nbgrader**: ``nbgrader autograde`` of the same notebook in a throwaway copy of the course;
- **floor**: a Jupyter kernel executing one cell that imports TensorFlow (``jupyter nbconvert --execute``):
  no grader that runs the notebook in a fresh kernel can beat it;

then the throughput of a class (``--class-size`` submissions cycled from four samples: the
solution, the untouched release and two buggy ones) with 1, 2 and ``auto`` workers, and the
projected time for 100. Medians of ``--reps`` runs; the machine and its load are printed.

``--against CHECKOUT`` compares a change with what it changes: another checkout of the project (e.g. a
worktree of the commit before it) with its own ``.venv`` grades the same class, its runs interleaved
with ours, and a second table puts the two side by side.

    python -m benchmarks.grading [--reps 3] [--class-size 20] [--skip-nbgrader] [--against ../before]
"""

from __future__ import annotations

import argparse
import json
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
COURSE = ROOT / "autograder"
SAMPLES = COURSE / "samples"
NOTEBOOK = "Residual_Networks.ipynb"
ASSIGNMENT = "residual_networks"
CLASS_SAMPLES = ("solution", "untouched-release", "conv-shortcut-wrong-stride", "identity-shortcut-after-relu")
BIN = Path(sys.executable).parent
#: What :func:`_median` returns for a row, in order.
FIELDS = ("wall", "min", "max", "peak_mib", "sandbox_peak_mib")


def machine() -> str:
    """CPU model, cores, RAM, Python and TensorFlow versions, in one line."""
    cpu = platform.processor() or "unknown CPU"
    ram = "RAM unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
        ram = f"{kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    tf = next((f"{d} {_version(d)}" for d in ("tensorflow-cpu", "tensorflow") if _version(d)), "no TensorFlow")
    return f"{cpu}, {os.cpu_count()} cores, {ram}, Python {platform.python_version()}, {tf}"


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


# nbgrader runs `alembic` from PATH: the environment's bin folder must be on it even when not activated.
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _timed(argv: list[str], **kwargs) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MiB of the largest process, of the largest sandbox child) of one command.

    RSS is polled over the command's process tree every 50 ms (a fork's shared pages count in full).
    """
    import psutil

    kwargs.setdefault("env", ENV)
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kwargs)
    largest = sandbox = 0
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for member in tree:
            try:
                rss = member.memory_info().rss
                largest = max(largest, rss)
                if "resnet_signs.grading.zygote" in " ".join(member.cmdline()):
                    sandbox = max(sandbox, rss)
            except psutil.Error:
                pass
        time.sleep(0.05)
    stderr = proc.communicate()[1]
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv[:3]))} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return seconds, largest / 2**20, sandbox / 2**20


def _class_folder(folder: Path, size: int) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(size):
        name = CLASS_SAMPLES[i % len(CLASS_SAMPLES)]
        shutil.copytree(SAMPLES / name, folder / f"student-{i:03d}-{name}")
    return folder


def ours(work: Path, submissions: Path, workers: str, bin_dir: Path = BIN) -> tuple[float, float]:
    """``resnet-signs grade`` of ``submissions`` by the environment in ``bin_dir`` (this one by default)."""
    out = work / f"out-{workers}-{time.monotonic_ns()}"
    db = work / ("gradebook.db" if bin_dir == BIN else "gradebook-against.db")
    return _timed([str(bin_dir / "resnet-signs"), "grade", str(submissions), "--out", str(out), "--force",
                   "--workers", workers, "--db", f"sqlite:///{db}"])


def nbgrader_course(work: Path) -> Path:
    """A throwaway copy of the course with the assignment generated and one submission."""
    course = work / "nbgrader-course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("samples", "release", ".cache", "gradebook.db",
                                                                   "submitted", "autograded", "feedback"))
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT, "--force"], cwd=course, check=True,
                   capture_output=True, env=ENV)
    target = course / "submitted" / "bench" / ASSIGNMENT
    target.mkdir(parents=True)
    shutil.copy(SAMPLES / "solution" / NOTEBOOK, target / NOTEBOOK)
    return course


def nbgrader(course: Path) -> tuple[float, float]:
    env = {**ENV, "RESNET_SIGNS_COURSE": str(course)}
    return _timed([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, "--student", "bench", "--force"], cwd=course,
                  env=env)


def floor(work: Path) -> tuple[float, float]:
    notebook = work / "floor.ipynb"
    if not notebook.exists():
        import nbformat

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import tensorflow")])
        nbformat.write(nb, str(notebook))
    return _timed([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output",
                   str(work / "floor-out.ipynb"), str(notebook)], env={**ENV, "TF_CPP_MIN_LOG_LEVEL": "2"})


def _median(runs: list[tuple[float, float, float]]) -> tuple[float, float, float, float, float]:
    walls = [w for w, _, _ in runs]
    return (statistics.median(walls), min(walls), max(walls), max(r[1] for r in runs), max(r[2] for r in runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="runs per setting; medians are reported (default 3)")
    parser.add_argument("--class-size", type=int, default=20, help="submissions in the class runs (default 20)")
    parser.add_argument("--skip-nbgrader", action="store_true", help="leave out nbgrader autograde (slow)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="another checkout with its own .venv: its class runs interleaved with ours, side by side")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.class_size < 1:
        parser.error("--reps and --class-size must be at least 1")
    other = args.against and args.against.resolve() / ".venv" / "bin"
    if other and not (other / "resnet-signs").is_file():
        parser.error(f"--against {args.against}: no {other / 'resnet-signs'} (create its .venv and install it there)")
    if not (SAMPLES / "solution" / NOTEBOOK).is_file():
        print("no autograder/samples/solution: run python autograder/samples/make_samples.py --update", file=sys.stderr)
        return 2
    from resnet_signs.grading.jobs import auto_workers

    load_before = os.getloadavg()
    results: dict = {"machine": machine(), "reps": args.reps}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        work = Path(tmp)
        one = _class_folder(work / "one", 1)
        ours(work, one, "1")  # warms the course's cache of the reference's observations, as after any grading
        rows = {"ours": [], "floor": [], "nbgrader": []}
        course = None if args.skip_nbgrader else nbgrader_course(work)
        for _ in range(args.reps):  # interleaved, so that a change in load touches every row alike
            rows["ours"].append(ours(work, one, "1"))
            rows["floor"].append(floor(work))
            if course is not None:
                rows["nbgrader"].append(nbgrader(course))
        single = {name: _median(runs) for name, runs in rows.items() if runs}
        classroom = _class_folder(work / "class", args.class_size)
        counts = {"1": 1, "2": 2, "auto": auto_workers()}
        throughput, against = {}, {}
        if other:
            ours(work, one, "1", other)  # its own cache of the reference's observations, warmed as ours was
        for label, n in counts.items():
            same = next((k for k, v in throughput.items() if v["workers"] == n), None)
            if same is not None:
                throughput[label] = {**throughput[same], "same_as": same}
                continue
            runs, theirs = [], []
            for _ in range(args.reps):  # interleaved with the other checkout's, as above
                runs.append(ours(work, classroom, label))
                if other:
                    theirs.append(ours(work, classroom, label, other))
            wall, lo, hi, peak, child = _median(runs)
            throughput[label] = {"workers": n, "wall": wall, "min": lo, "max": hi, "peak_mib": peak,
                                 "sandbox_peak_mib": child}
            if theirs:
                against[label] = dict(zip(FIELDS, _median(theirs), strict=True))
    results.update(single={k: dict(zip(FIELDS, v, strict=True)) for k, v in single.items()},
                   throughput=throughput, class_size=args.class_size, against=against,
                   load=[round(x, 2) for x in (*load_before, *os.getloadavg())])

    print(f"\nMachine: {results['machine']}; load average (1/5/15 min) before {load_before[0]:.2f}/"
          f"{load_before[1]:.2f}/{load_before[2]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{args.reps} runs per row, medians.\n")
    print("One submission (the solution sample), whole command:\n")
    print("| | wall s (median) | min–max s | largest process MiB | largest sandbox child MiB | × floor |")
    print("|---|---:|---:|---:|---:|---:|")
    base = single["floor"][0]
    names = {"ours": "`resnet-signs grade` (1 worker)", "nbgrader": "`nbgrader autograde`",
             "floor": "floor: kernel runs `import tensorflow`"}
    for name in ("ours", "nbgrader", "floor"):
        if name in single:
            wall, lo, hi, peak, child = single[name]
            child_text = f"{child:.0f}" if child else "–"
            print(f"| {names[name]} | {wall:.1f} | {lo:.1f}–{hi:.1f} | {peak:.0f} | {child_text} | {wall / base:.2f} |")
    if "nbgrader" in single:
        print(f"\nours / nbgrader = {single['ours'][0] / single['nbgrader'][0]:.2f}; ours / floor = "
              f"{single['ours'][0] / base:.2f}; nbgrader / floor = {single['nbgrader'][0] / base:.2f}")
    print(f"\nA class of {args.class_size} ({', '.join(CLASS_SAMPLES)} in turn), `resnet-signs grade --force`:\n")
    print("| --workers | processes | wall s (median) | min–max s | s / submission | projected 100 submissions "
          "| largest sandbox child MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, row in throughput.items():
        per = row["wall"] / args.class_size
        note = f" (= {row['same_as']}: the same runs)" if "same_as" in row else ""
        print(f"| {label}{note} | {row['workers']} | {row['wall']:.1f} | {row['min']:.1f}–{row['max']:.1f} | "
              f"{per:.2f} | {100 * per / 60:.1f} min | {row['sandbox_peak_mib']:.0f} |")
    if against:
        print(f"\nThe same class, this checkout against {args.against} (runs interleaved):\n")
        print(f"| --workers | this checkout s (median) | {args.against} s (median) | this / that |")
        print("|---|---:|---:|---:|")
        for label, row in against.items():
            print(f"| {label} | {throughput[label]['wall']:.1f} | {row['wall']:.1f} | "
                  f"{throughput[label]['wall'] / row['wall']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
