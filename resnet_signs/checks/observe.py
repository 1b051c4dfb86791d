"""Turn captures into observations: rebuild each captured graph and compute what it does.

This is where values are computed — by whoever judges (the grader's judging process, or the
notebook's public check), never by the process that ran the student's code, and always on the CPU
(:mod:`resnet_signs.checks.numerics`), so that no device rounds them differently. Observations are
typed records (:mod:`resnet_signs.checks.observations`) that :mod:`resnet_signs.checks.diagnose`
compares with the reference's observation, made the same way.

Before a graph is built, its cost on the case is estimated from its config alone
(:mod:`resnet_signs.checks.cost`); with a :class:`~resnet_signs.checks.cost.Budget` (a generous multiple
of the reference's cost on the same case), a graph over it is refused with a one-line error naming
the limit, and never built or run.
"""

from __future__ import annotations

import contextlib

import numpy as np

from resnet_signs.checks import graph, numerics
from resnet_signs.checks.cases import BlockCase, ModelCase
from resnet_signs.checks.cost import Budget, OverBudget, estimate
from resnet_signs.checks.observations import BlockObservation, BlockRun, ModelObservation, ModelRun
from resnet_signs.checks.rebuild import GraphRejected, rebuild, validate
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


def _rebuilt(config: dict, shape: tuple[int, ...], case: str, budget: Budget | None):
    """The graph rebuilt and its estimated cost on inputs of ``shape``; over ``budget`` it is refused unbuilt.

    Raises:
        GraphRejected: the config is not allowed, cannot be rebuilt, or costs too much.
    """
    validate(config)
    try:
        cost = estimate(config, shape)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        if isinstance(exc, GraphRejected):
            raise
        raise GraphRejected(f"the grader cannot estimate what the graph costs ({one_line(exc)})") from None
    if budget is not None:
        budget.check(case, cost)
    return rebuild(config), cost


def observe_blocks(captures: list[Capture], cases: list[BlockCase], *, exact: bool = True,
                   budget: Budget | None = None) -> BlockObservation:
    """The observation of a block's captures (one per case and training mode).

    ``exact``: compute on the CPU (:func:`resnet_signs.checks.numerics.exact`: the same numbers on every
    device); ``False`` leaves the computation on the default device, only to measure what that changes.
    ``budget``: the most each case may cost (none: no limit, as for the reference itself).
    """
    with _where(exact):
        runs = tuple(_block_run(_by_key(captures).get((case.name, training)), case, training, budget)
                     for case in cases for training in MODES)
    parameters = tuple(captures[0].parameters) if captures else None
    return BlockObservation(runs, parameters)


def _block_run(capture: Capture | None, case: BlockCase, training: bool, budget: Budget | None) -> BlockRun:
    if capture is None or capture.error is not None:
        error = NO_CAPTURE if capture is None else capture.error
        return BlockRun(case.name, training, error=error, structure_error=error,
                        convs=tuple(capture.convs) if capture else ())
    try:
        model, cost = _rebuilt(capture.config, case.shape, case.name, budget)
    except GraphRejected as exc:
        return BlockRun(case.name, training, error=str(exc), structure_error=str(exc),
                        over_budget=isinstance(exc, OverBudget))
    structure = structure_error = output = error = None
    try:
        structure = graph.block_summary(model.outputs[0], model.inputs[0])
    except Exception as exc:  # noqa: BLE001 - an unforeseen graph shape is a verdict
        structure_error = f"its graph could not be read: {one_line(exc)}"
    try:
        output = to_array(model(case.inputs()))
    except Exception as exc:  # noqa: BLE001 - e.g. shapes that clash at the Add for this input
        error = one_line(exc)
    return BlockRun(case.name, training, output, error, structure, structure_error, cost=cost)


def observe_models(captures: list[Capture], cases: list[ModelCase], *, exact: bool = True,
                   budget: Budget | None = None) -> ModelObservation:
    """The observation of a model builder's captures (one per case); ``exact`` and ``budget`` as in
    :func:`observe_blocks`."""
    with _where(exact):
        return ModelObservation(tuple(_model_run(_by_key(captures).get((case.name, None)), case, budget)
                                      for case in cases))


def _model_run(capture: Capture | None, case: ModelCase, budget: Budget | None) -> ModelRun:
    if capture is None or capture.error is not None:
        return ModelRun(case.name, error=NO_CAPTURE if capture is None else capture.error)
    inputs = case.inputs()
    try:
        model, cost = _rebuilt(capture.config, inputs.shape, case.name, budget)
        summary = graph.model_summary(model)
    except GraphRejected as exc:
        return ModelRun(case.name, error=str(exc), over_budget=isinstance(exc, OverBudget))
    except Exception as exc:  # noqa: BLE001 - an unreadable graph is a verdict
        return ModelRun(case.name, error=f"its graph could not be read: {one_line(exc)}")
    if not case.forward:
        return ModelRun(case.name, summary, cost=cost)
    try:
        return ModelRun(case.name, summary, probs=to_array(model(inputs, training=False)), cost=cost)
    except Exception as exc:  # noqa: BLE001 - a failed forward pass is a verdict
        return ModelRun(case.name, summary, error=f"a forward pass failed: {one_line(exc)}", cost=cost)

