"""CIFAR-style plain and residual networks of depth 6n + 2 (He et al. 2015, section 4.2).

The two families share everything but the shortcuts: a 3x3 stem conv with 16 filters,
three stages of ``n`` two-conv blocks with 16, 32 and 64 filters (the first block of the
second and third stage halves the grid with stride 2), global average pooling and a
softmax layer. That is 1 + 6n conv layers + 1 dense layer = 6n + 2 weighted layers.

Where a block changes the shape (stride 2, more filters), a residual block needs a
shortcut ``Ws`` to match dimensions (``shortcut``):

- ``"zero-pad"``: subsample with stride 2 and pad the new channels with zeros. No
  parameters, so the residual net has exactly the plain net's parameter count (the
  paper's option A, used for its CIFAR nets).
- ``"projection"``: a learned 1x1 conv with stride 2 followed by batch norm (option B).
- ``"identity"``: identity shortcuts only; the two blocks whose shape changes get none,
  because ``z[l+2] + a[l]`` is undefined there.

Everything is plain Keras 3 (no backend-specific ops), so it runs on any backend.
"""

from __future__ import annotations

import keras
from keras import layers

from resnet_signs.errors import UsageError

#: Depths the course uses; any 6n + 2 with n >= 1 is accepted.
DEPTHS = (8, 14, 20, 32, 56)
SHORTCUTS = ("zero-pad", "projection", "identity")
#: (filters, stride of the first block) per stage, as in the paper's CIFAR nets.
STAGES = ((16, 1), (32, 2), (64, 2))
# Momentum 0.9, not Keras's 0.99: these runs take a few hundred steps, too few for
# 0.99's moving statistics to settle, which would make inference-mode accuracy noise.
BN_MOMENTUM = 0.9


def blocks_per_stage(depth: int) -> int:
    """Return ``n`` for a depth ``6n + 2``, or raise ``UsageError`` for any other depth."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise UsageError(
            f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, ...). Received: depth={depth!r}"
        )
    return (depth - 2) // 6


def check_shortcut(shortcut: str) -> str:
    if shortcut not in SHORTCUTS:
        raise UsageError(f"shortcut must be one of {', '.join(SHORTCUTS)}. Received: shortcut={shortcut!r}")
    return shortcut


class ZeroPadShortcut(layers.Layer):
    """Parameter-free shortcut: take every ``stride``-th pixel, zero-pad the new channels."""

    def __init__(self, filters: int, stride: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.stride = stride

    def call(self, x):
        x = x[:, :: self.stride, :: self.stride, :]
        extra = self.filters - x.shape[-1]
        # Half the new channels before, half after, as in the reference CIFAR code.
        return keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [extra // 2, extra - extra // 2]])

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        shrink = lambda d: None if d is None else -(-d // self.stride)  # noqa: E731 - a one-line helper (ceil division)
        return (b, shrink(h), shrink(w), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}


def _conv(filters: int, kernel: int, stride: int, name: str, weight_decay: float, seed: int) -> layers.Conv2D:
    return layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=name,
        kernel_initializer=keras.initializers.HeNormal(seed=seed),
        kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
    )


def _bn(name: str, weight_decay: float = 0.0) -> layers.BatchNormalization:
    # BN makes a block's output independent of its kernels' scale, so decaying the kernels
    # alone cannot shrink a residual branch; decaying gamma and beta can.
    decay = keras.regularizers.L2(weight_decay) if weight_decay else None
    return layers.BatchNormalization(axis=-1, momentum=BN_MOMENTUM, name=name,
                                     gamma_regularizer=decay, beta_regularizer=decay)


def block(x, filters: int, stride: int, name: str, *, residual: bool, shortcut: str = "zero-pad",
          weight_decay: float = 0.0, seed: int = 0):
    """One two-conv block: ``a[l+2] = g(BN(W2 g(BN(W1 a[l]))) + Ws a[l])``.

    Args:
        x: input tensor ``(m, H, W, C)``.
        filters: output channels of both 3x3 convs.
        stride: stride of the first conv (2 halves ``H`` and ``W``).
        name: layer-name prefix, e.g. ``"stage2_block1"``.
        residual: add the shortcut (``False`` gives the plain block).
        shortcut: how a shape-changing block matches dimensions (see the module docstring).
        weight_decay: L2 factor on the conv kernels and the batch norms' gamma and beta.
        seed: initialiser seed (each conv gets a distinct derived seed).

    Returns:
        Tensor ``(m, ceil(H / stride), ceil(W / stride), filters)``.
    """
    shortcut_input = x
    # "same" convolutions keep H and W, which is what makes z[l+2] + a[l] defined.
    x = _conv(filters, 3, stride, f"{name}_1_conv", weight_decay, seed)(x)
    x = _bn(f"{name}_1_bn", weight_decay)(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = _conv(filters, 3, 1, f"{name}_2_conv", weight_decay, seed + 1)(x)
    x = _bn(f"{name}_2_bn", weight_decay)(x)
    if residual:
        reshapes = stride != 1 or shortcut_input.shape[-1] != filters
        if not reshapes:
            x = layers.Add(name=f"{name}_add")([shortcut_input, x])
        elif shortcut == "projection":
            s = _conv(filters, 1, stride, f"{name}_0_conv", weight_decay, seed + 2)(shortcut_input)
            s = _bn(f"{name}_0_bn", weight_decay)(s)
            x = layers.Add(name=f"{name}_add")([s, x])
        elif shortcut == "zero-pad":
            s = ZeroPadShortcut(filters, stride, name=f"{name}_0_pad")(shortcut_input)
            x = layers.Add(name=f"{name}_add")([s, x])
        # shortcut == "identity": no shortcut where the shapes differ.
    return layers.Activation("relu", name=f"{name}_out")(x)


def build_net(depth: int, residual: bool = True, shortcut: str = "zero-pad", *,
              input_shape: tuple[int, int, int] = (32, 32, 3), classes: int = 6,
              weight_decay: float = 0.0, seed: int = 0) -> keras.Model:
    """Build a plain or residual net with ``depth = 6n + 2`` weighted layers.

    Args:
        depth: 8, 14, 20, 32, 56 or any other ``6n + 2``.
        residual: ``True`` for the ResNet, ``False`` for its plain twin.
        shortcut: ``"zero-pad"``, ``"projection"`` or ``"identity"`` (ignored when plain).
        input_shape: ``(H, W, C)`` of the images.
        classes: number of softmax outputs.
        weight_decay: L2 factor on every conv kernel, gamma, beta and the dense kernel.
        seed: initialiser seed; equal seeds give equal weights for equal architectures.

    Returns:
        An uncompiled ``keras.Model`` named ``plain{depth}`` or ``resnet{depth}``.
    """
    n = blocks_per_stage(depth)
    check_shortcut(shortcut)
    inputs = keras.Input(shape=input_shape, name="images")
    x = _conv(STAGES[0][0], 3, 1, "stem_conv", weight_decay, seed)(inputs)
    x = _bn("stem_bn", weight_decay)(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for s, (filters, first_stride) in enumerate(STAGES, start=1):
        for b in range(1, n + 1):
            x = block(x, filters, first_stride if b == 1 else 1, f"stage{s}_block{b}",
                      residual=residual, shortcut=shortcut, weight_decay=weight_decay,
                      seed=seed + 1000 * s + 10 * b)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(
        classes, activation="softmax", name="fc",
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 7),
        kernel_regularizer=keras.regularizers.L2(weight_decay) if weight_decay else None,
    )(x)
    return keras.Model(inputs, outputs, name=f"{'resnet' if residual else 'plain'}{depth}")


def conv_layers(model: keras.Model) -> list[layers.Conv2D]:
    """The model's 3x3 conv layers in depth order (stem first; 1x1 projections excluded)."""
    return [layer for layer in model.layers
            if isinstance(layer, layers.Conv2D) and layer.kernel_size == (3, 3)]
