"""Weights for a rebuilt graph drawn by NumPy, so that an observation is the same on every backend.

Keras 3's seeded initialisers draw from the backend's own generator: ``glorot_uniform(seed=0)``
gives one set of numbers under TensorFlow and another under JAX or PyTorch. The checks compare
numbers across machines (the stored expected values against a student's kernel on any stack), so
whoever rebuilds a captured graph replaces every weight by a NumPy draw from the *same
distribution* the layer's initializer describes, seeded by the initializer's own seed:

- the same initializer config and weight shape give the same numbers everywhere (a student who
  passes ``initializer(seed=0)`` gets exactly the reference's weights);
- a different initializer (class, seed, scale...) gives different numbers, as it did with Keras'
  own draws, and the structure checks still name it;
- an initializer without a seed draws fresh numbers each time (Keras does the same), so no
  output can match the reference by accident.

Only the layers of :data:`resnet_signs.checks.rebuild.LAYERS` that hold weights are covered; a
weighted layer without an entry in :data:`WEIGHTED` is refused rather than left with Keras' draws.
"""

from __future__ import annotations

import math

import numpy as np

#: Layer class -> (weight attribute, its initializer attribute), in Keras' weight order.
WEIGHTED = {
    "Conv2D": (("kernel", "kernel_initializer"), ("bias", "bias_initializer")),
    "Dense": (("kernel", "kernel_initializer"), ("bias", "bias_initializer")),
    "BatchNormalization": (("gamma", "gamma_initializer"), ("beta", "beta_initializer"),
                           ("moving_mean", "moving_mean_initializer"),
                           ("moving_variance", "moving_variance_initializer")),
}
#: Keras' variance-scaling shorthands: class -> (scale, mode, distribution).
VARIANCE_SCALING = {
    "GlorotUniform": (1.0, "fan_avg", "uniform"),
    "GlorotNormal": (1.0, "fan_avg", "truncated_normal"),
    "HeNormal": (2.0, "fan_in", "truncated_normal"),
    "HeUniform": (2.0, "fan_in", "uniform"),
    "LecunNormal": (1.0, "fan_in", "truncated_normal"),
    "LecunUniform": (1.0, "fan_in", "uniform"),
}
#: The standard deviation of a unit normal truncated at two standard deviations.
_TRUNCATED_STD = 0.87962566103423978


class UnknownInitializer(ValueError):
    """An initializer this module cannot reproduce; the message is one line for the student."""


def fans(shape: tuple[int, ...], input_axes=None, output_axes=None) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight, as Keras computes them (kernels: receptive field × channels)."""
    if input_axes is not None and output_axes is not None:
        try:
            return float(math.prod(shape[a] for a in input_axes)), float(math.prod(shape[a] for a in output_axes))
        except (TypeError, IndexError):
            raise UnknownInitializer("VarianceScaling's input_axes/output_axes do not fit the weight") from None
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def _rng(seed) -> np.random.Generator:
    # An int seed fixes the draw (Keras: the same numbers on every call); anything else is fresh.
    if isinstance(seed, int) and not isinstance(seed, bool):
        return np.random.default_rng(abs(seed))
    return np.random.default_rng()


def _truncated_normal(rng: np.random.Generator, shape, mean: float, stddev: float) -> np.ndarray:
    """Normal draws, each redrawn until it lies within two standard deviations of the mean."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return mean + stddev * values


def _variance_scaling(rng, shape, scale: float, mode: str, distribution: str, axes=(None, None)) -> np.ndarray:
    fan_in, fan_out = fans(shape, *axes)
    denominator = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}.get(mode)
    if denominator is None:
        raise UnknownInitializer(f"VarianceScaling mode must be fan_in, fan_out or fan_avg. Received: mode={mode!r}")
    scale = float(scale) / max(1.0, denominator)
    if distribution == "truncated_normal":
        return _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / _TRUNCATED_STD)
    if distribution == "untruncated_normal":
        return rng.standard_normal(shape) * math.sqrt(scale)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale)
        return rng.uniform(-limit, limit, shape)
    raise UnknownInitializer(f"VarianceScaling distribution {distribution!r} is not one Keras knows")


def _orthogonal(rng, shape, gain: float) -> np.ndarray:
    if len(shape) < 2:
        raise UnknownInitializer("the Orthogonal initializer needs a weight of at least 2 dimensions")
    rows, cols = math.prod(shape[:-1]), shape[-1]
    flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return gain * q.reshape(shape)


def draw(class_name: str, config: dict, shape: tuple[int, ...]) -> np.ndarray:
    """The weight an initializer describes, drawn by NumPy (float32).

    Args:
        class_name: the initializer's class (``"GlorotUniform"``, ``"Constant"``...).
        config: its ``get_config()`` (``seed``, ``scale``, ``minval``...).
        shape: the weight's shape.

    Raises:
        UnknownInitializer: an initializer outside Keras' standard set.
    """
    shape = tuple(int(d) for d in shape)
    rng = _rng(config.get("seed"))
    if class_name in ("Zeros", "Ones", "Constant"):
        value = {"Zeros": 0.0, "Ones": 1.0}.get(class_name, config.get("value", 0.0))
        return np.full(shape, float(value), np.float32)
    axes = (config.get("input_axes"), config.get("output_axes"))
    if class_name in VARIANCE_SCALING:
        values = _variance_scaling(rng, shape, *VARIANCE_SCALING[class_name], axes)
    elif class_name == "VarianceScaling":
        values = _variance_scaling(rng, shape, config.get("scale", 1.0), config.get("mode", "fan_in"),
                                   config.get("distribution", "truncated_normal"), axes)
    elif class_name == "RandomUniform":
        values = rng.uniform(float(config.get("minval", -0.05)), float(config.get("maxval", 0.05)), shape)
    elif class_name == "RandomNormal":
        values = float(config.get("mean", 0.0)) + float(config.get("stddev", 0.05)) * rng.standard_normal(shape)
    elif class_name == "TruncatedNormal":
        values = _truncated_normal(rng, shape, float(config.get("mean", 0.0)), float(config.get("stddev", 0.05)))
    elif class_name == "Orthogonal":
        values = _orthogonal(rng, shape, float(config.get("gain", 1.0)))
    else:
        raise UnknownInitializer(f"the grader cannot reproduce the {class_name[:60]} initializer: use a standard one")
    return np.asarray(values, np.float32)


def _initializer(layer, attribute: str) -> tuple[str, dict]:
    init = getattr(layer, attribute)
    config = init.get_config() if hasattr(init, "get_config") else {}
    return type(init).__name__, dict(config)


def assign(model) -> None:
    """Replace every weight of ``model`` (nested models included) by :func:`draw`'s numbers.

    Raises:
        UnknownInitializer: a weighted layer this module has no table for, or an unknown initializer.
    """
    for layer in _layers(model):
        if not layer.weights:
            continue
        table = WEIGHTED.get(type(layer).__name__)
        if table is None:
            raise UnknownInitializer(f"the grader cannot set the weights of a {type(layer).__name__[:60]} layer")
        for attribute, init_attribute in table:
            variable = getattr(layer, attribute, None)
            if variable is None:  # use_bias=False, center=False, scale=False
                continue
            class_name, config = _initializer(layer, init_attribute)
            variable.assign(draw(class_name, config, tuple(variable.shape)))


def _layers(model):
    """Every layer under ``model``, depth first (a nested model's layers, not the model itself)."""
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _layers(layer)
        else:
            yield layer
