"""The public checks' tolerance holds on another numeric stack.

The reference's observations of the public cases are computed again in a fresh process, under
TensorFlow with oneDNN off and under Keras 3's JAX backend on the CPU, and judged against the
stored expected values (computed with TensorFlow and oneDNN on) exactly as a student's would be:
the reference must pass its own checks everywhere. The largest deviation is printed next to the
tolerance (``pytest -s``); the README's GPU section records the figures.

The JAX run needs the ``jax`` extra (``pip install -c constraints.txt -e '.[jax]'``) and skips,
saying so, without it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from resnet_signs import paths
from resnet_signs.checks.diagnose import RTOL

pytestmark = pytest.mark.slow

#: Runs in the child: observe the reference on the public cases, judge, measure the deviations.
SCRIPT = """
import json, keras, numpy as np
from resnet_signs.checks import diagnose, expected, generate
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES, PUBLIC_MODEL_CASE
from resnet_signs.instructor import load_reference

observed, stored = generate.compute(load_reference()), expected.read()
hints = {block: diagnose.block_hint(block, observed[block], stored[block], [case])
         for block, case in PUBLIC_BLOCK_CASES.items()}
hints["ResNet50"] = diagnose.model_hint(observed["ResNet50"], stored["ResNet50"], PUBLIC_MODEL_CASE)
deviations = {}
for function, values in stored.items():
    for key, want in values.items():
        if isinstance(want, np.ndarray) and want.dtype.kind == "f":
            got = np.asarray(observed[function][key], np.float64)
            scale = max(1.0, float(np.max(np.abs(want))))
            deviations[f"{function}:{key}"] = float(np.max(np.abs(got - want))) / scale
print(json.dumps({"backend": keras.backend.backend(), "hints": hints, "deviations": deviations}))
"""


def _observe(**env) -> dict:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", paths.COURSE_ENV: str(paths.course_dir()), **env}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=environment,
                            timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _judge(report: dict, backend: str, function: str) -> None:
    assert report["backend"] == backend
    assert report["hints"][function] is None
    mine = {key: value for key, value in report["deviations"].items() if key.startswith(f"{function}:")}
    if not mine:
        return  # judged on structure only (ResNet50 is checked with stand-in blocks)
    worst = max(mine, key=mine.get)
    print(f"\n{backend}: {function}'s largest deviation {mine[worst]:.2e} of the scale ({worst}); "
          f"tolerance {RTOL:.0e}")
    assert mine[worst] <= RTOL


FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")
#: Keras 3's seeded initialisers draw from each backend's own generator: glorot_uniform(seed=0) gives
#: other numbers under JAX than under TensorFlow, so the stored values (the course's, TensorFlow's)
#: only hold for a case that uses one. A tolerance cannot fix this; strict: we hear when it changes.
SEED_DEPENDENT = pytest.mark.xfail(strict=True, reason="the public case initialises with glorot_uniform(seed=0), "
                                                        "whose numbers depend on the backend's random generator")


@pytest.fixture(scope="module")
def onednn_off() -> dict:
    return _observe(TF_ENABLE_ONEDNN_OPTS="0")


@pytest.fixture(scope="module")
def jax_cpu() -> dict:
    if importlib.util.find_spec("jax") is None:
        pytest.skip("JAX is not installed (the [jax] extra)")
    return _observe(KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_reference_passes_its_checks_with_onednn_off(onednn_off, function):
    _judge(onednn_off, "tensorflow", function)


@pytest.mark.parametrize("function", [
    "identity_block", pytest.param("convolutional_block", marks=SEED_DEPENDENT), "ResNet50"])
def test_reference_passes_its_checks_under_the_jax_backend_on_cpu(jax_cpu, function):
    _judge(jax_cpu, "jax", function)
