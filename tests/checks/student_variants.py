"""Realistic student answers: valid spellings the checks must accept, and mistakes they must name.

Each function is written the way a student would write the notebook's answer cell. The
ResNet50 variants call ``identity_block`` / ``convolutional_block`` through this module's
globals, as the notebook's ``ResNet50`` calls the student's blocks.
"""

import keras
from keras import Input, Model, layers
from keras.initializers import glorot_uniform, random_uniform
from keras.layers import Activation, Add, BatchNormalization, Conv2D, ReLU


# --------------------------------------------------------------------- identity block: valid
def identity_course(X, f, filters, training=True, initializer=random_uniform):
    """The course's spelling: Activation('relu'), Add(), axis=3."""
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(filters=F1, kernel_size=1, strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Activation("relu")(X)
    X = Conv2D(filters=F2, kernel_size=f, strides=(1, 1), padding="same", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Activation("relu")(X)
    X = Conv2D(filters=F3, kernel_size=1, strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Add()([X, X_shortcut])
    return Activation("relu")(X)


def identity_plus_relu_layer(X, f, filters, training=True, initializer=random_uniform):
    """ReLU() layers, axis=-1, tuple kernel sizes, the shortcut first and ``+`` for the join."""
    F1, F2, F3 = filters
    shortcut = X
    X = Conv2D(F1, (1, 1), kernel_initializer=initializer(seed=0))(X)
    X = ReLU()(BatchNormalization(axis=-1)(X, training=training))
    X = Conv2D(F2, (f, f), padding="same", kernel_initializer=initializer(seed=0))(X)
    X = ReLU()(BatchNormalization(axis=-1)(X, training=training))
    X = Conv2D(F3, (1, 1), padding="same", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=-1)(X, training=training)
    return ReLU()(shortcut + X)


def identity_loop(X, f, filters, training=True, initializer=random_uniform):
    """A loop over the three convolutions, keras.ops.relu and layers.add."""
    X_shortcut = X
    for i, (n, k) in enumerate(zip(filters, (1, f, 1), strict=True)):
        X = Conv2D(n, k, padding="same" if k > 1 else "valid", kernel_initializer=initializer(seed=0))(X)
        X = BatchNormalization(axis=3)(X, training=training)
        if i < 2:
            X = keras.ops.relu(X)
    return keras.activations.relu(layers.add([X_shortcut, X]))


# ------------------------------------------------------------------ identity block: mistakes
def _identity_main(X, f, filters, training, initializer, *, axis=3, padding="same", k=None, relu_last=False,
                   seeded=True):
    F1, F2, F3 = filters
    init = (lambda: initializer(seed=0)) if seeded else glorot_uniform
    X = Conv2D(F1, 1, kernel_initializer=init())(X)
    X = Activation("relu")(BatchNormalization(axis=axis)(X, training=training))
    X = Conv2D(F2, k or f, padding=padding, kernel_initializer=init())(X)
    X = Activation("relu")(BatchNormalization(axis=axis)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=init())(X)
    X = BatchNormalization(axis=axis)(X, training=training)
    return Activation("relu")(X) if relu_last else X


def identity_add_after_relu(X, f, filters, training=True, initializer=random_uniform):
    return Add()([_identity_main(X, f, filters, training, initializer, relu_last=True), X])


def identity_no_final_relu(X, f, filters, training=True, initializer=random_uniform):
    return Add()([_identity_main(X, f, filters, training, initializer), X])


def identity_relu_before_add(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters, training, initializer, relu_last=True), X]))


def identity_main_path_only(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(_identity_main(X, f, filters, training, initializer))


def identity_bn_axis_1(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters, training, initializer, axis=1), X]))


def identity_valid_padding(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters, training, initializer, padding="valid"), X]))


def identity_kernel_3(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters, training, initializer, k=3), X]))


def identity_default_initializer(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters, training, initializer, seeded=False), X]))


def identity_unseeded(X, f, filters, training=True, initializer=random_uniform):
    """Calls initializer() without the seed: passes the public check (constant weights), not the hidden ones."""
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer())(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer())(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=initializer())(X)
    X = BatchNormalization(axis=3)(X, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


def identity_no_training(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(F1, 1, kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X))
    X = Conv2D(F3, 1, kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X)
    return Activation("relu")(Add()([X, X_shortcut]))


def identity_filters_swapped(X, f, filters, training=True, initializer=random_uniform):
    return Activation("relu")(Add()([_identity_main(X, f, filters[::-1], training, initializer), X]))


def identity_bn_epsilon(X, f, filters, training=True, initializer=random_uniform):
    """Right structure, wrong numbers: BatchNormalization(epsilon=0.1) instead of the default."""
    F1, F2, F3 = filters
    X_shortcut = X
    for n, k, last in ((F1, 1, False), (F2, f, False), (F3, 1, True)):
        X = Conv2D(n, k, padding="same", kernel_initializer=initializer(seed=0))(X)
        X = BatchNormalization(axis=3, epsilon=0.1)(X, training=training)
        X = X if last else Activation("relu")(X)
    return Activation("relu")(Add()([X, X_shortcut]))


# --------------------------------------------------------------- convolutional block: valid
def conv_course(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    """The course's spelling."""
    F1, F2, F3 = filters
    X_shortcut = X
    X = Conv2D(filters=F1, kernel_size=1, strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Activation("relu")(X)
    X = Conv2D(filters=F2, kernel_size=f, strides=(1, 1), padding="same", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Activation("relu")(X)
    X = Conv2D(filters=F3, kernel_size=1, strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X_shortcut = Conv2D(F3, 1, strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)
    X = Add()([X, X_shortcut])
    return Activation("relu")(X)


def conv_loop_plus(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    """Shortcut built first, a loop with (kernel, stride) tuples, ReLU() and ``+``."""
    shortcut = BatchNormalization(axis=-1)(
        Conv2D(filters[2], (1, 1), strides=s, kernel_initializer=initializer(seed=0))(X), training=training
    )
    for i, (n, k, stride) in enumerate(zip(filters, (1, f, 1), (s, 1, 1), strict=True)):
        X = Conv2D(n, (k, k), strides=(stride, stride), padding="same", kernel_initializer=initializer(seed=0))(X)
        X = BatchNormalization(axis=-1)(X, training=training)
        if i < 2:
            X = ReLU()(X)
    return ReLU()(X + shortcut)


# ------------------------------------------------------------ convolutional block: mistakes
def _conv_block(X, f, filters, s, training, initializer, *, strides=None, shortcut_stride=None, shortcut_bn=True,
                seeded=True):
    F1, F2, F3 = filters
    init = (lambda: initializer(seed=0)) if seeded else initializer
    s1, s2 = strides or (s, 1)
    X_shortcut = X
    X = Conv2D(F1, 1, strides=s1, kernel_initializer=init())(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F2, f, strides=s2, padding="same", kernel_initializer=init())(X)
    X = Activation("relu")(BatchNormalization(axis=3)(X, training=training))
    X = Conv2D(F3, 1, kernel_initializer=init())(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X_shortcut = Conv2D(F3, 1, strides=shortcut_stride or s, kernel_initializer=init())(X_shortcut)
    if shortcut_bn:
        X_shortcut = BatchNormalization(axis=3)(X_shortcut, training=training)
    return Activation("relu")(Add()([X, X_shortcut]))


def conv_stride_on_middle(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    return _conv_block(X, f, filters, s, training, initializer, strides=(1, s))


def conv_shortcut_without_stride(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    return _conv_block(X, f, filters, s, training, initializer, shortcut_stride=1)


def conv_shortcut_without_bn(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    return _conv_block(X, f, filters, s, training, initializer, shortcut_bn=False)


def conv_unseeded_initializer(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    return _conv_block(X, f, filters, s, training, initializer, seeded=False)


def conv_filters_swapped(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    return _conv_block(X, f, filters[::-1], s, training, initializer)


# ------------------------------------------------------------------ nested models: valid and not
def identity_sequential(X, f, filters, training=True, initializer=random_uniform):
    """The main path as a keras.Sequential, called with training=training."""
    F1, F2, F3 = filters
    main_path = keras.Sequential([
        Conv2D(F1, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3), Activation("relu"),
        Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
        Activation("relu"),
        Conv2D(F3, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
    ])
    return Activation("relu")(Add()([main_path(X, training=training), X]))


def identity_nested_functional(X, f, filters, training=True, initializer=random_uniform):
    """The whole block as a functional model of its own (its BatchNormalizations given training explicitly),
    called like a layer."""
    inputs = Input(X.shape[1:])
    block = Model(inputs, identity_course(inputs, f, filters, training, initializer))
    return block(X)


def conv_sequential(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    """Both paths as keras.Sequential models, the main path's middle convolution in a nested Sequential."""
    F1, F2, F3 = filters
    middle = keras.Sequential([Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0)),
                               BatchNormalization(axis=3), Activation("relu")])
    main_path = keras.Sequential([
        Conv2D(F1, 1, strides=s, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
        Activation("relu"), middle, Conv2D(F3, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
    ])
    shortcut = keras.Sequential([Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0)),
                                 BatchNormalization(axis=3)])
    return Activation("relu")(Add()([main_path(X, training=training), shortcut(X, training=training)]))


def identity_sequential_no_training(X, f, filters, training=True, initializer=random_uniform):
    """A Sequential main path called without training: its BatchNormalizations never see the mode."""
    F1, F2, F3 = filters
    main_path = keras.Sequential([
        Conv2D(F1, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3), Activation("relu"),
        Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
        Activation("relu"),
        Conv2D(F3, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
    ])
    return Activation("relu")(Add()([main_path(X), X]))


def identity_sequential_relu_last(X, f, filters, training=True, initializer=random_uniform):
    """A Sequential main path that ends with a ReLU before the Add."""
    F1, F2, F3 = filters
    main_path = keras.Sequential([
        Conv2D(F1, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3), Activation("relu"),
        Conv2D(F2, f, padding="same", kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3),
        Activation("relu"),
        Conv2D(F3, 1, kernel_initializer=initializer(seed=0)), BatchNormalization(axis=3), Activation("relu"),
    ])
    return Activation("relu")(Add()([main_path(X, training=training), X]))


def resnet_sequential_stem(input_shape=(64, 64, 3), classes=6):
    """The stem and the head as keras.Sequential models around the block calls."""
    stem = keras.Sequential([layers.ZeroPadding2D((3, 3)), Conv2D(64, (7, 7), strides=(2, 2),
                                                                   kernel_initializer=glorot_uniform(seed=0)),
                             BatchNormalization(axis=3), Activation("relu"),
                             layers.MaxPooling2D((3, 3), strides=(2, 2))])
    head = keras.Sequential([layers.AveragePooling2D((2, 2)), layers.Flatten(),
                             layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))])
    X_input = Input(input_shape)
    X = stem(X_input)
    for filters, n, s in zip(([64, 64, 256], [128, 128, 512], [256, 256, 1024], [512, 512, 2048]), (3, 4, 6, 3),
                             (1, 2, 2, 2), strict=True):
        X = convolutional_block(X, f=3, filters=filters, s=s)
        for _ in range(n - 1):
            X = identity_block(X, 3, filters)
    return Model(inputs=X_input, outputs=head(X))


# ----------------------------------------------------------------------------- ResNet50
identity_block = identity_course
convolutional_block = conv_course


def _resnet(input_shape, classes, *, strides=(1, 2, 2, 2), blocks=(3, 4, 6, 3), pool="avg", softmax=True):
    stages = ([64, 64, 256], [128, 128, 512], [256, 256, 1024], [512, 512, 2048])
    X_input = Input(input_shape)
    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0))(X)
    X = BatchNormalization(axis=3)(X)
    X = Activation("relu")(X)
    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)
    for filters, n, s in zip(stages, blocks, strides, strict=True):
        X = convolutional_block(X, f=3, filters=filters, s=s)
        for _ in range(n - 1):
            X = identity_block(X, 3, filters)
    X = layers.AveragePooling2D((2, 2))(X) if pool == "avg" else layers.MaxPooling2D((2, 2))(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, activation="softmax" if softmax else None, kernel_initializer=glorot_uniform(seed=0))(X)
    return Model(inputs=X_input, outputs=X)


def resnet_course(input_shape=(64, 64, 3), classes=6):
    """The course's unrolled spelling."""
    X_input = Input(input_shape)
    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0))(X)
    X = BatchNormalization(axis=3)(X)
    X = Activation("relu")(X)
    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)
    X = convolutional_block(X, f=3, filters=[64, 64, 256], s=1)
    X = identity_block(X, 3, [64, 64, 256])
    X = identity_block(X, 3, [64, 64, 256])
    X = convolutional_block(X, f=3, filters=[128, 128, 512], s=2)
    for _ in range(3):
        X = identity_block(X, 3, [128, 128, 512])
    X = convolutional_block(X, f=3, filters=[256, 256, 1024], s=2)
    for _ in range(5):
        X = identity_block(X, 3, [256, 256, 1024])
    X = convolutional_block(X, f=3, filters=[512, 512, 2048], s=2)
    X = identity_block(X, 3, [512, 512, 2048])
    X = identity_block(X, 3, [512, 512, 2048])
    X = layers.AveragePooling2D(pool_size=(2, 2))(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    return Model(inputs=X_input, outputs=X)


def resnet_stage_loop(input_shape=(64, 64, 3), classes=6):
    """A table of stages and a loop."""
    return _resnet(input_shape, classes)


def resnet_stage3_stride_1(input_shape=(64, 64, 3), classes=6):
    return _resnet(input_shape, classes, strides=(1, 1, 2, 2))


def resnet_maxpool_head(input_shape=(64, 64, 3), classes=6):
    return _resnet(input_shape, classes, pool="max")


def resnet_no_softmax(input_shape=(64, 64, 3), classes=6):
    return _resnet(input_shape, classes, softmax=False)


def resnet_stage4_five_blocks(input_shape=(64, 64, 3), classes=6):
    return _resnet(input_shape, classes, blocks=(3, 4, 5, 3))


# ------------------------------------------------------------- the tables the checks are tested with
#: (answer, the hint's words): valid spellings pass, each mistake is named (tests/checks, benchmarks/gpu.py).
VALID_IDENTITY = [identity_course, identity_plus_relu_layer, identity_loop, identity_sequential,
                  identity_nested_functional]
VALID_CONV = [conv_course, conv_loop_plus, conv_sequential]
VALID_RESNET = [resnet_course, resnet_stage_loop, resnet_sequential_stem]
#: Mistakes made inside nested models: named as in the flat spelling.
NESTED_MISTAKES = [
    (identity_sequential_no_training, "pass `training=training` to BatchNormalization"),
    (identity_sequential_relu_last, "no ReLU between the last BatchNormalization and the Add"),
]

IDENTITY_MISTAKES = [
    (identity_add_after_relu, "the shortcut must be added before the final ReLU"),
    (identity_no_final_relu, "apply a ReLU after adding the shortcut"),
    (identity_relu_before_add, "no ReLU between the last BatchNormalization and the Add"),
    (identity_main_path_only, "add the shortcut to the main path"),
    (identity_bn_axis_1, "BatchNormalization must normalise the channel axis (axis=3 or -1); got axis=1"),
    (identity_no_training, "pass `training=training` to BatchNormalization"),
    (identity_valid_padding,
     "the middle convolution must use padding='same' and kernel size f (f=2; got kernel 2x2, padding='valid')"),
    (identity_kernel_3, "the middle convolution must use padding='same' and kernel size f (f=2; got kernel 3x3"),
    (identity_default_initializer, "use initializer(seed=0) for every Conv2D"),
    (identity_filters_swapped,
     "use F1, F2, F3 = filters in this order: the convolutions need [4, 4, 3] filters, got [3, 4, 4]"),
]
CONV_MISTAKES = [
    (conv_stride_on_middle, "the stride belongs on the first 1x1 conv and on the shortcut"),
    (conv_shortcut_without_stride, "the stride belongs on the first 1x1 conv and on the shortcut"),
    (conv_shortcut_without_bn, "the shortcut path needs a 1x1 Conv2D with stride s and BatchNormalization"),
    (conv_unseeded_initializer, "use initializer(seed=0) for every Conv2D"),
    (conv_filters_swapped,
     "use F1, F2, F3 = filters in this order: the convolutions need [2, 4, 6] filters, got [6, 4, 2]"),
]
RESNET_MISTAKES = [
    (resnet_stage3_stride_1, "stage 3 should downsample with s=2 (output (8, 8, 512), got (15, 15, 512))"),
    (resnet_maxpool_head, "use AveragePooling2D(pool_size=2)"),
    (resnet_no_softmax, "the last layer must be Dense(classes, activation='softmax')"),
    (resnet_stage4_five_blocks, "stage 4 should have 6 blocks (1 convolutional_block + 5 identity_block), got 5"),
]
