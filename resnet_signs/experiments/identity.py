"""Experiment 3: a residual block can be the identity, so adding one need not hurt.

``identity_demo`` shows the algebra: with ``W[l+2] = 0`` and ``b[l+2] = 0`` (here: the second
conv's kernel and its batch norm's beta), ``a[l+2] = g(a[l]) = a[l]``, because ``a[l]`` came
out of a ReLU and is non-negative. ``run`` shows the learning: blocks appended to a trained
ResNet and trained with weight decay drift toward the identity and keep its accuracy, while
the same layers without shortcuts must first learn to pass the signal through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from resnet_signs.experiments import fit, nets
from resnet_signs.experiments.settings import Settings
from resnet_signs.experiments.signs import Signs


def identity_demo(shape: tuple[int, int, int, int] = (2, 8, 8, 16), seed: int = 0) -> dict:
    """Zero the last layer of a residual block and of its plain twin; feed both a ReLU output.

    Returns:
        ``input`` and ``output`` (numpy arrays of ``shape``), ``max_abs_difference`` (0.0),
        ``is_identity`` (True: bit-for-bit equal, in inference and training mode),
        ``plain_output_max`` (0.0: the zeroed plain block outputs zeros, losing ``a[l]``) and
        ``negative_input_passes`` (False: a negative input would be clipped by the final ReLU).
    """
    a_l = np.maximum(np.random.default_rng(seed).standard_normal(shape), 0).astype(np.float32)
    outputs = {}
    for residual in (True, False):
        inputs = keras.Input(shape=shape[1:])
        model = keras.Model(inputs, nets.block(inputs, shape[-1], 1, "demo", residual=residual, seed=seed))
        conv, bn = model.get_layer("demo_2_conv"), model.get_layer("demo_2_bn")
        conv.kernel.assign(np.zeros(conv.kernel.shape, np.float32))  # W[l+2] = 0
        bn.beta.assign(np.zeros(bn.beta.shape, np.float32))  # b[l+2] = 0
        outputs[residual] = {mode: keras.ops.convert_to_numpy(model(a_l, training=mode)) for mode in (False, True)}
        if residual:
            negative = keras.ops.convert_to_numpy(model(-a_l - 1.0, training=False))
    out = outputs[True][False]
    return {
        "input": a_l,
        "output": out,
        "max_abs_difference": float(np.max(np.abs(out - a_l))),
        "is_identity": bool(np.array_equal(out, a_l) and np.array_equal(outputs[True][True], a_l)),
        "plain_output_max": float(np.max(np.abs(outputs[False][False]))),
        "negative_input_passes": bool(np.array_equal(negative, -a_l - 1.0)),
    }


@dataclass
class ExtraBlockRun:
    seed: int
    kind: str  # "base", "residual" or "plain"
    train_error: float  # inference mode, whole training set
    test_error: float
    change_before: float  # ||out - in|| / ||in|| of the appended layers, when appended
    change_after: float  # the same after training with weight decay
    gamma_before: float  # mean |gamma| of the appended blocks' last batch norms
    gamma_after: float


@dataclass
class ExtraBlockResults:
    base_depth: int
    extra_blocks: int
    weight_decay: float
    runs: list[ExtraBlockRun]

    def to_dict(self) -> dict:
        return {**asdict(self), "runs": [asdict(r) for r in self.runs]}

    @classmethod
    def from_dict(cls, data: dict) -> "ExtraBlockResults":
        return cls(data["base_depth"], data["extra_blocks"], data["weight_decay"],
                   [ExtraBlockRun(**r) for r in data["runs"]])


def extend(base: keras.Model, extra_blocks: int, residual: bool, weight_decay: float, seed: int) -> keras.Model:
    """``base`` (frozen, up to its last block) + ``extra_blocks`` new blocks + a copy of its head."""
    n = nets.blocks_per_stage(int(base.name.removeprefix("resnet")))
    features = base.get_layer(f"stage3_block{n}_out").output
    base.trainable = False  # frozen layers also run batch norm in inference mode
    x = features
    for b in range(1, extra_blocks + 1):
        x = nets.block(x, features.shape[-1], 1, f"extra_block{b}", residual=residual,
                       weight_decay=weight_decay, seed=seed + 100 * b)
    x = keras.layers.GlobalAveragePooling2D(name="extra_pool")(x)
    head = base.get_layer("fc")
    fc = keras.layers.Dense(head.units, activation="softmax", name="extra_fc")
    outputs = fc(x)
    fc.set_weights(head.get_weights())
    return keras.Model(base.input, outputs, name=f"{base.name}_plus{extra_blocks}{'res' if residual else 'plain'}")


def _probe(model: keras.Model, extra_blocks: int, x: np.ndarray) -> tuple[float, float]:
    """Relative change the appended layers make to their input, and their last BNs' mean |gamma|."""
    first_in = model.get_layer("extra_block1_1_conv").input
    last_out = model.get_layer(f"extra_block{extra_blocks}_out").output
    probe = keras.Model(model.input, [first_in, last_out])
    a_in, a_out = probe(x, training=False)
    a_in, a_out = keras.ops.convert_to_numpy(a_in), keras.ops.convert_to_numpy(a_out)
    gammas = [np.abs(keras.ops.convert_to_numpy(model.get_layer(f"extra_block{b}_2_bn").gamma)).mean()
              for b in range(1, extra_blocks + 1)]
    return float(np.linalg.norm(a_out - a_in) / np.linalg.norm(a_in)), float(np.mean(gammas))


def run(settings: Settings, data: Signs) -> ExtraBlockResults:
    """Per seed: train a ResNet, then append residual or plain blocks and train those with decay."""
    runs = []
    probe_x = data.x_train[:256]
    for seed in range(settings.seeds):
        keras.backend.clear_session()
        base = nets.build_net(settings.base_depth, True, input_shape=data.image_shape, seed=seed)
        fit.train(base, data, settings.recipe, seed=seed)
        base_weights = base.get_weights()
        runs.append(ExtraBlockRun(seed, "base", fit.error_rate(base, data.x_train, data.y_train),
                                  fit.error_rate(base, data.x_test, data.y_test), 0.0, 0.0, 0.0, 0.0))
        for residual in (True, False):
            base.set_weights(base_weights)
            model = extend(base, settings.extra_blocks, residual, settings.weight_decay, seed)
            change_before, gamma_before = _probe(model, settings.extra_blocks, probe_x)
            recipe = fit.Recipe(epochs=settings.extra_epochs, batch_size=settings.batch_size,
                                learning_rate=settings.learning_rate)
            fit.train(model, data, recipe, seed=seed)
            change_after, gamma_after = _probe(model, settings.extra_blocks, probe_x)
            runs.append(ExtraBlockRun(
                seed, "residual" if residual else "plain",
                fit.error_rate(model, data.x_train, data.y_train), fit.error_rate(model, data.x_test, data.y_test),
                change_before, change_after, gamma_before, gamma_after))
    return ExtraBlockResults(settings.base_depth, settings.extra_blocks, settings.weight_decay, runs)
