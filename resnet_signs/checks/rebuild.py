"""Rebuild a captured graph safely: an allowlist of standard layers, bounded sizes, Keras' safe mode.

The config comes from a student's process, so it is hostile input until proven otherwise.
:func:`validate` walks it before Keras sees it: every object must be a standard layer, op,
initializer... from a short allowlist (no ``Lambda``, no custom classes except the checks'
own :class:`~resnet_signs.checks.standins.BlockStandIn`), every size is bounded (no layer with
a billion weights, no ten-thousand-layer graph), every string short. Nested models (a
``keras.Sequential`` or a functional model used as a layer) are allowed when they are made of
allowed layers: they are validated recursively and bounded as a whole (layers, weights and nesting
depth count across every level; their cost is estimated with the rest, :mod:`resnet_signs.checks.cost`).
:func:`rebuild` then deserialises it in Keras' safe mode and sets every weight from the layers' own initializer configs,
drawn by NumPy (:mod:`resnet_signs.checks.weights`: seeded initializers give the same values on
every backend), so whoever rebuilds can compute the outputs itself.
"""

from __future__ import annotations

import copy
import math

from resnet_signs.checks import weights
from resnet_signs.checks.records import one_line

#: Layers a block or ResNet-50 may be built from (class names as Keras serialises them).
LAYERS = frozenset({
    "InputLayer", "Conv2D", "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Add", "ZeroPadding2D",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense",
    "Softmax", "Dropout", "Identity",
})
#: ``keras.ops`` / ``keras.activations`` operations that appear when a student writes ``X + Y``,
#: ``keras.ops.relu(X)`` or ``keras.activations.relu(X)``.
OPS = frozenset({"Add", "Relu", "ReLU", "Softmax", "Multiply", "Subtract", "Maximum"})
NESTED = {
    "keras": {"DTypePolicy"},
    "keras.initializers": {
        "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "RandomUniform",
        "RandomNormal", "TruncatedNormal", "Zeros", "Ones", "Constant", "VarianceScaling", "Orthogonal",
    },
    "keras.regularizers": {"L1", "L2", "L1L2"},
    "keras.constraints": {"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"},
}
ACTIVATIONS = frozenset({"linear", "relu", "softmax", "sigmoid", "tanh", "elu", "selu", "gelu", "swish", "silu",
                         "relu6", "softplus", "leaky_relu"})
STAND_IN = "resnet_signs>BlockStandIn"
#: Nested models (class name, module as Keras serialises them): their layers are checked like the others.
MODELS = frozenset({("Sequential", "keras"), ("Functional", "keras.src.models.functional")})

MAX_LAYERS = 400  # in all, nested models' layers included
MAX_NESTING = 8  # models inside models
MAX_DEPTH = 40
MAX_LIST = 2000
MAX_STRING = 200
MAX_INT = 1 << 16  # filters, units, shapes; seeds are exempt
MAX_LAYER_WEIGHTS = 1 << 25
MAX_WEIGHTS = 1 << 26


class GraphRejected(ValueError):
    """The captured graph cannot be rebuilt; the message is one line for the student."""


def _walk(value, depth: int = 0, key: str = "") -> None:
    """Generic bounds: depth, list length, string length, integer size, nested classes."""
    if depth > MAX_DEPTH:
        raise GraphRejected("the graph's description is nested too deeply")
    if isinstance(value, dict):
        if "class_name" in value:
            _check_nested(value)
        for k, v in value.items():
            if not isinstance(k, str) or len(k) > MAX_STRING:
                raise GraphRejected("the graph's description has an invalid key")
            _walk(v, depth + 1, k)
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            raise GraphRejected("the graph's description has an overlong list")
        for v in value:
            _walk(v, depth + 1, key)
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise GraphRejected("the graph's description has an overlong string")
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if key != "seed" and abs(value) > MAX_INT:
            raise GraphRejected(f"the graph has an out-of-range value ({key}={value})")
    elif isinstance(value, float):
        if not math.isfinite(value) and key not in ("max_value",):
            raise GraphRejected(f"the graph has a non-finite value ({key})")
    else:
        raise GraphRejected(f"the graph's description holds a {type(value).__name__}")


def _check_nested(obj: dict) -> None:
    name, module = obj.get("class_name"), obj.get("module")
    if name == "__keras_tensor__":
        return
    if name in LAYERS and module == "keras.layers":
        return
    if name in OPS and isinstance(module, str) and module.startswith(("keras.src.ops.", "keras.src.activations.")):
        return
    if obj.get("registered_name") == STAND_IN and name == "BlockStandIn":
        return
    if (name, module) in MODELS:
        return
    if name in NESTED.get(module, ()):
        if name == "Constant" and not isinstance(obj.get("config", {}).get("value"), (int, float)):
            raise GraphRejected("Constant initializers must hold a single number")
        return
    what = f"{module}.{name}" if isinstance(module, str) else str(name)
    if name == "Lambda":
        raise GraphRejected("the block uses a Lambda layer, which the grader does not run: use standard Keras layers")
    raise GraphRejected(f"the block uses {what[:80]}, which the grader does not rebuild: use the standard Keras "
                        "layers of the assignment (Conv2D, BatchNormalization, Activation, Add, ...)")


def _shape(value) -> list:
    if not isinstance(value, list) or not all(d is None or isinstance(d, int) for d in value):
        raise GraphRejected("a layer's recorded input shape is not a shape")
    return value


def _weights(layer: dict) -> int:
    """An upper bound on the layer's weights from its config, before Keras allocates them."""
    config = layer.get("config") or {}
    name = layer.get("class_name")
    if name == "Conv2D":
        if config.get("activation") not in ACTIVATIONS:
            raise GraphRejected("Conv2D's activation must be a standard one, given by name")
        shape = _shape((layer.get("build_config") or {}).get("input_shape"))
        channels = shape[-1] if shape and shape[-1] is not None else 1
        kernel = config.get("kernel_size") or [1, 1]
        return int(config.get("filters", 0)) * math.prod(int(k) for k in kernel) * int(channels)
    if name == "Dense":
        if config.get("activation") not in ACTIVATIONS:
            raise GraphRejected("Dense's activation must be a standard one, given by name")
        shape = _shape((layer.get("build_config") or {}).get("input_shape"))
        features = shape[-1] if shape and shape[-1] is not None else 1
        return int(config.get("units", 0)) * int(features)
    if name == "Activation" and config.get("activation") not in ACTIVATIONS:
        raise GraphRejected("Activation must name a standard activation, e.g. Activation('relu')")
    return 0


def validate(config) -> None:
    """Raise :class:`GraphRejected` unless ``config`` is a functional config this module will rebuild."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list) or not config["layers"]:
        raise GraphRejected("the capture holds no functional model")
    layers = _layers(config["layers"])
    if len(layers) > MAX_LAYERS:
        raise GraphRejected(f"the graph has {len(layers)} layers (at most {MAX_LAYERS} are graded)")
    _walk(config)
    total = 0
    for layer in layers:
        nodes = layer.get("inbound_nodes", [])
        if not isinstance(nodes, list) or len(nodes) > 8:
            raise GraphRejected("a layer is called too many times")
        weights = _weights(layer)
        if weights > MAX_LAYER_WEIGHTS:
            raise GraphRejected(f"a {layer['class_name']} layer would have {weights:,} weights")
        total += weights * max(1, len(nodes))
    if total > MAX_WEIGHTS:
        raise GraphRejected(f"the graph would have about {total:,} weights")


def _layers(layers: list, nesting: int = 0) -> list[dict]:
    """Every layer of the graph, nested models' layers included (the nested models themselves too)."""
    if nesting > MAX_NESTING:
        raise GraphRejected(f"the graph nests models more than {MAX_NESTING} deep")
    found = []
    for layer in layers:
        if not isinstance(layer, dict) or "class_name" not in layer:
            raise GraphRejected("the graph lists something that is not a layer")
        found.append(layer)
        if (layer["class_name"], layer.get("module")) in MODELS:
            inner = (layer.get("config") or {}).get("layers") if isinstance(layer.get("config"), dict) else None
            if not isinstance(inner, list) or not inner:
                raise GraphRejected(f"a nested {layer['class_name']} model holds no layers")
            found += _layers(inner, nesting + 1)
    return found


def rebuild(config: dict):
    """The functional model ``config`` describes (a ``keras.Model``), its weights drawn from its initializers
    by NumPy. Keras is imported here only: validating and estimating a graph (the judge's side) need no
    TensorFlow.

    Raises:
        GraphRejected: the config is not allowed (see :func:`validate`) or Keras cannot rebuild it.
    """
    import keras

    from resnet_signs.checks.standins import BlockStandIn

    validate(config)
    try:
        with keras.saving.custom_object_scope({STAND_IN: BlockStandIn}):
            model = keras.Model.from_config(copy.deepcopy(config), custom_objects={STAND_IN: BlockStandIn})
        weights.assign(model)
        return model
    except weights.UnknownInitializer as exc:
        raise GraphRejected(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any failure of a hostile config is a verdict, not a crash
        raise GraphRejected(f"the graph could not be rebuilt ({one_line(exc)})") from None
