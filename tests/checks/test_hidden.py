"""The hidden tests: valid answers pass all nine, mistakes fail with the right hint, and the
capture/judge contract holds (records are plain data that survive JSON, malformed or hostile
records are a fail with a reason, never a crash)."""

from __future__ import annotations

import json
import re
import types

import pytest

from resnet_signs import i18n, paths
from resnet_signs.checks.records import RecordError, TestRecord
from resnet_signs.grading import course as courses
from resnet_signs.grading.judge import Judge, capture_in_process
from resnet_signs.grading.plain_nbgrader import run_hidden_test
from resnet_signs.instructor import load_hidden_tests

from . import student_variants as sv
from .test_public import CONV_MISTAKES, IDENTITY_MISTAKES, RESNET_MISTAKES

hidden = load_hidden_tests()
COURSE = courses.load(paths.course_dir())
JUDGE = Judge(COURSE)
BLOCK_IDS = {
    "identity_block": [t for t in hidden.TESTS if t.startswith("identity_block")],
    "convolutional_block": [t for t in hidden.TESTS if t.startswith("convolutional_block")],
}
RESNET_IDS = [t for t in hidden.TESTS if t.startswith("ResNet50")]


def _record(test_id, namespace):
    """Captured as the sandbox does, then sent through JSON as the sandbox's channel does."""
    record = capture_in_process(COURSE, test_id, namespace)
    return TestRecord.from_json(json.loads(json.dumps(record.to_json())))


def _judge(test_id, namespace):
    return JUDGE.verdict(test_id, _record(test_id, namespace))


def test_there_is_one_entry_per_test_cell_of_the_contract():
    contract = (paths.PROJECT_ROOT / "docs" / "CONTRACTS.md").read_text()
    cells = re.findall(r"^\| `(\w+_(?:public|hidden_\w+))` \|", contract, flags=re.M)
    assert len(cells) == 9 and sorted(cells) == sorted(hidden.TESTS)


@pytest.mark.parametrize(
    "block, variant",
    [("identity_block", v) for v in (sv.identity_course, sv.identity_plus_relu_layer, sv.identity_loop,
                                      sv.identity_sequential, sv.identity_nested_functional)]
    + [("convolutional_block", v) for v in (sv.conv_course, sv.conv_loop_plus, sv.conv_sequential)],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_valid_blocks_pass_every_block_test(block, variant):
    for test_id in BLOCK_IDS[block]:
        assert _judge(test_id, {block: variant}) == (True, f"✓ {test_id}: passed.")


@pytest.mark.parametrize("variant", sv.VALID_RESNET, ids=lambda v: v.__name__)
def test_valid_resnet50_passes_every_resnet_test(variant):
    namespace = {"identity_block": sv.identity_course, "convolutional_block": sv.conv_course, "ResNet50": variant}
    for test_id in RESNET_IDS:
        assert _judge(test_id, namespace) == (True, f"✓ {test_id}: passed.")


# The hidden cases use other f, so some hints carry other numbers than the public ones.
_STRUCTURE_HINT = {
    sv.identity_valid_padding: "the middle convolution must use padding='same' and kernel size f",
    sv.identity_kernel_3: "the middle convolution must use padding='same' and kernel size f (f=1; got kernel 3x3",
    sv.identity_filters_swapped: "use F1, F2, F3 = filters in this order: the convolutions need [3, 5, 6] filters",
    sv.conv_filters_swapped: "use F1, F2, F3 = filters in this order: the convolutions need [2, 4, 6] filters",
}
BLOCK_MISTAKES = [("identity_block", v, h) for v, h in IDENTITY_MISTAKES] + [
    ("convolutional_block", v, h) for v, h in CONV_MISTAKES
] + [("identity_block", sv.identity_unseeded, "use initializer(seed=0) for every Conv2D")]


@pytest.mark.parametrize("block, variant, hint", BLOCK_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_block_mistakes_fail_the_hidden_tests_with_the_right_hint(block, variant, hint):
    hint = _STRUCTURE_HINT.get(variant, hint)
    for kind in ("hidden_structure", "hidden_values"):
        passed, message = _judge(f"{block}_{kind}", {block: variant})
        assert not passed and message.startswith("✗ ") and hint in message, (kind, message)
        assert [i18n.untranslated_lines(message, lang) for lang in ("zh_CN", "zh_TW")] == [[], []], message


@pytest.mark.parametrize("variant, hint", sv.NESTED_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_a_mistake_inside_a_nested_model_fails_the_hidden_tests_as_flat(variant, hint):
    passed, message = _judge("identity_block_hidden_structure", {"identity_block": variant})
    assert not passed and hint in message, message


def test_unseeded_initializer_passes_the_public_test_but_not_the_hidden_ones():
    assert _judge("identity_block_public", {"identity_block": sv.identity_unseeded})[0]


def test_a_value_only_mistake_fails_values_but_not_structure():
    namespace = {"identity_block": sv.identity_bn_epsilon}
    passed, message = _judge("identity_block_hidden_values", namespace)
    assert not passed and "values differ from the expected output" in message
    assert _judge("identity_block_hidden_structure", namespace)[0]


@pytest.mark.parametrize("variant, hint", RESNET_MISTAKES, ids=lambda v: getattr(v, "__name__", ""))
def test_resnet_mistakes_fail_the_shapes_test_with_the_right_hint(variant, hint):
    passed, message = _judge("ResNet50_hidden_shapes", {"ResNet50": variant})
    assert not passed and hint in message, message
    assert [i18n.untranslated_lines(message, lang) for lang in ("zh_CN", "zh_TW")] == [[], []], message


def test_the_variants_test_says_which_input_shape_failed():
    passed, message = _judge("ResNet50_hidden_variants", {"ResNet50": sv.resnet_stage3_stride_1})
    assert not passed
    assert message.startswith("✗ with input_shape=(48, 48, 3), classes=10: stage 3 should downsample with s=2")
    assert i18n.translate_message(message, "zh_CN").startswith(
        "✗ 当 input_shape=(48, 48, 3)、classes=10 时：第 3 阶段应以 s=2 下采样")


def test_resnet_tests_use_the_reference_blocks_so_a_block_bug_costs_once():
    broken = dict(vars(sv), identity_block=sv.identity_main_path_only)
    resnet = types.FunctionType(sv.resnet_course.__code__, broken, "ResNet50", sv.resnet_course.__defaults__)
    namespace = {"ResNet50": resnet}
    for test_id in ("ResNet50_public", "ResNet50_hidden_shapes", "ResNet50_hidden_variants"):
        assert _judge(test_id, namespace)[0], test_id
    # ...while a bug in ResNet50 itself still fails them.
    assert not _judge("ResNet50_public", {"ResNet50": sv.resnet_stage3_stride_1})[0]


def test_a_missing_function_is_a_fail_naming_it():
    passed, message = _judge("ResNet50_hidden_shapes", {})
    assert not passed
    assert message == ("✗ ResNet50(input_shape=(64, 64, 3), classes=6) raised NameError: "
                       "ResNet50 is not defined (run its cell first)")


def test_a_crashing_student_function_is_a_fail_with_its_error():
    def crashing(input_shape=(64, 64, 3), classes=6):
        raise ZeroDivisionError("oops")

    passed, message = _judge("ResNet50_hidden_shapes", {"ResNet50": crashing})
    assert not passed and message == "✗ ResNet50(input_shape=(64, 64, 3), classes=6) raised ZeroDivisionError: oops"


def test_no_record_is_a_fail():
    assert JUDGE.verdict("identity_block_public", None) == (False, "✗ no result: the test did not run to the end")


def _capture(**change):
    good = _record("identity_block_public", {"identity_block": sv.identity_course}).to_json()
    capture = dict(good["captures"][0], **change)
    return {"test_id": "identity_block_public", "captures": [capture, good["captures"][1]]}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "a record must be an object"),
        ({"test_id": "x", "captures": []}, "captures must be a list of 1 to 16 captures"),
        (_capture(error="boom"), "a capture holds either a config or an error"),
        (_capture(training="yes"), "training must be true, false or null"),
        (_capture(convs=[1, "2"]), "convs must be a list of at most 64 small integers"),
        (_capture(extra=1), "a capture has unknown fields: extra"),
        (_capture(case="x" * 65), "case is longer than 64 characters"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_malformed_records_are_refused_with_a_reason(data, reason):
    with pytest.raises(RecordError, match=re.escape(reason)):
        TestRecord.from_json(data)


def _with_layer(record: dict, layer: dict) -> TestRecord:
    for capture in record["captures"]:
        capture["config"]["layers"].insert(1, layer)
    return TestRecord.from_json(record)


@pytest.mark.parametrize(
    ("layer", "reason"),
    [
        ({"module": "keras.layers", "class_name": "Lambda", "config": {}, "name": "l", "inbound_nodes": []},
         "Lambda layer"),
        ({"module": "os", "class_name": "system", "config": {}, "name": "l", "inbound_nodes": []},
         "uses os.system, which the grader does not rebuild"),
        ({"module": "keras.layers", "class_name": "Conv2D", "name": "big", "inbound_nodes": [],
          "config": {"filters": 4096, "kernel_size": [15, 15], "activation": "linear"},
          "build_config": {"input_shape": [None, 8, 8, 4096]}}, "weights"),
        ({"module": "keras.layers", "class_name": "Dense", "name": "d", "inbound_nodes": [],
          "config": {"units": 10**6, "activation": "linear"}}, "out-of-range value (units=1000000)"),
    ],
    ids=["lambda", "foreign-module", "huge-conv", "huge-int"],
)
def test_hostile_graphs_are_a_fail_never_built(layer, reason):
    record = _record("identity_block_public", {"identity_block": sv.identity_course}).to_json()
    passed, message = JUDGE.verdict("identity_block_public", _with_layer(record, layer))
    assert not passed and reason in message, message


def test_a_forged_record_for_another_function_fails():
    """A correct convolutional block's graph sent as the identity block's record scores nothing."""
    forged = _record("convolutional_block_public", {"convolutional_block": sv.conv_course}).to_json()
    forged["test_id"] = "identity_block_public"
    assert not JUDGE.verdict("identity_block_public", TestRecord.from_json(forged))[0]


def test_run_hidden_test_prints_success_and_raises_the_hint(capsys):
    run_hidden_test("identity_block_hidden_structure", {"identity_block": sv.identity_course})
    assert capsys.readouterr().out == "✓ identity_block_hidden_structure: passed.\n"
    run_hidden_test("identity_block_hidden_values",
                    {"identity_block": sv.identity_sequential})  # a Sequential main path
    assert capsys.readouterr().out == "✓ identity_block_hidden_values: passed.\n"
    with pytest.raises(AssertionError, match=r"^✗ BatchNormalization must normalise the channel axis"):
        run_hidden_test("identity_block_hidden_structure", {"identity_block": sv.identity_bn_axis_1})
