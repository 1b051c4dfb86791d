"""Training speed on this machine: the course's recipe vs. a plain ``model.fit`` baseline.

Rows (each in its own process, so peak memory is that row's alone):

- ``assignment ResNet-50, course pipeline``: the reference ResNet-50 trained by
  ``resnet_signs.training.train`` (tf.data, augmentation, BN re-estimation each epoch);
- ``keras.applications.ResNet50, plain fit``: ``keras.applications.ResNet50(weights=None,
  input_shape=(64, 64, 3), classes=6)``, Adam 1e-3, ``model.fit`` on numpy arrays, batch 32;
- with ``--all``, also the assignment ResNet-50 under plain fit (separates model from pipeline).

Each process runs one warm-up epoch (tracing) and then ``--repeats`` timed epochs; the table
gives medians over those epochs. Test accuracy after each epoch gives the time to reach 90% and
95% within the run; the full recipe's times come from ``make pretrained``'s metrics JSON when
present. Run: ``make bench`` (all benchmarks) or ``python -m benchmarks.training [--repeats N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROWS = {
    "pipeline": "assignment ResNet-50, course pipeline",
    "applications": "keras.applications.ResNet50, plain fit",
    "plain": "assignment ResNet-50, plain fit",
}
RESULTS = Path(__file__).resolve().parent / "results" / "training.json"
TARGETS = (0.90, 0.95)


def _worker(row: str, repeats: int) -> dict:
    """Train one row for 1 + ``repeats`` epochs in this process and return what it measured."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from resnet_signs.data import load_dataset
    from resnet_signs.training.report import time_to_accuracy

    x, y, x_test, y_test, _ = load_dataset()
    x, x_test = x.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    y, y_test = np.eye(6, dtype="float32")[y[0]], np.eye(6, dtype="float32")[y_test[0]]
    keras.utils.set_random_seed(0)
    epochs = 1 + repeats
    if row == "pipeline":
        from resnet_signs.instructor import load_reference
        from resnet_signs.training import train

        model = load_reference().ResNet50()
        history = train(model, ((x, y), (x_test, y_test)), epochs=epochs, seed=0)
        train_s, epoch_s, acc = history.train_time_s, history.epoch_time_s, history.history["val_accuracy"]
    else:
        if row == "applications":
            model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
        else:
            from resnet_signs.instructor import load_reference

            model = load_reference().ResNet50()
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
        train_s, epoch_s, acc = [], [], []
        for _ in range(epochs):
            start = time.perf_counter()
            model.fit(x, y, batch_size=32, epochs=1, verbose=0)
            train_s.append(time.perf_counter() - start)
            acc.append(float(model.evaluate(x_test, y_test, batch_size=32, verbose=0, return_dict=True)["accuracy"]))
            epoch_s.append(time.perf_counter() - start)
    return {
        "row": row,
        "parameters": model.count_params(),
        "train_images": len(x),
        "first_epoch_s": epoch_s[0],
        "train_s": train_s[1:],
        "epoch_s": epoch_s[1:],
        "test_accuracy": acc,
        "time_to_accuracy_s": {f"{t:.2f}": time_to_accuracy(acc, epoch_s, t) for t in TARGETS},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_row(row: str, repeats: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.training", "--worker", row, "--repeats", str(repeats)]
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"benchmarks.training: the {row!r} worker failed: {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _recipe_times() -> dict | None:
    """Time-to-accuracy of the full recipe, from ``make pretrained``'s metrics, if it ran."""
    from resnet_signs.training.pretrained import default_model_path, metrics_path

    path = metrics_path(default_model_path())
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    return {
        "epochs": metrics["epochs"],
        "final_test_accuracy": metrics["final"]["test_accuracy"],
        "time_to_accuracy_s": metrics["time_to_accuracy_s"],
        "seconds_per_epoch": metrics["seconds_per_epoch"],
        "total_time_s": metrics.get("total_time_s"),
        "device": metrics["device"]["cpu"],
    }


def _fmt_time(seconds, epochs_run):
    return f"{seconds:.0f} s" if seconds is not None else f"not in {epochs_run} ep."


def table(results: list[dict], repeats: int) -> str:
    lines = [
        "| row | s/epoch (train) | images/s | s/epoch (+BN re-est., eval) | first epoch s | to 90% | to 95% "
        "| best test acc. | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        train_s = statistics.median(r["train_s"])
        lines.append(
            f"| {ROWS[r['row']]} | {train_s:.1f} | {r['train_images'] / train_s:.0f} "
            f"| {statistics.median(r['epoch_s']):.1f} "
            f"| {r['first_epoch_s']:.0f} | {_fmt_time(r['time_to_accuracy_s']['0.90'], repeats + 1)} "
            f"| {_fmt_time(r['time_to_accuracy_s']['0.95'], repeats + 1)} | {max(r['test_accuracy']):.3f} "
            f"| {r['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.training", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs per row after the warm-up epoch")
    parser.add_argument("--all", action="store_true", help="also time the assignment ResNet-50 under plain fit")
    parser.add_argument("--worker", choices=sorted(ROWS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.worker:
        print(json.dumps(_worker(args.worker, args.repeats)))
        return 0

    from resnet_signs.training.report import cpu_name

    rows = ["pipeline", "applications"] + (["plain"] if args.all else [])
    load_before = os.getloadavg()
    results = [_run_row(row, args.repeats) for row in rows]
    machine = (f"{cpu_name()}, {len(os.sched_getaffinity(0))} usable CPUs, "
               f"load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    recipe = _recipe_times()
    print(f"## Training benchmark ({machine})")
    print(f"medians over {args.repeats} timed epochs after 1 warm-up epoch, "
          "1080 training / 120 test images, batch 32\n")
    print(table(results, args.repeats))
    if recipe:
        t = recipe["time_to_accuracy_s"]
        print(
            f"\nfull recipe (`make pretrained`, {recipe['epochs']} epochs, on {recipe['device']}): test accuracy "
            f"{recipe['final_test_accuracy']:.3f}; 90% after {_fmt_time(t['0.90'], recipe['epochs'])}, "
            f"95% after {_fmt_time(t['0.95'], recipe['epochs'])}; {recipe['seconds_per_epoch']:.1f} s/epoch"
        )
    else:
        print("\nfull recipe: no models/resnet50_signs.metrics.json yet (run `make pretrained` for time-to-accuracy)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine, "repeats": args.repeats, "rows": results, "recipe": recipe},
                                  indent=2))
    print(f"\n(wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
