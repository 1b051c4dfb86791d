"""The public checks students run in the notebook, right after each function.

Each captures what the student's function builds (:mod:`.capture`), rebuilds and runs it
(:mod:`.observe`), compares the observation with the reference's (stored as data:
:mod:`.expected`) and either prints one "✓" line or raises :class:`CheckFailure`: the hint, what
was expected and what was observed — and no traceback into this package. When the student's own
code raised, its traceback (the student's frames and Keras', none of ours) follows the hint.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from resnet_signs import i18n
from resnet_signs.checks import diagnose, expected
from resnet_signs.checks.capture import capture_blocks, capture_models
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE, PUBLIC_STAND_INS
from resnet_signs.checks.cost import Budget
from resnet_signs.checks.numerics import exact
from resnet_signs.checks.observe import observe_blocks, observe_models
from resnet_signs.checks.records import one_line

_PACKAGE = str(Path(__file__).resolve().parents[1])
#: Keras re-raises through this helper: a frame that says nothing about the student's code.
_KERAS_RERAISE = "keras/src/utils/traceback_utils.py"


class CheckFailure(AssertionError):
    """A failed public check: ``str()`` is the hint; IPython shows :meth:`_render_traceback_` instead of a traceback."""

    def __init__(self, hint: str, student_error: BaseException | None = None):
        super().__init__(hint)
        self.hint = hint
        self.student_error = student_error

    def _render_traceback_(self) -> list[str]:
        """The hint in the notebook's language (:func:`resnet_signs.i18n.current`), then the student's traceback."""
        lines = i18n.translate_message(self.hint).splitlines()
        if self.student_error is not None:
            lines += ["", i18n.gettext("Your code raised it here:"), *student_traceback(self.student_error)]
        return lines


def student_traceback(exc: BaseException) -> list[str]:
    """``exc``'s traceback without the frames of this package (the checks' machinery)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_PACKAGE) and not f.filename.endswith(_KERAS_RERAISE)]
    lines = "".join(traceback.format_list(frames)).rstrip("\n").splitlines()
    return lines + traceback.format_exception_only(type(exc), exc)[-1:]


def _verdict(name: str, diagnosis, errors: list[BaseException] = ()) -> None:
    try:
        hint = diagnosis()
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:  # an unforeseen graph shape: one line
        hint = f"✗ {name} builds a graph these checks cannot read ({one_line(exc)})"
    if hint:
        raise CheckFailure(hint, errors[0] if errors else None) from None
    print(i18n.format("✓ {name}: all checks passed.", name=name))


def _block_test(block: str, target) -> None:
    if not callable(target):
        raise CheckFailure(f"✗ pass your {block} function itself, got {type(target).__name__}")
    case = PUBLIC_BLOCK_CASES[block]
    errors: list[BaseException] = []
    want = expected.load(block)
    observation = observe_blocks(capture_blocks(target, [case], errors=errors), [case],
                                 budget=Budget.from_observation(want))
    _verdict(block, lambda: diagnose.block_hint(block, observation, want, [case]), errors)


def identity_block_test(target) -> None:
    """Check ``identity_block`` on the course's inputs (constant -1, 1, 3; f=2; filters=[4, 4, 3]).

    Runs it on a ``keras.Input`` in both training modes with ``initializer=lambda seed=0:
    constant(value=1)``, rebuilds the graph it built and compares the outputs and the structure.

    Raises:
        CheckFailure: an AssertionError with the hint, the expected and the observed values.
    """
    _block_test("identity_block", target)


def convolutional_block_test(target) -> None:
    """Check ``convolutional_block`` on the course's inputs (f=2, filters=[2, 4, 6], s=2, glorot_uniform).

    Raises:
        CheckFailure: an AssertionError with the hint, the expected and the observed values.
    """
    _block_test("convolutional_block", target)


def resnet50_test(target) -> None:
    """Check ``ResNet50((64, 64, 3), 6)``: first its own work (stem, stage table, head) with stand-in
    blocks, then the model built with the student's blocks: 23,600,006 parameters.

    A block that breaks the model is named ("fix identity_block first") instead of a Keras shape error.

    Raises:
        CheckFailure: an AssertionError with the hint, the expected and the observed values.
    """
    if not callable(target):
        raise CheckFailure(f"✗ pass your ResNet50 function itself, got {type(target).__name__}")
    want = expected.load("ResNet50")
    case = PUBLIC_MODEL_CASE
    observation = observe_models(capture_models(target, [case], PUBLIC_STAND_INS), [case],
                                 budget=Budget.from_observation(want))
    hint = diagnose.model_hint(observation, want, case)
    if hint:
        raise CheckFailure(hint) from None
    _with_student_blocks(target, want.run(case.name).summary.total_params)
    print(i18n.format("✓ {name}: all checks passed.", name="ResNet50"))


def _with_student_blocks(target, total_params: int) -> None:
    """Build the model with the student's own blocks; name the block that breaks it."""
    scope = getattr(target, "__globals__", {})
    failing = [name for name in PUBLIC_STAND_INS if _block_fails(name, scope.get(name))]
    try:
        with exact():  # 23.6 M weights the check only counts: never on the student's GPU
            model = target(input_shape=PUBLIC_MODEL_CASE.input_shape, classes=PUBLIC_MODEL_CASE.classes)
        params = int(model.count_params())
    except Exception as exc:  # noqa: BLE001 - the student's blocks raised inside ResNet50
        blame = failing[0] if failing else None
        first = (f"✗ ResNet50 itself is right, but building it with your {blame} fails: fix {blame} first "
                 f"(its check above says what is wrong)") if blame else (
            f"✗ building ResNet50 with your blocks raised {one_line(exc)}")
        raise CheckFailure(first, exc) from None
    if params != total_params:
        blame = " and ".join(failing) or "your blocks"
        raise CheckFailure(f"✗ ResNet50 itself is right, but built with {blame} it has {params:,} parameters instead "
                           f"of {total_params:,}: fix {blame} first (its check says what is wrong)") from None


def _block_fails(name: str, block) -> bool:
    if not callable(block):
        return True
    case = PUBLIC_BLOCK_CASES[name]
    want = expected.load(name)
    observation = observe_blocks(capture_blocks(block, [case]), [case], budget=Budget.from_observation(want))
    try:
        return diagnose.block_hint(name, observation, want, [case]) is not None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return True
