"""What running a captured graph would cost, from its config alone, before anything is built.

A student's graph is hostile input: ``ZeroPadding2D(padding=9000)`` keeps every shape consistent and
makes a block's activations gigabytes large; six ``Conv2D(1024, 3)`` on a padded input stay within
the weight bounds of :mod:`resnet_signs.checks.rebuild` and take minutes of CPU. So the judge first
propagates the case's concrete input shape through the config (its own shape arithmetic, never the
shapes the capture recorded) and counts, for every layer call, the activation values it outputs and
the multiply-adds it performs (:class:`~resnet_signs.checks.observations.Cost`). A :class:`Budget` then
refuses any case that would cost more than :data:`FACTOR` times what the reference costs on the same
case, with one line naming the limit.

The count is an upper bound on what Keras would do with the same inputs: where shapes clash (the
run will fail there) the larger size is assumed, a pooling window or an elementwise op counts one
multiply-add per value it reads, and nested models count each time they are called.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from resnet_signs.checks.observations import Cost
from resnet_signs.checks.rebuild import GraphRejected
from resnet_signs.checks.records import RecordError

#: A case may cost this many times what the reference costs on it (multiply-adds and activation values).
FACTOR = 50
#: Layer calls the estimate follows, nested models' calls included (a ResNet-50 capture makes ~180).
MAX_CALLS = 20_000
#: Layers that output their input's shape at about one operation per value.
ELEMENTWISE = frozenset({"BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Dropout", "Identity", "Softmax",
                         "Relu"})
#: Layers and ops that combine several tensors of (broadcast) equal shapes.
MERGES = frozenset({"Add", "Multiply", "Subtract", "Maximum"})
MODELS = frozenset({"Sequential", "Functional"})

Shape = tuple[int, ...]


class OverBudget(GraphRejected):
    """The graph would cost more than the :class:`Budget` allows; the message names the limit."""


@dataclass
class _Tally:
    macs: int = 0
    elements: int = 0
    calls: int = 0

    def add(self, shape: Shape, macs: int) -> None:
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise GraphRejected(f"the graph makes more than {MAX_CALLS:,} layer calls (nested models count each call)")
        self.elements += math.prod(shape)
        self.macs += macs


def estimate(config: dict, input_shape) -> Cost:
    """The cost of running the functional model ``config`` on inputs of ``input_shape`` (batch first).

    ``config`` must have passed :func:`resnet_signs.checks.rebuild.validate`.

    Raises:
        GraphRejected: the graph's wiring cannot be followed (a corrupt or forged config).
    """
    tally = _Tally()
    shape = tuple(int(d) for d in input_shape)
    tally.add(shape, 0)
    _functional(config, [shape], tally)
    return Cost(tally.macs, tally.elements)


# --------------------------------------------------------------------------- graph walking
def _name(layer: dict) -> str:
    return str(layer.get("name") or (layer.get("config") or {}).get("name"))


def _refs(value) -> list[tuple]:
    """The ``(layer, node, tensor)`` references of every Keras tensor in a node's arguments, in order."""
    found = []
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            history = (value.get("config") or {}).get("keras_history")
            if not isinstance(history, list) or len(history) != 3:
                raise GraphRejected("the graph refers to a tensor without its history")
            return [tuple(history)]
        for v in value.values():
            found += _refs(v)
    elif isinstance(value, list):
        for v in value:
            found += _refs(v)
    return found


def _endpoints(value) -> list[tuple]:
    """``input_layers``/``output_layers``: one ``[name, node, tensor]`` or a list of them."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [tuple(value)]
    if isinstance(value, list) and all(isinstance(v, list) and len(v) == 3 for v in value):
        return [tuple(v) for v in value]
    raise GraphRejected("the graph's inputs or outputs are not layer references")


def _functional(config: dict, inputs: list[Shape], tally: _Tally) -> list[Shape]:
    """Output shapes of a functional model called on ``inputs``; every layer call's cost goes to ``tally``."""
    layers = config.get("layers") or []
    # Keras numbers a nested functional model's calls from 1 in input_layers/output_layers (not in the
    # nodes' arguments) and subtracts 1 when it rebuilds them: so does this.
    offset = {_name(layer): 1 for layer in layers if layer.get("class_name") == "Functional"}

    def key(ref: tuple) -> tuple:
        name, node, tensor = ref
        return name, node - offset.get(name, 0) if isinstance(node, int) else node, tensor

    known: dict[tuple, Shape] = {}
    entries = [key(ref) for ref in _endpoints(config.get("input_layers"))]
    if len(entries) != len(inputs):
        raise GraphRejected(f"the graph takes {len(entries)} inputs, the case gives {len(inputs)}")
    for entry, shape in zip(entries, inputs, strict=True):
        known[entry] = shape
    # Each node runs once all the tensors it reads are known (in whatever order a forged config lists them).
    nodes = [(layer, index, _refs(node))
             for layer in layers for index, node in enumerate(layer.get("inbound_nodes") or [])]
    missing, readers, ready = [], defaultdict(list), deque()
    for number, (_, _, refs) in enumerate(nodes):
        needed = {ref for ref in refs if ref not in known}
        missing.append(len(needed))
        for ref in needed:
            readers[ref].append(number)
        if not needed:
            ready.append(number)
    while ready:
        layer, index, refs = nodes[ready.popleft()]
        for position, shape in enumerate(_call(layer, [known[ref] for ref in refs], tally)):
            produced = (_name(layer), index, position)
            if produced in known:
                continue
            known[produced] = shape
            for number in readers.pop(produced, ()):
                missing[number] -= 1
                if missing[number] == 0:
                    ready.append(number)
    outputs = []
    for entry in _endpoints(config.get("output_layers")):
        if key(entry) not in known:
            raise GraphRejected("the graph's output cannot be reached from its input")
        outputs.append(known[key(entry)])
    return outputs


def _sequential(config: dict, inputs: list[Shape], tally: _Tally) -> list[Shape]:
    shapes = inputs
    for layer in config.get("layers") or []:
        if layer.get("class_name") != "InputLayer":
            shapes = _call(layer, shapes, tally)
    return shapes


def _call(layer: dict, inputs: list[Shape], tally: _Tally) -> list[Shape]:
    """Output shapes of one call of ``layer`` on ``inputs``, its cost added to ``tally``."""
    name, config = layer.get("class_name"), layer.get("config") or {}
    if name == "InputLayer" or not inputs:
        return inputs
    if name in MODELS:
        outputs = (_sequential if name == "Sequential" else _functional)(config, inputs, tally)
        return outputs
    if name in MERGES:
        shape = _broadcast(inputs)
        tally.add(shape, math.prod(shape) * max(1, len(inputs) - 1))
        return [shape]
    shape = inputs[0]
    rule = _RULES.get(name)
    if rule is None:
        if name not in ELEMENTWISE:
            raise GraphRejected(f"the grader cannot estimate what a {str(name)[:60]} layer costs")
        out, macs = shape, math.prod(shape)
    else:
        out, macs = rule(config, shape)
    tally.add(out, macs)
    return [out]


def _broadcast(shapes: list[Shape]) -> Shape:
    """NumPy broadcasting; where sizes clash (the run fails there) the larger one, an upper bound."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(dims) for dims in zip(*padded, strict=True))


# --------------------------------------------------------------------------- per-layer arithmetic
def _ints(value, count: int, what: str) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise GraphRejected(f"a layer's {what} is not a size")
    if isinstance(value, int):
        return (value,) * count
    if isinstance(value, list) and len(value) == count and all(isinstance(v, int) and not isinstance(v, bool)
                                                               for v in value):
        return tuple(value)
    raise GraphRejected(f"a layer's {what} is not {count} sizes")


def _spatial(config: dict, shape: Shape) -> tuple[Shape, int, bool]:
    """(spatial sizes, channels, channels_first) of a 4-D input."""
    if len(shape) != 4:
        raise GraphRejected(f"a 2-D layer gets an input of rank {len(shape)}")
    first = config.get("data_format") == "channels_first"
    return (shape[2:], shape[1], True) if first else (shape[1:3], shape[3], False)


def _assemble(batch: int, spatial, channels: int, first: bool) -> Shape:
    return (batch, channels, *spatial) if first else (batch, *spatial, channels)


def _window(size: int, kernel: int, stride: int, padding: str, dilation: int = 1) -> int:
    stride = max(1, stride)
    if padding == "same":
        return -(-size // stride)
    return max(0, (size - (kernel - 1) * max(1, dilation) - 1) // stride + 1)


def _conv(config: dict, shape: Shape):
    spatial, channels, first = _spatial(config, shape)
    kernel = _ints(config.get("kernel_size"), 2, "kernel size")
    strides = _ints(config.get("strides", 1), 2, "strides")
    dilation = _ints(config.get("dilation_rate", 1), 2, "dilation rate")
    padding = str(config.get("padding", "valid")).lower()
    filters = _ints(config.get("filters"), 1, "filter count")[0]
    out = tuple(_window(s, k, st, padding, d) for s, k, st, d in zip(spatial, kernel, strides, dilation, strict=True))
    groups = max(1, config.get("groups", 1) if isinstance(config.get("groups", 1), int) else 1)
    result = _assemble(shape[0], out, filters, first)
    return result, math.prod(result) * math.prod(kernel) * max(1, channels // groups)


def _pool(config: dict, shape: Shape):
    spatial, channels, first = _spatial(config, shape)
    size = _ints(config.get("pool_size"), 2, "pool size")
    strides = size if config.get("strides") is None else _ints(config.get("strides"), 2, "strides")
    padding = str(config.get("padding", "valid")).lower()
    out = tuple(_window(s, k, st, padding) for s, k, st in zip(spatial, size, strides, strict=True))
    result = _assemble(shape[0], out, channels, first)
    return result, math.prod(result) * math.prod(size)


def _global_pool(config: dict, shape: Shape):
    _, channels, first = _spatial(config, shape)
    result = _assemble(shape[0], (1, 1), channels, first) if config.get("keepdims") else (shape[0], channels)
    return result, math.prod(shape)


def _zero_padding(config: dict, shape: Shape):
    spatial, channels, first = _spatial(config, shape)
    padding = config.get("padding", 1)
    if isinstance(padding, list) and len(padding) == 2 and all(isinstance(p, list) for p in padding):
        pairs = [_ints(p, 2, "padding") for p in padding]
    else:
        pairs = [(p, p) for p in _ints(padding, 2, "padding")]
    out = tuple(s + max(0, a) + max(0, b) for s, (a, b) in zip(spatial, pairs, strict=True))
    result = _assemble(shape[0], out, channels, first)
    return result, math.prod(result)


def _dense(config: dict, shape: Shape):
    units = _ints(config.get("units"), 1, "unit count")[0]
    result = (*shape[:-1], units)
    return result, math.prod(result) * (shape[-1] if shape else 1)


def _flatten(config: dict, shape: Shape):
    result = (shape[0], math.prod(shape[1:])) if shape else shape
    return result, 0


def _stand_in(config: dict, shape: Shape):
    if len(shape) != 4:
        raise GraphRejected(f"a stand-in block gets an input of rank {len(shape)}")
    if config.get("kind") == "identity":
        return shape, math.prod(shape)
    s = max(1, config.get("s", 1)) if isinstance(config.get("s", 1), int) else 1
    filters = config.get("filters")
    channels = filters[2] if isinstance(filters, list) and len(filters) == 3 and isinstance(filters[2], int) else 1
    result = (shape[0], -(-shape[1] // s), -(-shape[2] // s), channels)
    return result, math.prod(shape) + math.prod(result)


_RULES = {
    "Conv2D": _conv, "MaxPooling2D": _pool, "AveragePooling2D": _pool, "GlobalAveragePooling2D": _global_pool,
    "GlobalMaxPooling2D": _global_pool, "ZeroPadding2D": _zero_padding, "Dense": _dense, "Flatten": _flatten,
    "BlockStandIn": _stand_in,
}


# --------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class Budget:
    """The most each case may cost: :data:`FACTOR` times the reference's cost on it.

    Attributes:
        reference: case name -> the reference's cost on that case (its most expensive training mode).
        factor: the multiple allowed.
    """

    reference: dict = field(default_factory=dict)
    factor: int = FACTOR

    @classmethod
    def from_observation(cls, observation, factor: int = FACTOR) -> Budget:
        """The budget that the reference's ``observation`` (with its costs) sets."""
        costs: dict[str, Cost] = {}
        for run in observation.runs:
            if run.cost is not None:
                old = costs.get(run.case, run.cost)
                costs[run.case] = Cost(max(old.macs, run.cost.macs), max(old.elements, run.cost.elements))
        return cls(costs, factor)

    def to_json(self) -> dict:
        return {"factor": self.factor, "reference": {case: cost.to_json() for case, cost in self.reference.items()}}

    @classmethod
    def from_json(cls, data) -> Budget:
        """Validate a budget sent to another process.

        Raises:
            :class:`~resnet_signs.checks.records.RecordError` if it is malformed.
        """
        if (not isinstance(data, dict) or set(data) != {"factor", "reference"}
                or not isinstance(data["reference"], dict)):
            raise RecordError("a budget must be an object with a factor and the reference's costs")
        factor = data["factor"]
        if not isinstance(factor, int) or isinstance(factor, bool) or not 0 < factor <= 10_000:
            raise RecordError("a budget's factor must be a positive integer")
        if len(data["reference"]) > 64 or not all(isinstance(case, str) and len(case) <= 64
                                                  for case in data["reference"]):
            raise RecordError("a budget names at most 64 cases")
        return cls({case: Cost.from_json(cost) for case, cost in data["reference"].items()}, factor)

    def check(self, case: str, cost: Cost) -> None:
        """Raise :class:`OverBudget` naming the limit when ``cost`` is over this budget for ``case``."""
        reference = self.reference.get(case)
        if reference is None:
            return
        limit = self.factor * reference.macs
        if cost.macs > limit:
            raise OverBudget(f"the graph would compute {cost.macs:,} multiply-adds on this case; the grader's "
                                f"limit is {limit:,} ({self.factor} × the reference's)")
        limit = self.factor * reference.elements
        if cost.elements > limit:
            raise OverBudget(f"the graph would hold {cost.elements:,} activation values on this case; the "
                                f"grader's limit is {limit:,} ({self.factor} × the reference's)")
