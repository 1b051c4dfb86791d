"""The judging process: it observes what this process would, and a limit it hits is its test's verdict.

Each restart imports TensorFlow again (seconds), so the process-killing tests share what they can.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import threading
import time

import numpy as np
import pytest

from resnet_signs import paths
from resnet_signs.checks.cost import Budget
from resnet_signs.checks.records import RecordError
from resnet_signs.grading import course as courses
from resnet_signs.grading import fingerprint, judging
from resnet_signs.grading.judge import InProcess, Judge, JudgingFailed, capture_in_process

from checks import hostile_graphs as hg  # tests/ is on sys.path (rootdir-relative packages)
from checks import student_variants as sv

pytestmark = pytest.mark.slow
COURSE = courses.load(paths.course_dir())
IDENTITY_TESTS = [t for t in COURSE.tests if t.function == "identity_block"]


def _captures(test, function):
    return list(capture_in_process(COURSE, test.test_id, {test.function: function}).captures)


@pytest.fixture(scope="module")
def process():
    process = judging.JudgingProcess(memory_mb=4096)
    yield process
    process.close()


def test_the_judging_process_observes_exactly_what_this_process_observes(process):
    test = COURSE.test("identity_block_hidden_values")
    captures = _captures(test, sv.identity_sequential)
    budget = Budget.from_observation(Judge(COURSE).expected(test))
    there, here = process.observe(test, captures, budget), InProcess().observe(test, captures, budget)
    assert there.to_json() == here.to_json()
    assert all(run.output is not None and np.isfinite(run.output).all() for run in there.runs)


def test_a_correct_submission_passes_every_test_judged_there(process):
    judge = Judge(COURSE, observer=process)
    namespace = {"identity_block": sv.identity_sequential, "convolutional_block": sv.conv_course,
                 "ResNet50": sv.resnet_sequential_stem}
    for test in COURSE.tests:
        assert judge.verdict(test.test_id, capture_in_process(COURSE, test.test_id, namespace)) == (
            True, f"✓ {test.test_id}: passed.")
    # The cache key reads Keras' version and backend without importing it: the judging process runs exactly those.
    assert process.versions() == f"keras {importlib.metadata.version('keras')} {fingerprint.keras_backend()}"


def test_the_judging_process_gets_no_gpu_and_the_threads_it_is_given(monkeypatch):
    import psutil

    monkeypatch.delenv(paths.GRADER_GPU_ENV, raising=False)
    threads = judging.JudgingProcess(memory_mb=4096, env={"TF_NUM_INTRAOP_THREADS": "1"})
    try:
        threads.prepare()
        environment = psutil.Process(threads._proc.pid).environ()
    finally:
        threads.close()
    assert environment["CUDA_VISIBLE_DEVICES"] == "-1" and environment["TF_NUM_INTRAOP_THREADS"] == "1"


def test_memory_over_the_limit_is_the_tests_verdict_and_the_next_test_gets_a_fresh_process(process):
    """A graph that slipped past the estimate (no budget here) allocates ~2 GB: killed at the limit."""
    test = COURSE.test("identity_block_public")
    captures = _captures(test, lambda X, f, filters, training=True, initializer=None: hg.identity_activation_heavy(
        X, f, filters, training, hg.random_uniform, padding=3700))
    process.versions()  # started and measured
    saved, process.memory_mb = process.memory_mb, (process._rss() >> 20) + 400
    try:
        with pytest.raises(JudgingFailed) as failure:
            process.observe(test, captures, None)
    finally:
        process.memory_mb = saved
    assert failure.value.kind == "memory"
    assert failure.value.verdict("identity_block") == (
        f"✗ judging what identity_block built went over the grader's memory limit ({failure.value.limit} MB)")
    good = process.observe(test, _captures(test, sv.identity_course), None)  # a new process
    assert good.run("public", True).output is not None


def test_a_process_that_dies_while_judging_is_the_tests_verdict(process):
    test = COURSE.test("convolutional_block_public")
    captures = _captures(test, hg.conv_compute_heavy)  # minutes of convolutions without a budget
    process.versions()
    pid = process._proc.pid
    killer = threading.Timer(2.0, lambda: judging.os.kill(pid, judging.signal.SIGKILL))
    killer.start()
    try:
        with pytest.raises(JudgingFailed) as failure:
            process.observe(test, captures, None)
    finally:
        killer.cancel()
    assert failure.value.kind == "crash" and failure.value.how == "killed by SIGKILL"
    assert failure.value.verdict("convolutional_block") == (
        "✗ judging what convolutional_block built stopped the grader's judging process (killed by SIGKILL)")


def test_time_over_the_limit_is_a_verdict_naming_it_through_the_judge():
    slow = judging.JudgingProcess(memory_mb=4096, seconds=0.001)
    try:
        judge = Judge(COURSE, observer=slow)
        test = IDENTITY_TESTS[0]
        judge.expected(test)  # the reference's observation has the start-up's time limit, not the test's
        started = time.monotonic()
        passed, message = judge.verdict(test.test_id, capture_in_process(COURSE, test.test_id,
                                                                          {"identity_block": sv.identity_course}))
        assert (passed, message) == (False, "✗ judging what identity_block built took longer than the grader's time "
                                            "limit for judging (0.001 s)")
        assert time.monotonic() - started < judging.START_SECONDS
    finally:
        slow.close()


def test_requests_and_replies_cross_as_validated_records():
    test = COURSE.test("identity_block_public")
    request = judging.Observe.of(test, _captures(test, sv.identity_course), Budget.from_observation(
        Judge(COURSE).expected(test)))
    assert judging.request_from_json(json.loads(json.dumps(request.to_json()))) == request
    bad_factor = dict(request.to_json(), budget={"factor": True, "reference": {}})
    for data, reason in ((bad_factor, "a budget's factor must be a positive integer"),
                         ({"do": "shell", "command": "rm"},
                          "a request must be an object whose do is observe or reference"),
                         ({"observation": None, "error": None}, "a reply holds either an observation or an error")):
        read = judging.Reply.from_json if "error" in data else judging.request_from_json
        with pytest.raises(RecordError, match=re.escape(reason)):
            read(data)
