"""The fixed inputs the checks feed to a student's blocks: plain data, shared by the public
checks, the expected-value generator and the hidden tests (which add cases of their own).

A case names its initializer instead of holding one, so that an observation can be
reproduced with the reference in another process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The course's public-test inputs: three examples filled with these constants.
COURSE_CONSTANTS = (-1.0, 1.0, 3.0)


@dataclass(frozen=True)
class BlockCase:
    """One call of a block: ``block(X, f=f, filters=filters[, s=s], training=..., initializer=...)``.

    Args:
        name: identifies the case inside an observation.
        shape: input shape (m, n_H, n_W, n_C).
        f: kernel size of the middle convolution.
        filters: the three filter counts.
        initializer: a key of :func:`initializer` (the class the block calls as ``initializer(seed=0)``).
        s: stride (convolutional block only; ``None`` for the identity block).
        input_seed: seed of the normal input; ``None`` means the course's constant inputs.
    """

    name: str
    shape: tuple[int, int, int, int]
    f: int
    filters: tuple[int, int, int]
    initializer: str
    s: int | None = None
    input_seed: int | None = None

    def inputs(self) -> np.ndarray:
        """The input batch X, float32."""
        if self.input_seed is None:
            if self.shape[0] != len(COURSE_CONSTANTS):
                raise ValueError(f"the course's constant inputs have {len(COURSE_CONSTANTS)} examples, "
                                 f"got {self.shape}")
            return np.stack([np.full(self.shape[1:], c, np.float32) for c in COURSE_CONSTANTS])
        return np.random.default_rng(self.input_seed).normal(size=self.shape).astype(np.float32)

    def to_json(self) -> dict:
        return {"type": "block", "name": self.name, "shape": list(self.shape), "f": self.f,
                "filters": list(self.filters), "initializer": self.initializer, "s": self.s,
                "input_seed": self.input_seed}

    def kwargs(self, training: bool) -> dict:
        """Keyword arguments of the block call (the input excepted)."""
        kwargs = {"f": self.f, "filters": list(self.filters), "training": training,
                  "initializer": initializer(self.initializer)}
        if self.s is not None:
            kwargs["s"] = self.s
        return kwargs


def initializer(name: str):
    """The initializer a case passes to a block; the block calls it as ``initializer(seed=0)``."""
    from keras import initializers

    if name == "constant1":  # the course's public test: every weight 1
        return lambda seed=0: initializers.Constant(value=1.0)
    classes = {
        "glorot_uniform": initializers.GlorotUniform,
        "random_uniform": initializers.RandomUniform,
        "he_normal": initializers.HeNormal,
    }
    if name not in classes:
        raise ValueError(f"unknown initializer {name!r}; known: constant1, {', '.join(classes)}")
    return classes[name]


@dataclass(frozen=True)
class ModelCase:
    """One call of ``ResNet50(input_shape, classes)``; ``forward`` also runs a batch of 2 through it."""

    name: str
    input_shape: tuple[int, int, int] = (64, 64, 3)
    classes: int = 6
    forward: bool = False

    def inputs(self, m: int = 2) -> np.ndarray:
        return np.random.default_rng(0).uniform(size=(m, *self.input_shape)).astype(np.float32)

    def to_json(self) -> dict:
        return {"type": "model", "name": self.name, "input_shape": list(self.input_shape), "classes": self.classes,
                "forward": self.forward}


def case_from_json(data: dict) -> BlockCase | ModelCase:
    """The case :meth:`BlockCase.to_json` or :meth:`ModelCase.to_json` wrote."""
    if data["type"] == "block":
        return BlockCase(data["name"], tuple(data["shape"]), data["f"], tuple(data["filters"]), data["initializer"],
                         data["s"], data["input_seed"])
    if data["type"] == "model":
        return ModelCase(data["name"], tuple(data["input_shape"]), data["classes"], data["forward"])
    raise ValueError(f"unknown case type {data['type']!r}")


#: The public checks' cases (the course's own tests).
PUBLIC_BLOCK_CASES = {
    "identity_block": BlockCase("public", (3, 4, 4, 3), f=2, filters=(4, 4, 3), initializer="constant1"),
    "convolutional_block": BlockCase(
        "public", (3, 4, 4, 3), f=2, filters=(2, 4, 6), initializer="glorot_uniform", s=2
    ),
}
PUBLIC_MODEL_CASE = ModelCase("public")

#: Shape rules a stand-in block can follow (:mod:`resnet_signs.checks.standins`).
STAND_IN_KINDS = ("identity", "projection")


@dataclass(frozen=True)
class StandInSpec:
    """How to stand in for one block function.

    Attributes:
        kind: ``"identity"`` (output shape = input shape) or ``"projection"`` (stride ``s``,
            ``filters[2]`` channels).
        parameters: the block's parameters after the input tensor, in order, e.g.
            ``("f", "filters", "s", "training", "initializer")``.
        defaults: defaults of those parameters that have one (JSON-able values only).
    """

    kind: str
    parameters: tuple[str, ...]
    defaults: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in STAND_IN_KINDS:
            raise ValueError(f"kind must be one of {STAND_IN_KINDS}. Received: kind={self.kind!r}")
        for required in ("f", "filters"):
            if required not in self.parameters:
                raise ValueError(f"a stand-in needs a {required!r} parameter. Received: {self.parameters}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "parameters": list(self.parameters), "defaults": dict(self.defaults)}

    @classmethod
    def from_json(cls, data: dict) -> StandInSpec:
        return cls(str(data["kind"]), tuple(str(p) for p in data["parameters"]), dict(data.get("defaults", {})))



#: The blocks' public contract, for the stand-ins that ``ResNet50``'s checks call instead of them:
#: ``identity_block(X, f, filters, training=True, initializer=...)`` keeps the shape,
#: ``convolutional_block(X, f, filters, s=2, training=True, initializer=...)`` strides by ``s``.
PUBLIC_STAND_INS = {
    "identity_block": StandInSpec("identity", ("f", "filters", "training", "initializer"),
                                  {"training": True, "initializer": None}),
    "convolutional_block": StandInSpec("projection", ("f", "filters", "s", "training", "initializer"),
                                       {"s": 2, "training": True, "initializer": None}),
}
