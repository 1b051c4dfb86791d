"""Hidden tests of the Residual Networks assignment: one entry per test cell (nbgrader grade_id).

``observe(test_id, namespace)`` runs the student's functions (the notebook's globals) on
fixed cases and returns plain data; ``judge(test_id, observation)`` compares that data with
the reference in a clean process and returns ``(passed, hint)``. The comparisons are those
of the public checks (:mod:`resnet_signs.checks.diagnose`), over more cases: other shapes,
``f``, filters, strides and initializers, both training modes. The ResNet50 tests call the
student's ``ResNet50`` with the reference blocks in place of the student's, so that a bug in
a block costs its points once.
"""

from __future__ import annotations

import types
from functools import lru_cache

import numpy as np

from resnet_signs.checks import diagnose
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE, BlockCase, ModelCase
from resnet_signs.checks.observe import observe_block, observe_model, one_line
from resnet_signs.instructor import load_reference

# Cases: odd and even sizes, f = 1, 2, 3, 5, strides 1-3, unequal filters, four initializers.
IDENTITY_CASES = [
    BlockCase("a", (2, 5, 5, 6), f=3, filters=(3, 5, 6), initializer="random_uniform", input_seed=1),
    BlockCase("b", (4, 3, 3, 4), f=1, filters=(2, 3, 4), initializer="he_normal", input_seed=2),
    BlockCase("c", (3, 4, 4, 3), f=2, filters=(4, 4, 3), initializer="glorot_uniform", input_seed=3),
    BlockCase("d", (2, 6, 4, 8), f=5, filters=(8, 2, 8), initializer="constant1", input_seed=4),
]
CONV_CASES = [
    BlockCase("a", (2, 5, 5, 3), f=3, filters=(2, 4, 6), initializer="glorot_uniform", s=2, input_seed=1),
    BlockCase("b", (2, 6, 6, 4), f=2, filters=(4, 2, 8), initializer="he_normal", s=3, input_seed=2),
    BlockCase("c", (3, 4, 4, 3), f=3, filters=(3, 3, 5), initializer="random_uniform", s=1, input_seed=3),
    BlockCase("d", (2, 7, 5, 2), f=1, filters=(5, 3, 4), initializer="constant1", s=2, input_seed=4),
]
SHAPES_CASE = ModelCase("shapes")
# (32, 32, 3) would shrink stage 5 to 1x1, below AveragePooling2D(2): the course's own model fails there.
VARIANT_CASES = [ModelCase("wide", (48, 48, 3), 10, forward=True), ModelCase("gray", (64, 64, 1), 6, forward=True)]

#: test id -> (function name, kind, cases)
TESTS = {
    "identity_block_public": ("identity_block", "public", [PUBLIC_BLOCK_CASES["identity_block"]]),
    "identity_block_hidden_values": ("identity_block", "values", IDENTITY_CASES),
    "identity_block_hidden_structure": ("identity_block", "structure", IDENTITY_CASES),
    "convolutional_block_public": ("convolutional_block", "public", [PUBLIC_BLOCK_CASES["convolutional_block"]]),
    "convolutional_block_hidden_values": ("convolutional_block", "values", CONV_CASES),
    "convolutional_block_hidden_structure": ("convolutional_block", "structure", CONV_CASES),
    "ResNet50_public": ("ResNet50", "public", [PUBLIC_MODEL_CASE]),
    "ResNet50_hidden_shapes": ("ResNet50", "reference_blocks", [SHAPES_CASE]),
    "ResNet50_hidden_variants": ("ResNet50", "reference_blocks", VARIANT_CASES),
}


def _test(test_id: str):
    if test_id not in TESTS:
        raise KeyError(f"unknown test id {test_id!r}; known: {', '.join(TESTS)}")
    return TESTS[test_id]


def observe(test_id: str, namespace: dict) -> dict:
    """Run the student's function named by ``test_id`` on its cases; never raises for student code."""
    function, kind, cases = _test(test_id)
    try:
        target = namespace.get(function)
        if not callable(target):
            return {"error": f"{function} is not defined (run its cell first)"}
        if function != "ResNet50":
            return observe_block(target, cases)
        # Every ResNet50 test, the public one included, runs with the reference blocks, so a bug in a
        # block costs points once (in that block's tests). The notebook's own public check, which a
        # student runs, keeps their blocks: there the failure points them at the block to fix.
        target = with_reference_blocks(target)
        observation = {}
        for case in cases:
            observation.update(observe_model(target, case))
        return observation
    except Exception as exc:  # noqa: BLE001 - a sandboxed student may have broken anything
        return {"error": one_line(exc)}


def with_reference_blocks(resnet50):
    """A copy of the student's ``ResNet50`` whose globals hold the reference blocks."""
    if not isinstance(resnet50, types.FunctionType):
        raise TypeError(f"ResNet50 must be a plain function, got {type(resnet50).__name__}")
    reference = load_reference()
    scope = dict(resnet50.__globals__)
    scope.update(identity_block=reference.identity_block, convolutional_block=reference.convolutional_block)
    copy = types.FunctionType(resnet50.__code__, scope, resnet50.__name__, resnet50.__defaults__, resnet50.__closure__)
    copy.__kwdefaults__ = resnet50.__kwdefaults__
    return copy


@lru_cache(maxsize=None)
def expected_observation(test_id: str) -> dict:
    """The reference's observation of the test's cases (computed once per process)."""
    function, _, cases = _test(test_id)
    reference = load_reference()
    if function != "ResNet50":
        return observe_block(getattr(reference, function), cases)
    observation = {}
    for case in cases:
        observation.update(observe_model(reference.ResNet50, case))
    return observation


def judge(test_id: str, observation: dict) -> tuple[bool, str]:
    """``(passed, message)`` for an observation; runs the reference, never student code."""
    function, kind, cases = _test(test_id)
    if not isinstance(observation, dict):
        return False, "✗ the test recorded nothing usable (the notebook may have altered the test environment)"
    if "error" in observation:
        return False, f"✗ {function} could not be tested: {observation['error']}"
    try:
        hint = _hint(test_id, function, kind, cases, _clean(observation))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        return False, f"✗ the observation of {function} is incomplete or malformed ({one_line(exc)})"
    if hint:
        return False, hint
    return True, f"✓ {test_id}: passed."


def _clean(observation: dict) -> dict:
    """Arrays become float arrays (an observation may come back from a sandbox as lists)."""
    clean = {}
    for key, value in observation.items():
        if key.endswith(tuple(f".out.{t}" for t in (False, True))) or key.endswith(".probs"):
            value = np.asarray(value, dtype=np.float64)
        clean[key] = value
    return clean


def _hint(test_id, function, kind, cases, observation) -> str | None:
    want = expected_observation(test_id)
    if function == "ResNet50":
        for case in cases:
            hint = diagnose.model_hint(observation, want, case)
            if hint and kind != "public" and not hint.startswith("✗ ResNet50("):
                hint = hint.replace("✗ ", f"✗ with input_shape={case.input_shape}, classes={case.classes}: ", 1)
            if hint:
                return hint
        return None
    if kind == "structure":
        return diagnose.structure_hint_for(function, observation, want, cases)
    if kind == "values" and diagnose.block_hint(function, observation, want, cases, check_structure=False) is None:
        return None
    return diagnose.block_hint(function, observation, want, cases)
