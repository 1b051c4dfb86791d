"""The judge's cost estimate and budget, nested models' bounds, and observations as validated records."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

from resnet_signs import paths
from resnet_signs.checks import cost, expected, observations, observe
from resnet_signs.checks.capture import capture_block, capture_model
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE, PUBLIC_STAND_INS, BlockCase
from resnet_signs.checks.observations import Cost
from resnet_signs.checks.rebuild import GraphRejected, validate
from resnet_signs.checks.records import RecordError
from resnet_signs.grading import course as courses
from resnet_signs.grading.judge import Judge, capture_in_process

from . import hostile_graphs as hg
from . import student_variants as sv

IDENTITY_CASE = PUBLIC_BLOCK_CASES["identity_block"]
JUDGE = Judge(courses.load(paths.course_dir()))


def _config(fn, case=IDENTITY_CASE):
    capture = capture_block(fn, case, True)
    assert capture.error is None, capture.error
    return capture.config


# --------------------------------------------------------------------------- the estimate
def test_the_estimate_counts_every_layer_call_of_the_reference_block():
    m, h, w, c = IDENTITY_CASE.shape
    f, (f1, f2, f3) = IDENTITY_CASE.f, IDENTITY_CASE.filters
    maps = m * h * w  # every layer keeps the 4x4 size
    macs = (maps * f1 * c + maps * f1 + maps * f1  # 1x1 conv, BatchNormalization, ReLU
            + maps * f2 * f * f * f1 + maps * f2 + maps * f2  # f x f conv, BatchNormalization, ReLU
            + maps * f3 * f2 + maps * f3  # 1x1 conv, BatchNormalization
            + maps * f3 + maps * f3)  # Add, ReLU
    elements = maps * c + 6 * maps * f1 + 4 * maps * f3  # the input, then every layer's output (f1 == f2)
    assert cost.estimate(_config(sv.identity_course), IDENTITY_CASE.shape) == Cost(macs, elements)
    assert expected.load("identity_block").run("public", True).cost == Cost(macs, elements)  # the stored budget base


@pytest.mark.parametrize("nested", [sv.identity_sequential, sv.identity_nested_functional], ids=lambda v: v.__name__)
def test_a_nested_spelling_costs_what_its_flat_equivalent_costs(nested):
    for case in (IDENTITY_CASE, BlockCase("odd", (2, 5, 7, 3), 3, (4, 2, 3), "he_normal", input_seed=1)):
        assert cost.estimate(_config(nested, case), case.shape) == cost.estimate(_config(sv.identity_course, case),
                                                                                 case.shape)


def test_a_nested_model_called_several_times_counts_each_call():
    def twice(X, f, filters, training=True, initializer=None):
        inputs = keras.Input(X.shape[1:])
        relu = keras.Model(inputs, keras.layers.Activation("relu")(inputs))
        return relu(relu(X))

    config = _config(twice)
    shape = IDENTITY_CASE.shape
    assert cost.estimate(config, shape) == Cost(2 * np.prod(shape), 3 * np.prod(shape))


def test_shapes_that_clash_are_estimated_from_above_not_refused():
    # The stride on the middle conv makes the paths clash at the Add for this input: the run fails there,
    # and the structure hint explains it; the estimate must not refuse the graph.
    case = PUBLIC_BLOCK_CASES["convolutional_block"]
    config = capture_block(sv.conv_shortcut_without_stride, case, True).config
    assert cost.estimate(config, case.shape).macs > 0


def test_a_model_with_stand_ins_is_estimated_on_a_batch_of_two():
    config = capture_model(sv.resnet_course, PUBLIC_MODEL_CASE, PUBLIC_STAND_INS).config
    assert cost.estimate(config, (2, 64, 64, 3)) == expected.load("ResNet50").run("public").cost


# --------------------------------------------------------------------------- the budget
def test_the_budget_is_fifty_times_the_references_most_expensive_mode():
    reference = observations.BlockObservation((
        observations.BlockRun("a", False, cost=Cost(10, 100)), observations.BlockRun("a", True, cost=Cost(20, 50)),
    ))
    budget = cost.Budget.from_observation(reference)
    assert budget.reference == {"a": Cost(20, 100)} and cost.FACTOR == 50
    budget.check("a", Cost(1000, 5000))  # exactly at the limit: allowed
    with pytest.raises(GraphRejected, match=re.escape("the graph would compute 1,001 multiply-adds on this case; "
                                                      "the grader's limit is 1,000 (50 × the reference's)")):
        budget.check("a", Cost(1001, 1))
    with pytest.raises(GraphRejected, match=re.escape("the graph would hold 5,001 activation values on this case; "
                                                      "the grader's limit is 5,000 (50 × the reference's)")):
        budget.check("a", Cost(1, 5001))


HOSTILE = [
    ("identity_block", hg.identity_activation_heavy,
     "builds a graph over the grader's budget: the graph would compute"),
    ("convolutional_block", hg.conv_compute_heavy, "builds a graph over the grader's budget: the graph would compute"),
    ("identity_block", hg.identity_hidden_lambda, "the grader does not run Lambda layers"),
    ("identity_block", hg.identity_huge_nested, "the graph has 465 layers (at most 400 are graded)"),
    ("identity_block", hg.identity_deeply_nested, "the graph nests models more than 8 deep"),
    ("identity_block", hg.identity_nested_calls, "the graph makes more than 20,000 layer calls"),
]


@pytest.mark.parametrize(("function", "variant", "hint"), HOSTILE, ids=lambda v: getattr(v, "__name__", ""))
def test_hostile_graphs_fail_every_test_without_being_built(function, variant, hint, monkeypatch):
    def never(config):
        raise AssertionError("a refused graph was built")

    test_ids = (f"{function}_public", f"{function}_hidden_values", f"{function}_hidden_structure")
    for test_id in test_ids:  # the reference's observations, built before the switch below
        JUDGE.expected(JUDGE.course.test(test_id))
    monkeypatch.setattr(observe, "rebuild", never)
    for test_id in test_ids:
        passed, message = JUDGE.verdict(test_id, capture_in_process(JUDGE.course, test_id, {function: variant}))
        assert not passed and hint in message, message
        if "budget" in hint:
            assert re.search(r"the grader's limit is [\d,]+ \(50 × the reference's\)$",
                             message.splitlines()[0]), message


# --------------------------------------------------------------------------- nested models' bounds
def test_nested_models_count_their_layers_and_weights_with_the_rest():
    config = _config(sv.identity_sequential)
    validate(config)  # the valid spelling passes
    inner = next(layer for layer in config["layers"] if layer["class_name"] == "Sequential")
    inner["config"]["layers"] += [dict(inner["config"]["layers"][-1], name=f"more{i}") for i in range(400)]
    with pytest.raises(GraphRejected, match=r"the graph has \d+ layers \(at most 400 are graded\)"):
        validate(config)


def test_a_nested_model_with_a_foreign_layer_is_refused():
    config = _config(sv.identity_sequential)
    inner = next(layer for layer in config["layers"] if layer["class_name"] == "Sequential")
    inner["config"]["layers"].append({"module": "os", "class_name": "system", "config": {}})
    with pytest.raises(GraphRejected, match=r"the block uses os.system, which the grader does not rebuild"):
        validate(config)


# --------------------------------------------------------------------------- observations as records
def test_observations_survive_json_exactly():
    for function in ("identity_block", "convolutional_block", "ResNet50"):
        stored = expected.load(function)
        again = observations.from_json(json.loads(json.dumps(stored.to_json())))
        assert again.to_json() == stored.to_json()
        for name, array in stored.arrays().items():
            np.testing.assert_array_equal(again.arrays()[name], array)


def _good_block() -> dict:
    return expected.load("identity_block").to_json()  # arrays inline, as they cross a process


def _with(change) -> dict:
    data = _good_block()
    change(data)
    return data


@pytest.mark.parametrize(("data", "reason"), [
    ([], "an observation must be an object of type block or model"),
    (_with(lambda d: d.update(extra=1)), "a block observation has unknown fields: extra"),
    (_with(lambda d: d["runs"][0].update(training="yes")), "training must be true or false"),
    (_with(lambda d: d["runs"][0]["output"].update(shape=[3, 4, 4, 4])), "holds 576 bytes for a shape of 192 floats"),
    (_with(lambda d: d["runs"][0]["output"].update(float32="not base64!")), "output is not base64"),
    (_with(lambda d: d["runs"][0].update(cost={"macs": -1, "elements": 1})), "a cost cannot be negative"),
    (_with(lambda d: d["runs"][0]["structure"]["main"][0].update(filters="4")), "filters must be an integer"),
    (_with(lambda d: d["runs"][0]["structure"].update(main=[{"op": "conv"}] * 5000)), "main must be a list of at most"),
], ids=["not-an-object", "unknown-field", "training", "array-size", "base64", "cost", "op-field", "overlong"])
def test_malformed_observations_are_refused_with_a_reason(data, reason):
    with pytest.raises(RecordError, match=re.escape(reason)):
        observations.from_json(data)
