"""Grade one variant of make_samples.py many times in a row: the loop that shows a race is gone.

    .venv/bin/python tests/grading/repeat_variant.py fork-bomb --runs 20
    .venv/bin/python tests/grading/repeat_variant.py fork-bomb --runs 20 --backend unshare

Each run is a fresh `grade` of that one submission with test_variants.py's limits; a line per run says
what every function got. Exit status 1 when any run differs from the grade written next to the
variant's edits (test_variants.py checks it once per `make test`; a race needs many runs to show).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from resnet_signs.grading import isolation
from resnet_signs.grading.api import grade

sys.path.insert(0, str(Path(__file__).parent))
from test_variants import FUNCTIONS, LIMITS, make_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="a variant's name in make_samples.py, e.g. fork-bomb")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", choices=("bwrap", "unshare"), help="the isolation backend (default: the grader's)")
    args = parser.parse_args(argv)
    chosen = [v for v in make_samples.VARIANTS if v.name == args.variant]
    if not chosen:
        parser.error(f"no variant named {args.variant!r}; see autograder/samples/make_samples.py")
    if args.backend:
        os.environ["RESNET_SIGNS_ISOLATION"] = args.backend  # the spawned workers inherit it
    expected = chosen[0].grades(FUNCTIONS)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="repeat-variant-") as tmp:
        folder = Path(tmp) / "submissions"
        make_samples.write(folder, chosen)
        print(f"{args.variant}: {args.runs} runs under {isolation.backend()}, expecting {expected}", flush=True)
        for run in range(1, args.runs + 1):
            out = Path(tmp) / f"run-{run}"
            out.mkdir()
            started = time.monotonic()
            result = grade(folder, out=out / "out", workers=1, db_url=f"sqlite:///{out / 'gradebook.db'}",
                           progress=io.StringIO(), **LIMITS)
            (got_grade,) = result.grades
            got = {f.function: (f.status.value, f.score) for f in got_grade.functions}
            ok = chosen[0].accepts(got, FUNCTIONS) and not result.failed
            failures += not ok
            print(f"run {run:2d}: {'ok ' if ok else 'FAIL'} {time.monotonic() - started:5.1f} s  {got}", flush=True)
            if not ok:
                print("   ", [f.detail for f in got_grade.functions], flush=True)
    print(f"{args.runs - failures}/{args.runs} runs gave the expected grade")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
