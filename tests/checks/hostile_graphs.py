"""Blocks a hostile student could write after reading the package: each builds in milliseconds on a
``keras.Input`` and would cost the judge minutes, gigabytes or a rule it must keep (the judge refuses
them before building anything). ``autograder/samples/make_samples.py`` has the same ideas as notebooks.
"""

import keras
from keras import Input, Model, layers
from keras.initializers import glorot_uniform, random_uniform
from keras.layers import Activation, Add, AveragePooling2D, BatchNormalization, Conv2D, ZeroPadding2D


def conv_compute_heavy(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    """Pads by 150 and stacks six Conv2D(1024, 3): 56 M weights (within the weight bounds), 10^13 multiply-adds."""
    X_shortcut = Conv2D(filters[2], 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X = ZeroPadding2D(150)(X)
    for _ in range(6):
        X = Conv2D(1024, 3, padding="same")(X)
    X = AveragePooling2D(pool_size=301, strides=1)(X)
    X = Conv2D(filters[2], 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    return Activation("relu")(Add()([X, X_shortcut]))


def identity_activation_heavy(X, f, filters, training=True, initializer=random_uniform, padding=9000):
    """Pads by 9000 and keeps every shape consistent: activations of tens of gigabytes."""
    F1, F2, F3 = filters
    X = ZeroPadding2D(padding=padding)(X)
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


def identity_hidden_lambda(X, f, filters, training=True, initializer=random_uniform):
    """A Lambda layer (arbitrary Python) hidden inside a Sequential main path."""
    main_path = keras.Sequential([Conv2D(filters[2], 1, kernel_initializer=initializer(seed=0)),
                                  BatchNormalization(axis=3),
                                  layers.Lambda(lambda t: t * 1.0)])
    return Activation("relu")(Add()([main_path(X, training=training), X]))


def identity_huge_nested(X, f, filters, training=True, initializer=random_uniform):
    """21 Sequentials of 20 Identity layers in one Sequential: 465 layers as the grader counts them (400 allowed)."""
    return keras.Sequential([keras.Sequential([layers.Identity() for _ in range(20)]) for _ in range(21)])(X)


def identity_deeply_nested(X, f, filters, training=True, initializer=random_uniform):
    """Sequentials nested twelve deep."""
    model = keras.Sequential([layers.Identity()])
    for _ in range(11):
        model = keras.Sequential([model])
    return model(X)


def identity_nested_calls(X, f, filters, training=True, initializer=random_uniform):
    """A functional model calling the previous one eight times, seven levels deep: a small config, 8^7 layer calls."""
    inner = None
    for _ in range(7):
        inputs = Input(X.shape[1:])
        y = inputs
        for _ in range(8):
            y = inner(y) if inner is not None else Activation("relu")(y)
        inner = Model(inputs, y)
    return inner(X)
