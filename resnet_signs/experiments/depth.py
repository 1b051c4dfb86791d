"""Experiment 1: does a deeper net train worse? Plain vs residual training error by depth.

He et al. (2015, Fig. 6) found that CIFAR-10 plain nets' training error rises from 20 to 56
layers while the ResNets' falls. Here the same nets train on SIGNS, every net with the same
recipe and budget (``fit``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from resnet_signs.experiments import fit, nets, pool
from resnet_signs.experiments.progress import Progress
from resnet_signs.experiments.settings import Settings
from resnet_signs.experiments.signs import Signs


@dataclass
class DepthRun:
    depth: int
    residual: bool
    seed: int
    params: int
    train_error: float  # after training: inference mode, every training image, BN re-estimated
    test_error: float  # the same on the test images
    train_errors: list[float]  # per epoch, running error in training mode (the curves)


@dataclass
class DepthResults:
    runs: list[DepthRun]

    def summary(self) -> list[dict]:
        """One row per (depth, plain/residual): mean, std, min, max of both errors over seeds."""
        rows = []
        for depth in sorted({r.depth for r in self.runs}):
            for residual in (False, True):
                runs = [r for r in self.runs if r.depth == depth and r.residual == residual]
                if not runs:
                    continue
                row = {"depth": depth, "net": "resnet" if residual else "plain", "seeds": len(runs)}
                for key in ("train_error", "test_error"):
                    values = np.array([getattr(r, key) for r in runs])
                    row.update({f"{key}_mean": float(values.mean()), f"{key}_std": float(values.std()),
                                f"{key}_min": float(values.min()), f"{key}_max": float(values.max())})
                rows.append(row)
        return rows

    def to_dict(self) -> dict:
        return {"runs": [asdict(r) for r in self.runs], "summary": self.summary()}

    @classmethod
    def from_dict(cls, data: dict) -> DepthResults:
        return cls([DepthRun(**r) for r in data["runs"]])


def one_run(data: Signs, depth: int, residual: bool, seed: int, recipe: fit.Recipe) -> DepthRun:
    """Train one plain or residual net (zero-pad shortcuts)."""
    keras.backend.clear_session()  # free the previous run's graph memory
    model = nets.build_net(depth, residual, input_shape=data.image_shape, seed=seed)
    result = fit.train(model, data, recipe, seed=seed)
    return DepthRun(depth, residual, seed, model.count_params(), result.train_error, result.test_error,
                    result.train_errors)


def run(settings: Settings, data: Signs, progress: Progress | None = None, workers: int = 1) -> DepthResults:
    """Train a plain and a residual net per depth and seed (on ``workers`` processes)."""
    jobs = [(depth, residual, seed, settings.recipe)
            for depth in settings.depths for seed in range(settings.seeds) for residual in (False, True)]
    return DepthResults(pool.run_jobs(one_run, jobs, data, workers=workers, progress=progress, describe=lambda r: (
        f"{'ResNet' if r.residual else 'plain'}-{r.depth} seed {r.seed}", {"train_error": r.train_error})))
