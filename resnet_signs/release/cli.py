"""``resnet-signs release``: the thin command-line wrapper around :func:`release`."""

from __future__ import annotations

import argparse
import sys

from resnet_signs.release.assignments import ASSIGNMENTS
from resnet_signs.release.pipeline import release, update_translations


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--assignment",
        action="append",
        metavar="NAME",
        help=f"release only this assignment (repeatable; default: all of {', '.join(a.id for a in ASSIGNMENTS)})",
    )
    parser.add_argument(
        "--no-execute",
        dest="execute",
        action="store_false",
        help="write the solutions without running them (quick iterations; the committed ones are executed)",
    )
    parser.add_argument(
        "--language",
        action="append",
        metavar="LANG",
        help="write only this edition (repeatable: en, zh_CN, zh_TW; default: all); every catalogue is checked",
    )
    parser.add_argument(
        "--reuse-outputs",
        action="store_true",
        help="keep a committed solution's outputs where its code cells are unchanged (prose or translation edits)",
    )
    parser.add_argument(
        "--update-translations",
        action="store_true",
        help="write nothing but the translation catalogues: an entry for every new or changed Markdown cell, "
        "to translate before the next release",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every generated notebook that is out of date with its Markdown source",
    )


def run(args: argparse.Namespace) -> int:
    if args.update_translations:
        for line in update_translations(args.assignment):
            print(line)
        return 0
    if args.check:
        stale = release(args.assignment, check=True, languages=args.language)
        for line in stale:
            print(f"stale: {line}", file=sys.stderr)
        if stale:
            print("run `make release` to regenerate them", file=sys.stderr)
            return 1
        print("release: every generated notebook is in sync with its Markdown source")
        return 0
    for path in release(args.assignment, execute=args.execute, languages=args.language,
                        reuse_outputs=args.reuse_outputs):
        print(f"wrote {path}")
    return 0
