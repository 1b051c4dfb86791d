"""What the reference does: its observations, made exactly as a student's are (capture, rebuild, compute).

The judge compares a student's observation of a test's cases with the reference's
(:func:`block_observation`, :func:`model_observation`); ``resnet-signs expected`` stores the
reference's observations of the public cases with the package (:func:`write`), for the notebook's
public checks (:mod:`resnet_signs.checks.expected` reads them). Run it after changing
``autograder/reference.py`` or the public cases; a test fails while the committed files and a fresh
generation disagree. Instructor side: it loads the reference (:mod:`resnet_signs.instructor`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from resnet_signs.checks import expected
from resnet_signs.errors import UsageError
from resnet_signs.instructor import ReferenceNotFound, load_reference


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=expected.HERE,
        help="folder for expected.npz and expected.json (default: the installed package's checks folder)",
    )


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file; give a folder for expected.npz and expected.json")
    try:
        paths = write(args.out)
    except ReferenceNotFound as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0


def block_observation(function, cases) -> dict:
    """The reference block's observation, made exactly as a student's is (capture, rebuild, compute)."""
    from resnet_signs.checks.capture import capture_blocks
    from resnet_signs.checks.observe import observe_blocks

    return observe_blocks(capture_blocks(function, cases), cases)


def model_observation(builder, cases, stand_ins, scope=None) -> dict:
    """The reference ResNet50's observation with stand-in blocks, plus each case's real parameter count.

    Args:
        builder: the reference ``ResNet50``.
        cases: model cases.
        stand_ins: the block contract (:data:`resnet_signs.checks.cases.PUBLIC_STAND_INS`).
    """
    from resnet_signs.checks.capture import capture_models
    from resnet_signs.checks.observe import observe_models

    observation = observe_models(capture_models(builder, cases, stand_ins), cases)
    for case in cases:
        summary = observation[f"{case.name}.summary"]
        summary["total_params"] = int(builder(input_shape=case.input_shape, classes=case.classes).count_params())
    return observation


def compute(reference=None) -> dict[str, dict]:
    """The reference's observations of the public cases, ``{function: observation}``."""
    from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE, PUBLIC_STAND_INS

    reference = reference or load_reference()
    observations = {
        block: block_observation(getattr(reference, block), [case]) for block, case in PUBLIC_BLOCK_CASES.items()
    }
    observations["ResNet50"] = model_observation(reference.ResNet50, [PUBLIC_MODEL_CASE], PUBLIC_STAND_INS)
    for function, obs in observations.items():
        failures = {k: v for k, v in obs.items() if "error" in k or (isinstance(v, dict) and "error" in v)}
        if failures:
            raise RuntimeError(f"the reference {function} failed its own public case: {failures}")
    return observations


def write(folder: Path, reference=None) -> list[Path]:
    """Write ``expected.npz`` and ``expected.json`` into ``folder``; returns their paths."""
    arrays, rest = expected.split(compute(reference))
    folder.mkdir(parents=True, exist_ok=True)
    npz, js = folder / expected.NPZ_NAME, folder / expected.JSON_NAME
    np.savez_compressed(npz, **arrays)
    js.write_text(json.dumps(rest, indent=1, sort_keys=True) + "\n")
    return [npz, js]
