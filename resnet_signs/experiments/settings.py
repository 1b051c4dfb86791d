"""Every experiment setting, typed and defaulted in one place, with the budgets that pick them.

The settings were chosen before any run of this recipe was looked at, from the measured cost
alone (2-core CPU: one epoch over the 1080 images at 32x32 takes about 3 s for a 20-layer
net and 10-20 s for a 56-layer one, plus about 5 and 20 s of tracing per net), and are
not to be re-picked after seeing the outcome:

- ``full``: 32x32 images, 3 seeds, depths 8, 20 and 56, 20 epochs (estimated at about an hour
  before it ran; measured 33 min on 2 cores: the depth experiment 24 min in one process, the
  other three 9 min in two worker processes). 110 layers would cost about twice what 56 do
  (~30 min more, estimated), so it is not in the preset (``--depths``).
- ``quick``: the same experiments at 16x16 (a quarter of the pixels) with 8 epochs (gradients at
  32x32); measured 5.7 min for the whole lab with two worker processes on 2 cores (18 min in one
  process on a machine shared with another job).
- ``smoke`` only proves the code runs (the lab notebook uses it under ``NBGRADER_EXECUTION``
  or ``RESNET_SIGNS_QUICK=1``).
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

    depths: tuple[int, ...] = (8, 20, 56)  # 6n + 2 each
    seeds: int = 3  # runs per configuration, seeds 0 .. seeds - 1
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 0.05  # peak, after a 1-epoch linear warmup; cosine decay to 0
    warmup_epochs: int = 1
    image_size: int = 32  # SIGNS photos averaged down from 64x64
    train_limit: int = 0  # use only the first N training images (0: all 1080)
    steps: int = 50  # gradients: SGD steps between the two measurements
    base_depth: int = 20  # extra block: the trained net the block is appended to
    extra_blocks: int = 2  # extra block: residual blocks (or their plain twins) appended
    extra_epochs: int = 10  # extra block: epochs of training after appending
    weight_decay: float = 5e-3  # extra block: L2 on the appended layers only

    @property
    def recipe(self) -> Recipe:
        return Recipe(epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
                      warmup_epochs=self.warmup_epochs)

    @property
    def extra_recipe(self) -> Recipe:
        """Extra block: how the appended layers are trained."""
        return dataclasses.replace(self.recipe, epochs=self.extra_epochs)

    def validated(self) -> Settings:
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
        "full": dict(depths=(8, 20, 56), seeds=3, epochs=20),
        "quick": dict(depths=(20, 56), seeds=3, epochs=8, image_size=16),
        "smoke": dict(depths=(8,), seeds=1, epochs=1, train_limit=64),
    },
    "gradients": {
        "full": dict(depths=(20, 56), seeds=3, steps=100),
        "quick": dict(depths=(20, 56), seeds=3, steps=30),
        "smoke": dict(depths=(8,), seeds=1, steps=2, train_limit=64),
    },
    "extra-block": {
        "full": dict(base_depth=20, epochs=20, extra_blocks=3, extra_epochs=10, seeds=3),
        "quick": dict(base_depth=20, epochs=8, extra_blocks=3, extra_epochs=6, seeds=3, image_size=16),
        "smoke": dict(base_depth=8, epochs=1, extra_blocks=1, extra_epochs=1, seeds=1, train_limit=64),
    },
    "shortcuts": {
        "full": dict(depths=(20,), seeds=3, epochs=20),
        "quick": dict(depths=(20,), seeds=3, epochs=8, image_size=16),
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


#: What the notebook asked for with :func:`use_budget` (``None``: the default, ``quick``).
_chosen_budget: str | None = None


def use_budget(budget: str | None) -> None:
    """Pick the budget the lab's experiments run at (``full``, ``quick``, ``smoke``; ``None``: the default).

    Under nbgrader or with ``RESNET_SIGNS_QUICK=1`` the smoke budget applies whatever is picked,
    and ``RESNET_SIGNS_LAB_BUDGET`` (a course server's or the release's choice) overrides the pick.
    """
    global _chosen_budget
    if budget is not None and budget not in BUDGETS:
        raise UsageError(f"budget must be one of {', '.join(BUDGETS)}. Received: budget={budget!r}")
    _chosen_budget = budget


def budget_choice() -> tuple[str, str]:
    """The budget the lab runs at and what chose it (printed next to the settings).

    In order: ``smoke`` under nbgrader, ``RESNET_SIGNS_QUICK=1`` or ``setup(quick=True)`` (as
    for the main notebook); ``RESNET_SIGNS_LAB_BUDGET`` (its first budget); :func:`use_budget`;
    else ``quick``.

    Raises:
        UsageError: ``RESNET_SIGNS_LAB_BUDGET`` names no budget.
    """
    return shown_budgets()[0]


def shown_budgets() -> list[tuple[str, str]]:
    """Every budget each experiment of the lab shows, with what chose it: :func:`budget_choice`'s first,
    then any others ``RESNET_SIGNS_LAB_BUDGET`` lists after a comma.

    ``RESNET_SIGNS_LAB_BUDGET=full,quick`` (what ``make release`` sets for the worked solution) shows
    each experiment at the full budget, its figures included, and the quick budget students run
    beside it (settings, table, verdicts).

    Raises:
        UsageError: ``RESNET_SIGNS_LAB_BUDGET`` names no budget, or names one twice.
    """
    from resnet_signs import paths
    from resnet_signs.notebook import quick_reason  # one reading of the switches, for both notebooks

    reason = quick_reason()
    if reason:
        return [("smoke", reason)]
    server = paths.lab_budget_setting()
    if server:
        budgets = [b.strip() for b in server.split(",")]
        if any(b not in BUDGETS for b in budgets) or len(set(budgets)) != len(budgets):
            raise UsageError(f"{paths.LAB_BUDGET_ENV} must be one of {', '.join(BUDGETS)}, or several of them "
                             f"separated by commas. Received: {paths.LAB_BUDGET_ENV}={server!r}")
        return [(budget, f"{paths.LAB_BUDGET_ENV}={server}") for budget in budgets]
    if _chosen_budget:
        return [(_chosen_budget, f"use_budget({_chosen_budget!r})")]
    return [("quick", "the default")]


def default_budget() -> str:
    """The budget :func:`budget_choice` picks."""
    return budget_choice()[0]
