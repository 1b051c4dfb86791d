"""Keras functional graphs summarised as plain data (JSON-able) that the checks compare.

Keras 3 records every call on a ``KerasTensor`` as a node: ``tensor._keras_history`` names
the operation and node that produced it, ``node.input_tensors`` its inputs and
``node.arguments.kwargs`` the keyword arguments (``training=...``). Walking back from an
output therefore sees layers and ops alike, so ``Add()``, ``layers.add`` and ``X + Y`` all
read as an ``add``; ``ReLU()``, ``Activation('relu')`` and ``keras.ops.relu`` as a ``relu``.
Layer names are left out: they are generated and say nothing about correctness.
"""

from __future__ import annotations

import keras

_MAX_OPS = 10_000  # a ResNet-50 has ~180; anything beyond is a cycle in a corrupt graph


def _pair(value) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * 2


def _activation_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _initializer(init) -> dict:
    config = init.get_config() if hasattr(init, "get_config") else {}
    return {"class": type(init).__name__, "config": {k: v for k, v in config.items() if _jsonable(v)}}


def _jsonable(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _is_plain_relu(op) -> bool:
    return all(not getattr(op, attr, 0) for attr in ("negative_slope", "threshold")) and getattr(
        op, "max_value", None
    ) is None


def describe(op, node) -> dict:
    """One operation as a dict: ``{"op": kind, ...the fields that matter for that kind}``."""
    layers = keras.layers
    if isinstance(op, layers.Conv2D):
        return {
            "op": "conv",
            "filters": int(op.filters),
            "kernel_size": _pair(op.kernel_size),
            "strides": _pair(op.strides),
            "padding": str(op.padding),
            "activation": _activation_name(op.activation),
            "initializer": _initializer(op.kernel_initializer),
        }
    if isinstance(op, layers.BatchNormalization):
        training = node.arguments.kwargs.get("training")
        return {
            "op": "bn",
            "axis": int(op.axis) % 4 if isinstance(op.axis, int) else repr(op.axis),
            "training": training if isinstance(training, bool) or training is None else repr(training),
        }
    kind = type(op).__name__
    if kind == "BlockStandIn":
        return {"op": "block", "function": op.function, "kind": op.kind, "f": op.f, "filters": list(op.filters),
                "s": op.s, "training": op.training, "input_shape": _shape(node.input_tensors[0]),
                "shape": _shape(node.output_tensors[0])}
    if kind in ("ReLU", "Relu"):  # layers.ReLU; keras.activations.relu; keras.ops.relu
        return {"op": "relu"} if _is_plain_relu(op) else {"op": "leaky_or_capped_relu"}
    if isinstance(op, layers.Activation):
        name = _activation_name(op.activation)
        return {"op": "relu"} if name == "relu" else {"op": "activation", "fn": name}
    if kind == "Add":  # layers.Add / layers.add, or ``+`` (keras.ops.add)
        return {"op": "add"}
    if isinstance(op, (layers.MaxPooling2D, layers.AveragePooling2D)):
        return {
            "op": "maxpool" if isinstance(op, layers.MaxPooling2D) else "avgpool",
            "pool_size": _pair(op.pool_size),
            "strides": _pair(op.strides),
        }
    if isinstance(op, layers.Dense):
        return {"op": "dense", "units": int(op.units), "activation": _activation_name(op.activation)}
    if isinstance(op, layers.Softmax) or kind == "Softmax":
        return {"op": "activation", "fn": "softmax"}
    simple = {
        "InputLayer": "input", "ZeroPadding2D": "zeropad", "Flatten": "flatten",
        "GlobalAveragePooling2D": "globalavgpool", "GlobalMaxPooling2D": "globalmaxpool",
    }
    return {"op": simple.get(kind, kind)}


def producer(tensor):
    """The (operation, node) that produced a KerasTensor, or ``None`` for something else."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None
    op = history[0]
    return op, op._inbound_nodes[history[1]]


def _walk_back(tensor, stop) -> tuple[list[dict], object, object]:
    """Follow single-input ops back from ``tensor`` while ``stop(t)`` is false.

    Returns:
        (ops in forward order, the tensor where the walk stopped, the (op, node) there
        when it stopped at a multi-input op, else ``None``).
    """
    ops = []
    for _ in range(_MAX_OPS):
        if stop(tensor):
            return ops, tensor, None
        found = producer(tensor)
        if found is None:
            return ops, tensor, None
        op, node = found
        inputs = list(node.input_tensors)
        if len(inputs) != 1:
            return ops, tensor, (op, node) if inputs else None
        ops.insert(0, describe(op, node))
        tensor = inputs[0]
    raise RecursionError("the graph is too deep to summarise")


def _convs(ops: list[dict]) -> int:
    return sum(o["op"] == "conv" for o in ops)


def block_summary(output, block_input) -> dict:
    """Summarise a residual block: the ops after the join, the join, its main path and shortcut.

    Args:
        output: the KerasTensor the block returned.
        block_input: the ``keras.Input`` it was called on.

    Returns:
        ``{"tail", "join", "main", "shortcut", "reaches_input"}``: ``tail`` is the ops after
        the join (the whole path when there is no join, and ``join`` is then ``None``);
        ``main`` is the branch with more convolutions; each list is in forward order.
    """
    is_input = lambda t: t is block_input  # noqa: E731
    tail, at, join = _walk_back(output, is_input)
    if join is None:
        return {"tail": tail, "join": None, "main": None, "shortcut": None, "reaches_input": at is block_input}
    op, node = join
    branches = []
    reaches = True
    for tensor in node.input_tensors:
        ops, end, other = _walk_back(tensor, is_input)
        if other is not None:
            ops.insert(0, describe(*other))
        reaches = reaches and end is block_input and other is None
        branches.append(ops)
    branches.sort(key=lambda ops: (_convs(ops), len(ops)), reverse=True)
    inputs = list(node.input_tensors)
    same = len(inputs) > 1 and all(t is inputs[0] for t in inputs)  # Add()([X, X]): one tensor twice
    return {
        "tail": tail,
        "join": dict(describe(op, node), inputs=len(branches), same_inputs=same),
        "main": branches[0],
        "shortcut": branches[1] if len(branches) > 1 else None,
        "reaches_input": reaches,
    }


def _shape(tensor) -> list:
    return [None if d is None else int(d) for d in tensor.shape[1:]]


def model_summary(model) -> dict:
    """Summarise a ResNet built with stand-in blocks: stem, block calls grouped in stages, head.

    With stand-ins (:mod:`resnet_signs.checks.standins`) the model is a chain: the stem, one
    ``block`` op per block call, the head. A projection block opens a stage; a stage's shape is
    its last block's output shape.

    Returns:
        ``{"params", "output_shape", "stem", "stem_shape", "calls", "stages", "head"}``:
        ``params`` counts the model's own weights (stem and head: stand-ins have none);
        ``calls`` is one ``describe`` dict per block call; ``stages`` is
        ``[{"blocks", "shape", "filters", "strides"}]``.
    """
    output = model.outputs[0]
    chain, _, join = _walk_back(output, lambda t: False)
    calls = [i for i, op in enumerate(chain) if op["op"] == "block"]
    stem = chain[: calls[0]] if calls else chain
    head = chain[calls[-1] + 1 :] if calls else []
    stages = []
    for i in calls:
        call = chain[i]
        if call["kind"] == "projection" or not stages:
            stages.append({"blocks": 0, "shape": None, "filters": [], "strides": []})
        stage = stages[-1]
        stage["blocks"] += 1
        stage["shape"] = call["shape"]
        stage["filters"].append(call["filters"])
        stage["strides"].append(call["s"])
    return {
        "params": int(model.count_params()),
        "output_shape": _shape(output),
        "stem": stem,
        "stem_shape": chain[calls[0]]["input_shape"] if calls else _shape(output),
        "chain_broken_by": None if join is None else describe(*join)["op"],  # an op outside the blocks with 2+ inputs
        "calls": [chain[i] for i in calls],
        "stages": stages,
        "head": head,
    }


def convs_from(block_input) -> list[int]:
    """Filters of the Conv2D layers fed, directly or not, by ``block_input``, nearest first.

    Used when a block fails half-way (e.g. channels that do not match at the Add): the
    layers it created before failing are still linked to its input.
    """
    found, seen, frontier = [], set(), [block_input._keras_history[0]]
    while frontier and len(seen) < _MAX_OPS:
        next_frontier = []
        for op in frontier:
            for node in getattr(op, "_outbound_nodes", []):
                consumer = node.operation
                if id(consumer) in seen:
                    continue
                seen.add(id(consumer))
                if isinstance(consumer, keras.layers.Conv2D):
                    found.append(int(consumer.filters))
                next_frontier.append(consumer)
        frontier = next_frontier
    return found
