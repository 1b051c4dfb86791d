"""From the arrays a caller hands to ``train()`` to the tf.data pipelines it trains on.

Training pipeline, in order (cache before the random steps so each epoch draws new
augmentations; batch before augmenting so the random layers run once per batch):

1. from_tensor_slices on float32 images in [0, 1] and one-hot labels
2. cache
3. shuffle (seeded, reshuffled each epoch)
4. batch
5. augment (random affine + photometric changes; training only)
6. prefetch

Augmentation suits hand signs: small shifts, rotations and zoom keep the fingers in the
frame and countable; brightness and contrast model lighting. Horizontal flips (``flip``) are
off, as the simpler recipe: they were tried once (seed 0, before the validation split existed)
and compared on the *test* set, 0.967 with them vs 0.983 without — two images, which is noise
and no valid basis for a choice; compare them on the validation split (``--flip``) to decide.
Label smoothing stays at 0: not measured.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from resnet_signs.errors import UsageError
from resnet_signs.training.config import TrainConfig


def as_arrays(images, labels, classes: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert one split to float32 images in [0, 1] and float32 one-hot labels.

    Args:
        images: (m, height, width, channels) uint8 in [0, 255] or floats in [0, 1].
        labels: one-hot (m, classes), integer class ids (m,), or the course's (1, m) row.
        classes: number of classes the model predicts.
        what: name of the split for error messages ("training data", "validation data").

    Returns:
        ``(x, y)``: float32 (m, height, width, channels) and float32 (m, classes).
    """
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim != 4:
        raise UsageError(f"{what}: images must have shape (m, height, width, channels), got {x.shape}")
    if x.dtype == np.uint8:
        x = x.astype("float32") / 255.0
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype("float32")
        if x.size and (x.min() < 0.0 or x.max() > 1.0):
            raise UsageError(
                f"{what}: float images must lie in [0, 1] (got [{x.min():.3g}, {x.max():.3g}]); divide by 255 first"
            )
    else:
        raise UsageError(f"{what}: images must be uint8 or floats in [0, 1], got dtype {x.dtype}")
    if y.ndim == 2 and y.shape[0] == 1 and y.shape[1] == len(x) and len(x) != 1:
        y = y.reshape(-1)  # the course's (1, m) label row
    if y.ndim == 1:
        if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= classes)):
            raise UsageError(f"{what}: integer labels must be class ids in [0, {classes}), got {y[:5]}...")
        y = np.eye(classes, dtype="float32")[y]
    elif y.ndim != 2 or y.shape[1] != classes:
        raise UsageError(f"{what}: labels must be one-hot (m, {classes}) or class ids (m,), got shape {y.shape}")
    if len(x) != len(y):
        raise UsageError(f"{what}: {len(x)} images but {len(y)} labels")
    if len(x) == 0:
        raise UsageError(f"{what}: no images")
    return x, y.astype("float32")


def split_data(data, classes: int):
    """Unpack ``(x, y)`` or ``((x, y), (x_val, y_val))`` into checked arrays (validation may be None)."""
    try:
        first, second = data
    except (TypeError, ValueError):
        raise UsageError("data must be (x_train, y_train) or ((x_train, y_train), (x_val, y_val))") from None
    if isinstance(first, (tuple, list)):
        try:
            (x, y), (x_val, y_val) = first, second
        except (TypeError, ValueError):
            raise UsageError("data must be (x_train, y_train) or ((x_train, y_train), (x_val, y_val))") from None
        return as_arrays(x, y, classes, "training data"), as_arrays(x_val, y_val, classes, "validation data")
    return as_arrays(first, second, classes, "training data"), None


def augmenter(config: TrainConfig, seed: int | None) -> keras.Sequential:
    """The random image transformations of the recipe, as seeded Keras preprocessing layers."""
    steps = []
    if config.flip:
        steps.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if config.shift:
        steps.append(keras.layers.RandomTranslation(config.shift, config.shift, fill_mode="nearest", seed=seed))
    if config.rotation:
        steps.append(keras.layers.RandomRotation(config.rotation, fill_mode="nearest", seed=seed))
    if config.zoom:
        steps.append(keras.layers.RandomZoom(config.zoom, fill_mode="nearest", seed=seed))
    if config.brightness:
        steps.append(keras.layers.RandomBrightness(config.brightness, value_range=(0.0, 1.0), seed=seed))
    if config.contrast:
        steps.append(keras.layers.RandomContrast(config.contrast, value_range=(0.0, 1.0), seed=seed))
    return keras.Sequential(steps, name="augment")


def train_dataset(x: np.ndarray, y: np.ndarray, config: TrainConfig) -> tf.data.Dataset:
    """The training pipeline (see the module docstring for the order of its steps)."""
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    ds = ds.shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True).batch(config.batch_size)
    if config.augment:
        augment = augmenter(config, config.seed)
        # Sequential map (no num_parallel_calls): the layers' seeded random state then
        # advances in the same order on every run, which keeps runs reproducible.
        ds = ds.map(lambda images, labels: (augment(images, training=True), labels))
    if config.max_steps_per_epoch is not None:
        ds = ds.take(config.max_steps_per_epoch)
    return ds.prefetch(tf.data.AUTOTUNE)


def eval_dataset(x: np.ndarray, y: np.ndarray | None, batch_size: int) -> tf.data.Dataset:
    """Unshuffled, unaugmented batches (for evaluation and BatchNorm re-estimation)."""
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
