"""``resnet-signs``: the command line. A thin dispatcher.

Each subcommand lives next to the code it drives, in a module exposing
``add_arguments(parser)`` and ``run(args) -> int``. The table below maps names to those
modules; they are imported only when their subcommand runs (or for ``--help``), so a
typo answers without importing TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError

#: name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("resnet_signs.data.cli", "prepare, fetch, verify and audit the SIGNS dataset"),
    "expected": ("resnet_signs.grading.expected", "regenerate the public checks' expected values from the reference"),
    "release": ("resnet_signs.release", "build the student release and the solution notebooks from the source"),
    "grade": ("resnet_signs.grading.cli", "autograde a folder of student submissions"),
    "similarity": ("resnet_signs.similarity.cli",
                   "report which submissions share their graded code (a reason to look)"),
    "gradescope": ("resnet_signs.grading.gradescope", "build a Gradescope autograder zip (setup.sh, run_autograder)"),
    "train": ("resnet_signs.pretrain", "train the reference ResNet-50 on SIGNS and save model + metrics"),
    "experiment": ("resnet_signs.experiments.cli", "run one of the 'why ResNets work' experiments"),
    "demo": ("resnet_signs.demo", "run the whole course pipeline end to end and say what it did"),
    "lab": ("resnet_signs.lab", "start JupyterLab with nbgrader for a student or an instructor"),
    "notebooks": ("resnet_signs.handout", "copy the student notebooks into a folder (`notebooks get`)"),
    "hub-config": ("resnet_signs.hub.config",
                   "write a JupyterHub's configuration for the course and set its permissions"),
    "watch": ("resnet_signs.hub.watch", "grade each new nbgrader submission and release its feedback (a hub service)"),
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; ``argv`` (the arguments after the program name) decides which subcommand's
    module is imported to declare its options."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="resnet-signs", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    # Its own dest: a subcommand's option of the same name (train --data-dir) would overwrite it.
    parser.add_argument("--data-dir", dest="global_data_dir", type=Path, default=None, metavar="DIR",
                        help=f"folder of the SIGNS .h5 files and what is derived from them, for this command and "
                             f"the processes it starts (default: ${paths.DATA_ENV}, else {paths.data_dir()})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen(argv)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if name == chosen:  # only the chosen subcommand's module is imported (--help included)
            importlib.import_module(module_name).add_arguments(p)
    return parser


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named in ``argv``: the first word that is neither a global option nor its value."""
    words = iter(argv)
    for word in words:
        if word == "--data-dir":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _version() -> str:
    try:
        return importlib.metadata.version(paths.DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    """Run ``resnet-signs`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    if args.global_data_dir is not None:
        paths.override_data_dir(args.global_data_dir)
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except CourseError as exc:
        print(f"resnet-signs {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
