"""SIGNS, shrunk for the experiments: 32x32 floats in [0, 1] and integer labels.

The paper's CIFAR nets take 32x32 images, and a quarter of the pixels makes every run
four times cheaper on a 2-core CPU, so the 64x64 photos are downsampled by averaging
each 2x2 patch (exact and deterministic, no interpolation choices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resnet_signs.errors import UsageError


@dataclass(frozen=True)
class Signs:
    """Train and test arrays: ``x`` float32 ``(m, size, size, 3)`` in [0, 1], ``y`` int64 ``(m,)``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])


def downsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Average ``factor`` x ``factor`` patches of ``(m, H, W, C)`` images (H, W divisible by factor)."""
    m, h, w, c = x.shape
    if h % factor or w % factor:
        raise UsageError(f"image size must be a divisor of {h}x{w}. Received: factor={factor}")
    return x.reshape(m, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def prepare(x_train, y_train, x_test, y_test, size: int = 32) -> Signs:
    """Scale uint8 (or [0, 1]) images to float32 [0, 1], downsample to ``size``, flatten labels."""

    def images(x):
        x = np.asarray(x)
        x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
        if size <= 0 or x.shape[1] % size:
            raise UsageError(f"image size must divide {x.shape[1]}. Received: size={size}")
        return downsample(x, x.shape[1] // size) if x.shape[1] != size else x

    def labels(y, m):
        y = np.asarray(y)
        if y.size == m:  # the course's (1, m) rows or (m,) ints
            return y.reshape(-1).astype(np.int64)
        if y.ndim == 2 and y.shape[0] == m:  # one-hot (m, classes)
            return y.argmax(axis=1).astype(np.int64)
        raise UsageError(f"labels must be (m,), (1, m) or one-hot (m, classes) for {m} images. Received: {y.shape}")

    return Signs(images(x_train), labels(y_train, len(x_train)), images(x_test), labels(y_test, len(x_test)))


def load(size: int = 32) -> Signs:
    """Load the prepared SIGNS files (``resnet_signs.data``) at ``size`` x ``size``.

    Raises:
        DataError: the files are missing or corrupt (the message says which command fixes it).
    """
    from resnet_signs.data import load_dataset

    x_train, y_train, x_test, y_test, _classes = load_dataset()
    return prepare(x_train, y_train, x_test, y_test, size=size)
