"""Run a block or a ResNet-50 builder on fixed cases and record what it did, as plain data.

An observation is a flat dict whose values are numpy arrays or JSON-able values, so that
the hidden tests can carry it out of a sandbox; the reference is observed the same way,
and :mod:`resnet_signs.checks.diagnose` compares the two. Nothing here raises for anything
the observed code does: failures are recorded as one-line strings.
"""

from __future__ import annotations

import numpy as np

from resnet_signs.checks import graph
from resnet_signs.checks.cases import BlockCase, ModelCase

MODES = (False, True)


def one_line(exc: BaseException) -> str:
    """``"ValueError: first line of the message"`` (Keras messages run over many lines)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__


def _to_array(value) -> np.ndarray:
    import keras

    if value is None:
        raise TypeError("returned None: the function must return the output tensor X")
    if isinstance(value, keras.KerasTensor):
        raise TypeError("returned a symbolic tensor for a concrete input")
    array = np.asarray(keras.ops.convert_to_numpy(value))
    if array.dtype.kind not in "fiu":
        raise TypeError(f"returned {type(value).__name__}, not a tensor")
    return array.astype(np.float32)


def observe_block(fn, cases: list[BlockCase]) -> dict:
    """Call ``fn`` on each case, eagerly (outputs) and on a ``keras.Input`` (structure).

    Returns:
        For each case ``c`` and training mode ``t``: ``"c.out.t"`` (array) or ``"c.error.t"``
        (one line); ``"c.structure.t"``: :func:`graph.block_summary` or ``{"error": ...}``.
    """
    obs = {}
    for case in cases:
        x = case.inputs()
        for training in MODES:
            try:
                obs[f"{case.name}.out.{training}"] = _to_array(fn(x, **case.kwargs(training)))
            except Exception as exc:  # noqa: BLE001 - anything the student's code raises is data here
                obs[f"{case.name}.error.{training}"] = one_line(exc)
            obs[f"{case.name}.structure.{training}"] = _structure(fn, case, training)
    return obs


def _structure(fn, case: BlockCase, training: bool) -> dict:
    import keras

    # Unknown height and width first: shapes then cannot clash at the Add, so a misplaced
    # stride or a 'valid' padding still yields a graph whose structure explains the mistake.
    error = None
    for spatial in ((None, None), case.shape[1:3]):
        block_input = keras.Input(shape=(*spatial, case.shape[3]))
        try:
            output = fn(block_input, **case.kwargs(training))
            if not isinstance(output, keras.KerasTensor):
                return {"error": f"returned {type(output).__name__} instead of the output tensor"}
            return graph.block_summary(output, block_input)
        except Exception as exc:  # noqa: BLE001
            if error is None:
                error = {"error": one_line(exc), "convs": graph.convs_from(block_input)}
    return error


def observe_model(builder, case: ModelCase) -> dict:
    """Call ``builder(input_shape, classes)``; record its summary and, if asked, a forward pass.

    Returns:
        ``"c.summary"``: :func:`graph.model_summary`, or ``"c.error"``; ``"c.probs"``: the
        output for :meth:`ModelCase.inputs` when ``case.forward``.
    """
    import keras

    c = case.name
    try:
        model = builder(input_shape=case.input_shape, classes=case.classes)
    except Exception as exc:  # noqa: BLE001
        return {f"{c}.error": one_line(exc)}
    if not isinstance(model, keras.Model):
        return {f"{c}.error": f"returned {type(model).__name__}, not a keras.Model"}
    obs = {}
    try:
        obs[f"{c}.summary"] = graph.model_summary(model)
    except Exception as exc:  # noqa: BLE001
        obs[f"{c}.error"] = f"its graph could not be read: {one_line(exc)}"
    if case.forward:
        try:
            obs[f"{c}.probs"] = _to_array(model(case.inputs(), training=False))
        except Exception as exc:  # noqa: BLE001
            obs[f"{c}.error"] = f"a forward pass failed: {one_line(exc)}"
    return obs
