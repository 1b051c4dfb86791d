"""Run an experiment, or load its cached results: one JSON and one PNG per (experiment, settings).

The cache file name carries a hash of the settings, so changing any setting (budget, seeds,
depths...) runs afresh while repeating a run only reads the JSON. The results are derived
from SIGNS, so the cache (``experiments-cache/`` by default) is git-ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from resnet_signs import paths
from resnet_signs.experiments import NAMES, check_name, depth, gradients, identity, plots, pool, shortcuts
from resnet_signs.experiments.progress import Progress
from resnet_signs.experiments.settings import PRESETS, Settings, default_budget, settings_for
from resnet_signs.experiments.signs import Signs

#: Bump when the JSON layout or an experiment's meaning changes: old caches are then ignored.
FORMAT = 2


@dataclass(frozen=True)
class Experiment:
    run: object  # (Settings, Signs, Progress, workers) -> results
    results: type  # has from_dict / to_dict
    plot: object  # (results, ax) -> ax
    about: str


EXPERIMENTS: dict[str, Experiment] = {
    "depth": Experiment(depth.run, depth.DepthResults, plots.plot_depth,
                        "final training error vs depth, plain vs ResNet"),
    "gradients": Experiment(gradients.run, gradients.GradientResults, plots.plot_gradient_norms,
                            "per-layer gradient norms at initialisation and after some steps"),
    "extra-block": Experiment(identity.run, identity.ExtraBlockResults, plots.plot_extra_block,
                              "blocks appended to a trained ResNet drift toward the identity"),
    "shortcuts": Experiment(shortcuts.run, shortcuts.ShortcutResults, plots.plot_shortcuts,
                            "zero-padding vs projection shortcuts: parameters and accuracy"),
}
assert tuple(EXPERIMENTS) == NAMES and set(PRESETS) == set(NAMES)


@dataclass
class Outcome:
    """What ``run_or_load`` did and where it left the files."""

    name: str
    budget: str
    settings: Settings
    results: object
    json_path: Path
    png_path: Path
    cached: bool
    elapsed_s: float  # of the run that produced the results
    device: str = ""  # what ran it ("tensorflow, CPU (x86_64, 2 cores)")


def default_cache_dir() -> Path:
    """``experiments-cache/`` in the checkout.

    ``RESNET_SIGNS_EXPERIMENTS`` overrides it; see :mod:`resnet_signs.paths`.
    """
    return paths.experiments_cache_dir()


def cache_stem(name: str, budget: str, settings: Settings) -> str:
    payload = json.dumps({"format": FORMAT, "name": name, "settings": dataclasses.asdict(settings)}, sort_keys=True)
    return f"{name}-{budget}-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"


def run_or_load(name: str, budget: str | None = None, *, out: Path | str | None = None, force: bool = False,
                data: Signs | None = None, progress: Callable[[str], None] | None = None, workers: int | None = None,
                **overrides) -> Outcome:
    """Return cached results of experiment ``name`` when present, else run it and cache them.

    Args:
        name: ``depth``, ``gradients``, ``extra-block`` or ``shortcuts``.
        budget: ``full``, ``quick`` or ``smoke`` (default: ``settings.default_budget()``).
        out: cache folder (default ``default_cache_dir()``).
        force: run even when cached results exist.
        data: SIGNS arrays to use instead of loading the prepared files (tests, notebooks).
        progress: receives one line per finished training run (default: printed to stdout).
        workers: processes that train in parallel (default: ``pool.default_workers``; 1 for ``smoke``).
        **overrides: ``Settings`` fields replacing the budget's presets (``seeds=5``...).
    """
    experiment = EXPERIMENTS[check_name(name)]
    budget = budget or default_budget()
    settings = settings_for(name, budget, **overrides)
    out = Path(out) if out is not None else default_cache_dir()
    cached = None if force else _load(name, budget, settings, out)
    if cached is not None:
        return cached
    json_path, png_path = _files(name, budget, settings, out)

    if data is None:
        from resnet_signs.experiments import signs

        data = signs.load(settings.image_size)
    if settings.train_limit:
        data = dataclasses.replace(data, x_train=data.x_train[: settings.train_limit],
                                   y_train=data.y_train[: settings.train_limit])
    device = _use_accelerator()
    if workers is None:
        workers = 1 if budget == "smoke" else pool.default_workers(device)
    start = time.perf_counter()
    results = experiment.run(settings, data, Progress(name, progress),
                             pool.check_workers(workers))
    elapsed = time.perf_counter() - start
    record = {"format": FORMAT, "experiment": name, "budget": budget, "settings": dataclasses.asdict(settings),
              "elapsed_s": elapsed, "device": device, "workers": workers, "results": results.to_dict()}
    out.mkdir(parents=True, exist_ok=True)
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(json_path)  # atomic: a killed run never leaves half a cache file
    save_plot(name, results, png_path)
    return Outcome(name, budget, settings, results, json_path, png_path, False, elapsed, device)


def load_cached(name: str, budget: str, *, out: Path | str | None = None, **overrides) -> Outcome | None:
    """The cached results of ``name`` at ``budget`` (redrawing a missing plot), or ``None``: nothing runs."""
    check_name(name)
    return _load(name, budget, settings_for(name, budget, **overrides),
                 Path(out) if out is not None else default_cache_dir())


def _files(name: str, budget: str, settings: Settings, out: Path) -> tuple[Path, Path]:
    stem = cache_stem(name, budget, settings)
    return out / f"{stem}.json", out / f"{stem}.png"


def _load(name: str, budget: str, settings: Settings, out: Path) -> Outcome | None:
    json_path, png_path = _files(name, budget, settings, out)
    cached = _read(json_path)
    if cached is None:
        return None
    results = EXPERIMENTS[name].results.from_dict(cached["results"])
    if not png_path.exists():
        save_plot(name, results, png_path)
    return Outcome(name, budget, settings, results, json_path, png_path, True, cached["elapsed_s"],
                   cached.get("device", ""))


def save_plot(name: str, results, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    EXPERIMENTS[name].plot(results, ax=fig.add_subplot())
    fig.savefig(path, dpi=110)


def _read(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # missing or unreadable: run again
    return record if record.get("format") == FORMAT else None


def _use_accelerator() -> str:
    """Let TensorFlow grow GPU memory as needed (shared servers); describe the device used."""
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        return backend
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised: the setting can no longer change
    return f"tensorflow, {len(gpus)} GPU" if gpus else f"tensorflow, CPU ({platform.machine()}, {os.cpu_count()} cores)"
