"""Where the checks compute: on the CPU, in full float32, whatever device the caller's kernel has.

On NVIDIA Ampere and newer GPUs TensorFlow (and JAX, and PyTorch's cuDNN convolutions) round the
float32 inputs of convolutions and matrix products to TensorFloat-32 (10 mantissa bits) by
default. That moves a block's outputs by about 7e-4 of their scale, seven times the checks'
tolerance, so a correct notebook would fail its checks on a GPU server. The checks' graphs are
tiny (a few thousand multiply-adds), so every value they compare is computed on the CPU, where no
backend rounds float32: the answer is the same on a laptop, a GPU server and the grader, the
student's own device and TF32 setting are left alone, and no GPU memory is taken for a check.

Measured alternatives (README, "GPU Jupyter servers"): switching TF32 off around the computation
needs one switch per backend and restoring the student's; rebuilding in float64 changes every
layer's dtype policy. Both give the same numbers; neither is simpler than a device scope.
"""

from __future__ import annotations

import contextlib

#: The device every checked value is computed on (Keras' backend-neutral spelling).
DEVICE = "cpu:0"


@contextlib.contextmanager
def exact():
    """Build and run graphs on the CPU meanwhile (``keras.device``: TensorFlow, JAX and PyTorch alike)."""
    import keras

    with keras.device(DEVICE):
        yield
