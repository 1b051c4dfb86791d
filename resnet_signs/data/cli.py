"""``resnet-signs data``: prepare, fetch, verify and audit the SIGNS dataset.

A thin layer: each sub-subcommand parses its options and calls one function of the package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from resnet_signs import paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``prepare`` / ``fetch`` / ``verify`` / ``audit`` sub-subcommands."""
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = sub.add_parser("prepare", help="build data/{train,test}_signs.h5 from a SIGNS folder (idempotent)",
                       description="Build the course's train_signs.h5 (1080 images: train+val) and test_signs.h5 "
                       "(120) from the 64x64 JPEGs, or check and copy a folder that already holds both .h5 files.")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR",
                   help="SIGNS folder: DIR/64x64_SIGNS/{train,val,test}_signs, those three folders, or the two .h5 files")
    _out(p)
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the checksum manifest (only to build from photos of your own)")
    p.set_defaults(_run=_prepare)


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"folder for the .h5 files (default: {paths.data_dir()})")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; errors are :class:`DataError` and reach the main CLI as one line."""
    return args._run(args)


def _prepare(args: argparse.Namespace) -> int:
    from resnet_signs.data.prepare import prepare

    print(prepare(args.source, args.out, verify=args.verify).summary())
    return 0
