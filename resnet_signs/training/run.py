"""What one training run in a notebook measured, as a record the release can read back.

The assignment's training cell ends with :func:`resnet_signs.notebook.report_training`, which
prints :meth:`TrainingRun.summary_line` and leaves the record in that output's metadata under
:data:`OUTPUT_KEY`. When ``make release`` executes the worked solution, it reads the record
(:meth:`TrainingRun.from_json`, which validates every field) and states the training time in the
notebook's prose from it, so no minutes are typed by hand. Standard library only (TensorFlow is
imported by :meth:`TrainingRun.from_history` alone, to describe the device).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, field

from resnet_signs import i18n

#: Key of the record in the metadata of the training cell's output.
OUTPUT_KEY = "resnet_signs/training-run"


class RunRecordError(ValueError):
    """A training-run record that is not one (one-line message naming the field)."""


@dataclass(frozen=True)
class TrainingRun:
    """One ``train()`` run: per-epoch times and validation accuracy, the machine, the day.

    Attributes:
        epoch_time_s: seconds per epoch (BatchNorm re-estimation and validation included).
        val_accuracy: validation accuracy after each epoch (empty without validation data).
        smoke: whether the notebook ran its smoke budget (a time that says nothing about the recipe).
        cpu: the processor's name.
        cores: CPU cores the process could use.
        accelerators: GPU (or other accelerator) names; empty on a CPU.
        date: the day of the run, ``YYYY-MM-DD``.
    """

    epoch_time_s: tuple[float, ...]
    val_accuracy: tuple[float, ...] = ()
    smoke: bool = False
    cpu: str = ""
    cores: int = 0
    accelerators: tuple[str, ...] = field(default_factory=tuple)
    date: str = ""

    @property
    def epochs(self) -> int:
        return len(self.epoch_time_s)

    @property
    def total_s(self) -> float:
        return float(sum(self.epoch_time_s))

    # The texts below are what the notebook prints and what its prose states: one formatting each.
    def minutes_text(self) -> str:
        return f"{self.total_s / 60:.1f}"

    def seconds_per_epoch_text(self) -> str:
        return f"{statistics.median(self.epoch_time_s):.0f}"

    def val_accuracy_text(self) -> str:
        return f"{self.val_accuracy[-1]:.3f}" if self.val_accuracy else "?"

    def device_text(self, language: str | None = None) -> str:
        """``"2-core CPU"``, or the accelerators' names, in ``language``."""
        if self.accelerators:
            return i18n.format("GPU: {names}", language, names=", ".join(self.accelerators))
        return i18n.format("{cores}-core CPU", language, cores=self.cores)

    def summary_line(self, language: str | None = None) -> str:
        """The line the training cell ends with.

        E.g. "20 epochs in 11.6 min (33 s per epoch, median; the first 80 s)".
        """
        if self.epochs == 1:
            return i18n.format("{epochs} epoch in {seconds} s", language, epochs=1, seconds=f"{self.total_s:.0f}")
        return i18n.format("{epochs} epochs in {minutes} min ({per_epoch} s per epoch, median; the first {first} s)",
                           language, epochs=self.epochs, minutes=self.minutes_text(),
                           per_epoch=self.seconds_per_epoch_text(), first=f"{self.epoch_time_s[0]:.0f}")

    @classmethod
    def from_history(cls, history, *, smoke: bool) -> TrainingRun:
        """The record of what :func:`resnet_signs.training.train` returned."""
        from resnet_signs.training.report import device

        machine = device()
        return cls(
            epoch_time_s=tuple(float(t) for t in history.epoch_time_s),
            val_accuracy=tuple(float(a) for a in history.history.get("val_accuracy", ())),
            smoke=bool(smoke),
            cpu=str(machine["cpu"]),
            cores=int(machine["usable_cpus"] or 0),
            accelerators=tuple(str(a) for a in machine["accelerators"]),
            date=time.strftime("%Y-%m-%d"),
        )

    def to_json(self) -> dict:
        data = asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}

    @classmethod
    def from_json(cls, data) -> TrainingRun:
        """Validate a record read from a notebook.

        Raises:
            RunRecordError: not a mapping, an unknown or missing field, or a value of the wrong type.
        """
        if not isinstance(data, dict):
            raise RunRecordError(f"a training-run record is a mapping, got {type(data).__name__}")
        known = {"epoch_time_s", "val_accuracy", "smoke", "cpu", "cores", "accelerators", "date"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RunRecordError(f"unknown field(s) in a training-run record: {', '.join(unknown)}")
        if "epoch_time_s" not in data:
            raise RunRecordError("a training-run record needs epoch_time_s")
        times = _numbers(data["epoch_time_s"], "epoch_time_s")
        if not times or any(t < 0 for t in times):
            raise RunRecordError("epoch_time_s must hold one non-negative time per epoch")
        accuracy = _numbers(data.get("val_accuracy", []), "val_accuracy")
        if any(not 0 <= a <= 1 for a in accuracy):
            raise RunRecordError("val_accuracy must lie in [0, 1]")
        for name, kind in (("smoke", bool), ("cpu", str), ("date", str)):
            if name in data and not isinstance(data[name], kind):
                raise RunRecordError(f"{name} must be a {kind.__name__}, got {data[name]!r}")
        cores = data.get("cores", 0)
        if isinstance(cores, bool) or not isinstance(cores, int) or cores < 0:
            raise RunRecordError(f"cores must be a non-negative integer, got {cores!r}")
        accelerators = data.get("accelerators", [])
        if not isinstance(accelerators, list) or not all(isinstance(a, str) for a in accelerators):
            raise RunRecordError("accelerators must be a list of names")
        return cls(tuple(times), tuple(accuracy), data.get("smoke", False), data.get("cpu", ""), cores,
                   tuple(accelerators), data.get("date", ""))


def _numbers(values, name: str) -> list[float]:
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise RunRecordError(f"{name} must be a list of finite numbers")
    return [float(v) for v in values]
