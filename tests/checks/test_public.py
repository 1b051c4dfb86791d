"""The public checks accept valid spellings and name each realistic mistake with the right hint."""

from __future__ import annotations

import pytest

from resnet_signs import checks

from . import student_variants as sv

VALID_IDENTITY, VALID_CONV = sv.VALID_IDENTITY, sv.VALID_CONV
IDENTITY_MISTAKES, CONV_MISTAKES, RESNET_MISTAKES = sv.IDENTITY_MISTAKES, sv.CONV_MISTAKES, sv.RESNET_MISTAKES


def _rejects(test, variant, hint):
    with pytest.raises(AssertionError) as failure:
        test(variant)
    message = str(failure.value)
    assert message.startswith("✗ ") and hint in message, message
    assert hint in message.splitlines()[0], message


@pytest.mark.parametrize("variant", VALID_IDENTITY, ids=lambda v: v.__name__)
def test_identity_block_test_accepts_valid_spellings(variant, capsys):
    checks.identity_block_test(variant)
    assert capsys.readouterr().out == "✓ identity_block: all checks passed.\n"


@pytest.mark.parametrize("variant", VALID_CONV, ids=lambda v: v.__name__)
def test_convolutional_block_test_accepts_valid_spellings(variant, capsys):
    checks.convolutional_block_test(variant)
    assert capsys.readouterr().out == "✓ convolutional_block: all checks passed.\n"


@pytest.mark.parametrize("variant, hint", IDENTITY_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_identity_block_test_names_the_mistake(variant, hint):
    _rejects(checks.identity_block_test, variant, hint)


@pytest.mark.parametrize("variant, hint", CONV_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_convolutional_block_test_names_the_mistake(variant, hint):
    _rejects(checks.convolutional_block_test, variant, hint)


@pytest.mark.parametrize("variant, hint", sv.NESTED_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_mistake_inside_a_nested_model_is_named_as_in_the_flat_spelling(variant, hint):
    _rejects(checks.identity_block_test, variant, hint)


def test_a_block_that_returns_nothing_is_told_so():
    _rejects(checks.identity_block_test, lambda X, **kwargs: None, "raised TypeError: returned None")


def test_a_block_with_the_wrong_signature_is_told_so():
    _rejects(checks.convolutional_block_test, lambda X, f, filters: X,
             "has no `s`, `training`, `initializer` parameters: it looks like code from an older revision")


def test_passing_something_else_than_a_function_is_told_so():
    _rejects(checks.resnet50_test, "ResNet50", "pass your ResNet50 function itself, got str")


def test_an_extra_op_after_the_add_is_named():
    def scaled(X, f, filters, training=True, initializer=None):
        return sv.identity_course(X, f, filters, training, initializer) * 2.0

    _rejects(checks.identity_block_test, scaled, "after the Add the block applies only a ReLU (got relu → Multiply)")


def test_a_value_mismatch_with_the_right_structure_reports_the_error_size():
    _rejects(checks.identity_block_test, sv.identity_bn_epsilon,
             "values differ from the expected output (max abs error")


@pytest.mark.parametrize("variant", sv.VALID_RESNET, ids=lambda v: v.__name__)
def test_resnet50_test_accepts_valid_spellings(variant, capsys):
    checks.resnet50_test(variant)
    assert capsys.readouterr().out == "✓ ResNet50: all checks passed.\n"


@pytest.mark.parametrize("variant, hint", RESNET_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_resnet50_test_names_the_mistake(variant, hint):
    _rejects(checks.resnet50_test, variant, hint)


def test_resnet50_test_requires_a_model():
    _rejects(checks.resnet50_test, lambda input_shape, classes: "model", "returned str, not a keras.Model")
