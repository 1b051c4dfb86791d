"""Correct code passes on a GPU that rounds to TensorFloat-32, and mistakes still fail there.

TensorFlow rounds the float32 inputs of convolutions and matrix products to TF32 on NVIDIA Ampere
and newer GPUs by default. ``tests/tf32`` emulates that rounding on the CPU (exactly where a GPU
would apply it); the checks compute on the CPU (:mod:`resnet_signs.checks.numerics`), so under the
emulation the reference still passes every public check and every hidden test, and each mistake
keeps its hint. The first tests prove the emulation bites: left on the default device, the same
computation misses the stored values by 7e-4 of their scale (the tolerance is 1e-4).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from resnet_signs import checks
from resnet_signs.checks import diagnose, expected
from resnet_signs.checks.capture import capture_blocks
from resnet_signs.checks.cases import PUBLIC_BLOCK_CASES
from resnet_signs.checks.observe import observe_blocks
from resnet_signs.grading.plain_nbgrader import run_hidden_test
from resnet_signs.instructor import load_hidden_tests, load_reference

from .test_public import CONV_MISTAKES, IDENTITY_MISTAKES, RESNET_MISTAKES, _rejects

REFERENCE = load_reference()
HIDDEN = [test_id for test_id, entry in load_hidden_tests().TESTS.items() if entry.kind != "public"]
PUBLIC_TESTS = {"identity_block": checks.identity_block_test, "convolutional_block": checks.convolutional_block_test}


def _hint(block: str, *, exact: bool):
    case = PUBLIC_BLOCK_CASES[block]
    observation = observe_blocks(capture_blocks(getattr(REFERENCE, block), [case]), [case], exact=exact)
    return diagnose.block_hint(block, observation, expected.load(block), [case])


def test_rounding_keeps_ten_mantissa_bits_ties_to_even(tf32):
    ulp = 2.0 ** -10
    values = np.float32([1 + ulp / 2, 1 + 1.5 * ulp, 1 + 0.51 * ulp, -(1 + 0.51 * ulp), 3.14159265])
    rounded = tf32.round_to_tf32(values).numpy()
    np.testing.assert_array_equal(rounded, np.float32([1.0, 1 + 2 * ulp, 1 + ulp, -(1 + ulp), 3.140625]))


def test_gradients_pass_the_rounding_as_on_a_gpu(tf32):
    # The notebook's gradient-norm cell and its training ran without gradients under the emulation.
    import keras
    import tensorflow as tf

    layer = keras.layers.Conv2D(2, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=0))
    x = tf.constant(np.random.default_rng(0).random((1, 5, 5, 3), "float32"))

    def kernel_gradient():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        return tape.gradient(loss, layer.kernel.value)

    plain = kernel_gradient().numpy()
    with tf32.installed():
        rounded = kernel_gradient()
    assert rounded is not None
    np.testing.assert_allclose(rounded.numpy(), plain, rtol=1e-2)
    assert not np.array_equal(rounded.numpy(), plain)  # computed from the rounded inputs


@pytest.mark.parametrize("block", sorted(PUBLIC_BLOCK_CASES))
def test_the_emulation_bites_where_the_checks_do_not_pin_the_cpu(tf32, block):
    assert _hint(block, exact=False) is None  # plain float32 on this CPU
    with tf32.installed():
        hint = _hint(block, exact=False)
    assert hint is not None and hint.startswith("✗ values differ from the expected output"), hint


def test_the_emulation_spares_ops_placed_on_the_cpu_and_a_disabled_tf32(tf32):
    import tensorflow as tf

    x = tf.constant(np.float32([[1 + 2.0 ** -12]]))
    with tf32.installed():
        assert tf.matmul(x, x).numpy()[0, 0] == 1.0  # rounded inputs
        with tf.device("cpu:0"):
            assert tf.matmul(x, x).numpy()[0, 0] > 1.0
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            assert tf.matmul(x, x).numpy()[0, 0] > 1.0
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(True)


def test_processes_started_with_its_environment_round(tf32, tmp_path):
    log = tmp_path / "pids"
    code = ("import tensorflow as tf, tf32_emulation as e; "
            "print(e.active(), tf.matmul([[1 + 2**-12]], [[1.0]]).numpy()[0, 0])")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                            env=tf32.environment(log=log), timeout=300)
    assert result.stdout.split() == ["True", "1.0"], result.stderr[-2000:]
    assert len(tf32.installed_pids(log)) == 1


def test_the_reference_passes_every_public_check_and_hidden_test_under_tf32(tf32, capsys):
    namespace = vars(REFERENCE)
    with tf32.installed():
        for block, public in PUBLIC_TESTS.items():
            assert _hint(block, exact=True) is None
            public(getattr(REFERENCE, block))
        checks.resnet50_test(REFERENCE.ResNet50)
        for test_id in HIDDEN:  # what a hidden test cell runs under plain nbgrader
            run_hidden_test(test_id, namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"✓ {name}: all checks passed." for name in (*PUBLIC_TESTS, "ResNet50")] + [
        f"✓ {test_id}: passed." for test_id in HIDDEN]


@pytest.mark.parametrize("test, variant, hint",
                         [(checks.identity_block_test, v, h) for v, h in IDENTITY_MISTAKES]
                         + [(checks.convolutional_block_test, v, h) for v, h in CONV_MISTAKES]
                         + [(checks.resnet50_test, v, h) for v, h in RESNET_MISTAKES],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_mistakes_keep_their_hints_under_tf32(tf32, test, variant, hint):
    with tf32.installed():
        _rejects(test, variant, hint)
