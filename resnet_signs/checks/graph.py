"""Keras functional graphs summarised as typed records (:mod:`resnet_signs.checks.observations`) the checks compare.

Keras 3 records every call on a ``KerasTensor`` as a node: ``tensor._keras_history`` names
the operation and node that produced it, ``node.input_tensors`` its inputs and
``node.arguments.kwargs`` the keyword arguments (``training=...``). Walking back from an
output therefore sees layers and ops alike, so ``Add()``, ``layers.add`` and ``X + Y`` all
read as an ``add``; ``ReLU()``, ``Activation('relu')`` and ``keras.ops.relu`` as a ``relu``.
Layer names are left out: they are generated and say nothing about correctness.

Nested models (a ``keras.Sequential`` main path, a functional model called like a layer) are seen
through: the walk goes into a nested model at its output and comes out at the tensor the call was
given, so a block reads exactly like its flat equivalent. A BatchNormalization inside a nested model
that was not given ``training`` itself runs in the mode the nested model was called with, as Keras
runs it, and is described so.
"""

from __future__ import annotations

import keras

from resnet_signs.checks.observations import BlockCall, BlockSummary, Initializer, Join, ModelSummary, Op, Stage

_MAX_OPS = 10_000  # a ResNet-50 has ~180; anything beyond is a cycle in a corrupt graph


def _pair(value) -> tuple[int, int]:
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * 2


def _activation_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _initializer(init) -> Initializer:
    config = init.get_config() if hasattr(init, "get_config") else {}
    return Initializer(type(init).__name__, tuple(sorted((k, v) for k, v in config.items() if _jsonable(v))))


def _jsonable(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _is_plain_relu(op) -> bool:
    return all(not getattr(op, attr, 0) for attr in ("negative_slope", "threshold")) and getattr(
        op, "max_value", None
    ) is None


def _mode(value) -> bool | str | None:
    return value if isinstance(value, bool) or value is None else repr(value)


def _inherited_training(frames) -> bool | str | None:
    """The ``training`` argument of the innermost nested-model call that was given one."""
    for _, node in reversed(frames):
        training = node.arguments.kwargs.get("training")
        if training is not None:
            return _mode(training)
    return None


def describe(op, node, frames=()) -> Op:
    """One operation as an :class:`Op` (``frames``: the nested-model calls it sits in, outermost first)."""
    layers = keras.layers
    if isinstance(op, layers.Conv2D):
        return Op("conv", filters=int(op.filters), kernel_size=_pair(op.kernel_size), strides=_pair(op.strides),
                  padding=str(op.padding), activation=_activation_name(op.activation),
                  initializer=_initializer(op.kernel_initializer))
    if isinstance(op, layers.BatchNormalization):
        training = node.arguments.kwargs.get("training")
        return Op("bn", axis=int(op.axis) % 4 if isinstance(op.axis, int) else repr(op.axis),
                  training=_inherited_training(frames) if training is None else _mode(training))
    kind = type(op).__name__
    if kind == "BlockStandIn":
        call = BlockCall(op.function, op.kind, op.f, tuple(op.filters), op.s, op.training,
                         _shape(node.input_tensors[0]), _shape(node.output_tensors[0]))
        return Op("block", call=call)
    if kind in ("ReLU", "Relu"):  # layers.ReLU; keras.activations.relu; keras.ops.relu
        return Op("relu") if _is_plain_relu(op) else Op("leaky_or_capped_relu")
    if isinstance(op, layers.Activation):
        name = _activation_name(op.activation)
        return Op("relu") if name == "relu" else Op("activation", fn=name)
    if kind == "Add":  # layers.Add / layers.add, or ``+`` (keras.ops.add)
        return Op("add")
    if isinstance(op, (layers.MaxPooling2D, layers.AveragePooling2D)):
        return Op("maxpool" if isinstance(op, layers.MaxPooling2D) else "avgpool", pool_size=_pair(op.pool_size),
                  strides=_pair(op.strides))
    if isinstance(op, layers.Dense):
        return Op("dense", units=int(op.units), activation=_activation_name(op.activation))
    if isinstance(op, layers.Softmax) or kind == "Softmax":
        return Op("activation", fn="softmax")
    simple = {
        "InputLayer": "input", "ZeroPadding2D": "zeropad", "Flatten": "flatten",
        "GlobalAveragePooling2D": "globalavgpool", "GlobalMaxPooling2D": "globalmaxpool",
    }
    return Op(simple.get(kind, kind))


def producer(tensor):
    """The (operation, node) that produced a KerasTensor, or ``None`` for something else."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return None
    op = history[0]
    return op, op._inbound_nodes[history[1]]


def _outward(tensor, frames: tuple) -> tuple:
    """A nested model's input seen from outside: the tensor its call was given (repeatedly, for nested nests)."""
    while frames:
        model, node = frames[-1]
        index = next((i for i, t in enumerate(keras.tree.flatten(model.inputs)) if t is tensor), None)
        outer = list(node.input_tensors)
        if index is None or index >= len(outer):
            break
        tensor, frames = outer[index], frames[:-1]
    return tensor, frames


def _walk_back(tensor, frames: tuple, stop) -> tuple[list[Op], tuple, tuple | None]:
    """Follow single-input ops back from ``tensor`` (inside the nested-model calls ``frames``) while
    ``stop(tensor, frames)`` is false, entering nested models at their outputs.

    Returns:
        (ops in forward order, the (tensor, frames) where the walk stopped, the (op, node, frames)
        there when it stopped at a multi-input op, else ``None``).
    """
    ops: list[Op] = []
    for _ in range(_MAX_OPS):
        tensor, frames = _outward(tensor, frames)
        if stop(tensor, frames):
            return ops, (tensor, frames), None
        found = producer(tensor)
        if found is None:
            return ops, (tensor, frames), None
        op, node = found
        if isinstance(op, keras.Model):  # a nested model: continue at its output, inside it
            tensor = keras.tree.flatten(op.outputs)[tensor._keras_history[2]]
            frames = (*frames, (op, node))
            continue
        inputs = list(node.input_tensors)
        if len(inputs) != 1:
            return ops, (tensor, frames), (op, node, frames) if inputs else None
        ops.insert(0, describe(op, node, frames))
        tensor = inputs[0]
    raise RecursionError("the graph is too deep to summarise")


def _convs(ops: list[Op]) -> int:
    return sum(o.op == "conv" for o in ops)


def block_summary(output, block_input) -> BlockSummary:
    """Summarise a residual block: the ops after the join, the join, its main path and shortcut.

    Args:
        output: the KerasTensor the block returned.
        block_input: the ``keras.Input`` it was called on.

    Returns:
        ``tail`` is the ops after the join (the whole path when there is no join, and ``join`` is
        then ``None``); ``main`` is the branch with more convolutions; each list is in forward order.
    """
    def at_input(tensor, frames) -> bool:
        return not frames and tensor is block_input

    tail, end, join = _walk_back(output, (), at_input)
    if join is None:
        return BlockSummary(tuple(tail), None, None, None, at_input(*end))
    op, node, frames = join
    branches = []
    reaches = True
    for tensor in node.input_tensors:
        ops, end, other = _walk_back(tensor, frames, at_input)
        if other is not None:
            ops.insert(0, describe(*other))
        reaches = reaches and at_input(*end) and other is None
        branches.append(ops)
    branches.sort(key=lambda ops: (_convs(ops), len(ops)), reverse=True)
    inputs = list(node.input_tensors)
    same = len(inputs) > 1 and all(t is inputs[0] for t in inputs)  # Add()([X, X]): one tensor twice
    return BlockSummary(
        tail=tuple(tail),
        join=Join(describe(op, node, frames), inputs=len(branches), same_inputs=same),
        main=tuple(branches[0]),
        shortcut=tuple(branches[1]) if len(branches) > 1 else None,
        reaches_input=reaches,
    )


def _shape(tensor) -> tuple:
    return tuple(None if d is None else int(d) for d in tensor.shape[1:])


def model_summary(model) -> ModelSummary:
    """Summarise a ResNet built with stand-in blocks: stem, block calls grouped in stages, head.

    With stand-ins (:mod:`resnet_signs.checks.standins`) the model is a chain: the stem, one
    ``block`` op per block call, the head. A projection block opens a stage; a stage's shape is
    its last block's output shape. ``params`` counts the model's own weights (stem and head:
    stand-ins have none).
    """
    output = model.outputs[0]
    chain, _, join = _walk_back(output, (), lambda tensor, frames: False)
    positions = [i for i, op in enumerate(chain) if op.op == "block"]
    calls = [chain[i].call for i in positions]
    stages: list[dict] = []
    for call in calls:
        if call.kind == "projection" or not stages:
            stages.append({"blocks": 0, "shape": None, "filters": [], "strides": []})
        stage = stages[-1]
        stage["blocks"] += 1
        stage["shape"] = call.shape
        stage["filters"].append(call.filters)
        stage["strides"].append(call.s)
    return ModelSummary(
        params=int(model.count_params()),
        output_shape=_shape(output),
        stem=tuple(chain[: positions[0]] if positions else chain),
        stem_shape=calls[0].input_shape if calls else _shape(output),
        chain_broken_by=None if join is None else describe(*join).op,  # an op outside the blocks with 2+ inputs
        calls=tuple(calls),
        stages=tuple(Stage(s["blocks"], s["shape"], tuple(s["filters"]), tuple(s["strides"])) for s in stages),
        head=tuple(chain[positions[-1] + 1 :] if positions else ()),
    )


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
