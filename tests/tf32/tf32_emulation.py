"""TensorFloat-32 on a CPU: TensorFlow's float32 convolutions and matrix products rounded as an NVIDIA GPU rounds them.

On Ampere and newer GPUs TensorFlow enables TF32 by default: the float32 inputs of every
convolution and matrix product are rounded to 10 mantissa bits (round to nearest, ties to even)
before the tensor cores multiply them. This module makes ``tf.nn.convolution`` and ``tf.matmul``
(what Keras 3's TensorFlow backend calls for ``Conv2D`` and ``Dense``) do the same on a CPU,
exactly where a GPU would: while ``tf.config.experimental.tensor_float_32_execution_enabled()``
and unless the op was placed on the CPU explicitly (``tf.device("cpu")``/``keras.device("cpu")``),
which is where a GPU machine would run it in full float32.

Used in two ways: :func:`installed` in the test process, and ``sitecustomize.py`` beside this
file for processes the tests start (put this folder on ``PYTHONPATH``: :func:`environment`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Mantissa bits float32 has and TF32 drops (23 - 10).
DROPPED_BITS = 13
_ORIGINALS: dict = {}


def round_to_tf32(x):
    """``x`` with its float32 values rounded to TF32's 10-bit mantissa (other dtypes unchanged).

    The gradient passes through unchanged, as on a GPU, where the rounding happens inside the kernel:
    a bitcast has no gradient, and without this a network's kernels would get none (training and
    the notebook's gradient-norm cell would fail only under the emulation).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    if x.dtype != tf.float32:
        return x

    @tf.custom_gradient
    def rounded(values):
        bits = tf.bitcast(values, tf.int32)
        kept_lsb = tf.bitwise.bitwise_and(tf.bitwise.right_shift(bits, DROPPED_BITS), 1)
        half = (1 << (DROPPED_BITS - 1)) - 1
        bits = tf.bitwise.bitwise_and(bits + half + kept_lsb, ~((1 << DROPPED_BITS) - 1))
        return tf.bitcast(bits, tf.float32), lambda upstream: upstream

    return rounded(x)


def _placed_on_cpu(probe) -> bool:
    """Whether the op being built was placed on the CPU explicitly (eager: the device scope;
    inside a tf.function: the device requested for a probe op)."""
    import tensorflow as tf
    from tensorflow.python.eager import context

    device = (context.context().device_name if tf.executing_eagerly() else tf.identity(probe).op.device) or ""
    return "CPU" in device.upper()


def _applies(probe) -> bool:
    import tensorflow as tf

    return tf.config.experimental.tensor_float_32_execution_enabled() and not _placed_on_cpu(probe)


def _rounding(original, operands: int):
    def op(*args, **kwargs):
        if args and _applies(args[0]):
            args = tuple(round_to_tf32(a) for a in args[:operands]) + args[operands:]
        return original(*args, **kwargs)

    op.tf32_emulation = True
    return op


#: A file each process that installs the emulation appends its PID to, when set: how a test knows
#: that the processes it started (Jupyter kernels, grading workers) really rounded.
LOG_ENV = "TF32_EMULATION_LOG"


def install() -> None:
    """Patch TensorFlow in this process (idempotent)."""
    import tensorflow as tf

    if getattr(tf.nn.convolution, "tf32_emulation", False):
        return
    _ORIGINALS.update(convolution=tf.nn.convolution, matmul=tf.matmul)
    tf.nn.convolution = _rounding(_ORIGINALS["convolution"], 2)
    tf.matmul = _rounding(_ORIGINALS["matmul"], 2)
    if os.environ.get(LOG_ENV):
        with open(os.environ[LOG_ENV], "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")


def uninstall() -> None:
    import tensorflow as tf

    if _ORIGINALS:
        tf.nn.convolution, tf.matmul = _ORIGINALS.pop("convolution"), _ORIGINALS.pop("matmul")


@contextlib.contextmanager
def installed():
    """The emulation in this process meanwhile."""
    install()
    try:
        yield
    finally:
        uninstall()


def environment(env: dict | None = None, log: Path | None = None) -> dict:
    """``env`` (default: this process's) with this folder first on ``PYTHONPATH``: Python processes
    started with it import ``sitecustomize`` from here and round as a TF32 GPU does (each appends its
    PID to ``log`` when it installs the emulation)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    if log is not None:
        env[LOG_ENV] = str(log)
    return env


def installed_pids(log: Path) -> set[int]:
    """The processes that installed the emulation with ``log`` as their log."""
    return {int(line) for line in log.read_text().split()} if log.is_file() else set()


def active() -> bool:
    """Whether TensorFlow in this process is patched."""
    tf = sys.modules.get("tensorflow")
    return bool(tf is not None and getattr(tf.nn.convolution, "tf32_emulation", False))
