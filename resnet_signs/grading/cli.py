"""``resnet-signs grade DIR --out OUT``: a thin wrapper around :func:`resnet_signs.grading.api.grade`.

Defaults come from ``grade()``'s signature, so the command and the function cannot disagree.
Exit status: 0 when every submission was graded (a student's crash or timeout is a grade),
1 when the grader itself failed on some submission, 2 for a bad argument (one line).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path


def _default(name: str):
    from resnet_signs.grading.api import grade

    return inspect.signature(grade).parameters[name].default


def _number(kind):
    """Parse as ``kind`` but leave range checks (with their one-line errors) to ``grade()``."""

    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            return text  # grade() rejects it with a one-line UsageError

    return parse


def _workers(text: str):
    return "auto" if text == "auto" else _number(int)(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", type=Path, metavar="DIR",
                        help="folder with one folder per student holding Residual_Networks.ipynb "
                             "(nbgrader's submitted/<student>/residual_networks/ layout works too)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (outside DIR)")
    parser.add_argument("--workers", type=_workers, default=_default("workers"),
                        help="submissions graded in parallel by local processes, or 'auto' (one per core "
                             "as far as memory allows) (default: %(default)s)")
    parser.add_argument("--timeout", type=_number(float), default=_default("timeout"), metavar="S",
                        help="seconds each graded function's cells and tests may run; a function over it gets "
                             "'timeout' and the others keep their own budget (default: %(default)s)")
    parser.add_argument("--memory-limit", type=_number(int), default=_default("memory_mb"), metavar="MB",
                        help="memory limit of one submission's sandbox in MB (default: %(default)s)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=_default("scheduler"),
                        help="run the jobs on this existing Dask cluster instead of local processes")
    parser.add_argument("--course", type=Path, default=None,
                        help="nbgrader course directory: source notebook, hidden tests, reference and gradebook "
                             "(default: autograder/, or RESNET_SIGNS_COURSE)")
    parser.add_argument("--assignment", default=None, metavar="NAME",
                        help="the assignment under COURSE/source/ (default: the only one with graded cells)")
    parser.add_argument("--db", default=None,
                        help="gradebook SQLAlchemy URL (default: the course's, sqlite in the course directory)")
    parser.add_argument("--student", default=None, metavar="NAME",
                        help="grade only this student's folder in DIR; every other student's rows in OUT and the "
                             "gradebook stay as they were")
    parser.add_argument("--canvas-column", default=None, metavar="'NAME (ID)'",
                        help="assignment column of OUT/canvas.csv: 'Name (id)' updates that Canvas assignment, a bare "
                             "name creates one (default: the assignment's id)")
    parser.add_argument("--force", action="store_true", help="grade again even when an earlier grade is reusable")
    parser.add_argument("--require-isolation", action="store_true",
                        help="refuse to grade (exit 2) where the sandbox cannot get namespaces (bwrap or unshare)")
    parser.add_argument("--gpu", action="store_true",
                        help="let grading use the GPU (default: hidden from every grading process, so that grading "
                             "takes no GPU memory from students' kernels on a shared server)")
    parser.add_argument("--similarity", action="store_true",
                        help="then compare the submissions' graded code with each other: OUT/similarity.csv and "
                             "OUT/similarity.html, the pairs worth a look in the summary (`resnet-signs similarity`)")


def run(args: argparse.Namespace) -> int:
    from resnet_signs import paths
    from resnet_signs.grading import devices
    from resnet_signs.grading.api import grade, print_summary

    if args.gpu:
        paths.allow_grader_gpu()  # reaches the worker processes too
    devices.keep_off_gpu()  # before the zygote and the judging process start TensorFlow
    result = grade(args.submissions, out=args.out, workers=args.workers, timeout=args.timeout,
                   memory_mb=args.memory_limit, scheduler=args.scheduler, course=args.course,
                   assignment=args.assignment, db_url=args.db, student=args.student,
                   canvas_column=args.canvas_column, force=args.force,
                   require_isolation=args.require_isolation)
    print_summary(result)
    print(f"outputs in {args.out}/ (grades.csv, canvas.csv, tests.csv, <student>/results.json, "
          "<student>/feedback.html)")
    if args.similarity:
        from resnet_signs.similarity import api as similarity

        similarity.print_summary(similarity.compare(args.submissions, out=args.out, course=args.course,
                                                    assignment=args.assignment))
    return 1 if result.failed else 0
