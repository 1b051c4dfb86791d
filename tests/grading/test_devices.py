"""Grading takes no GPU by default: every grading process starts with the GPUs hidden from CUDA.

CI has no GPU, so these tests check what decides it: the environment the sandbox children and the
zygote get, that the zygote's preloading starts no TensorFlow runtime (so no CUDA context exists
before it forks), the judging process's own setting, and the instructor's switch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resnet_signs import cli, paths
from resnet_signs.errors import UsageError
from resnet_signs.grading import devices, isolation, runner

#: What the zygote runs before it forks its first child, then which device runtime started by then
#: (TensorFlow imports JAX when it is installed; importing starts nothing, a first computation would).
PRELOAD_PROBE = """
import json, os, sys
from resnet_signs.grading import zygote
zygote._preload()
from tensorflow.python.eager import context
started = {"tensorflow": context.context()._initialized}
if "jax" in sys.modules:
    from jax._src import xla_bridge
    started["jax"] = bool(xla_bridge._backends)
if "torch" in sys.modules:
    started["torch"] = sys.modules["torch"].cuda.is_initialized()
print(json.dumps({"runtimes_started": sorted(k for k, v in started.items() if v),
                  "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}))
"""


@pytest.fixture
def no_setting(monkeypatch):
    monkeypatch.delenv(paths.GRADER_GPU_ENV, raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return monkeypatch


def test_by_default_children_and_the_zygote_get_no_gpu(no_setting, tmp_path):
    assert not devices.allowed()
    assert runner.child_env(tmp_path)["CUDA_VISIBLE_DEVICES"] == "-1"
    assert isolation.summary().endswith("; GPU: hidden") and "GPU: hidden" in isolation.notes()


def test_an_instructor_can_give_grading_the_gpu(no_setting, tmp_path):
    no_setting.setenv(paths.GRADER_GPU_ENV, "1")
    no_setting.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert devices.allowed() and runner.child_env(tmp_path)["CUDA_VISIBLE_DEVICES"] == "0"
    assert isolation.summary().endswith(f"; GPU: visible ({paths.GRADER_GPU_ENV}=1)")


def test_a_bad_setting_is_one_clear_error(no_setting):
    no_setting.setenv(paths.GRADER_GPU_ENV, "sometimes")
    with pytest.raises(UsageError,
                       match=r"RESNET_SIGNS_GRADER_GPU must be 1 .* Received: RESNET_SIGNS_GRADER_GPU='sometimes'"):
        devices.for_children()


def test_the_judging_process_hides_the_gpus_before_tensorflow_starts(no_setting):
    devices.keep_off_gpu()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "-1"  # the worker processes it spawns inherit it
    no_setting.setenv(paths.GRADER_GPU_ENV, "yes")
    no_setting.delenv("CUDA_VISIBLE_DEVICES")
    devices.keep_off_gpu()
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_the_zygote_starts_no_tensorflow_runtime_before_it_forks(no_setting, tmp_path):
    env = {**runner.child_env(tmp_path), "PYTHONPATH": str(paths.PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-c", PRELOAD_PROBE], env=env, check=False, capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"runtimes_started": [], "cuda_visible_devices": "-1"}


def test_grade_gpu_option_reaches_the_worker_processes(no_setting, tmp_path, capsys):
    no_setting.setenv(paths.GRADER_GPU_ENV, "0")  # restored after the test
    assert cli.main(["grade", str(tmp_path / "missing"), "--out", str(tmp_path / "out"), "--gpu"]) == 2
    assert os.environ[paths.GRADER_GPU_ENV] == "1"
    assert "missing" in capsys.readouterr().err
    assert Path(tmp_path / "out").exists() is False


def test_the_sandbox_gets_no_gpu_device_file_unless_allowed(no_setting, tmp_path, monkeypatch):
    """A student's code could unset CUDA_VISIBLE_DEVICES: the device files themselves stay out of reach."""
    gpus = [Path("/dev/nvidia0"), Path("/dev/nvidiactl")]
    monkeypatch.setattr(isolation, "gpu_devices", lambda: gpus)
    bwrap, unshare = isolation._WRAPPERS["bwrap"], isolation._WRAPPERS["unshare"]
    assert "/dev/nvidia0" not in bwrap(["true"], tmp_path)  # a whitelist: not bound, so not there
    assert "/dev/nvidia0" not in unshare(["true"], tmp_path)
    no_setting.setenv(paths.GRADER_GPU_ENV, "1")
    command = bwrap(["true"], tmp_path)
    assert command[command.index("/dev/nvidia0") - 1] == "--dev-bind"
    command = unshare(["true"], tmp_path)
    assert command[command.index("/dev/nvidiactl") - 1] == "device"
