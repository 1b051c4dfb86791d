"""A small ``tf.data`` input pipeline for training on SIGNS arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from resnet_signs.errors import UsageError


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int = 32,
    *,
    shuffle: bool = True,
    seed: int | None = 0,
    augment: Callable | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
):
    """Batch ``(x, y)`` into a prefetched ``tf.data.Dataset``.

    Order of the steps: cache -> shuffle -> batch -> augment -> prefetch. Caching comes first so
    that shuffling and augmentation are redone every epoch; augmenting after batching runs
    Keras preprocessing layers once per batch instead of once per image.

    Args:
        x: Images, shape (m, 64, 64, 3), uint8 or float; passed through unchanged (scale them
            yourself, or inside the model).
        y: Labels with m rows: ints (m,) or one-hot (m, C). Not the course's (1, m) layout:
            pass ``Y.T`` or ``Y.reshape(-1)``.
        batch_size: Images per batch, > 0.
        shuffle: Reshuffle the examples every epoch.
        seed: Shuffle seed (same seed, same order of epochs); None for a random one.
        augment: Optional callable applied to each batch of images, e.g. a
            ``keras.Sequential`` of ``RandomTranslation``/``RandomRotation`` layers.
        cache: Cache the examples in memory after the first epoch.
        drop_remainder: Drop the last, smaller batch.

    Returns:
        A ``tf.data.Dataset`` of ``(images, labels)`` batches.

    Raises:
        UsageError: Mismatched lengths, (1, m) labels or a bad batch size.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise UsageError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if y.ndim == 2 and y.shape[0] == 1 and len(x) != 1:
        raise UsageError(f"labels have the course's (1, m) shape {y.shape}; pass Y.T or Y.reshape(-1)")
    if len(x) != len(y):
        raise UsageError(f"x has {len(x)} examples but y has {len(y)}; they must match")
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:
        dataset = dataset.map(lambda images, labels: (augment(images), labels), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
