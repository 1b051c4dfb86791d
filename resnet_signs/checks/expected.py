"""The public checks' expected observations, stored with the package as data.

They are the reference implementation's observations of the public cases
(:mod:`resnet_signs.checks.observations`), written by ``resnet-signs expected``
(:mod:`resnet_signs.grading.expected`): the outputs in ``expected.npz`` (keys
``"<function>:<case>/<training>/output"``), everything else in ``expected.json``, which names them.
Students get the reference's outputs and structure, never its code.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import numpy as np

from resnet_signs.checks import observations

#: Where ``resnet-signs expected`` writes them in a checkout.
HERE = Path(__file__).parent
NPZ_NAME, JSON_NAME = "expected.npz", "expected.json"


def split(observed: dict) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """``{function: observation}`` -> (arrays for the npz, the JSON the rest)."""
    arrays, rest = {}, {}
    for function, observation in observed.items():
        own: dict = {}
        rest[function] = observation.to_json(own)
        arrays.update({f"{function}:{name}": array for name, array in own.items()})
    return arrays, rest


def read(folder: Path | Traversable | None = None) -> dict:
    """The stored observations, ``{function: observation}`` (default: the package's own copy,
    read through :mod:`importlib.resources` so that it works from a wheel too).

    Raises:
        resnet_signs.checks.records.RecordError: the stored files do not hold observations.
    """
    folder = folder if folder is not None else resources.files(__package__)
    stored = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    arrays: dict[str, dict] = {function: {} for function in stored}
    with (folder / NPZ_NAME).open("rb") as handle, np.load(handle) as npz:
        for name in npz.files:
            function, key = name.split(":", 1)
            arrays.setdefault(function, {})[key] = npz[name]
    return {function: observations.from_json(data, arrays[function]) for function, data in stored.items()}


@cache
def load(function: str):
    """The stored reference observation for one public check (``identity_block`` ...)."""
    return read()[function]
