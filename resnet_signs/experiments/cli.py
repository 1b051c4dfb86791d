"""``resnet-signs experiment NAME``: run one lab experiment (or load it from the cache).

Writes ``NAME-BUDGET-HASH.json`` (settings, device, time, results) and a ``.png`` plot to
``--out`` and prints a summary table and the verdicts. Without ``--quick`` the full settings
run (33 min measured for the four experiments on a 2-core CPU); ``--quick`` 6 min.
"""

from __future__ import annotations

import argparse

from resnet_signs.experiments import NAMES, check_name
from resnet_signs.experiments.tables import summary_lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help=f"one of: {', '.join(NAMES)}")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--quick", action="store_const", dest="budget", const="quick",
                        help="16x16 images, 8 epochs: the whole lab in about 6 min on a 2-core CPU")
    budget.add_argument("--smoke", action="store_const", dest="budget", const="smoke",
                        help="tiny settings that only prove the code runs (seconds)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="cache folder for the JSON and PNG (default: experiments-cache/)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="runs per configuration")
    parser.add_argument("--depths", type=_depths, default=None, metavar="D,D,...",
                        help="comma-separated depths 6n + 2 (e.g. 8,20,56)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs per run")
    parser.add_argument("--force", action="store_true", help="run even if cached results exist")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="processes training in parallel (default: one per core up to 4 on a CPU, 1 on a GPU)")
    parser.set_defaults(budget="full")


def _depths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    check_name(args.name)  # before importing TensorFlow: a typo answers at once
    import matplotlib

    matplotlib.use("Agg")
    from resnet_signs.experiments.runner import run_or_load

    outcome = run_or_load(args.name, args.budget, out=args.out, force=args.force,
                          workers=args.workers, seeds=args.seeds, depths=args.depths, epochs=args.epochs)
    how = "loaded cached results" if outcome.cached else "ran"
    print(f"{args.name} ({args.budget}): {how} ({outcome.elapsed_s:.0f} s of compute)")
    for line in summary_lines(args.name, outcome.results):
        print(line)
    from resnet_signs.experiments.verdicts import printed_lines, summary

    for line in printed_lines(summary(args.name, outcome.results)):
        print(line)
    print(f"results: {outcome.json_path}")
    print(f"plot:    {outcome.png_path}")
    return 0
