"""Capture what a student's function builds, as records (:mod:`resnet_signs.checks.records`).

This is the observing half of every check: it runs next to student code (in the notebook's
kernel, or in the grader's sandbox) and holds no answer. A block is called on a ``keras.Input``
and its graph exported as a functional config; ``ResNet50`` is called with stand-in blocks
(:mod:`resnet_signs.checks.standins`) so that its graph holds its own stem, block calls and head
and nothing of the student's blocks. Nothing is computed here: the judging side rebuilds the
graphs and computes every value itself.
"""

from __future__ import annotations

import inspect
import json
import sys
import types

import keras

from resnet_signs.checks import graph
from resnet_signs.checks.cases import BlockCase, ModelCase, StandInSpec
from resnet_signs.checks.records import Capture, one_line
from resnet_signs.checks.standins import stand_in

MODES = (False, True)


def _parameters(fn) -> tuple[str, ...]:
    """The names a caller can pass by position or keyword (what the notebook's signature fixes)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    names = []
    for p in parameters:
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            names.append(f"**{p.name}")  # takes any keyword: no parameter is missing
    return tuple(names)[:32]


def _exported(inputs, output) -> dict:
    """The functional config of ``inputs -> output`` as plain JSON data."""
    if not isinstance(output, keras.KerasTensor):
        raise TypeError(f"returned {type(output).__name__} instead of the output tensor X")
    model = keras.Model(inputs, output)
    return json.loads(json.dumps(model.get_config()))


def capture_block(fn, case: BlockCase, training: bool, errors: list | None = None) -> Capture:
    """Call ``fn(keras.Input(...), f=..., filters=..., [s=...,] training=..., initializer=...)`` and export its graph.

    Unknown height and width come first: shapes then cannot clash at the Add, so a misplaced
    stride or a 'valid' padding still yields a graph whose structure explains the mistake. When
    that fails (e.g. BatchNormalization over an axis of unknown size), the case's own shape.
    ``errors``, when given, receives the exception itself (in-process callers show its traceback).
    """
    error, convs = None, ()
    for spatial in ((None, None), case.shape[1:3]):
        block_input = keras.Input(shape=(*spatial, case.shape[3]))
        try:
            config = _exported(block_input, fn(block_input, **case.kwargs(training)))
            return Capture(case.name, training, config, parameters=_parameters(fn))
        except Exception as exc:  # noqa: BLE001 - whatever the student's code raises is data here
            if error is None:
                error, convs = one_line(exc), tuple(graph.convs_from(block_input))
                if errors is not None:
                    errors.append(exc)
    return Capture(case.name, training, None, error=error, convs=convs, parameters=_parameters(fn))


def capture_model(builder, case: ModelCase, stand_ins: dict[str, StandInSpec]) -> Capture:
    """Call ``builder(input_shape=..., classes=...)`` with stand-ins for the blocks and export its graph.

    The stand-ins replace the block functions in ``builder``'s globals (the notebook's namespace,
    so helpers the student wrote call them too) for the duration of the call only.
    """
    if not isinstance(builder, types.FunctionType):
        return Capture(case.name, None, None,
                       error=f"TypeError: ResNet50 must be a function, got {type(builder).__name__}")
    scope = builder.__globals__
    saved = {name: scope[name] for name in stand_ins if name in scope}
    try:
        scope.update({name: stand_in(name, spec) for name, spec in stand_ins.items()})
        model = builder(input_shape=case.input_shape, classes=case.classes)
        if not isinstance(model, keras.Model):
            raise TypeError(f"returned {type(model).__name__}, not a keras.Model")
        config = json.loads(json.dumps(model.get_config()))
        return Capture(case.name, None, config, parameters=_parameters(builder))
    except Exception as exc:  # noqa: BLE001 - whatever the student's code raises is data here
        return Capture(case.name, None, None, error=one_line(exc), parameters=_parameters(builder))
    finally:
        for name in stand_ins:
            scope.pop(name, None)
        scope.update(saved)


def capture_blocks(fn, cases: list[BlockCase], errors: list | None = None) -> list[Capture]:
    """Every case in both training modes."""
    return [capture_block(fn, case, training, errors) for case in cases for training in MODES]


def capture_models(builder, cases: list[ModelCase], stand_ins: dict[str, StandInSpec]) -> list[Capture]:
    return [capture_model(builder, case, stand_ins) for case in cases]


def capture_test(function: str, cases: list, namespace: dict, stand_ins: dict[str, StandInSpec]) -> list[Capture]:
    """Everything one test captures of the function named ``function`` in ``namespace``.

    Block cases capture the function itself in both training modes; model cases capture it with
    stand-ins for the blocks named in ``stand_ins``. An undefined function yields one error per case.
    """
    target = namespace.get(function)
    blocks = [c for c in cases if isinstance(c, BlockCase)]
    models = [c for c in cases if isinstance(c, ModelCase)]
    if not callable(target):
        error = f"NameError: {function} is not defined (run its cell first)"
        return ([Capture(c.name, t, None, error=error) for c in blocks for t in MODES]
                + [Capture(c.name, None, None, error=error) for c in models])
    return capture_blocks(target, blocks) + capture_models(target, models, stand_ins)


def private_copy():
    """:func:`capture_test` with private copies of this module's and its helpers' functions.

    The grader's sandbox takes it before any student code runs: a notebook that patches
    ``resnet_signs.checks.capture`` (or ``graph``, ``standins``) afterwards changes the public
    modules only, so it can sabotage no capture of another function. (Patching Keras or the
    interpreter itself could still spoil captures, but never forge a pass: the judge rebuilds
    and runs every graph itself.)
    """
    from resnet_signs.checks import standins

    copies = {}
    for module in (graph, standins, sys.modules[__name__]):
        namespace = dict(vars(module))
        namespace.update(copies)  # later modules see the earlier copies (capture sees graph's and standins')
        for name, value in list(namespace.items()):
            if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
                namespace[name] = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__,
                                                     value.__closure__)
                namespace[name].__kwdefaults__ = value.__kwdefaults__
        copies[module.__name__.rpartition(".")[2]] = types.SimpleNamespace(**namespace)
        if module.__name__ == __name__:
            return namespace["capture_test"]
    raise AssertionError("unreachable")
