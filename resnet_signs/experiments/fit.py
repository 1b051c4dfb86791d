"""The one training recipe every experiment shares (so that only the architecture differs).

SGD with momentum 0.9 as in the paper, a fixed learning rate, shuffled mini-batches. The
training error reported is the last epoch's running error in training mode, which is
what the paper's training curves show; the test error uses inference mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from resnet_signs.experiments.signs import Signs


@dataclass(frozen=True)
class Recipe:
    """How to train; every experiment reads its settings from one of these."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 0.05
    momentum: float = 0.9


@dataclass(frozen=True)
class Fit:
    """What one training run measured."""

    train_error: float
    test_error: float
    train_loss: list[float]
    train_errors: list[float]


def compile_net(model: keras.Model, recipe: Recipe) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.SGD(recipe.learning_rate, momentum=recipe.momentum),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train(model: keras.Model, data: Signs, recipe: Recipe, seed: int = 0) -> Fit:
    """Compile ``model`` and train it on ``data.x_train`` (seeded shuffling); return errors."""
    keras.utils.set_random_seed(seed)
    compile_net(model, recipe)
    history = model.fit(data.x_train, data.y_train, epochs=recipe.epochs,
                        batch_size=recipe.batch_size, shuffle=True, verbose=0)
    errors = [1.0 - float(a) for a in history.history["accuracy"]]
    return Fit(
        train_error=errors[-1],
        test_error=error_rate(model, data.x_test, data.y_test, recipe.batch_size),
        train_loss=[float(v) for v in history.history["loss"]],
        train_errors=errors,
    )


def predict(model: keras.Model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Inference-mode outputs, batch by batch (eager calls: no per-model retracing)."""
    parts = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts)


def error_rate(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> float:
    """Inference-mode classification error of ``model`` on ``(x, y)``."""
    return float(np.mean(predict(model, x, batch_size).argmax(axis=1) != y))
