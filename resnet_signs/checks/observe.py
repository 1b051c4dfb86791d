"""Turn captures into observations: rebuild each captured graph and compute what it does.

This is where values are computed — by whoever judges (the grader's clean parent, or the
notebook's public check), never by the process that ran the student's code, and always on the CPU
(:mod:`resnet_signs.checks.numerics`), so that no device rounds them differently. An observation is
a flat dict of numpy arrays and JSON-able values that :mod:`resnet_signs.checks.diagnose`
compares with the reference's observation, made the same way:

- blocks: ``"c.out.t"`` (the output for case ``c``'s inputs with ``training=t``) or
  ``"c.error.t"``; ``"c.structure.t"``: :func:`graph.block_summary` or ``{"error": ...}``;
  ``"parameters"``: the function's parameter names;
- models: ``"c.summary"`` (:func:`graph.model_summary`) or ``"c.error"``; ``"c.probs"``: the output
  for a batch of 2 when the case asks for a forward pass.
"""

from __future__ import annotations

import contextlib

import numpy as np

from resnet_signs.checks import graph
from resnet_signs.checks import numerics
from resnet_signs.checks.cases import BlockCase, ModelCase
from resnet_signs.checks.rebuild import GraphRejected, rebuild
from resnet_signs.checks.records import Capture, one_line

MODES = (False, True)
NO_CAPTURE = "no capture was recorded for this case"


def to_array(value) -> np.ndarray:
    """A model output as a float32 numpy array."""
    import keras

    array = np.asarray(keras.ops.convert_to_numpy(value))
    if array.dtype.kind not in "fiu":
        raise TypeError(f"the graph returned {array.dtype}, not numbers")
    return array.astype(np.float32)


def _by_key(captures: list[Capture]) -> dict:
    return {(c.case, c.training): c for c in captures}


def _where(exact: bool):
    return numerics.exact() if exact else contextlib.nullcontext()


def observe_blocks(captures: list[Capture], cases: list[BlockCase], *, exact: bool = True) -> dict:
    """The observation of a block's captures (one per case and training mode).

    ``exact``: compute on the CPU (:func:`resnet_signs.checks.numerics.exact`: the same numbers on every
    device); ``False`` leaves the computation on the default device, only to measure what that changes.
    """
    with _where(exact):
        return _observe_blocks(captures, cases)


def _observe_blocks(captures: list[Capture], cases: list[BlockCase]) -> dict:
    obs, found = {}, _by_key(captures)
    if captures:
        obs["parameters"] = list(captures[0].parameters)
    for case in cases:
        for training in MODES:
            key = f"{case.name}.{{}}.{training}"
            capture = found.get((case.name, training))
            if capture is None or capture.error is not None:
                error = NO_CAPTURE if capture is None else capture.error
                obs[key.format("error")] = error
                obs[key.format("structure")] = {"error": error, "convs": list(capture.convs) if capture else []}
                continue
            try:
                model = rebuild(capture.config)
            except GraphRejected as exc:
                obs[key.format("error")] = str(exc)
                obs[key.format("structure")] = {"error": str(exc)}
                continue
            try:
                obs[key.format("structure")] = graph.block_summary(model.outputs[0], model.inputs[0])
            except Exception as exc:  # noqa: BLE001 - an unforeseen graph shape is a verdict
                obs[key.format("structure")] = {"error": f"its graph could not be read: {one_line(exc)}"}
            try:
                obs[key.format("out")] = to_array(model(case.inputs()))
            except Exception as exc:  # noqa: BLE001 - e.g. shapes that clash at the Add for this input
                obs[key.format("error")] = one_line(exc)
    return obs


def observe_models(captures: list[Capture], cases: list[ModelCase], *, exact: bool = True) -> dict:
    """The observation of a model builder's captures (one per case); ``exact`` as in :func:`observe_blocks`."""
    with _where(exact):
        return _observe_models(captures, cases)


def _observe_models(captures: list[Capture], cases: list[ModelCase]) -> dict:
    obs, found = {}, _by_key(captures)
    for case in cases:
        c = case.name
        capture = found.get((c, None))
        if capture is None or capture.error is not None:
            obs[f"{c}.error"] = NO_CAPTURE if capture is None else capture.error
            continue
        try:
            model = rebuild(capture.config)
            obs[f"{c}.summary"] = graph.model_summary(model)
        except GraphRejected as exc:
            obs[f"{c}.error"] = str(exc)
            continue
        except Exception as exc:  # noqa: BLE001
            obs[f"{c}.error"] = f"its graph could not be read: {one_line(exc)}"
            continue
        if case.forward:
            try:
                obs[f"{c}.probs"] = to_array(model(case.inputs(), training=False))
            except Exception as exc:  # noqa: BLE001
                obs[f"{c}.error"] = f"a forward pass failed: {one_line(exc)}"
    return obs
