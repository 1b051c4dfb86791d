"""NumPy-drawn weights: the distributions Keras' initializers describe, the same numbers on every backend."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from keras import initializers, layers

from resnet_signs.checks import weights
from resnet_signs.checks.rebuild import GraphRejected, rebuild

SHAPE = (3, 3, 64, 128)  # large enough for the sample moments to be close to the distribution's


@pytest.mark.parametrize("shape", [(), (7,), (5, 9), (3, 3, 4, 8), (1, 1, 2, 6)])
def test_fans_are_keras_fans(shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert weights.fans(shape) == tuple(float(f) for f in compute_fans(shape))


@pytest.mark.parametrize("initializer", [
    initializers.GlorotUniform(seed=0), initializers.GlorotNormal(seed=0), initializers.HeNormal(seed=0),
    initializers.HeUniform(seed=0), initializers.LecunNormal(seed=0), initializers.LecunUniform(seed=0),
    initializers.RandomUniform(-0.2, 0.1, seed=0), initializers.RandomNormal(0.5, 0.2, seed=0),
    initializers.TruncatedNormal(0.1, 0.3, seed=0), initializers.VarianceScaling(3.0, "fan_out", "uniform", seed=0),
    initializers.VarianceScaling(0.5, "fan_avg", "untruncated_normal", seed=0), initializers.Orthogonal(2.0, seed=0),
], ids=lambda i: type(i).__name__)
def test_draws_follow_the_initializers_distribution(initializer):
    ours = weights.draw(type(initializer).__name__, initializer.get_config(), SHAPE)
    theirs = keras.ops.convert_to_numpy(initializer(SHAPE))
    assert ours.dtype == np.float32 and ours.shape == SHAPE
    assert not np.array_equal(ours, theirs)  # NumPy's numbers, not the backend's
    quantiles = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)  # the shapes of the distributions
    np.testing.assert_allclose(np.quantile(ours, quantiles), np.quantile(theirs, quantiles), atol=0.05 * theirs.std())
    np.testing.assert_allclose(ours.std(), theirs.std(), rtol=0.03)


def test_constants_are_exact():
    assert np.all(weights.draw("Constant", {"value": 1.5}, (2, 3)) == 1.5)
    assert np.all(weights.draw("Ones", {}, (4,)) == 1) and np.all(weights.draw("Zeros", {}, (4,)) == 0)


def test_a_seed_fixes_the_draw_and_no_seed_draws_afresh():
    first = weights.draw("GlorotUniform", {"seed": 0}, (4, 4))
    assert np.array_equal(first, weights.draw("GlorotUniform", {"seed": 0}, (4, 4)))
    assert not np.array_equal(first, weights.draw("GlorotUniform", {"seed": 1}, (4, 4)))
    assert not np.array_equal(weights.draw("GlorotUniform", {"seed": None}, (4, 4)),
                              weights.draw("GlorotUniform", {"seed": None}, (4, 4)))


def test_an_unknown_initializer_is_refused_with_its_name():
    with pytest.raises(weights.UnknownInitializer, match="cannot reproduce the MyInit initializer"):
        weights.draw("MyInit", {}, (2,))
    with pytest.raises(weights.UnknownInitializer, match="mode must be fan_in, fan_out or fan_avg"):
        weights.draw("VarianceScaling", {"mode": "fan_sideways"}, (2, 2))


def _model():
    x = keras.Input((5, 5, 3))
    y = layers.Conv2D(4, 3, use_bias=False, kernel_initializer=initializers.HeNormal(seed=0))(x)
    y = layers.BatchNormalization(gamma_initializer=initializers.Constant(2.0))(y)
    inner = keras.Sequential([keras.Input((3, 3, 4)), layers.Conv2D(2, 1, kernel_initializer=initializers.Ones())])
    y = layers.Flatten()(inner(y))
    return keras.Model(x, layers.Dense(6, kernel_initializer=initializers.GlorotUniform(seed=3))(y))


def test_assign_sets_every_weight_nested_models_included():
    model = _model()
    weights.assign(model)
    conv, bn, inner, dense = model.layers[1], model.layers[2], model.layers[3], model.layers[5]
    np.testing.assert_array_equal(conv.kernel.numpy() if hasattr(conv.kernel, "numpy") else conv.kernel,
                                  weights.draw("HeNormal", {"seed": 0}, (3, 3, 3, 4)))
    assert np.all(keras.ops.convert_to_numpy(bn.gamma) == 2.0)
    assert np.all(keras.ops.convert_to_numpy(inner.layers[0].kernel) == 1.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.kernel),
                                  weights.draw("GlorotUniform", {"seed": 3}, (18, 6)))


def test_a_weighted_layer_without_a_table_is_refused():
    x = keras.Input((4,))
    model = keras.Model(x, layers.PReLU()(x))
    with pytest.raises(weights.UnknownInitializer, match="cannot set the weights of a PReLU layer"):
        weights.assign(model)


def test_rebuilding_twice_gives_the_same_numbers_and_refuses_what_it_cannot_draw():
    x = keras.Input((5, 5, 3))
    y = layers.BatchNormalization()(layers.Conv2D(4, 3, kernel_initializer=initializers.HeNormal(seed=0))(x))
    flat = keras.Model(x, layers.Dense(2, kernel_initializer=initializers.GlorotUniform(seed=1))(layers.Flatten()(y)))
    config = json.loads(json.dumps(flat.get_config()))  # as a capture sends it
    data = np.random.default_rng(0).normal(size=(2, 5, 5, 3)).astype(np.float32)
    first, second = rebuild(config), rebuild(config)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(first(data)), keras.ops.convert_to_numpy(second(data)))
    bad = json.loads(json.dumps(config))
    bad["layers"][1]["config"]["kernel_initializer"]["config"]["mode"] = "fan_sideways"
    bad["layers"][1]["config"]["kernel_initializer"]["class_name"] = "VarianceScaling"
    with pytest.raises(GraphRejected):
        rebuild(bad)
