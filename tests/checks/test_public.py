"""The public checks accept valid spellings and name each realistic mistake with the right hint."""

from __future__ import annotations

import pytest

from resnet_signs import checks
from . import student_variants as sv

VALID_IDENTITY = [sv.identity_course, sv.identity_plus_relu_layer, sv.identity_loop]
VALID_CONV = [sv.conv_course, sv.conv_loop_plus]

IDENTITY_MISTAKES = [
    (sv.identity_add_after_relu, "the shortcut must be added before the final ReLU"),
    (sv.identity_no_final_relu, "apply a ReLU after adding the shortcut"),
    (sv.identity_relu_before_add, "no ReLU between the last BatchNormalization and the Add"),
    (sv.identity_main_path_only, "add the shortcut to the main path"),
    (sv.identity_bn_axis_1, "BatchNormalization must normalise the channel axis (axis=3 or -1); got axis=1"),
    (sv.identity_no_training, "pass `training=training` to BatchNormalization"),
    (sv.identity_valid_padding, "the middle convolution must use padding='same' and kernel size f (f=2; got kernel 2x2, padding='valid')"),
    (sv.identity_kernel_3, "the middle convolution must use padding='same' and kernel size f (f=2; got kernel 3x3"),
    (sv.identity_default_initializer, "use initializer(seed=0) for every Conv2D"),
    (sv.identity_filters_swapped, "use F1, F2, F3 = filters in this order: the convolutions need [4, 4, 3] filters, got [3, 4, 4]"),
]
CONV_MISTAKES = [
    (sv.conv_stride_on_middle, "the stride belongs on the first 1x1 conv and on the shortcut"),
    (sv.conv_shortcut_without_stride, "the stride belongs on the first 1x1 conv and on the shortcut"),
    (sv.conv_shortcut_without_bn, "the shortcut path needs a 1x1 Conv2D with stride s and BatchNormalization"),
    (sv.conv_unseeded_initializer, "use initializer(seed=0) for every Conv2D"),
    (sv.conv_filters_swapped, "use F1, F2, F3 = filters in this order: the convolutions need [2, 4, 6] filters, got [6, 4, 2]"),
]
RESNET_MISTAKES = [
    (sv.resnet_stage3_stride_1, "stage 3 should downsample with s=2 (output (8, 8, 512), got (15, 15, 512))"),
    (sv.resnet_maxpool_head, "use AveragePooling2D(pool_size=2)"),
    (sv.resnet_no_softmax, "the last layer must be Dense(classes, activation='softmax')"),
    (sv.resnet_stage4_five_blocks, "stage 4 should have 6 blocks (1 convolutional_block + 5 identity_block), got 5"),
]


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


def test_a_block_that_returns_nothing_is_told_so():
    _rejects(checks.identity_block_test, lambda X, **kwargs: None, "raised TypeError: returned None")


def test_a_block_with_the_wrong_signature_is_told_so():
    _rejects(checks.convolutional_block_test, lambda X, f, filters: X, "has no `s`, `training`, `initializer` parameters: it looks like code from an older revision")


def test_passing_something_else_than_a_function_is_told_so():
    _rejects(checks.resnet50_test, "ResNet50", "pass your ResNet50 function itself, got str")


def test_an_extra_op_after_the_add_is_named():
    def scaled(X, f, filters, training=True, initializer=None):
        return sv.identity_course(X, f, filters, training, initializer) * 2.0

    _rejects(checks.identity_block_test, scaled, "after the Add the block applies only a ReLU (got relu → Multiply)")


def test_a_value_mismatch_with_the_right_structure_reports_the_error_size():
    _rejects(checks.identity_block_test, sv.identity_bn_epsilon, "values differ from the expected output (max abs error")


@pytest.mark.parametrize("variant", [sv.resnet_course, sv.resnet_stage_loop], ids=lambda v: v.__name__)
def test_resnet50_test_accepts_valid_spellings(variant, capsys):
    checks.resnet50_test(variant)
    assert capsys.readouterr().out == "✓ ResNet50: all checks passed.\n"


@pytest.mark.parametrize("variant, hint", RESNET_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_resnet50_test_names_the_mistake(variant, hint):
    _rejects(checks.resnet50_test, variant, hint)


def test_resnet50_test_requires_a_model():
    _rejects(checks.resnet50_test, lambda input_shape, classes: "model", "returned str, not a keras.Model")
