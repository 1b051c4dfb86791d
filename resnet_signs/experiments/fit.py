"""The one training recipe every experiment shares (so that only the architecture differs).

SGD with momentum 0.9 as in the paper, shuffled mini-batches of 32, the learning rate warmed
up linearly for the first epoch and then decayed to 0 along a cosine (large steps early,
small ones at the end, so the last weights settle). After training, every BatchNorm layer's
moving statistics are re-estimated over the training images (``resnet_signs.training``'s
"precise BN", no weight changes), so that inference-mode errors use statistics of the final
weights. The training error reported is then measured in inference mode on every training
image; the per-epoch running training error (training mode, weights changing during the
epoch) is kept for the curves. The test images are used once, after training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from resnet_signs.experiments.signs import Signs


@dataclass(frozen=True)
class Recipe:
    """How to train; every experiment reads its settings from one of these."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 0.05  # peak, reached after the warmup
    momentum: float = 0.9
    warmup_epochs: int = 1


@dataclass(frozen=True)
class Fit:
    """What one training run measured."""

    train_error: float  # inference mode, every training image, after BN re-estimation
    test_error: float  # the same on the test images
    train_loss: list[float]  # per epoch, running
    train_errors: list[float]  # per epoch, running (training mode)


def schedule(recipe: Recipe, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warmup to the peak over ``warmup_epochs`` (at most half the run), then cosine decay to 0."""
    total = recipe.epochs * steps_per_epoch
    warmup = min(recipe.warmup_epochs * steps_per_epoch, total // 2)
    if warmup == 0:
        return keras.optimizers.schedules.CosineDecay(recipe.learning_rate, decay_steps=total)
    return keras.optimizers.schedules.CosineDecay(0.0, decay_steps=max(1, total - warmup),
                                                  warmup_target=recipe.learning_rate, warmup_steps=warmup)


def compile_net(model: keras.Model, recipe: Recipe, steps_per_epoch: int) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.SGD(schedule(recipe, steps_per_epoch), momentum=recipe.momentum),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def reestimate_batchnorm(model: keras.Model, x: np.ndarray, batch_size: int, seed: int) -> None:
    """Set the trainable BN layers' moving statistics to their averages over ``x`` (shuffled:
    the files are sorted by class, and one-class batches would miss the spread between classes)."""
    from resnet_signs.training.batchnorm import reestimate_batchnorm as precise_bn

    precise_bn(model, x[np.random.default_rng(seed).permutation(len(x))], batch_size)


def train(model: keras.Model, data: Signs, recipe: Recipe, seed: int = 0) -> Fit:
    """Compile ``model``, train it on ``data.x_train`` (seeded shuffling), re-estimate BN; return errors."""
    keras.utils.set_random_seed(seed)
    compile_net(model, recipe, math.ceil(len(data.x_train) / recipe.batch_size))
    history = model.fit(data.x_train, data.y_train, epochs=recipe.epochs,
                        batch_size=recipe.batch_size, shuffle=True, verbose=0)
    reestimate_batchnorm(model, data.x_train, recipe.batch_size, seed)
    return Fit(
        train_error=error_rate(model, data.x_train, data.y_train, recipe.batch_size),
        test_error=error_rate(model, data.x_test, data.y_test, recipe.batch_size),
        train_loss=[float(v) for v in history.history["loss"]],
        train_errors=[1.0 - float(a) for a in history.history["accuracy"]],
    )


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Inference-mode outputs, batch by batch (eager calls: no per-model retracing)."""
    parts = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts)


def error_rate(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Inference-mode classification error of ``model`` on ``(x, y)``."""
    return float(np.mean(predict(model, x, batch_size).argmax(axis=1) != y))
