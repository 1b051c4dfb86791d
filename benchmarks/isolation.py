"""What the sandbox's walls cost: the start-up of one child under each isolation backend.

Times ``python -c pass`` started bare and inside every backend that works here (the same
command line the grader builds, :func:`resnet_signs.grading.isolation.wrap`), in turns so that
a change of the machine's load hits every backend alike; prints the median and the range of
``--reps`` starts each, the machine and its load.

    python -m benchmarks.isolation [--reps 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from resnet_signs.grading import isolation


def _start(argv: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="starts per backend (default 7)")
    args = parser.parse_args(argv)
    backends = [b for b in isolation.BACKENDS if isolation.works(b)]
    times: dict[str, list[float]] = {b: [] for b in backends}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="resnet-signs-bench-") as folder:
        sandbox = Path(folder)
        (sandbox / "work").mkdir()
        for _ in range(args.reps):
            for name in backends:
                command = isolation._WRAPPERS[name]([sys.executable, "-c", "pass"], sandbox)
                times[name].append(_start(command, sandbox / "work"))
    print(f"child start-up (python -c pass), {args.reps} starts each; load average {load[0]:.2f} -> "
          f"{os.getloadavg()[0]:.2f}; {os.cpu_count()} cores")
    print("| backend | median ms | min–max ms |")
    print("|---|---:|---:|")
    for name in backends:
        ms = [t * 1000 for t in times[name]]
        label = "unwrapped" if name == "none" else name
        print(f"| {label} | {statistics.median(ms):.0f} | {min(ms):.0f}–{max(ms):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
