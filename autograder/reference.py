"""The instructor's reference implementation of the Residual Networks assignment.

This file is the single source of truth for the three graded functions. The solution
notebook's answer cells are checked against it, the public checks' expected values are
generated from it (``resnet-signs expected``), the hidden tests compare student code with
it, and ``resnet-signs train`` trains its ResNet-50. It stays on the instructor's side:
the installed ``resnet_signs`` package never contains it.

ResNet v1 as in He et al. 2015 (arXiv:1512.03385) and the course: the stride sits on the
first 1x1 convolution of the main path and on the 1x1 shortcut convolution; every
BatchNormalization normalises the channel axis; the shortcut is added before the final ReLU.
Written in backend-neutral Keras 3.
"""

from __future__ import annotations

from keras import Input, Model, layers
from keras.initializers import glorot_uniform, random_uniform

#: ResNet-50's stages 2-5: (filters of the three convolutions, number of blocks, stride of the first block).
RESNET50_STAGES = (
    ((64, 64, 256), 3, 1),
    ((128, 128, 512), 4, 2),
    ((256, 256, 1024), 6, 2),
    ((512, 512, 2048), 3, 2),
)


def _check_filters(filters) -> tuple[int, int, int]:
    filters = tuple(filters)
    if len(filters) != 3:
        raise ValueError(f"filters must have 3 entries. Received: filters={list(filters)}")
    return filters


def _namer(name):
    """Layer names after the paper's stages (``conv2_block1_1_conv``), or Keras defaults without a prefix."""
    return (lambda suffix: f"{name}_{suffix}") if name else (lambda suffix: None)


def _main_path(X, f, filters, s, training, initializer, n):
    """1x1 conv (stride s) -> BN -> ReLU -> fxf "same" conv -> BN -> ReLU -> 1x1 conv -> BN (no final ReLU)."""
    F1, F2, F3 = filters
    X = layers.Conv2D(F1, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0), name=n("1_conv"))(X)
    X = layers.BatchNormalization(axis=3, name=n("1_bn"))(X, training=training)
    X = layers.Activation("relu", name=n("1_relu"))(X)

    X = layers.Conv2D(F2, f, strides=1, padding="same", kernel_initializer=initializer(seed=0), name=n("2_conv"))(X)
    X = layers.BatchNormalization(axis=3, name=n("2_bn"))(X, training=training)
    X = layers.Activation("relu", name=n("2_relu"))(X)

    X = layers.Conv2D(F3, 1, strides=1, padding="valid", kernel_initializer=initializer(seed=0), name=n("3_conv"))(X)
    return layers.BatchNormalization(axis=3, name=n("3_bn"))(X, training=training)


def identity_block(X, f, filters, training=True, initializer=random_uniform, *, name=None):
    """Identity block: the shortcut is the input itself, so dimensions must not change.

    Args:
        X: input tensor of shape (m, n_H, n_W, n_C), with n_C == filters[2].
        f: kernel size of the middle convolution ("same" padding).
        filters: numbers of filters of the three convolutions of the main path.
        training: passed to BatchNormalization (True: batch statistics).
        initializer: kernel initializer class, called as ``initializer(seed=0)``.
        name: optional layer-name prefix, e.g. ``"conv2_block2"``.

    Returns:
        Tensor of shape (m, n_H, n_W, n_C).
    """
    X_shortcut = X
    n = _namer(name)
    X = _main_path(X, f, _check_filters(filters), 1, training, initializer, n)
    X = layers.Add(name=n("add"))([X, X_shortcut])
    return layers.Activation("relu", name=n("out"))(X)


def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform, *, name=None):
    """Convolutional (projection) block: a 1x1 convolution on the shortcut matches dimensions.

    Args:
        X: input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev).
        f: kernel size of the middle convolution ("same" padding).
        filters: numbers of filters of the three convolutions of the main path.
        s: stride of the first 1x1 convolution and of the shortcut convolution.
        training: passed to BatchNormalization (True: batch statistics).
        initializer: kernel initializer class, called as ``initializer(seed=0)``.
        name: optional layer-name prefix, e.g. ``"conv3_block1"``.

    Returns:
        Tensor of shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), filters[2]).
    """
    F1, F2, F3 = _check_filters(filters)
    n = _namer(name)
    X_shortcut = X
    X = _main_path(X, f, (F1, F2, F3), s, training, initializer, n)

    # The lecture's Ws: a learned 1x1 projection so that the shapes of both paths agree.
    X_shortcut = layers.Conv2D(
        F3, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0), name=n("0_conv")
    )(X_shortcut)
    X_shortcut = layers.BatchNormalization(axis=3, name=n("0_bn"))(X_shortcut, training=training)

    X = layers.Add(name=n("add"))([X, X_shortcut])
    return layers.Activation("relu", name=n("out"))(X)


def stage(X, filters, blocks, s, index):
    """One stage: a convolutional block followed by ``blocks - 1`` identity blocks."""
    X = convolutional_block(X, f=3, filters=filters, s=s, name=f"conv{index}_block1")
    for b in range(2, blocks + 1):
        X = identity_block(X, 3, filters, name=f"conv{index}_block{b}")
    return X


def ResNet50(input_shape=(64, 64, 3), classes=6):
    """ResNet-50: CONV -> BN -> RELU -> MAXPOOL -> 4 stages of bottleneck blocks -> AVGPOOL -> DENSE.

    Args:
        input_shape: shape of one image, (height, width, channels).
        classes: number of output classes (softmax units).

    Returns:
        An uncompiled ``keras.Model`` named ``ResNet50``.
    """
    X_input = Input(input_shape, name="input")
    X = layers.ZeroPadding2D((3, 3), name="conv1_pad")(X_input)

    X = layers.Conv2D(64, 7, strides=2, kernel_initializer=glorot_uniform(seed=0), name="conv1_conv")(X)
    X = layers.BatchNormalization(axis=3, name="conv1_bn")(X)
    X = layers.Activation("relu", name="conv1_relu")(X)
    X = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(X)

    for index, (filters, blocks, s) in enumerate(RESNET50_STAGES, start=2):
        X = stage(X, filters, blocks, s, index)

    X = layers.AveragePooling2D(2, name="avg_pool")(X)
    X = layers.Flatten(name="flatten")(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0), name="predictions")(X)
    return Model(inputs=X_input, outputs=X, name="ResNet50")
