"""The public checks' expected observations, stored with the package as data.

They are the reference implementation's observations of the public cases, written by
``resnet-signs expected`` (:mod:`resnet_signs.grading.expected`): arrays in ``expected.npz``
(keys ``"<function>:<observation key>"``), everything else in ``expected.json``. Students get
the reference's outputs, never its code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import numpy as np

#: Where ``resnet-signs expected`` writes them in a checkout.
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


def read(folder: Path | Traversable | None = None) -> dict[str, dict]:
    """The stored observations, ``{function: observation}`` (default: the package's own copy,
    read through :mod:`importlib.resources` so that it works from a wheel too)."""
    folder = folder if folder is not None else resources.files(__package__)
    observations = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    with (folder / NPZ_NAME).open("rb") as handle, np.load(handle) as npz:
        for name in npz.files:
            function, key = name.split(":", 1)
            observations[function][key] = npz[name]
    return observations


@lru_cache(maxsize=None)
def load(function: str) -> dict:
    """The stored reference observation for one public check (``identity_block`` ...)."""
    return read()[function]
