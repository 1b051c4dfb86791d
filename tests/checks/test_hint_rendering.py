"""What a student sees when a public check fails: the hint, expected vs observed, no traceback into
the package. Each wrong block runs through a real IPython shell, as a notebook cell would."""

from __future__ import annotations

import re

import pytest
from IPython.core.interactiveshell import InteractiveShell

from resnet_signs import i18n

from . import student_variants as sv


def _identity_add_to_itself(X, f, filters, training=True, initializer=None):
    main = sv._identity_main(X, f, filters, training, sv.random_uniform)
    return sv.Activation("relu")(sv.Add()([main, main]))


def _identity_raising(X, f, filters, training=True, initializer=None):
    F1, F2, F3 = filters  # noqa: RUF059 - the student's code, as written
    return F4  # noqa: F821 - the student's own line raises NameError


def _identity_old_revision(X, f, filters, initializer=None):
    return sv.identity_course(X, f, filters, True, sv.random_uniform)


#: (check, wrong function, what the first line must name)
WRONG = [
    ("identity_block_test", sv.identity_add_after_relu, "the shortcut must be added before the final ReLU"),
    ("identity_block_test", sv.identity_no_final_relu, "apply a ReLU after adding the shortcut"),
    ("identity_block_test", sv.identity_main_path_only, "add the shortcut to the main path"),
    ("identity_block_test", sv.identity_bn_axis_1, "BatchNormalization must normalise the channel axis"),
    ("identity_block_test", sv.identity_no_training, "pass `training=training` to BatchNormalization"),
    ("identity_block_test", sv.identity_valid_padding, "the middle convolution must use padding='same'"),
    ("identity_block_test", sv.identity_default_initializer, "use initializer(seed=0) for every Conv2D"),
    ("identity_block_test", sv.identity_filters_swapped, "use F1, F2, F3 = filters in this order"),
    ("identity_block_test", sv.identity_bn_epsilon, "values differ from the expected output"),
    ("identity_block_test", _identity_add_to_itself, "the Add adds the main path to itself (Add()([X, X]))"),
    ("identity_block_test", _identity_old_revision, "older revision of this notebook"),
    ("convolutional_block_test", sv.conv_stride_on_middle,
     "the stride belongs on the first 1x1 conv and on the shortcut"),
    ("convolutional_block_test", sv.conv_shortcut_without_bn, "the shortcut path needs a 1x1 Conv2D with stride s"),
    ("resnet50_test", sv.resnet_stage3_stride_1, "stage 3 should downsample with s=2"),
    ("resnet50_test", sv.resnet_stage4_five_blocks, "stage 4 should have 6 blocks"),
    ("resnet50_test", sv.resnet_maxpool_head, "use AveragePooling2D(pool_size=2) after stage 5"),
]
EXPECTED_VS_OBSERVED = re.compile(r"expected.*\n.*(your|observed|got)|expected .* got ", re.IGNORECASE)


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance(colors="nocolor")


def _shown(shell, capsys, check: str, function) -> str:
    shell.user_ns.update(function=function)
    shell.run_cell(f"from resnet_signs.checks import {check}\n{check}(function)", store_history=False)
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize(("check", "function", "mistake"), WRONG, ids=lambda v: getattr(v, "__name__", ""))
def test_a_failed_check_names_the_mistake_shows_expected_and_observed_and_no_package_frame(shell, capsys, check,
                                                                                        function, mistake):
    shown = _shown(shell, capsys, check, function)
    assert shown.lstrip().startswith("✗ ") and mistake in shown.splitlines()[0], shown
    assert EXPECTED_VS_OBSERVED.search(shown), shown
    assert "resnet_signs/" not in shown and "Traceback" not in shown, shown
    hint = shown.split("Your code raised it here:")[0]  # the student's own traceback stays as Python wrote it
    for language in ("zh_CN", "zh_TW"):  # the catalogues know every line of every hint
        assert i18n.untranslated_lines(hint, language) == [], language


def test_an_error_in_the_students_own_code_keeps_their_frames_only(shell, capsys):
    shown = _shown(shell, capsys, "identity_block_test", _identity_raising)
    assert shown.startswith("✗ ") and "Your code raised it here:" in shown
    assert "return F4" in shown and "NameError" in shown  # the student's line, with its file
    assert "resnet_signs/" not in shown


def test_a_block_that_breaks_resnet50_is_named_first(shell, capsys):
    broken = dict(vars(sv), identity_block=sv.identity_filters_swapped)
    import types

    resnet = types.FunctionType(sv.resnet_course.__code__, broken, "ResNet50", sv.resnet_course.__defaults__)
    shown = _shown(shell, capsys, "resnet50_test", resnet)
    assert shown.startswith("✗ ResNet50 itself is right, but building it with your identity_block fails: fix "
                            "identity_block first"), shown
    assert "resnet_signs/" not in shown


def test_a_passing_check_prints_one_line(shell, capsys):
    assert _shown(shell, capsys, "identity_block_test", sv.identity_course) == "✓ identity_block: all checks passed.\n"


def test_a_notebook_in_chinese_shows_the_hint_in_chinese(shell, capsys):
    try:
        i18n.use("zh_CN")
        shown = _shown(shell, capsys, "identity_block_test", sv.identity_add_after_relu)
        passed = _shown(shell, capsys, "identity_block_test", sv.identity_course)
    finally:
        i18n.use(None)
    assert shown.startswith("✗ 快捷路径必须在最后的 ReLU 之前相加"), shown
    assert "应有的" in shown and "你的" in shown, shown
    assert passed == "✓ identity_block：全部检查通过。\n"
