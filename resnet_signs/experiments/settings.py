"""Every experiment setting, typed and defaulted in one place, with the budgets that pick them.

``full`` is what the lab is about (hours on a 2-core CPU, minutes on a GPU), ``quick`` fits a
2-core CPU in a few minutes per experiment, ``smoke`` only proves the code runs (it is what
the lab notebook uses under ``NBGRADER_EXECUTION`` or ``RESNET_SIGNS_QUICK=1``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from resnet_signs.errors import UsageError
from resnet_signs.experiments.fit import Recipe
from resnet_signs.experiments.nets import blocks_per_stage

BUDGETS = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Settings:
    """One experiment's settings (each experiment reads the fields it needs)."""

    depths: tuple[int, ...] = (8, 14, 20, 32, 56)  # 6n + 2 each
    seeds: int = 3  # runs per configuration, seeds 0 .. seeds - 1
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 0.05
    image_size: int = 32  # SIGNS photos averaged down from 64x64
    train_limit: int = 0  # use only the first N training images (0: all 1080)
    steps: int = 50  # gradients: SGD steps between the two measurements
    base_depth: int = 20  # extra block: the trained net the block is appended to
    extra_blocks: int = 2  # extra block: residual blocks (or their plain twins) appended
    extra_epochs: int = 20  # extra block: epochs of training after appending
    weight_decay: float = 5e-3  # extra block: L2 on the appended layers only

    @property
    def recipe(self) -> Recipe:
        return Recipe(epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate)

    def validated(self) -> "Settings":
        for depth in (*self.depths, self.base_depth):
            blocks_per_stage(depth)
        positive = ("seeds", "epochs", "batch_size", "image_size", "extra_blocks", "extra_epochs")
        for name in positive:
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1. Received: {name}={getattr(self, name)}")
        if not self.depths:
            raise UsageError("depths must name at least one depth (6n + 2)")
        return self


#: Per experiment, the fields that differ from the defaults in each budget.
PRESETS: dict[str, dict[str, dict]] = {
    "depth": {
        "full": dict(depths=(8, 14, 20, 32, 56), seeds=3, epochs=30),
        "quick": dict(depths=(8, 20, 32), seeds=2, epochs=8),
        "smoke": dict(depths=(8,), seeds=1, epochs=1, train_limit=64),
    },
    "gradients": {
        "full": dict(depths=(20, 56), seeds=3, steps=100),
        "quick": dict(depths=(20, 56), seeds=2, steps=30),
        "smoke": dict(depths=(8,), seeds=1, steps=2, train_limit=64),
    },
    "extra-block": {
        "full": dict(base_depth=20, epochs=30, extra_blocks=3, extra_epochs=30, seeds=3),
        "quick": dict(base_depth=8, epochs=10, extra_blocks=3, extra_epochs=10, seeds=2),
        "smoke": dict(base_depth=8, epochs=1, extra_blocks=1, extra_epochs=1, seeds=1, train_limit=64),
    },
    "shortcuts": {
        "full": dict(depths=(20, 32), seeds=3, epochs=30),
        "quick": dict(depths=(14,), seeds=2, epochs=8),
        "smoke": dict(depths=(8,), seeds=1, epochs=1, train_limit=64),
    },
}


def settings_for(experiment: str, budget: str, **overrides) -> Settings:
    """The preset ``Settings`` of ``experiment`` at ``budget``, with ``overrides`` (None ignored)."""
    if budget not in BUDGETS:
        raise UsageError(f"budget must be one of {', '.join(BUDGETS)}. Received: budget={budget!r}")
    fields = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UsageError(f"unknown experiment setting(s): {', '.join(unknown)} (known: {', '.join(sorted(fields))})")
    values = {**PRESETS[experiment][budget], **{k: v for k, v in overrides.items() if v is not None}}
    if "depths" in values:
        values["depths"] = tuple(values["depths"])
    return Settings(**values).validated()


def default_budget() -> str:
    """``smoke`` under nbgrader or ``RESNET_SIGNS_QUICK=1`` (as for the main notebook), else ``quick``."""
    from resnet_signs.notebook import quick_reason  # one reading of the switches, for both notebooks

    return "smoke" if quick_reason() else "quick"
