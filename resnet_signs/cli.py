"""``resnet-signs``: the command line. A thin dispatcher.

Each subcommand lives next to the code it drives, in a module exposing
``add_arguments(parser)`` and ``run(args) -> int``. The table below maps names to those
modules; they are imported only when their subcommand runs (or for ``--help``), so a
typo answers without importing TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from resnet_signs.errors import CourseError

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("resnet_signs.data.cli", "prepare, fetch, verify and audit the SIGNS dataset"),
    "expected": ("resnet_signs.checks.generate", "regenerate the public checks' expected values from the reference"),
    "release": ("resnet_signs.release", "build the student release and the solution notebooks from the source"),
    "grade": ("resnet_signs.grading.cli", "autograde a folder of student submissions"),
    "gradescope": ("resnet_signs.grading.gradescope", "build a Gradescope autograder zip (setup.sh, run_autograder)"),
    "train": ("resnet_signs.training.cli", "train the reference ResNet-50 on SIGNS and save model + metrics"),
    "experiment": ("resnet_signs.experiments.cli", "run one of the 'why ResNets work' experiments"),
    "demo": ("resnet_signs.demo", "run the whole course pipeline end to end and say what it did"),
    "lab": ("resnet_signs.lab", "start JupyterLab with nbgrader for a student or an instructor"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resnet-signs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if _invoked(name):  # only the chosen subcommand's module is imported (--help included)
            importlib.import_module(module_name).add_arguments(p)
    return parser


def _invoked(name: str) -> bool:
    return len(sys.argv) > 1 and sys.argv[1] == name


def main(argv: list[str] | None = None) -> int:
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    args = build_parser().parse_args()
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except CourseError as exc:
        print(f"resnet-signs {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
