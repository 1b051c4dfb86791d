"""What a training run leaves beside its model: the metrics JSON and the training curves."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

#: Validation accuracies whose first crossing time the metrics record.
ACCURACY_TARGETS = (0.90, 0.95)


def time_to_accuracy(val_accuracy: list[float], epoch_time_s: list[float], target: float) -> float | None:
    """Seconds of training until the per-epoch validation accuracy first reaches ``target`` (None: never)."""
    elapsed = 0.0
    for accuracy, seconds in zip(val_accuracy, epoch_time_s, strict=False):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device() -> dict[str, Any]:
    """The machine the numbers were measured on."""
    import tensorflow as tf

    accelerators = [d.name for d in tf.config.list_physical_devices() if d.device_type != "CPU"]
    return {
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "accelerators": accelerators,
        "platform": platform.platform(),
    }


def versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow as tf

    return {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def metrics(history, *, final: dict[str, float], data: dict[str, int], model_path: Path, params: int) -> dict:
    """The metrics JSON of one run (see the README's training section for the fields)."""
    curves = {key: [float(v) for v in values] for key, values in history.history.items()}
    epoch_time_s = [float(t) for t in history.epoch_time_s]
    train_time_s = [float(t) for t in getattr(history, "train_time_s", epoch_time_s)]
    val = curves.get("val_accuracy", [])
    return {
        "model": str(model_path),
        "parameters": int(params),
        "data": data,
        "epochs": len(curves.get("loss", [])),
        "history": curves,
        "epoch_time_s": epoch_time_s,
        "train_time_s": train_time_s,
        # The first epoch includes tracing; the medians are the steady-state cost. Epoch
        # times include BN re-estimation and evaluation; images/s counts gradient steps only.
        "seconds_per_epoch": statistics.median(epoch_time_s) if epoch_time_s else None,
        "images_per_second": (data["train_images"] / statistics.median(train_time_s)) if train_time_s else None,
        "wall_time_s": float(history.wall_time_s),
        "time_to_accuracy_s": {f"{t:.2f}": time_to_accuracy(val, epoch_time_s, t) for t in ACCURACY_TARGETS},
        "final": final,
        "config": history.config.to_dict(),
        "device": device(),
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_json(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    tmp.replace(path)


def write_curves(path: Path, history, title: str) -> None:
    """The training curves as a PNG (``resnet_signs.plots.plot_history``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from resnet_signs.plots import plot_history

    figure = plot_history(history)
    figure.suptitle(title)
    figure.savefig(path, dpi=100)
    plt.close(figure)
