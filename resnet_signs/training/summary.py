"""The README's numbers for ``make pretrained``, regenerated from its metrics file.

``python -m resnet_signs.training.summary [models/resnet50_signs.metrics.json]`` prints the
Markdown table row and sentence the README quotes, so they are never typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from resnet_signs.errors import UsageError


def _first_epoch_at(curve: list[float], target: float) -> int | None:
    return next((i + 1 for i, value in enumerate(curve) if value >= target), None)


def readme_lines(metrics: dict) -> list[str]:
    """The README's result table (header, separator, one row) for one ``resnet-signs train`` run."""
    try:
        final, data, config = metrics["final"], metrics["data"], metrics["config"]
        val = metrics["history"]["val_accuracy"]
        reach = dict(metrics["time_to_accuracy_s"])
        seconds_per_epoch, total = metrics["seconds_per_epoch"], metrics.get("total_time_s", metrics["wall_time_s"])
    except KeyError as exc:
        raise UsageError(f"not a metrics file of `resnet-signs train` (no {exc.args[0]!r})") from None
    stable = _first_epoch_at(val, 0.95)
    reached = "; ".join(f"{float(k):.0%} after {v:.0f} s" for k, v in reach.items() if v is not None) or "never 90%"
    return [
        f"| run | validation accuracy ({data['val_images']} images) "
        f"| test accuracy ({data['test_images']} images, once) "
        f"| test accuracy, the {data['test_images_unseen']} test photos with no copy in training | time |",
        "|---|---|---|---|---|",
        f"| `make pretrained` ({metrics['epochs']} epochs, seed {config['seed']}, "
        f"{data['train_images']} training images) "
        f"| **{final['val_accuracy']:.3f}**" + (f" (0.95 first at epoch {stable})" if stable else "")
        + f" | {final['test_accuracy']:.3f} | {final['test_accuracy_unseen']:.3f} "
        f"| {total / 60:.1f} min in all, {seconds_per_epoch:.1f} s/epoch; validation {reached} |",
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from resnet_signs.training.pretrained import default_model_path, metrics_path

    path = Path(argv[0]) if argv else metrics_path(default_model_path())
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"cannot read {path} ({exc}): run `make pretrained` first", file=sys.stderr)
        return 2
    try:
        print("\n".join(readme_lines(metrics)))
    except UsageError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
