"""``resnet-signs data``: prepare, fetch, verify and audit the SIGNS dataset.

A thin layer: each action parses its options and calls one function of the package.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from resnet_signs import paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``prepare`` / ``fetch`` / ``verify`` / ``audit`` actions."""
    from resnet_signs.data.fetch import DEFAULT_URL

    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = _action(sub, "prepare", _prepare, "build data/{train,test}_signs.h5 from a SIGNS folder (idempotent)",
                "Build the course's train_signs.h5 (1080 images: train_signs + val_signs, sorted by name) and "
                "test_signs.h5 (120) from the 64x64 JPEGs, or check and copy a folder holding both .h5 files. "
                "Every input is checked against the SHA256SUMS manifest; existing good files are never overwritten "
                "by a failed run.")
    p.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR",
                   help="SIGNS folder: DIR/64x64_SIGNS/{train,val,test}_signs, those three folders, "
                        "or the two .h5 files")
    _out(p)
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the checksum manifest (only to build from photos of your own)")

    p = _action(sub, "fetch", _fetch, "download the public 64x64 SIGNS JPEGs, verify them, then prepare",
                "Download an archive holding 64x64_SIGNS/{train,val,test}_signs (default: the GitHub archive of "
                "littlecapa/pytorch_template at a fixed commit), extract only those photos into OUT/downloads/, "
                "check them against the SHA256SUMS manifest and prepare the .h5 files.")
    p.add_argument("--url", default=DEFAULT_URL, help="archive URL, https:// or file:// (.tar.gz, .tar or .zip; "
                   "default: %(default)s)")
    _out(p)

    p = _action(sub, "verify", _verify, "check checksums of a SIGNS source and of the prepared .h5 files",
                "Check the prepared .h5 files (complete, built from the manifest's photos) and, with --from, "
                "every photo of a SIGNS folder against the SHA256SUMS manifest.")
    p.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                   help="also check this SIGNS folder against the manifest")
    _out(p)

    p = _action(sub, "audit", _audit, "report class balance, duplicate photos and train/test leakage",
                "Count images per class and split, list byte-identical duplicates and the test photos that "
                "also appear in training (the JPEG layout, or a folder of the two .h5 files).")
    p.add_argument("--from", dest="source", type=Path, default=None, metavar="DIR",
                   help=f"SIGNS folder (default: {paths.shared_signs_dir()} if present, else the prepared .h5 files)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def _action(sub, name, func, help_text, description) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=description)
    parser.set_defaults(_run=func)
    return parser


def _out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"folder for the .h5 files (default: {paths.data_dir()})")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; its errors are :class:`DataError` and reach the main CLI as one line."""
    return args._run(args)


def _prepare(args: argparse.Namespace) -> int:
    from resnet_signs.data.prepare import prepare

    print(prepare(args.source, args.out, verify=args.verify).summary())
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from resnet_signs.data.fetch import fetch

    print(fetch(args.url, args.out).summary())
    return 0


def _verify(args: argparse.Namespace) -> int:
    from resnet_signs.data.verify import verify

    print("\n".join(verify(args.source, args.out)))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from resnet_signs.data.audit import audit

    source = args.source
    if source is None:
        shared = paths.shared_signs_dir()
        source = shared if shared.is_dir() else paths.data_dir()
    report = audit(source)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0
