"""Carry a hidden test's observation out of the sandbox as data: numpy arrays + JSON, no pickle.

An observation is a flat dict (:func:`autograder.hidden_tests.observe`). Its top-level numeric
arrays go to ``<test_id>.npz``, everything else to ``<test_id>.json``. Both are written to a
temporary name and renamed, so that the parent never reads half an observation even when
the child dies mid-write. Loading never unpickles, so a crafted file cannot run code in the
clean parent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return f"<unserialisable {type(value).__name__}>"


def save(folder: Path, test_id: str, observation) -> None:
    """Write ``observation`` as ``folder/<test_id>.npz`` + ``.json`` (atomically, flushed)."""
    if not isinstance(observation, dict):
        observation = {"error": f"observe returned {type(observation).__name__}, not a dict"}
    arrays = {k: v for k, v in observation.items() if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}
    rest = {k: _jsonable(v) for k, v in observation.items() if k not in arrays}
    tmp_npz, tmp_json = folder / f".{test_id}.npz.tmp", folder / f".{test_id}.json.tmp"
    with open(tmp_npz, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    with open(tmp_json, "w", encoding="utf-8") as f:
        json.dump(rest, f, allow_nan=True)
        f.flush()
        os.fsync(f.fileno())
    # The JSON file is renamed last: its presence means the observation is complete.
    os.replace(tmp_npz, folder / f"{test_id}.npz")
    os.replace(tmp_json, folder / f"{test_id}.json")


def load(folder: Path, test_id: str) -> dict | None:
    """The observation of ``test_id``, or ``None`` when the sandbox recorded none (a fail)."""
    path = folder / f"{test_id}.json"
    if not path.is_file():
        return None
    try:
        observation = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(observation, dict):
            return None
        with np.load(folder / f"{test_id}.npz", allow_pickle=False) as arrays:
            observation.update({k: arrays[k] for k in arrays.files})
    except (OSError, ValueError) as exc:
        return {"error": f"the recorded observation is unreadable ({type(exc).__name__})"}
    return observation
