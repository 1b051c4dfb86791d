"""The training recipe's settings, declared once: type, default and one-line help each.

``train(model, data, **config)`` and ``resnet-signs train`` both read these fields; the
CLI builds its options from them, so a new setting is added here and nowhere else.
The defaults are the recipe measured on SIGNS (see the README's training section).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from resnet_signs.errors import UsageError

#: When the BatchNorm moving statistics are re-estimated over the training images.
BN_REESTIMATION_CHOICES = ("every_epoch", "final", "off")


def _setting(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`resnet_signs.training.train`; every field has a default."""

    epochs: int = _setting(20, "passes over the training images")
    batch_size: int = _setting(32, "images per gradient step")
    learning_rate: float = _setting(1e-3, "Adam's peak learning rate (after warmup), then cosine decay to 0")
    warmup_epochs: float = _setting(1.0, "epochs of linear learning-rate warmup from 0, at most half the run "
                                         "(0 = start at the peak)")
    label_smoothing: float = _setting(0.0, "label smoothing of the cross-entropy loss, in [0, 1)")
    augment: bool = _setting(True, "random shifts, rotations, zoom, brightness and contrast of training images")
    shift: float = _setting(0.1, "largest random shift, as a fraction of the image size")
    rotation: float = _setting(0.05, "largest random rotation, as a fraction of a full turn (0.05 = 18 degrees)")
    zoom: float = _setting(0.1, "largest random zoom in or out, as a fraction of the image size")
    brightness: float = _setting(0.1, "largest random brightness change, as a fraction of the [0, 1] range")
    contrast: float = _setting(0.1, "largest random contrast change factor")
    flip: bool = _setting(False, "random horizontal flips (a left hand for a right one) on top of augment")
    bn_reestimation: str = _setting(
        "every_epoch",
        "when BatchNorm moving statistics are recomputed over the training images: every_epoch, final, off"
    )
    bn_reestimation_images: int | None = _setting(None, "training images used to re-estimate BatchNorm (None = all)")
    max_steps_per_epoch: int | None = _setting(None, "stop each epoch after this many steps (smoke runs; None = all)")
    seed: int | None = _setting(0, "seed of weights-independent randomness: shuffling, augmentation (None = random)")
    verbose: int = _setting(0, "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch")
    epoch_log: bool = _setting(False, "print one line per epoch (time, loss, accuracy) in the notebook's language")
    run_eagerly: bool = _setting(False, "run every step eagerly instead of compiling it: faster for a few steps "
                                        "(smoke runs spend most of their time compiling), far slower for a real run")

    def __post_init__(self) -> None:
        positive_ints = ("epochs", "batch_size")
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        for name in ("max_steps_per_epoch", "bn_reestimation_images"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise UsageError(f"{name} must be a positive integer or None, got {value!r}")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise UsageError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not (isinstance(self.warmup_epochs, (int, float)) and self.warmup_epochs >= 0):
            raise UsageError(f"warmup_epochs must be a number >= 0, got {self.warmup_epochs!r}")
        if not (isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1):
            raise UsageError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        for name in ("shift", "rotation", "zoom", "brightness", "contrast"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value < 1):
                raise UsageError(f"{name} must be in [0, 1), got {value!r}")
        if self.bn_reestimation not in BN_REESTIMATION_CHOICES:
            raise UsageError(
                f"bn_reestimation must be one of {', '.join(BN_REESTIMATION_CHOICES)}, got {self.bn_reestimation!r}"
            )
        if not isinstance(self.run_eagerly, bool):
            raise UsageError(f"run_eagerly must be True or False, got {self.run_eagerly!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            raise UsageError(f"seed must be an integer or None, got {self.seed!r}")

    @classmethod
    def from_kwargs(cls, **config: Any) -> TrainConfig:
        """Build a config from keyword settings, rejecting unknown keys by name."""
        valid = field_names()
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise UsageError(
                f"unknown training setting {unknown[0]!r}; valid settings: {', '.join(valid)}"
            )
        return cls(**config)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig)]


def field_help(name: str) -> str:
    return next(f.metadata["help"] for f in dataclasses.fields(TrainConfig) if f.name == name)
