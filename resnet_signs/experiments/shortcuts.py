"""Experiment 4: where the shapes differ, zero-padding or a learned projection for ``Ws``?

The paper (Table 3) found projections only marginally better than parameter-free
zero-padding; both work. Here: residual nets that differ only in those two shortcuts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from resnet_signs.experiments import fit, nets, pool
from resnet_signs.experiments.progress import Progress
from resnet_signs.experiments.settings import Settings
from resnet_signs.experiments.signs import Signs

COMPARED = ("zero-pad", "projection")


@dataclass
class ShortcutRun:
    depth: int
    shortcut: str
    seed: int
    params: int
    shortcut_params: int  # parameters of the shape-changing shortcuts alone
    train_error: float
    test_error: float


@dataclass
class ShortcutResults:
    runs: list[ShortcutRun]

    def summary(self) -> list[dict]:
        rows = []
        for depth in sorted({r.depth for r in self.runs}):
            for shortcut in COMPARED:
                runs = [r for r in self.runs if r.depth == depth and r.shortcut == shortcut]
                if runs:
                    train, test = np.array([r.train_error for r in runs]), np.array([r.test_error for r in runs])
                    rows.append({"depth": depth, "shortcut": shortcut, "seeds": len(runs), "params": runs[0].params,
                                 "shortcut_params": runs[0].shortcut_params,
                                 "train_error_mean": float(train.mean()), "train_error_std": float(train.std()),
                                 "test_error_mean": float(test.mean()), "test_error_std": float(test.std())})
        return rows

    def to_dict(self) -> dict:
        return {"runs": [asdict(r) for r in self.runs], "summary": self.summary()}

    @classmethod
    def from_dict(cls, data: dict) -> ShortcutResults:
        return cls([ShortcutRun(**r) for r in data["runs"]])


def shortcut_params(model: keras.Model) -> int:
    """Parameters in the shortcut branches (layers named ``*_0_conv``, ``*_0_bn``, ``*_0_pad``)."""
    return sum(layer.count_params() for layer in model.layers if "_0_" in layer.name)


def one_run(data: Signs, depth: int, shortcut: str, seed: int, recipe: fit.Recipe) -> ShortcutRun:
    """Train one ResNet with ``shortcut`` where the shapes change."""
    keras.backend.clear_session()
    model = nets.build_net(depth, True, shortcut, input_shape=data.image_shape, seed=seed)
    result = fit.train(model, data, recipe, seed=seed)
    return ShortcutRun(depth, shortcut, seed, model.count_params(), shortcut_params(model),
                       result.train_error, result.test_error)


def run(settings: Settings, data: Signs, progress: Progress | None = None, workers: int = 1) -> ShortcutResults:
    """ResNets with each shortcut in ``COMPARED``, per depth and seed (on ``workers`` processes)."""
    jobs = [(depth, shortcut, seed, settings.recipe)
            for depth in settings.depths for seed in range(settings.seeds) for shortcut in COMPARED]
    return ShortcutResults(pool.run_jobs(one_run, jobs, data, workers=workers, progress=progress, describe=lambda r: (
        f"ResNet-{r.depth} {r.shortcut} seed {r.seed}", {"train_error": r.train_error})))
