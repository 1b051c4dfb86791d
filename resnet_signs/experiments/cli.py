"""``resnet-signs experiment NAME``: run one lab experiment (or load it from the cache).

Writes ``NAME-BUDGET-HASH.json`` (settings, device, time, results) and a ``.png`` plot to
``--out`` and prints a summary table and the verdicts. Without ``--quick`` the full settings
run (about an hour for the four experiments on a 2-core CPU); ``--quick`` about 18 min.
"""

from __future__ import annotations

import argparse

from resnet_signs import paths
from resnet_signs.errors import UsageError
from resnet_signs.experiments import NAMES, check_name


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help=f"one of: {', '.join(NAMES)}")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--quick", action="store_const", dest="budget", const="quick",
                        help="16x16 images, 8 epochs: the whole lab in about 18 min on a 2-core CPU")
    budget.add_argument("--smoke", action="store_const", dest="budget", const="smoke",
                        help="tiny settings that only prove the code runs (seconds)")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="cache folder for the JSON and PNG (default: experiments-cache/)")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="runs per configuration")
    parser.add_argument("--depths", type=_depths, default=None, metavar="D,D,...",
                        help="comma-separated depths 6n + 2 (e.g. 8,20,56)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N", help="training epochs per run")
    parser.add_argument("--force", action="store_true", help="run even if cached results exist")
    parser.set_defaults(budget="full")


def _depths(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    check_name(args.name)  # before importing TensorFlow: a typo answers at once
    paths.quiet_tensorflow()
    import matplotlib

    matplotlib.use("Agg")
    from resnet_signs.experiments.runner import run_or_load

    outcome = run_or_load(args.name, args.budget, out=args.out, force=args.force,
                          seeds=args.seeds, depths=args.depths, epochs=args.epochs)
    how = "loaded cached results" if outcome.cached else "ran"
    print(f"{args.name} ({args.budget}): {how} ({outcome.elapsed_s:.0f} s of compute)")
    for line in summary_lines(args.name, outcome.results):
        print(line)
    from resnet_signs.experiments.verdicts import summary

    for verdict in summary(args.name, outcome.results)["verdicts"]:
        print("verdict:", verdict["text"])
    print(f"results: {outcome.json_path}")
    print(f"plot:    {outcome.png_path}")
    return 0


def summary_lines(name: str, results) -> list[str]:
    """A plain-text table of an experiment's results."""
    if name == "depth":
        lines = ["depth  net     seeds  train error (mean ± std) [min, max]   test error (mean ± std)"]
        for r in results.summary():
            lines.append(f"{r['depth']:>5}  {r['net']:<6}  {r['seeds']:>5}  {r['train_error_mean']:.3f} ± "
                         f"{r['train_error_std']:.3f} [{r['train_error_min']:.3f}, {r['train_error_max']:.3f}]"
                         f"{'':>10}{r['test_error_mean']:.3f} ± {r['test_error_std']:.3f}")
        return lines
    if name == "gradients":
        lines = ["net         step  seed  first conv  last conv  first/last"]
        for g in results.norms:
            lines.append(f"{g.label:<10}  {g.step:>4}  {g.seed:>4}  {g.norms[0]:>10.3g}  {g.norms[-1]:>9.3g}"
                         f"  {g.norms[0] / g.norms[-1]:>10.3g}")
        return lines
    if name == "extra-block":
        lines = ["seed  model     train err  test err  ||out-in||/||in|| before -> after  mean |gamma| before -> after"]
        for r in results.runs:
            line = f"{r.seed:>4}  {r.kind:<8}  {r.train_error:>9.3f}  {r.test_error:>8.3f}"
            if r.kind != "base":  # the base net has no appended layers to probe
                line += (f"  {r.change_before:>22.3f} -> {r.change_after:.3f}"
                         f"  {r.gamma_before:>16.3f} -> {r.gamma_after:.3f}")
            lines.append(line)
        return lines
    if name == "shortcuts":
        lines = ["depth  shortcut    params   shortcut params  train error      test error"]
        for r in results.summary():
            lines.append(f"{r['depth']:>5}  {r['shortcut']:<10}  {r['params']:>7}  {r['shortcut_params']:>15}"
                         f"  {r['train_error_mean']:.3f} ± {r['train_error_std']:.3f}"
                         f"  {r['test_error_mean']:.3f} ± {r['test_error_std']:.3f}")
        return lines
    raise UsageError(f"no summary for experiment {name!r}")
