"""Grading stays off the GPU: a shared GPU server's memory belongs to the students' kernels.

Grading builds tiny graphs: the sandbox children only capture them and the judge computes on the
CPU anyway (:mod:`resnet_signs.checks.numerics`). But TensorFlow takes most of a GPU's memory the
moment its runtime starts in a process that can see the GPU, and a CUDA context made in the zygote
before it forks is unusable in its children. So by default every grading process — the judging
process, the zygote, each sandbox child — starts with the GPUs hidden from CUDA
(``CUDA_VISIBLE_DEVICES=-1``). ``resnet-signs grade --gpu`` (``RESNET_SIGNS_GRADER_GPU=1``) lets an
instructor who grades on a machine of their own give it the GPU instead.
"""

from __future__ import annotations

import sys

from resnet_signs import paths
from resnet_signs.errors import UsageError

_ON, _OFF = ("1", "on", "yes", "true"), ("", "0", "off", "no", "false")


def allowed() -> bool:
    """Whether grading may use the GPU (``RESNET_SIGNS_GRADER_GPU``; default: no).

    Raises:
        UsageError: the variable holds something else than yes or no.
    """
    value = paths.grader_gpu_setting().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise UsageError(f"{paths.GRADER_GPU_ENV} must be 1 (grading may use the GPU) or 0. "
                     f"Received: {paths.GRADER_GPU_ENV}={paths.grader_gpu_setting()!r}")


def for_children() -> dict[str, str]:
    """Variables a sandbox child (and the zygote) gets on top of its environment: the GPUs hidden, unless allowed."""
    return {} if allowed() else dict(paths.NO_GPU)


def keep_off_gpu() -> None:
    """Hide the GPUs from this (judging) process and the workers it starts, unless allowed.

    Call it before TensorFlow's runtime starts; where it already started (an embedding process used
    the GPU before) the judge still computes on the CPU, it only cannot give memory back.
    """
    if allowed():
        return
    paths.hide_gpus()
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            tf.config.set_visible_devices([], "GPU")
        except (RuntimeError, ValueError):
            pass  # the runtime already started here


def note() -> str:
    """For the isolation line: ``GPU: hidden`` or what was allowed."""
    return f"GPU: visible ({paths.GRADER_GPU_ENV}=1)" if allowed() else "GPU: hidden"
