"""Experiment 2: how large are the gradients that reach each conv layer?

The loss's gradient with respect to every 3x3 conv kernel is measured on one fixed batch of
SIGNS, at initialisation and again after a few SGD steps. Computing gradients is the one
backend-specific thing in the lab, so it uses ``tf.GradientTape`` (the course's backend).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from resnet_signs.errors import UsageError
from resnet_signs.experiments import nets, pool
from resnet_signs.experiments.progress import Progress
from resnet_signs.experiments.settings import Settings
from resnet_signs.experiments.signs import Signs

BATCH = 64  # images in the fixed batch the gradients are measured on


@dataclass
class GradientNorms:
    """Per-conv-layer L2 norms of dLoss/dKernel, in depth order (stem first)."""

    depth: int
    residual: bool
    seed: int
    step: int  # SGD steps taken before measuring (0: at initialisation)
    layers: list[str]
    norms: list[float]
    loss: float

    @property
    def label(self) -> str:
        return f"{'ResNet' if self.residual else 'plain'}-{self.depth}"


@dataclass
class GradientResults:
    norms: list[GradientNorms]

    def to_dict(self) -> dict:
        return {"norms": [asdict(g) for g in self.norms]}

    @classmethod
    def from_dict(cls, data: dict) -> GradientResults:
        return cls([GradientNorms(**g) for g in data["norms"]])


def gradient_norms(depth: int, residual: bool, seed: int = 0, *, steps: int = 0, data: Signs | None = None,
                   learning_rate: float = 0.05) -> GradientNorms:
    """Per-layer gradient norms of a fresh ``depth``-layer plain or residual net.

    Args:
        depth: ``6n + 2`` (8 takes a few seconds on a CPU, 56 a few more).
        residual: ResNet (zero-pad shortcuts) or its plain twin.
        seed: initialiser and batch seed.
        steps: SGD steps (batch 32, momentum 0.9) to take before measuring.
        data: SIGNS at 32x32 (loaded with ``signs.load()`` when ``None``).
        learning_rate: of those SGD steps.

    Returns:
        ``GradientNorms`` with one finite, positive norm per 3x3 conv layer.
    """
    if steps < 0:
        raise UsageError(f"steps must be >= 0. Received: steps={steps}")
    if data is None:
        from resnet_signs.experiments import signs

        data = signs.load()
    model = nets.build_net(depth, residual, input_shape=data.image_shape, seed=seed)
    rng = np.random.default_rng(seed)
    if steps:
        keras.utils.set_random_seed(seed)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        for _ in range(steps):
            batch = rng.choice(len(data.x_train), size=min(32, len(data.x_train)), replace=False)
            model.train_on_batch(data.x_train[batch], data.y_train[batch])
    batch = rng.permutation(len(data.x_train))[:BATCH]
    convs = nets.conv_layers(model)
    grads, loss = _kernel_gradients(model, [c.kernel for c in convs], data.x_train[batch], data.y_train[batch])
    return GradientNorms(depth, residual, seed, steps, [c.name for c in convs],
                         [float(np.linalg.norm(g)) for g in grads], loss)


def _kernel_gradients(model: keras.Model, variables, x, y) -> tuple[list[np.ndarray], float]:
    if keras.backend.backend() != "tensorflow":
        raise UsageError("gradient norms need the TensorFlow backend. "
                         f"Received: KERAS_BACKEND={keras.backend.backend()}")
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        # Training mode, as during SGD: batch norm uses the batch's statistics.
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, [v.value for v in variables])
    return [g.numpy() for g in grads], float(loss)


def one_run(data: Signs, depth: int, residual: bool, seed: int, steps: int, learning_rate: float) -> GradientNorms:
    keras.backend.clear_session()
    return gradient_norms(depth, residual, seed, steps=steps, data=data, learning_rate=learning_rate)


def run(settings: Settings, data: Signs, progress: Progress | None = None, workers: int = 1) -> GradientResults:
    """Norms at initialisation and after ``settings.steps`` steps, per depth, seed and family."""
    jobs = [(depth, residual, seed, steps, settings.learning_rate)
            for depth in settings.depths for seed in range(settings.seeds)
            for residual in (False, True) for steps in (0, settings.steps)]
    return GradientResults(pool.run_jobs(one_run, jobs, data, workers=workers, progress=progress, describe=lambda g: (
        f"{g.label} seed {g.seed} step {g.step}", {"first_over_last": g.norms[0] / g.norms[-1]})))
