"""The public checks' expected observations, stored with the package as data.

They are the reference implementation's observations of the public cases, written by
``resnet-signs expected`` (:mod:`resnet_signs.checks.generate`): arrays in ``expected.npz``
(keys ``"<function>:<observation key>"``), everything else in ``expected.json``. Students get
the reference's outputs, never its code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
NPZ_NAME, JSON_NAME = "expected.npz", "expected.json"


def split(observations: dict[str, dict]) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """``{function: observation}`` -> (arrays for the npz, the JSON-able rest)."""
    arrays, rest = {}, {}
    for function, obs in observations.items():
        rest[function] = {}
        for key, value in obs.items():
            if isinstance(value, np.ndarray):
                arrays[f"{function}:{key}"] = value
            else:
                rest[function][key] = value
    return arrays, rest


def read(folder: Path = HERE) -> dict[str, dict]:
    """The stored observations, ``{function: observation}``."""
    observations = json.loads((folder / JSON_NAME).read_text())
    with np.load(folder / NPZ_NAME) as npz:
        for name in npz.files:
            function, key = name.split(":", 1)
            observations[function][key] = npz[name]
    return observations


@lru_cache(maxsize=None)
def load(function: str) -> dict:
    """The stored reference observation for one public check (``identity_block`` ...)."""
    return read()[function]
