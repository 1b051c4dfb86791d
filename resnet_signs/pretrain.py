"""``resnet-signs train``: train the reference ResNet-50 on SIGNS and save model, metrics, curves.

Every :class:`~resnet_signs.training.config.TrainConfig` field is an option (``--epochs``,
``--learning-rate``, ``--no-augment``...), with the same default and help. The course maintainer's
command (``make pretrained``): it loads the reference from the course directory, so it lives outside
the student-facing :mod:`resnet_signs.training` package, which it drives.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import typing
from pathlib import Path

from resnet_signs import paths
from resnet_signs.data.split import VALIDATION_PER_CLASS
from resnet_signs.errors import UsageError
from resnet_signs.training import config as config_module
from resnet_signs.training import pretrained


def _option_type(field: dataclasses.Field):
    hint = typing.get_type_hints(config_module.TrainConfig)[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def _none_or(kind):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=None, help="model file to write (default: models/resnet50_signs.keras)"
    )
    parser.add_argument("--data-dir", type=Path, default=None,
                        help=f"folder with the SIGNS h5 files (default: {paths.data_dir()})")
    parser.add_argument(
        "--max-train-images", type=int, default=None, help="train on a seeded subset of this many images (smoke runs)"
    )
    parser.add_argument("--max-test-images", type=int, default=None, help="evaluate on the first N test images")
    parser.add_argument(
        "--validation-per-class", type=int, default=VALIDATION_PER_CLASS,
        help="training photos per class held out as the validation set monitored every epoch "
        f"(seeded by --seed; default: {VALIDATION_PER_CLASS}); the test set is evaluated once, at the end",
    )
    parser.add_argument("--verbose", type=int, default=2,
                        help="Keras progress output: 0, 1 or 2 (default: 2, one line per epoch)")
    defaults = config_module.TrainConfig()
    for field in dataclasses.fields(config_module.TrainConfig):
        if field.name == "verbose":
            continue
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        kind = _option_type(field)
        help_text = f"{field.metadata['help']} (default: {default})"
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
        elif field.name == "bn_reestimation":
            parser.add_argument(flag, choices=config_module.BN_REESTIMATION_CHOICES, default=default, help=help_text)
        else:
            parse = _none_or(kind) if default is None or field.name == "seed" else kind
            parser.add_argument(flag, type=parse, default=default, metavar=kind.__name__.upper(), help=help_text)


def _subset(x, y, limit: int | None, seed: int | None, what: str):
    if limit is None:
        return x, y
    if limit < 1:
        raise UsageError(f"{what} must be a positive integer, got {limit}")
    import numpy as np

    order = np.sort(np.random.default_rng(seed).permutation(len(x))[:limit])
    return x[order], y[:, order] if y.ndim == 2 else y[order]


def run(args: argparse.Namespace) -> int:
    config = config_module.TrainConfig.from_kwargs(
        **{name: getattr(args, name) for name in config_module.field_names()})
    out = Path(args.out) if args.out is not None else pretrained.default_model_path()
    if out.suffix != ".keras":
        raise UsageError(f"--out must end in .keras (Keras 3's format), got {out}")
    started = time.perf_counter()
    paths.quiet_tensorflow()

    from resnet_signs.data import load_dataset, split_validation, unseen_test_mask

    x_train, y_train, x_test, y_test, _ = load_dataset(args.data_dir)
    x_train, y_train = _subset(x_train, y_train, args.max_train_images, config.seed, "--max-train-images")
    (x_train, y_train), (x_val, y_val) = split_validation(x_train, y_train, args.validation_per_class,
                                                          seed=config.seed or 0)
    if args.max_test_images is not None:
        if args.max_test_images < 1:
            raise UsageError(f"--max-test-images must be a positive integer, got {args.max_test_images}")
        x_test, y_test = x_test[: args.max_test_images], y_test[:, : args.max_test_images]

    import keras

    from resnet_signs.instructor import load_reference
    from resnet_signs.training import report
    from resnet_signs.training.loop import train

    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)  # the initial weights too
    model = load_reference().ResNet50(input_shape=x_train.shape[1:], classes=6)
    print(
        f"training ResNet-50 ({model.count_params():,} parameters) on {len(x_train)} images for "
        f"{config.epochs} epochs, validating on {len(x_val)}; then testing once on {len(x_test)}"
    )
    history = train(model, ((x_train, y_train), (x_val, y_val)), **dataclasses.asdict(config))

    def evaluate(x, y):
        return model.evaluate(x.astype("float32") / 255.0, keras.utils.to_categorical(y.reshape(-1), 6),
                              batch_size=config.batch_size, verbose=0, return_dict=True)

    # The test set, once: all of it, and the photos with no byte-identical copy in the training data.
    final, unseen = evaluate(x_test, y_test), unseen_test_mask(x_train, x_test)
    unseen_scores = evaluate(x_test[unseen], y_test[:, unseen]) if unseen.any() else {"accuracy": float("nan")}

    out.parent.mkdir(parents=True, exist_ok=True)
    # Save a fresh, uncompiled copy: no optimizer state (a third of the size), nothing to recompile.
    plain = keras.Model.from_config(model.get_config())
    plain.set_weights(model.get_weights())
    tmp = out.with_name(out.stem + ".partial.keras")
    plain.save(tmp)
    tmp.replace(out)

    payload = report.metrics(
        history,
        final={
            "val_accuracy": float(history.history["val_accuracy"][-1]),
            "test_accuracy": float(final["accuracy"]),
            "test_loss": float(final["loss"]),
            "test_accuracy_unseen": float(unseen_scores["accuracy"]),
            "bn_reestimated": config.bn_reestimation != "off",
        },
        data={"train_images": len(x_train), "val_images": len(x_val), "test_images": len(x_test),
              "test_images_unseen": int(unseen.sum())},
        model_path=out,
        params=model.count_params(),
    )
    payload["total_time_s"] = time.perf_counter() - started
    report.write_json(pretrained.metrics_path(out), payload)
    report.write_curves(
        pretrained.curve_path(out), history, f"ResNet-50 on SIGNS: test accuracy {final['accuracy']:.3f}"
    )
    print(
        f"validation accuracy {history.history['val_accuracy'][-1]:.3f}; test accuracy {final['accuracy']:.3f} "
        f"(loss {final['loss']:.3f}), {unseen_scores['accuracy']:.3f} on the {int(unseen.sum())} test photos not in "
        f"training; after {len(history.epoch)} epochs, "
        f"{payload['seconds_per_epoch']:.1f} s/epoch, {payload['total_time_s'] / 60:.1f} min in all"
    )
    print(f"wrote {out}, {pretrained.metrics_path(out).name} and {pretrained.curve_path(out).name}")
    return 0
