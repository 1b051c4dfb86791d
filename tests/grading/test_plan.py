"""The plan a sandbox child reads: typed records with a validating ``from_json`` (a malformed plan is one
line and nothing runs). How a notebook becomes steps is tested in test_core.py."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest

from resnet_signs import paths
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE, PUBLIC_STAND_INS
from resnet_signs.checks.records import RecordError
from resnet_signs.grading.model import Limits
from resnet_signs.grading.plan import ChildPlan, Step, StepKind, TestRequest

PLAN = ChildPlan(
    steps=(Step(StepKind.CODE, 0, None, "import numpy as np"),
           Step(StepKind.CODE, 2, "identity_block", "def identity_block(X, f, filters): ...", answer=True),
           Step(StepKind.OBSERVE, 3, "identity_block", test_id="identity_block_public"),
           Step(StepKind.OBSERVE, None, "ResNet50", test_id="ResNet50_public")),
    tests={"identity_block_public": TestRequest("identity_block", (PUBLIC_BLOCK_CASES["identity_block"],)),
           "ResNet50_public": TestRequest("ResNet50", (PUBLIC_MODEL_CASE,))},
    stand_ins=dict(PUBLIC_STAND_INS),
    limits=Limits(function_timeout=30, timeout=200),
    max_file_bytes=1 << 20,
    skip=frozenset({1}),
    observed=frozenset({"ResNet50_public"}),
)


def test_a_plan_survives_json():
    assert ChildPlan.from_json(json.loads(json.dumps(PLAN.to_json()))) == PLAN


def _broken(change):
    data = copy.deepcopy(PLAN.to_json())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.pop("limits"), r"the plan lacks the field 'limits'"),
        (lambda d: d.update(extra=1), r"the plan has unknown fields: extra"),
        (lambda d: d.update(steps="all"), r"steps must be a list of at most"),
        (lambda d: d["steps"][0].update(kind="shell"), r"a step's kind must be one of code, observe, got 'shell'"),
        (lambda d: d["steps"][2].update(test_id=None), r"an observe step, and only an observe step, names a test"),
        (lambda d: d["steps"][0].update(test_id="identity_block_public"), r"only an observe step, names a test"),
        (lambda d: d["steps"][0].update(source=None), r"a step's source must be a string, got NoneType"),
        (lambda d: d["steps"][0].update(cell=-1), r"a step's cell must be a whole number from 0"),
        (lambda d: d["steps"][1].update(answer="yes"), r"answer must be true or false, got 'yes'"),
        (lambda d: d["tests"].pop("ResNet50_public"), r"names a test the plan does not describe: ResNet50_public"),
        (lambda d: d["tests"]["ResNet50_public"].update(cases={}), r"a test's cases must be a list"),
        (lambda d: d["tests"]["ResNet50_public"]["cases"][0].update(type="movie"), r"a test's case is malformed"),
        (lambda d: d["tests"]["ResNet50_public"]["cases"][0].pop("classes"), r"a test's case is malformed \(KeyError"),
        (lambda d: d["stand_ins"]["identity_block"].update(kind="mirror"), r"a stand-in is malformed \(ValueError"),
        (lambda d: d["stand_ins"].update(x=[]), r"a stand-in is malformed"),
        (lambda d: d["limits"].update(cell_timeout=-1), r"limits.cell_timeout must be a number from 0"),
        (lambda d: d["limits"].update(memory_mb="lots"), r"limits.memory_mb must be a whole number"),
        (lambda d: d["limits"].update(timeout=float("nan")), r"limits.timeout must be a number"),
        (lambda d: d.update(max_file_bytes=0), r"max_file_bytes must be a whole number from 1"),
        (lambda d: d.update(skip=["1"]), r"a skipped step must be a whole number"),
        (lambda d: d.update(observed=[None]), r"an observed test must be a string"),
    ],
    ids=["no-limits", "extra-field", "steps-not-a-list", "unknown-kind", "observe-without-test",
         "code-with-test", "source-not-text", "negative-cell", "answer-not-bool", "unknown-test", "cases-not-a-list",
         "unknown-case-type", "case-missing-field", "bad-stand-in", "stand-in-not-an-object", "negative-limit",
         "memory-not-a-number", "nan-timeout", "no-file-size", "skip-not-ints", "observed-not-text"],
)
def test_a_malformed_plan_is_one_line(change, reason):
    with pytest.raises(RecordError, match=reason) as error:
        ChildPlan.from_json(_broken(change))
    assert "\n" not in str(error.value)


def test_a_child_given_a_malformed_plan_runs_nothing_and_says_why_in_one_line():
    read_end, write_end = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(paths.PROJECT_ROOT)}
    try:
        result = subprocess.run([sys.executable, "-m", "resnet_signs.grading.sandbox", "--channel", str(write_end)],
                                input=json.dumps(_broken(lambda d: d["steps"][0].update(kind="shell"))),
                                check=False, capture_output=True, text=True, env=env, pass_fds=(write_end,),
                                timeout=120)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        events = pipe.read()
    assert result.returncode == 2 and events == b""  # not even "ready": no step ran
    assert result.stdout.strip().splitlines() == [
        "sandbox: the plan is malformed: a step's kind must be one of code, observe, got 'shell'"]
