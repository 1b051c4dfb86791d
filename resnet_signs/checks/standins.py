"""Stand-in residual blocks: correctly shaped, parameter-free, answer-free.

To judge a student's ``ResNet50`` on its own, the checks call it with stand-ins in place of the
student's ``identity_block`` and ``convolutional_block``. A stand-in records the call's
arguments in a :class:`BlockStandIn` layer and returns a tensor of the shape the real block
would return, computed without weights. The model graph then holds the stem, the table of
block calls and the head, and nothing that depends on the student's blocks: a bug in a block
costs its points once, and a judge can rebuild the graph (the layer is registered with Keras)
without ever running student code.

A stand-in knows only the assignment's public contract: the parameter names of each block and
how it changes the shape (an identity block keeps it; a projection block strides by ``s`` and
outputs ``filters[2]`` channels).
"""

from __future__ import annotations

import inspect
import math

import keras
from keras import ops

from resnet_signs.checks.cases import StandInSpec


def _int(value, name: str, function: str) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{function}: {name} must be an integer. Received: {name}={value!r}")
    return int(value)


def _filters(value, function: str) -> list[int]:
    try:
        values = [int(v) for v in value]
    except TypeError:
        raise TypeError(f"{function}: filters must be a list of 3 integers. Received: filters={value!r}") from None
    if len(values) != 3:
        raise ValueError(f"{function}: filters must have 3 entries. Received: filters={values}")
    return values


@keras.saving.register_keras_serializable(package="resnet_signs")
class BlockStandIn(keras.layers.Layer):
    """One call of a residual block, as data: its arguments and a weightless output of the right shape.

    Args:
        function: the block function's name (``"identity_block"``...).
        kind: ``"identity"`` or ``"projection"``.
        f: the block's kernel size argument.
        filters: the block's three filter counts.
        s: the stride (projection blocks; 1 for identity blocks).
        training: the ``training`` argument the caller passed explicitly, else ``None``.
    """

    def __init__(self, function, kind, f, filters, s=1, training=None, **kwargs):
        super().__init__(**kwargs)
        self.function, self.kind = str(function), str(kind)
        self.f, self.filters, self.s = int(f), [int(v) for v in filters], int(s)
        self.training = training if isinstance(training, bool) or training is None else repr(training)

    def compute_output_shape(self, input_shape):
        m, h, w, c = input_shape
        if self.kind == "identity":
            return (m, h, w, c)
        shrink = lambda d: None if d is None else math.ceil(d / self.s)  # noqa: E731 - a one-line helper (ceil division)
        return (m, shrink(h), shrink(w), self.filters[2])

    def call(self, x):
        if self.kind == "identity":
            return ops.multiply(x, 1.0)
        pooled = ops.mean(x[:, :: self.s, :: self.s, :], axis=-1, keepdims=True)
        return ops.repeat(pooled, self.filters[2], axis=-1)

    def get_config(self):
        return {**super().get_config(), "function": self.function, "kind": self.kind, "f": self.f,
                "filters": self.filters, "s": self.s, "training": self.training}


def stand_in(function: str, spec: StandInSpec):
    """A function with the block's parameters that returns :class:`BlockStandIn` applied to ``X``.

    It fails the way the real block would fail on bad arguments (three filters, an identity
    block whose ``filters[2]`` differs from its input's channels), so a ``ResNet50`` that calls
    the blocks wrongly is told so.
    """
    parameters = [inspect.Parameter("X", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for name in spec.parameters:
        default = spec.defaults.get(name, inspect.Parameter.empty)
        parameters.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
    # A layer-name prefix, as Keras applications' blocks (and the course's reference) accept: ignored.
    parameters.append(inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None))
    signature = inspect.Signature(parameters)

    def block(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{function}(): {exc}") from None
        given = dict(bound.arguments)
        bound.apply_defaults()
        X = bound.arguments["X"]
        f = _int(bound.arguments["f"], "f", function)
        filters = _filters(bound.arguments["filters"], function)
        s = _int(bound.arguments.get("s", 1), "s", function) if spec.kind == "projection" else 1
        if s < 1 or f < 1:
            raise ValueError(f"{function}: f and s must be positive. Received: f={f}, s={s}")
        if getattr(X, "shape", None) is None or len(X.shape) != 4:
            raise ValueError(f"{function}: X must be a 4-D tensor (m, n_H, n_W, n_C). Received: {X!r}")
        channels = X.shape[-1]
        if spec.kind == "identity" and channels is not None and channels != filters[2]:
            raise ValueError(f"{function}: the identity block adds X to the main path, so filters[2] must equal the "
                             f"input's channels. Received: filters={filters} for an input with {channels} channels")
        return BlockStandIn(function, spec.kind, f, filters, s, training=given.get("training"))(X)

    block.__name__ = block.__qualname__ = function
    block.__signature__ = signature
    return block
