"""``resnet-signs similarity SUBMISSIONS --out OUT``: a thin wrapper around :func:`resnet_signs.similarity.api.compare`.

Exit status: 0 when the report was written (whatever it found), 2 for a bad argument (one line).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path


def _default(name: str):
    from resnet_signs.similarity.api import compare

    return inspect.signature(compare).parameters[name].default


def _fraction(text: str):
    try:
        return float(text)
    except ValueError:
        return text  # compare() rejects it with a one-line UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                        help="folder with one folder per student holding the notebook "
                             "(nbgrader's submitted/<student>/<assignment>/ layout works too)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder for similarity.csv and similarity.html (outside SUBMISSIONS)")
    parser.add_argument("--against", type=Path, action="append", default=[], metavar="DIR",
                        help="a folder of notebooks or .py files (e.g. solutions found online) to compare every "
                             "submission with; repeatable; each file is named by its path")
    parser.add_argument("--course", type=Path, default=None,
                        help="nbgrader course directory whose source notebook names the graded functions and "
                             "their starter code (default: autograder/, or RESNET_SIGNS_COURSE)")
    parser.add_argument("--assignment", default=None, metavar="NAME",
                        help="the assignment under COURSE/source/ (default: the only one with graded cells)")
    parser.add_argument("--threshold", type=_fraction, default=_default("threshold"), metavar="S",
                        help="pairs below this similarity on every function are left out of the CSV "
                             "(default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from resnet_signs.similarity.api import compare, print_summary

    print_summary(compare(args.submissions, out=args.out, against=args.against, course=args.course,
                          assignment=args.assignment, threshold=args.threshold))
    return 0
