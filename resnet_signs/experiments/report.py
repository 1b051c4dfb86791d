"""The README's lab numbers, regenerated from the cached results of one budget.

``python -m resnet_signs.experiments.report [--budget full] [--out DIR]`` prints the Markdown the
README quotes (times, the depth table, every verdict), so those numbers are never typed by hand.
It runs nothing: an experiment without cached results at that budget is an error naming the
command that computes them.
"""

from __future__ import annotations

import argparse
import sys

from resnet_signs.errors import UsageError
from resnet_signs.experiments import NAMES
from resnet_signs.experiments.settings import BUDGETS


def readme_lines(outcomes: list) -> list[str]:
    """Markdown for the README from one ``Outcome`` per experiment (all at the same budget)."""
    from resnet_signs.experiments.verdicts import summary

    by_name = {o.name: o for o in outcomes}
    budget = outcomes[0].budget
    depth = by_name["depth"]
    s = depth.settings
    times = ", ".join(f"{o.name} {o.elapsed_s / 60:.1f} min" for o in outcomes)
    total = sum(o.elapsed_s for o in outcomes) / 60
    lines = [
        f"**Measured, `{budget}` settings** ({s.image_size}x{s.image_size} images, {s.seeds} seeds, "
        f"{s.epochs} epochs; depths {', '.join(map(str, s.depths))}; {depth.device or 'device not recorded'}). "
        f"Compute time: {times}; {total:.0f} min in all. Training error after training, mean over "
        f"{s.seeds} seeds [min, max]:",
        "",
        "| depth | plain | ResNet (zero-pad shortcuts) |",
        "|---|---|---|",
    ]
    rows = {(r["depth"], r["net"]): r for r in depth.results.summary()}
    for d in s.depths:
        cells = [f"{r['train_error_mean']:.3f} [{r['train_error_min']:.3f}, {r['train_error_max']:.3f}]"
                 if (r := rows.get((d, net))) else "—" for net in ("plain", "resnet")]
        lines.append(f"| {d} | {cells[0]} | {cells[1]} |")
    lines += ["", "Verdicts, computed seed by seed from these results:", ""]
    for o in outcomes:
        data = summary(o.name, o.results)
        lines += [f"- `{o.name}`: {verdict['text']}" for verdict in data["verdicts"]]
        lines += [f"- `{o.name}` (note): {note['text']}" for note in data.get("notes", [])]
    return lines


def load_all(budget: str, out=None) -> list:
    """Every experiment's cached ``Outcome`` at ``budget``; ``UsageError`` names the missing ones."""
    from resnet_signs.experiments.runner import load_cached

    outcomes = [load_cached(name, budget, out=out) for name in NAMES]
    missing = [name for name, o in zip(NAMES, outcomes, strict=True) if o is None]
    if missing:
        flag = "" if budget == "full" else f" --{budget}"
        commands = "; ".join(f"resnet-signs experiment {name}{flag}" for name in missing)
        raise UsageError(f"no cached {budget} results of {', '.join(missing)}: run {commands}")
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resnet_signs.experiments.report",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--budget", choices=BUDGETS, default="full")
    parser.add_argument("--out", metavar="DIR", default=None, help="cache folder (default: experiments-cache/)")
    args = parser.parse_args(argv)
    try:
        print("\n".join(readme_lines(load_all(args.budget, args.out))))
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
