"""What a check records of a student's function: typed records that cross the sandbox boundary.

A :class:`Capture` is what one call of a student's function *built*: the Keras functional
config of the graph it returned (standard layers only), or the one-line error it raised. It
holds no computed value: whoever judges rebuilds the graph (:mod:`resnet_signs.checks.rebuild`)
and computes the outputs itself, so a record cannot carry a forged result, only a graph — and
a graph that passes is a correct implementation.

Records come back from a sandbox as JSON written by untrusted code: :meth:`Capture.from_json`
checks every field's type and size and raises :class:`RecordError` with one line otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bounds on what a record may hold (a ResNet-50 capture with stand-ins is ~40 kB of JSON).
MAX_TEXT = 500
MAX_NAMES = 32
MAX_CONVS = 64
MAX_CAPTURES = 16


class RecordError(ValueError):
    """A record is malformed; the message is one line saying what is wrong."""


def _text(value, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise RecordError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise RecordError(f"{what} is longer than {limit} characters")
    return value


@dataclass(frozen=True)
class Capture:
    """One call of a student's function on a case.

    Attributes:
        case: the case's name.
        training: the ``training`` argument of a block call; ``None`` for a model builder.
        config: the functional config (``keras.Model.get_config()``) of what the call built, or
            ``None`` when it raised.
        error: the one-line error when it raised.
        convs: filters of the Conv2D layers it created before raising (a hint about the order
            of ``F1, F2, F3``; never a verdict).
        parameters: the parameter names of the student's function (older notebook revisions had
            other signatures: the hint says so).
    """

    case: str
    training: bool | None
    config: dict | None
    error: str | None = None
    convs: tuple[int, ...] = ()
    parameters: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"case": self.case, "training": self.training, "config": self.config, "error": self.error,
                "convs": list(self.convs), "parameters": list(self.parameters)}

    @classmethod
    def from_json(cls, data) -> Capture:
        """Validate ``data`` (parsed JSON from an untrusted writer) into a Capture."""
        if not isinstance(data, dict):
            raise RecordError(f"a capture must be an object, got {type(data).__name__}")
        unknown = set(data) - {"case", "training", "config", "error", "convs", "parameters"}
        if unknown:
            raise RecordError(f"a capture has unknown fields: {', '.join(sorted(map(str, unknown)))[:200]}")
        case = _text(data.get("case"), "case", 64)
        training = data.get("training")
        if training is not None and not isinstance(training, bool):
            raise RecordError("training must be true, false or null")
        config, error = data.get("config"), data.get("error")
        if (config is None) == (error is None):
            raise RecordError("a capture holds either a config or an error")
        if config is not None and not isinstance(config, dict):
            raise RecordError("config must be an object")
        if error is not None:
            error = _text(error, "error")
        convs = data.get("convs", [])
        if not isinstance(convs, list) or len(convs) > MAX_CONVS or not all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c < 1 << 20 for c in convs
        ):
            raise RecordError(f"convs must be a list of at most {MAX_CONVS} small integers")
        parameters = data.get("parameters", [])
        if not isinstance(parameters, list) or len(parameters) > MAX_NAMES:
            raise RecordError(f"parameters must be a list of at most {MAX_NAMES} names")
        names = tuple(_text(p, "a parameter name", 64) for p in parameters)
        return cls(case, training, config, error, tuple(convs), names)


@dataclass(frozen=True)
class TestRecord:
    """Everything one test step captured: its test id and one capture per case (and mode)."""

    __test__ = False  # not a pytest test class, whatever its name
    test_id: str
    captures: tuple[Capture, ...]

    def to_json(self) -> dict:
        return {"test_id": self.test_id, "captures": [c.to_json() for c in self.captures]}

    @classmethod
    def from_json(cls, data) -> TestRecord:
        if not isinstance(data, dict):
            raise RecordError(f"a record must be an object, got {type(data).__name__}")
        test_id = _text(data.get("test_id"), "test_id", 128)
        captures = data.get("captures")
        if not isinstance(captures, list) or not 0 < len(captures) <= MAX_CAPTURES:
            raise RecordError(f"captures must be a list of 1 to {MAX_CAPTURES} captures")
        return cls(test_id, tuple(Capture.from_json(c) for c in captures))


def one_line(exc: BaseException) -> str:
    """``"ValueError: first line of the message"`` (Keras messages run over many lines)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first[:300]}" if first else type(exc).__name__
