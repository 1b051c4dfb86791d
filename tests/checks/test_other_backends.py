"""The checks hold on other numeric stacks: the GPU script (benchmarks/gpu.py) on the CPU.

``benchmarks/gpu.py`` judges the reference's observation of every test (public and hidden),
computed in a fresh process under another stack, against the expected values computed with
TensorFlow (oneDNN on) as the grader does; it also runs the student-facing public checks on the
reference, and the realistic mistakes of ``student_variants.py`` against all of a function's
tests. Here it runs its small setting on this machine's CPU: under Keras 3's JAX backend (the
``jax`` extra, which ``make test`` installs) and under TensorFlow with oneDNN off. On a GPU it is
the same script with the default settings (README, "GPU Jupyter servers").
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys

import pytest

from resnet_signs import paths
from resnet_signs.checks.diagnose import RTOL
from resnet_signs.instructor import load_hidden_tests

pytestmark = pytest.mark.slow
ROOT = paths.PROJECT_ROOT
TESTS = sorted(load_hidden_tests().TESTS)


def _environment(**env) -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", paths.COURSE_ENV: str(paths.course_dir()), **env}


@pytest.fixture(scope="module")
def expected_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpu") / "expected.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.gpu", "--write-expected", str(path)], cwd=ROOT,
                            env=_environment(), check=False, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return path


#: Each stack's run of the script: (backend, arguments, environment). They run at the same time: most of
#: each is a single-threaded import or compile, so together they take little more than the longer one.
RUNS = {
    "jax_cpu": ("jax", ("--small", "--train-steps", "0"), {"JAX_PLATFORMS": "cpu"}),
    "onednn_off": ("tensorflow", ("--small", "--train-steps", "1"), {"TF_ENABLE_ONEDNN_OPTS": "0"}),
}


@pytest.fixture(scope="module")
def reports(expected_file) -> dict:
    """``{run: that backend's report}`` for the runs of :data:`RUNS` this machine can do (JAX: the [jax] extra)."""
    chosen = {name: run for name, run in RUNS.items() if run[0] != "jax" or importlib.util.find_spec("jax")}
    started = {}
    for name, (backend, args, env) in chosen.items():
        out, log = expected_file.parent / f"{name}.json", expected_file.parent / f"{name}.log"
        with log.open("w") as sink:  # a file, not a pipe: neither process can block on the other's output
            process = subprocess.Popen([sys.executable, "-m", "benchmarks.gpu", "--backends", backend, "--expected",
                                        str(expected_file), "--out", str(out), *args], cwd=ROOT,
                                       env=_environment(**env), stdout=sink, stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)  # a group: the script runs each backend in a child
        started[name] = (backend, process, out, log)
    found = {}
    try:
        for name, (backend, process, out, log) in started.items():
            assert process.wait(timeout=900) == 0, log.read_text()[-5000:]
            found[name] = json.loads(out.read_text())["backends"][backend]
    finally:  # one run failed: the other, and the backend child it started, must not outlive the test
        for _, process, _, _ in started.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return found


@pytest.fixture(scope="module")
def jax_cpu(reports) -> dict:
    if "jax_cpu" not in reports:
        pytest.skip("JAX is not installed: install the [jax] extra (make test does)")
    return reports["jax_cpu"]


@pytest.fixture(scope="module")
def onednn_off(reports) -> dict:
    return reports["onednn_off"]


def _passes(report: dict, test_id: str) -> None:
    result = report["reference"][test_id]["cpu"]
    print(f"\n{report['device']['backend']}: {test_id} deviation {result['deviation']:.2e} (tolerance {RTOL:.0e})")
    assert result["passed"], result["hint"]
    assert result["deviation"] <= RTOL


@pytest.mark.parametrize("test_id", TESTS)
def test_the_reference_passes_every_test_under_the_jax_backend(jax_cpu, test_id):
    assert jax_cpu["device"]["backend"] == "jax"
    _passes(jax_cpu, test_id)


def test_the_public_checks_pass_the_reference_under_jax(jax_cpu):
    assert jax_cpu["public_checks"] == {name: {"passed": True} for name in ("identity_block", "convolutional_block",
                                                                            "ResNet50")}


@pytest.mark.parametrize("backend", ["jax_cpu", "onednn_off"])
def test_a_mistake_of_each_function_fails_and_is_named(backend, request):
    mistakes = request.getfixturevalue(backend)["mistakes"]  # the small setting: one per function
    assert {m["function"] for m in mistakes} == {"identity_block", "convolutional_block", "ResNet50"}
    assert [m["mistake"] for m in mistakes if not (m["fails"] and m["named"])] == []


def test_the_gpu_script_measures_the_options_and_a_training_step(jax_cpu, onednn_off):
    assert set(jax_cpu["options"]) == {"cpu_placement", "default_device", "default_device_tf32_off"}
    assert all(o["deviation"] <= RTOL for o in jax_cpu["options"].values())  # a CPU: no TF32 anywhere
    training = onednn_off["training"]  # the same Keras code on every backend (JAX compiles ResNet-50 for ~1 min)
    assert training["steps"] == 1 and training["images_per_s"] > 0 and training["final_loss"] > 0


@pytest.mark.parametrize("test_id", TESTS)
def test_the_reference_passes_every_test_with_onednn_off(onednn_off, test_id):
    _passes(onednn_off, test_id)
