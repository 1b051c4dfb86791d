"""What the checks observe of a rebuilt graph, as typed records: its structure, its outputs, its cost.

:mod:`resnet_signs.checks.observe` makes them (rebuild, summarise, compute) and
:mod:`resnet_signs.checks.diagnose` compares the student's with the reference's. They cross
processes — the grader's judging process sends them back, the judge keeps the reference's in a cache
on disk, the package ships the public ones (:mod:`resnet_signs.checks.expected`) — so each has
``to_json`` and a validating ``from_json`` that raises :class:`~resnet_signs.checks.records.RecordError`
with one line for anything malformed (the :mod:`resnet_signs.checks.records` pattern).

- :class:`Op`: one operation of a graph (a Conv2D, a BatchNormalization, an add, a block call...);
- :class:`BlockSummary`: a residual block's shape: the ops after the join, the join, its two paths;
- :class:`ModelSummary`: a ResNet built with stand-in blocks: stem, block calls by stage, head;
- :class:`Cost`: what running a graph on a case costs, estimated from its config alone;
- :class:`BlockRun` / :class:`BlockObservation`: a block on each case and training mode;
- :class:`ModelRun` / :class:`ModelObservation`: a model builder on each case.

Arrays travel inline as base64 float32 bytes, or, when ``to_json`` is given a dict, as names of
entries in it (the package stores the public expected outputs in an ``.npz`` beside the JSON).
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass, field, replace

import numpy as np

from resnet_signs.checks.records import RecordError

#: Bounds on what an observation may hold (a ResNet-50 summary has ~180 ops; outputs are small).
MAX_OPS = 4096
MAX_TEXT = 500
MAX_NAME = 64
MAX_DIMS = 8
MAX_RUNS = 64
MAX_ARRAY = 1 << 24  # elements of one output (the judge's cost budget keeps real ones far smaller)
MAX_INT = 1 << 62


# --------------------------------------------------------------------------- field validation
def _object(data, what: str, allowed: set[str]) -> dict:
    if not isinstance(data, dict):
        raise RecordError(f"{what} must be an object, got {type(data).__name__}")
    unknown = set(data) - allowed
    if unknown:
        raise RecordError(f"{what} has unknown fields: {', '.join(sorted(map(str, unknown)))[:200]}")
    return data


def _text(value, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise RecordError(f"{what} must be a string of at most {limit} characters")
    return value


def _optional_text(value, what: str, limit: int = MAX_TEXT) -> str | None:
    return None if value is None else _text(value, what, limit)


def _int(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_INT:
        raise RecordError(f"{what} must be an integer")
    return value


def _optional_int(value, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _bool(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise RecordError(f"{what} must be true or false")
    return value


def _ints(value, what: str, length: int | None = None) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > MAX_OPS or (length is not None and len(value) != length):
        raise RecordError(f"{what} must be a list of {length or 'some'} integers")
    return tuple(_int(v, what) for v in value)


def _shape(value, what: str) -> tuple[int | None, ...]:
    if not isinstance(value, list) or len(value) > MAX_DIMS:
        raise RecordError(f"{what} must be a shape (a list of at most {MAX_DIMS} sizes)")
    return tuple(None if v is None else _int(v, what) for v in value)


def _mode(value, what: str) -> bool | str | None:
    """A ``training`` argument as recorded: ``True``, ``False``, ``None`` (not passed) or its repr."""
    if value is None or isinstance(value, bool):
        return value
    return _text(value, what, MAX_NAME)


def _list(value, what: str, limit: int = MAX_OPS) -> list:
    if not isinstance(value, list) or len(value) > limit:
        raise RecordError(f"{what} must be a list of at most {limit} entries")
    return value


def _scalar(value):
    return value is None or isinstance(value, (bool, int, float, str))


# --------------------------------------------------------------------------- arrays
def array_to_json(array: np.ndarray, arrays: dict | None, name: str) -> dict:
    """``array`` as JSON: inline (base64 float32 bytes), or stored in ``arrays`` under ``name``."""
    array = np.asarray(array, np.float32)
    if arrays is not None:
        arrays[name] = array
        return {"stored": name}
    return {"shape": list(array.shape), "float32": base64.b64encode(array.tobytes()).decode("ascii")}


def array_from_json(data, arrays: dict | None, what: str) -> np.ndarray:
    data = _object(data, what, {"shape", "float32", "stored"})
    if "stored" in data:
        name = _text(data["stored"], what, MAX_TEXT)
        if arrays is None or name not in arrays:
            raise RecordError(f"{what} names a stored array that is not there ({name[:80]})")
        array = np.asarray(arrays[name])
    else:
        shape = _shape(data.get("shape"), f"{what}'s shape")
        if any(d is None or d < 0 for d in shape) or math.prod(shape) > MAX_ARRAY:
            raise RecordError(f"{what} must have a concrete shape of at most {MAX_ARRAY} elements")
        try:
            raw = base64.b64decode(_text(data.get("float32"), what, 8 * MAX_ARRAY), validate=True)
        except (binascii.Error, ValueError):
            raise RecordError(f"{what} is not base64") from None
        if len(raw) != 4 * math.prod(shape):
            raise RecordError(f"{what} holds {len(raw)} bytes for a shape of {math.prod(shape)} floats")
        array = np.frombuffer(raw, np.float32).reshape(shape)
    if array.dtype.kind not in "fiu" or array.size > MAX_ARRAY:
        raise RecordError(f"{what} must be numbers")
    return array.astype(np.float32, copy=False)


# --------------------------------------------------------------------------- graph structure
@dataclass(frozen=True)
class Initializer:
    """A Conv2D's kernel initializer: its class and its scalar settings (``seed``, ``scale``...)."""

    class_name: str
    config: tuple[tuple[str, object], ...] = ()

    @property
    def seed(self):
        return dict(self.config).get("seed")

    def to_json(self) -> dict:
        return {"class": self.class_name, "config": dict(self.config)}

    @classmethod
    def from_json(cls, data) -> Initializer:
        data = _object(data, "an initializer", {"class", "config"})
        config = data.get("config", {})
        if not isinstance(config, dict) or len(config) > 16 or not all(
            isinstance(k, str) and len(k) <= MAX_NAME and _scalar(v) and (not isinstance(v, str) or len(v) <= MAX_NAME)
            for k, v in config.items()
        ):
            raise RecordError("an initializer's config must hold at most 16 short scalar settings")
        return cls(_text(data.get("class"), "an initializer's class", MAX_NAME), tuple(sorted(config.items())))


@dataclass(frozen=True)
class BlockCall:
    """One call of a residual block in a model built with stand-ins (:mod:`resnet_signs.checks.standins`)."""

    function: str
    kind: str  # "identity" or "projection"
    f: int
    filters: tuple[int, ...]
    s: int
    training: bool | str | None
    input_shape: tuple[int | None, ...]
    shape: tuple[int | None, ...]

    def to_json(self) -> dict:
        return {"function": self.function, "kind": self.kind, "f": self.f, "filters": list(self.filters), "s": self.s,
                "training": self.training, "input_shape": list(self.input_shape), "shape": list(self.shape)}

    @classmethod
    def from_json(cls, data) -> BlockCall:
        data = _object(data, "a block call", {"function", "kind", "f", "filters", "s", "training", "input_shape",
                                              "shape"})
        return cls(_text(data.get("function"), "a block call's function", MAX_NAME),
                   _text(data.get("kind"), "a block call's kind", MAX_NAME), _int(data.get("f"), "f"),
                   _ints(data.get("filters"), "filters"), _int(data.get("s"), "s"),
                   _mode(data.get("training"), "training"), _shape(data.get("input_shape"), "input_shape"),
                   _shape(data.get("shape"), "shape"))


@dataclass(frozen=True)
class Op:
    """One operation of a graph, as the checks compare it (layer names left out: they say nothing).

    ``op`` is its kind: ``conv``, ``bn``, ``relu``, ``leaky_or_capped_relu``, ``activation``, ``add``,
    ``maxpool``, ``avgpool``, ``dense``, ``zeropad``, ``flatten``, ``input``, ``globalavgpool``,
    ``globalmaxpool``, ``block`` (a stand-in block call), or the class name of anything else. The
    other fields are set for the kinds they describe and ``None`` elsewhere.
    """

    op: str
    filters: int | None = None  # conv
    kernel_size: tuple[int, ...] | None = None  # conv
    strides: tuple[int, ...] | None = None  # conv, pools
    padding: str | None = None  # conv
    activation: str | None = None  # conv, dense
    initializer: Initializer | None = None  # conv
    axis: int | str | None = None  # bn
    training: bool | str | None = None  # bn: the training argument it was called with (None: not passed)
    pool_size: tuple[int, ...] | None = None  # pools
    units: int | None = None  # dense
    fn: str | None = None  # activation
    call: BlockCall | None = None  # block

    def to_json(self) -> dict:
        data = {"op": self.op}
        for name in _OP_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = (value.to_json() if hasattr(value, "to_json")
                              else list(value) if isinstance(value, tuple) else value)
        return data

    @classmethod
    def from_json(cls, data) -> Op:
        data = _object(data, "an op", {"op", *_OP_FIELDS})
        values = {}
        for name, read in _OP_FIELDS.items():
            if data.get(name) is not None:
                values[name] = read(data[name], name)
        return cls(_text(data.get("op"), "an op's kind", MAX_NAME), **values)


def _axis(value, what: str) -> int | str:
    return value if isinstance(value, int) and not isinstance(value, bool) else _text(value, what, MAX_NAME)


_OP_FIELDS = {
    "filters": _int, "kernel_size": lambda v, w: _ints(v, w, 2), "strides": lambda v, w: _ints(v, w, 2),
    "padding": lambda v, w: _text(v, w, MAX_NAME), "activation": lambda v, w: _text(v, w, MAX_NAME),
    "initializer": lambda v, w: Initializer.from_json(v), "axis": _axis, "training": _mode,
    "pool_size": lambda v, w: _ints(v, w, 2), "units": _int, "fn": lambda v, w: _text(v, w, MAX_NAME),
    "call": lambda v, w: BlockCall.from_json(v),
}


def _ops(value, what: str) -> tuple[Op, ...]:
    return tuple(Op.from_json(o) for o in _list(value, what))


def _optional_ops(value, what: str) -> tuple[Op, ...] | None:
    return None if value is None else _ops(value, what)


@dataclass(frozen=True)
class Join:
    """Where a residual block's two paths meet: the op, how many inputs it has, whether they are one tensor."""

    op: Op
    inputs: int
    same_inputs: bool

    def to_json(self) -> dict:
        return {"op": self.op.to_json(), "inputs": self.inputs, "same_inputs": self.same_inputs}

    @classmethod
    def from_json(cls, data) -> Join:
        data = _object(data, "a join", {"op", "inputs", "same_inputs"})
        return cls(Op.from_json(data.get("op")), _int(data.get("inputs"), "inputs"),
                   _bool(data.get("same_inputs"), "same_inputs"))


@dataclass(frozen=True)
class BlockSummary:
    """A residual block's structure (:func:`resnet_signs.checks.graph.block_summary`).

    Attributes:
        tail: the ops after the join, in forward order (the whole path when there is no join).
        join: where the paths meet, or ``None``.
        main: the branch with more convolutions (``None`` without a join).
        shortcut: the other branch (``None`` without a join or with a single branch).
        reaches_input: whether every path starts from the block's input.
    """

    tail: tuple[Op, ...]
    join: Join | None
    main: tuple[Op, ...] | None
    shortcut: tuple[Op, ...] | None
    reaches_input: bool

    def to_json(self) -> dict:
        ops = lambda path: None if path is None else [o.to_json() for o in path]  # noqa: E731 - a one-line helper
        return {"tail": ops(self.tail), "join": self.join.to_json() if self.join else None, "main": ops(self.main),
                "shortcut": ops(self.shortcut), "reaches_input": self.reaches_input}

    @classmethod
    def from_json(cls, data) -> BlockSummary:
        data = _object(data, "a block summary", {"tail", "join", "main", "shortcut", "reaches_input"})
        join = data.get("join")
        return cls(_ops(data.get("tail"), "tail"), None if join is None else Join.from_json(join),
                   _optional_ops(data.get("main"), "main"), _optional_ops(data.get("shortcut"), "shortcut"),
                   _bool(data.get("reaches_input"), "reaches_input"))


@dataclass(frozen=True)
class Stage:
    """Consecutive block calls opened by a projection block: how many, their filters and strides, the output shape."""

    blocks: int
    shape: tuple[int | None, ...] | None
    filters: tuple[tuple[int, ...], ...]
    strides: tuple[int, ...]

    def to_json(self) -> dict:
        return {"blocks": self.blocks, "shape": None if self.shape is None else list(self.shape),
                "filters": [list(f) for f in self.filters], "strides": list(self.strides)}

    @classmethod
    def from_json(cls, data) -> Stage:
        data = _object(data, "a stage", {"blocks", "shape", "filters", "strides"})
        shape = data.get("shape")
        return cls(_int(data.get("blocks"), "blocks"), None if shape is None else _shape(shape, "shape"),
                   tuple(_ints(f, "filters") for f in _list(data.get("filters"), "filters")),
                   _ints(data.get("strides"), "strides"))


@dataclass(frozen=True)
class ModelSummary:
    """A ResNet built with stand-in blocks (:func:`resnet_signs.checks.graph.model_summary`).

    Attributes:
        params: the model's own weights (stem and head: stand-ins have none).
        output_shape: without the batch dimension.
        stem: the ops before the first block call; ``stem_shape`` what they output.
        chain_broken_by: the kind of an op outside the blocks with several inputs, if the chain has one.
        calls: the block calls in order; ``stages``: grouped, each opened by a projection block.
        head: the ops after the last block call.
        total_params: the reference's only: its parameter count with its real blocks.
    """

    params: int
    output_shape: tuple[int | None, ...]
    stem: tuple[Op, ...]
    stem_shape: tuple[int | None, ...]
    chain_broken_by: str | None
    calls: tuple[BlockCall, ...]
    stages: tuple[Stage, ...]
    head: tuple[Op, ...]
    total_params: int | None = None

    def to_json(self) -> dict:
        return {"params": self.params, "output_shape": list(self.output_shape),
                "stem": [o.to_json() for o in self.stem],
                "stem_shape": list(self.stem_shape), "chain_broken_by": self.chain_broken_by,
                "calls": [c.to_json() for c in self.calls], "stages": [s.to_json() for s in self.stages],
                "head": [o.to_json() for o in self.head], "total_params": self.total_params}

    @classmethod
    def from_json(cls, data) -> ModelSummary:
        data = _object(data, "a model summary", {"params", "output_shape", "stem", "stem_shape", "chain_broken_by",
                                                 "calls", "stages", "head", "total_params"})
        return cls(_int(data.get("params"), "params"), _shape(data.get("output_shape"), "output_shape"),
                   _ops(data.get("stem"), "stem"), _shape(data.get("stem_shape"), "stem_shape"),
                   _optional_text(data.get("chain_broken_by"), "chain_broken_by", MAX_NAME),
                   tuple(BlockCall.from_json(c) for c in _list(data.get("calls"), "calls")),
                   tuple(Stage.from_json(s) for s in _list(data.get("stages"), "stages")),
                   _ops(data.get("head"), "head"), _optional_int(data.get("total_params"), "total_params"))


# --------------------------------------------------------------------------- cost
@dataclass(frozen=True)
class Cost:
    """What running a graph on one case costs, estimated from its config (:mod:`resnet_signs.checks.cost`).

    Attributes:
        macs: multiply-adds (a pooling window or an elementwise op counts one per value it reads).
        elements: activation values the graph holds, every layer's output summed (float32: 4 bytes each).
    """

    macs: int
    elements: int

    def to_json(self) -> dict:
        return {"macs": self.macs, "elements": self.elements}

    @classmethod
    def from_json(cls, data) -> Cost:
        data = _object(data, "a cost", {"macs", "elements"})
        macs, elements = _int(data.get("macs"), "macs"), _int(data.get("elements"), "elements")
        if macs < 0 or elements < 0:
            raise RecordError("a cost cannot be negative")
        return cls(macs, elements)


def _optional_cost(value) -> Cost | None:
    return None if value is None else Cost.from_json(value)


# --------------------------------------------------------------------------- blocks
@dataclass(frozen=True, eq=False)
class BlockRun:
    """A block on one case in one training mode.

    Attributes:
        case, training: which call.
        output: what the rebuilt graph computed for the case's inputs, or ``None``.
        error: why there is no output (the call raised, the graph was refused, the run failed).
        structure: the graph's :class:`BlockSummary`, or ``None``; ``structure_error`` then says why.
        convs: filters of the Conv2D layers a failing call created before raising (a hint, never a verdict).
        cost: the graph's estimated cost on the case, when it was estimated.
        over_budget: the graph was refused unbuilt because it would cost too much (``error`` names the limit).
    """

    case: str
    training: bool
    output: np.ndarray | None = None
    error: str | None = None
    structure: BlockSummary | None = None
    structure_error: str | None = None
    convs: tuple[int, ...] = ()
    cost: Cost | None = None
    over_budget: bool = False

    def to_json(self, arrays: dict | None = None) -> dict:
        name = f"{self.case}/{self.training}/output"
        return {"case": self.case, "training": self.training,
                "output": None if self.output is None else array_to_json(self.output, arrays, name),
                "error": self.error, "structure": self.structure.to_json() if self.structure else None,
                "structure_error": self.structure_error, "convs": list(self.convs),
                "cost": self.cost.to_json() if self.cost else None, "over_budget": self.over_budget}

    @classmethod
    def from_json(cls, data, arrays: dict | None = None) -> BlockRun:
        data = _object(data, "a block run", {"case", "training", "output", "error", "structure", "structure_error",
                                             "convs", "cost", "over_budget"})
        output, structure = data.get("output"), data.get("structure")
        return cls(_text(data.get("case"), "case", MAX_NAME), _bool(data.get("training"), "training"),
                   None if output is None else array_from_json(output, arrays, "output"),
                   _optional_text(data.get("error"), "error"),
                   None if structure is None else BlockSummary.from_json(structure),
                   _optional_text(data.get("structure_error"), "structure_error"),
                   _ints(data.get("convs", []), "convs"), _optional_cost(data.get("cost")),
                   _bool(data.get("over_budget", False), "over_budget"))


@dataclass(frozen=True, eq=False)
class BlockObservation:
    """A block function on its cases: one :class:`BlockRun` per case and training mode."""

    runs: tuple[BlockRun, ...]
    parameters: tuple[str, ...] | None = None  # the function's parameter names, when it was captured

    def run(self, case: str, training: bool) -> BlockRun | None:
        return next((r for r in self.runs if r.case == case and r.training is training), None)

    def failures(self) -> list[str]:
        """``"case/training: error"`` for every run that did not compute or could not be read."""
        return [f"{r.case}/{r.training}: {r.error or r.structure_error}" for r in self.runs
                if r.error or r.structure_error or r.output is None]

    def arrays(self) -> dict[str, np.ndarray]:
        """Every output, by a storage name (``case/training/output``)."""
        arrays: dict = {}
        self.to_json(arrays)
        return arrays

    def to_json(self, arrays: dict | None = None) -> dict:
        return {"type": "block", "runs": [r.to_json(arrays) for r in self.runs],
                "parameters": None if self.parameters is None else list(self.parameters)}

    @classmethod
    def from_json(cls, data, arrays: dict | None = None) -> BlockObservation:
        data = _object(data, "a block observation", {"type", "runs", "parameters"})
        parameters = data.get("parameters")
        if parameters is not None:
            parameters = tuple(_text(p, "a parameter name", MAX_NAME) for p in _list(parameters, "parameters", 32))
        return cls(tuple(BlockRun.from_json(r, arrays) for r in _list(data.get("runs"), "runs", MAX_RUNS)), parameters)


# --------------------------------------------------------------------------- models
@dataclass(frozen=True, eq=False)
class ModelRun:
    """A model builder on one case.

    Attributes:
        case: which call.
        summary: the model's :class:`ModelSummary` (built with stand-in blocks), or ``None``.
        error: why it could not be judged (the call raised, the graph was refused, a forward pass failed).
        probs: the output for a batch of 2 when the case asks for a forward pass.
        cost: the graph's estimated cost on the case, when it was estimated.
        over_budget: the graph was refused unbuilt because it would cost too much (``error`` names the limit).
    """

    case: str
    summary: ModelSummary | None = None
    error: str | None = None
    probs: np.ndarray | None = None
    cost: Cost | None = None
    over_budget: bool = False

    def to_json(self, arrays: dict | None = None) -> dict:
        return {"case": self.case, "summary": self.summary.to_json() if self.summary else None, "error": self.error,
                "probs": None if self.probs is None else array_to_json(self.probs, arrays, f"{self.case}/probs"),
                "cost": self.cost.to_json() if self.cost else None, "over_budget": self.over_budget}

    @classmethod
    def from_json(cls, data, arrays: dict | None = None) -> ModelRun:
        data = _object(data, "a model run", {"case", "summary", "error", "probs", "cost", "over_budget"})
        summary, probs = data.get("summary"), data.get("probs")
        return cls(_text(data.get("case"), "case", MAX_NAME),
                   None if summary is None else ModelSummary.from_json(summary),
                   _optional_text(data.get("error"), "error"),
                   None if probs is None else array_from_json(probs, arrays, "probs"), _optional_cost(data.get("cost")),
                   _bool(data.get("over_budget", False), "over_budget"))


@dataclass(frozen=True, eq=False)
class ModelObservation:
    """A model builder on its cases: one :class:`ModelRun` per case."""

    runs: tuple[ModelRun, ...] = field(default_factory=tuple)

    def run(self, case: str) -> ModelRun | None:
        return next((r for r in self.runs if r.case == case), None)

    def failures(self) -> list[str]:
        """``"case: error"`` for every run that could not be judged."""
        return [f"{r.case}: {r.error or 'no summary'}" for r in self.runs if r.error or r.summary is None]

    def with_total_params(self, totals: dict[str, int]) -> ModelObservation:
        """The same observation with each case's ``total_params`` (the reference's real parameter count) set."""
        return ModelObservation(tuple(
            replace(r, summary=replace(r.summary, total_params=totals[r.case])) if r.case in totals and r.summary
            else r for r in self.runs))

    def arrays(self) -> dict[str, np.ndarray]:
        arrays: dict = {}
        self.to_json(arrays)
        return arrays

    def to_json(self, arrays: dict | None = None) -> dict:
        return {"type": "model", "runs": [r.to_json(arrays) for r in self.runs]}

    @classmethod
    def from_json(cls, data, arrays: dict | None = None) -> ModelObservation:
        data = _object(data, "a model observation", {"type", "runs"})
        return cls(tuple(ModelRun.from_json(r, arrays) for r in _list(data.get("runs"), "runs", MAX_RUNS)))


Observation = BlockObservation | ModelObservation


def from_json(data, arrays: dict | None = None) -> Observation:
    """A :class:`BlockObservation` or :class:`ModelObservation` from its ``to_json`` (``arrays``: stored outputs)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "block":
        return BlockObservation.from_json(data, arrays)
    if kind == "model":
        return ModelObservation.from_json(data, arrays)
    raise RecordError("an observation must be an object of type block or model")
