"""The public checks students run in the notebook, right after each function.

Each observes the student's function on the course's fixed inputs, compares the
observation with the reference's (stored as data: :mod:`resnet_signs.checks.expected`) and
either prints one "✓" line or raises ``AssertionError`` with one "✗" hint.
"""

from __future__ import annotations

from resnet_signs.checks import diagnose, expected
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE
from resnet_signs.checks.observe import observe_block, observe_model, one_line


def _verdict(name: str, diagnosis) -> None:
    try:
        hint = diagnosis()
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # an unforeseen graph shape: still one line
        hint = f"✗ {name} builds a graph these checks cannot read ({one_line(exc)})"
    if hint:
        # Raised from a fresh exception so that the notebook shows the hint, not our internals.
        raise AssertionError(hint)
    print(f"✓ {name}: all checks passed.")


def _block_test(block: str, target) -> None:
    if not callable(target):
        raise AssertionError(f"✗ pass your {block} function itself, got {type(target).__name__}")
    case = PUBLIC_BLOCK_CASES[block]
    observation = observe_block(target, [case])
    _verdict(block, lambda: diagnose.block_hint(block, observation, expected.load(block), [case]))


def identity_block_test(target) -> None:
    """Check ``identity_block`` on the course's inputs (constant -1, 1, 3; f=2; filters=[4, 4, 3]).

    Runs it with ``initializer=lambda seed=0: constant(value=1)`` in both training modes and on
    a ``keras.Input`` (structure).

    Raises:
        AssertionError: with one hint naming the first mistake.
    """
    _block_test("identity_block", target)


def convolutional_block_test(target) -> None:
    """Check ``convolutional_block`` on the course's inputs (f=2, filters=[2, 4, 6], s=2, glorot_uniform).

    Raises:
        AssertionError: with one hint naming the first mistake.
    """
    _block_test("convolutional_block", target)


def resnet50_test(target) -> None:
    """Check ``ResNet50((64, 64, 3), 6)``: a keras.Model, stage shapes, head, 23,600,006 parameters.

    Raises:
        AssertionError: with one hint naming the first mistake.
    """
    if not callable(target):
        raise AssertionError(f"✗ pass your ResNet50 function itself, got {type(target).__name__}")
    observation = observe_model(target, PUBLIC_MODEL_CASE)
    _verdict("ResNet50", lambda: diagnose.model_hint(observation, expected.load("ResNet50"), PUBLIC_MODEL_CASE))
