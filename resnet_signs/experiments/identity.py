"""Experiment 3: a residual block can be the identity, so adding one need not hurt.

``identity_demo`` shows the algebra for a block whose last conv is followed by BatchNorm,
``z[l+2] = gamma * (W a[l+1] - mu) / sigma + beta``. BN divides by the batch's spread, so
shrinking ``W`` (what weight decay does to it) leaves ``z[l+2]`` unchanged; what zeroes the
main path is BN's own ``gamma = 0`` and ``beta = 0``. Then ``a[l+2] = g(0 + a[l]) = a[l]``,
because ``a[l]`` came out of a ReLU and is non-negative. ``run`` shows the learning: blocks
appended to a trained ResNet and trained with weight decay (on ``gamma`` and ``beta`` too)
drift toward the identity, while the same layers without shortcuts cannot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from resnet_signs.experiments import fit, nets, pool
from resnet_signs.experiments.progress import Progress
from resnet_signs.experiments.settings import Settings
from resnet_signs.experiments.signs import Signs

#: How much ``identity_demo`` shrinks the last conv's kernel to show BN undoing the scale.
W_SHRINK = 0.1


def identity_demo(shape: tuple[int, int, int, int] = (2, 8, 8, 16), seed: int = 0) -> dict:
    """Zero the last BatchNorm's ``gamma`` and ``beta`` in a residual block and its plain twin.

    The blocks are ``nets.block``: conv -> BN -> ReLU -> conv -> BN (-> + a[l]) -> ReLU. Their
    input ``a[l]`` is a ReLU output (non-negative), as inside a network.

    Returns:
        ``input`` and ``output`` (numpy arrays of ``shape``), ``max_abs_difference`` (0.0),
        ``is_identity`` (True: the residual block's output equals its input bit for bit, in
        inference and training mode), ``plain_output_max`` (0.0: the zeroed plain block outputs
        zeros, losing ``a[l]``), ``negative_input_passes`` (False: a negative input would be
        clipped by the final ReLU), and ``w_shrunk_change``: the largest relative change of the
        main path's output (training mode, before zeroing) when the last conv's kernel is
        multiplied by ``W_SHRINK`` — about 0: BatchNorm undoes the kernel's scale.
    """
    a_l = np.maximum(np.random.default_rng(seed).standard_normal(shape), 0).astype(np.float32)
    outputs = {}
    for residual in (True, False):
        inputs = keras.Input(shape=shape[1:])
        model = keras.Model(inputs, nets.block(inputs, shape[-1], 1, "demo", residual=residual, seed=seed))
        conv, bn = model.get_layer("demo_2_conv"), model.get_layer("demo_2_bn")
        if residual:
            main_path = keras.Model(inputs, bn.output)
            before = keras.ops.convert_to_numpy(main_path(a_l, training=True))
            conv.kernel.assign(conv.kernel * W_SHRINK)  # what strong weight decay does to W[l+2]
            after = keras.ops.convert_to_numpy(main_path(a_l, training=True))
            shrunk_change = float(np.max(np.abs(after - before)) / np.max(np.abs(before)))
        bn.gamma.assign(np.zeros(bn.gamma.shape, np.float32))  # gamma[l+2] = 0
        bn.beta.assign(np.zeros(bn.beta.shape, np.float32))  # beta[l+2] = 0
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
        "w_shrunk_change": shrunk_change,
    }


@dataclass
class ExtraBlockRun:
    seed: int
    kind: str  # "base", "residual" or "plain"
    train_error: float  # inference mode, whole training set, after BN re-estimation
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
    def from_dict(cls, data: dict) -> ExtraBlockResults:
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


def one_seed(data: Signs, seed: int, settings: Settings) -> list[ExtraBlockRun]:
    """Train a ResNet, then append residual or plain blocks to copies of it and train those with decay."""
    keras.backend.clear_session()
    probe_x = data.x_train[:256]
    base = nets.build_net(settings.base_depth, True, input_shape=data.image_shape, seed=seed)
    trained = fit.train(base, data, settings.recipe, seed=seed)
    base_weights = base.get_weights()
    runs = [ExtraBlockRun(seed, "base", trained.train_error, trained.test_error, 0.0, 0.0, 0.0, 0.0)]
    for residual in (True, False):
        base.set_weights(base_weights)
        model = extend(base, settings.extra_blocks, residual, settings.weight_decay, seed)
        change_before, gamma_before = _probe(model, settings.extra_blocks, probe_x)
        extended = fit.train(model, data, settings.extra_recipe, seed=seed)
        change_after, gamma_after = _probe(model, settings.extra_blocks, probe_x)
        runs.append(ExtraBlockRun(seed, "residual" if residual else "plain", extended.train_error,
                                  extended.test_error, change_before, change_after, gamma_before, gamma_after))
    return runs


def run(settings: Settings, data: Signs, progress: Progress | None = None, workers: int = 1) -> ExtraBlockResults:
    """Per seed (on ``workers`` processes): a trained base net and its two extensions."""
    per_seed = pool.run_jobs(one_seed, [(seed, settings) for seed in range(settings.seeds)], data, workers=workers,
                             progress=progress, describe=lambda runs: (
                                 f"seed {runs[0].seed}", {f"{r.kind} train error": r.train_error for r in runs}))
    return ExtraBlockResults(settings.base_depth, settings.extra_blocks, settings.weight_decay,
                             [run for runs in per_seed for run in runs])
