"""``train(model, data, **config)``: the SIGNS training recipe around ``model.fit``.

The recipe: Adam with a cosine-decayed learning rate (optional linear warmup), categorical
cross-entropy (optional label smoothing), a tf.data pipeline with light augmentation, and
BatchNorm moving statistics re-estimated over the (unaugmented) training images — after
every epoch, so that the per-epoch validation metrics mean something, or only at the end.
The data's second pair is the *validation* set monitored every epoch; keep the test set out
of training and evaluate it once, at the end (``resnet_signs.data.split_validation``).

Measured on the 2-core AMD EPYC (AVX-512 with BF16) this was developed on, reference
ResNet-50, batch 32, 12 steps after tracing, machine otherwise quiet:

- float32, no XLA (what ``train`` does): 0.40 s/step (80 images/s).
- ``jit_compile=True`` (XLA): 3.42 s/step, 8.5x slower, and 47 s to compile; left off
  (Keras's "auto" also leaves XLA off on CPU).
- ``mixed_bfloat16``: 0.30 s/step, 25% faster, but not used: the policy must be set before
  the caller builds the model, so ``train`` cannot switch it; its effect on accuracy was
  not measured; and a saved bf16 model runs slowly on students' CPUs without BF16.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np

from resnet_signs.training import pipeline
from resnet_signs.training.batchnorm import BatchNormReestimator
from resnet_signs.training.config import TrainConfig


class _EpochEnd(keras.callbacks.Callback):
    """Re-estimates BN statistics and evaluates on the validation data at each epoch's end.

    Runs before Keras's History callback (Keras appends History last), so the ``val_*``
    entries it writes into ``logs`` land in ``history.history``.
    """

    def __init__(self, reestimate, x_bn, x_val, y_val, config: TrainConfig):
        super().__init__()
        self.reestimate, self.x_bn, self.x_val, self.y_val, self.config = reestimate, x_bn, x_val, y_val, config
        self.epoch_time_s: list[float] = []
        self.train_time_s: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.train_time_s.append(time.perf_counter() - self._start)
        last = epoch + 1 == self.params.get("epochs", epoch + 1)
        if self.config.bn_reestimation == "every_epoch" or (self.config.bn_reestimation == "final" and last):
            self.reestimate(pipeline.eval_dataset(self.x_bn, None, self.config.batch_size))
        if self.x_val is not None and logs is not None:
            scores = self.model.evaluate(
                pipeline.eval_dataset(self.x_val, self.y_val, self.config.batch_size), verbose=0, return_dict=True
            )
            logs["val_loss"] = float(scores["loss"])
            logs["val_accuracy"] = float(scores["accuracy"])
        self.epoch_time_s.append(time.perf_counter() - self._start)
        if self.config.epoch_log:
            print(_epoch_line(epoch + 1, self.params.get("epochs", epoch + 1), self.epoch_time_s[-1], logs or {}),
                  flush=True)


def _epoch_line(epoch: int, epochs: int, seconds: float, logs: dict) -> str:
    """One epoch in the current language (the notebook's): its time, loss and accuracy."""
    from resnet_signs import i18n

    values = dict(epoch=epoch, epochs=epochs, seconds=f"{seconds:.0f}", loss=f"{logs.get('loss', float('nan')):.4f}",
                  accuracy=f"{logs.get('accuracy', float('nan')):.4f}")
    if "val_accuracy" in logs:
        return i18n.format("epoch {epoch}/{epochs}: {seconds} s; training loss {loss}, accuracy {accuracy}; "
                           "validation loss {val_loss}, accuracy {val_accuracy}", val_loss=f"{logs['val_loss']:.4f}",
                           val_accuracy=f"{logs['val_accuracy']:.4f}", **values)
    return i18n.format("epoch {epoch}/{epochs}: {seconds} s; training loss {loss}, accuracy {accuracy}", **values)


def _schedule(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    total = config.epochs * steps_per_epoch
    # Capped at half the run so that short (smoke) runs with the default warmup still decay.
    warmup = min(round(config.warmup_epochs * steps_per_epoch), total // 2)
    if warmup == 0:
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total - warmup), warmup_target=config.learning_rate, warmup_steps=warmup
    )


def train(model: keras.Model, data, **config: Any) -> keras.callbacks.History:
    """Train ``model`` on SIGNS-like data with the course's recipe.

    Args:
        model: a Keras model mapping (m, h, w, c) images to (m, classes) softmax outputs. It
            is (re)compiled here with Adam and categorical cross-entropy.
        data: ``(x_train, y_train)`` or ``((x_train, y_train), (x_val, y_val))``: the second
            pair is monitored after every epoch (``val_*`` in the history), so it should be a
            validation split, not the test set; images uint8 in [0, 255] or floats in [0, 1];
            labels one-hot (m, classes) or class ids.
        **config: any field of :class:`~resnet_signs.training.config.TrainConfig`, e.g.
            ``epochs``, ``batch_size``, ``learning_rate``, ``warmup_epochs``,
            ``label_smoothing``, ``augment`` (and ``shift``, ``rotation``, ``zoom``,
            ``brightness``, ``contrast``), ``bn_reestimation`` ("every_epoch", "final",
            "off"), ``bn_reestimation_images``, ``max_steps_per_epoch``, ``seed``,
            ``verbose`` (Keras's own output), ``epoch_log`` (one line per epoch in the
            notebook's language, after validation). A smoke run (the notebook under nbgrader) is e.g.
            ``epochs=1, max_steps_per_epoch=2, batch_size=8, bn_reestimation_images=16, run_eagerly=True``
            (compiling ResNet-50's training step costs more than two steps: about 30 s of a 33 s smoke run
            on 2 CPU cores, 11 s in all eagerly).
            Unknown keys raise ``UsageError`` naming the key.

    Returns:
        The ``keras.callbacks.History`` of the run: ``.history`` holds per-epoch lists
        ``loss``, ``accuracy`` and, with validation data, ``val_loss``/``val_accuracy`` (measured
        after that epoch's BN re-estimation when ``bn_reestimation="every_epoch"``).
        Added attributes: ``.wall_time_s`` (the whole call), ``.epoch_time_s`` (per epoch,
        re-estimation and evaluation included), ``.train_time_s`` (per epoch, the gradient
        steps alone), ``.config`` (the ``TrainConfig`` used).

    Determinism: with an integer ``seed``, the shuffling order and augmentations are
    seeded (``keras.utils.set_random_seed`` is called) and two runs from identical weights
    in the same environment give identical weights on CPU (tested). It is not promised
    across machines, thread counts, TensorFlow versions or GPUs, whose kernels may sum in
    another order. The model's initial weights are the caller's business: seed before
    building it.
    """
    cfg = TrainConfig.from_kwargs(**config)
    started = time.perf_counter()
    if cfg.seed is not None:
        keras.utils.set_random_seed(cfg.seed)
    classes = int(model.output.shape[-1])
    (x, y), validation = pipeline.split_data(data, classes)
    x_val, y_val = validation if validation is not None else (None, None)

    steps_per_epoch = math.ceil(len(x) / cfg.batch_size)
    if cfg.max_steps_per_epoch is not None:
        steps_per_epoch = min(steps_per_epoch, cfg.max_steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.Adam(_schedule(cfg, steps_per_epoch)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
        run_eagerly=cfg.run_eagerly,
    )
    # A fixed shuffled order: files often come sorted by class, and single-class batches
    # would give BN variances that miss the spread between classes.
    order = np.random.default_rng(cfg.seed).permutation(len(x))[: cfg.bn_reestimation_images]
    x_bn = x[order]
    epoch_end = _EpochEnd(BatchNormReestimator(model), x_bn, x_val, y_val, cfg)
    # shuffle=False: the tf.data pipeline already shuffles, with the run's seed.
    history = model.fit(
        pipeline.train_dataset(x, y, cfg), epochs=cfg.epochs, shuffle=False, callbacks=[epoch_end], verbose=cfg.verbose
    )
    history.wall_time_s = time.perf_counter() - started
    history.epoch_time_s = epoch_end.epoch_time_s
    history.train_time_s = epoch_end.train_time_s
    history.config = cfg
    return history
