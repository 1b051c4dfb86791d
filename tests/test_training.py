"""The training recipe: config validation, data checks, a tiny end-to-end run, determinism,
BatchNorm re-estimation, the pretrained model's loader and one real ``resnet-signs train``."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from resnet_signs.errors import UsageError
from resnet_signs.training.config import TrainConfig, field_names

TINY = {"batch_size": 4, "epochs": 2, "max_steps_per_epoch": 2, "verbose": 0}


# --- config --------------------------------------------------------------------------------


def test_unknown_key_is_named_with_the_valid_ones():
    with pytest.raises(UsageError, match=r"unknown training setting 'epoch'; valid settings: epochs, batch_size"):
        TrainConfig.from_kwargs(epoch=3)


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
        ({"learning_rate": -1}, "learning_rate must be a positive number, got -1"),
        ({"warmup_epochs": -1}, "warmup_epochs must be a number >= 0, got -1"),
        ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\), got 1.0"),
        ({"rotation": 2}, r"rotation must be in \[0, 1\), got 2"),
        ({"bn_reestimation": "sometimes"}, "bn_reestimation must be one of every_epoch, final, off, got 'sometimes'"),
        ({"max_steps_per_epoch": 0}, "max_steps_per_epoch must be a positive integer or None, got 0"),
        ({"seed": "0"}, "seed must be an integer or None, got '0'"),
        ({"run_eagerly": "yes"}, "run_eagerly must be True or False, got 'yes'"),
    ],
)
def test_bad_values_say_what_is_allowed(setting, message):
    with pytest.raises(UsageError, match=message):
        TrainConfig.from_kwargs(**setting)


def test_every_field_has_help():
    import dataclasses

    assert all(f.metadata.get("help") for f in dataclasses.fields(TrainConfig))
    assert TrainConfig.from_kwargs().to_dict().keys() == set(field_names())


@pytest.mark.parametrize("epochs, warmup_epochs, peak_step", [(4, 1.0, 10), (1, 1.0, 5), (4, 0.0, 0)])
def test_learning_rate_warms_up_then_decays_to_zero(epochs, warmup_epochs, peak_step):
    from resnet_signs.training.loop import _schedule

    schedule = _schedule(TrainConfig(epochs=epochs, warmup_epochs=warmup_epochs, learning_rate=0.01), 10)
    total = epochs * 10
    assert float(schedule(peak_step)) == pytest.approx(0.01)
    if peak_step:
        assert float(schedule(0)) == 0.0 and float(schedule(1)) == pytest.approx(0.01 / peak_step)
    assert float(schedule(total)) == pytest.approx(0.0, abs=1e-9)


# --- data checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.full((2, 8, 8, 3), 255.0), [0, 1],
         r"float images must lie in \[0, 1\] \(got \[255, 255\]\); divide by 255"),
        (np.zeros((2, 8, 8), "uint8"), [0, 1],
         r"images must have shape \(m, height, width, channels\), got \(2, 8, 8\)"),
        (np.zeros((3, 8, 8, 3), "uint8"), [0, 1], "3 images but 2 labels"),
        (np.zeros((2, 8, 8, 3), "uint8"), [0, 6], r"integer labels must be class ids in \[0, 6\)"),
        (np.zeros((2, 8, 8, 3), "uint8"), np.zeros((2, 5)),
         r"labels must be one-hot \(m, 6\) or class ids \(m,\), got shape \(2, 5\)"),
    ],
)
def test_bad_data_is_refused_in_one_line(images, labels, message):
    from resnet_signs.training.pipeline import as_arrays

    with pytest.raises(UsageError, match="training data: " + message):
        as_arrays(images, labels, 6, "training data")


def test_course_label_row_and_uint8_are_accepted():
    from resnet_signs.training.pipeline import as_arrays

    x, y = as_arrays(np.full((3, 4, 4, 3), 255, "uint8"), np.array([[0, 5, 2]]), 6, "training data")
    assert x.dtype == np.float32 and x.max() == 1.0
    assert y.tolist() == np.eye(6)[[0, 5, 2]].tolist()


# --- tiny end-to-end runs --------------------------------------------------------------------


def tiny_model(seed=0):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn1")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.BatchNormalization(name="bn2")(x)
    outputs = keras.layers.Dense(6, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (24, 16, 16, 3), dtype=np.uint8)
    y = np.arange(24) % 6
    return (x[:16], y[:16]), (x[16:], np.eye(6)[y[16:]])


def test_train_returns_per_epoch_history(tiny_data):
    from resnet_signs.training import train

    history = train(tiny_model(), tiny_data, **TINY)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 2 for values in history.history.values())
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"] + history.history["val_accuracy"])
    assert len(history.epoch_time_s) == 2 and history.wall_time_s >= sum(history.epoch_time_s) > 0
    assert history.config.max_steps_per_epoch == 2


def test_run_eagerly_trains_the_same_without_compiling(tiny_data):
    # The smoke budget's setting: the same numbers, no compiled training step.
    from resnet_signs.training import train

    histories = []
    for eagerly in (False, True):
        model = tiny_model()
        histories.append(train(model, tiny_data, **TINY, run_eagerly=eagerly).history)
        assert model.run_eagerly is eagerly
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-4)


def test_train_without_test_data_has_no_val_curves(tiny_data):
    from resnet_signs.training import train

    history = train(tiny_model(), tiny_data[0], **{**TINY, "epochs": 1, "bn_reestimation": "off"})
    assert set(history.history) == {"loss", "accuracy"}


def test_train_rejects_unknown_settings_before_training(tiny_data):
    from resnet_signs.training import train

    with pytest.raises(UsageError, match="unknown training setting 'steps_per_epoch'"):
        train(tiny_model(), tiny_data, steps_per_epoch=2)


def test_same_seed_same_weights(tiny_data):
    from resnet_signs.training import train

    runs = []
    for _ in range(2):
        model = tiny_model(seed=1)
        train(model, tiny_data, **{**TINY, "seed": 7})
        runs.append(model.get_weights())
    other = tiny_model(seed=1)
    train(other, tiny_data, **{**TINY, "seed": 8})
    assert all(np.array_equal(a, b) for a, b in zip(*runs, strict=True))
    # The seed matters (so the equality above is not vacuous): another seed, other weights.
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], other.get_weights(), strict=True))


# --- BatchNorm re-estimation -------------------------------------------------------------------


def test_reestimation_sets_moving_stats_to_the_data_statistics():
    import keras

    from resnet_signs.training import reestimate_batchnorm

    model = tiny_model()
    x = np.random.default_rng(1).random((10, 16, 16, 3), dtype=np.float32)
    weights = [v.numpy().copy() for v in model.trainable_weights]
    seen = reestimate_batchnorm(model, x, batch_size=4)  # batches of 4, 4, 2: weighted by size

    assert seen == 10
    conv_out = keras.Model(model.input, model.get_layer("conv").output)(x).numpy()
    bn1 = model.get_layer("bn1")
    np.testing.assert_allclose(bn1.moving_mean.numpy(), conv_out.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-6)
    batch_vars = [conv_out[i : i + 4].var(axis=(0, 1, 2)) for i in (0, 4, 8)]
    expected_var = (4 * batch_vars[0] + 4 * batch_vars[1] + 2 * batch_vars[2]) / 10
    np.testing.assert_allclose(bn1.moving_variance.numpy(), expected_var, rtol=1e-4, atol=1e-6)
    assert bn1.momentum == 0.99  # the layers get their momentum back
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(weights, model.trainable_weights, strict=True))


def test_train_ends_with_statistics_of_the_unaugmented_training_images(tiny_data):
    import keras

    from resnet_signs.training import train

    model = tiny_model()
    train(model, tiny_data, **{**TINY, "bn_reestimation": "final"})
    x = tiny_data[0][0].astype("float32") / 255.0
    conv_out = keras.Model(model.input, model.get_layer("conv").output)(x).numpy()
    np.testing.assert_allclose(model.get_layer("bn1").moving_mean.numpy(), conv_out.mean(axis=(0, 1, 2)), rtol=1e-4,
                               atol=1e-6)


def test_batchnorm_effect_resets_then_recovers_the_statistics_without_touching_the_model(tiny_data):
    from resnet_signs.training import batchnorm_effect, train

    model = tiny_model()
    train(model, tiny_data, **TINY)  # seed 0: re-estimated after each epoch over the training images
    before = [w.copy() for w in model.get_weights()]
    (x_train, _), (x_val, y_val) = tiny_data
    effect = batchnorm_effect(model, x_train / 255.0, x_val / 255.0, y_val, batch_size=TINY["batch_size"])
    assert set(effect) == {"as_trained", "reset", "reestimated", "reestimation_s"}
    # The same images in the same (seeded) order as train() used: the very same statistics come back.
    assert effect["reestimated"] == effect["as_trained"]
    assert all(0.0 <= effect[k] <= 1.0 for k in ("as_trained", "reset", "reestimated"))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# --- the pretrained model ----------------------------------------------------------------------


def test_missing_pretrained_model_says_how_to_make_it(tmp_path, capsys):
    from resnet_signs.training import load_pretrained

    assert load_pretrained(tmp_path / "none.keras") is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "run `make pretrained`" in out


def test_corrupt_pretrained_model_is_one_line(tmp_path):
    from resnet_signs.training import load_pretrained
    from resnet_signs.training.pretrained import ModelFileError

    bad = tmp_path / "resnet50_signs.keras"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError, match=r"cannot load the pretrained model .*resnet50_signs.keras \(") as info:
        load_pretrained(bad)
    assert "\n" not in str(info.value) and "run `make pretrained` again" in str(info.value)


# --- the CLI ---------------------------------------------------------------------------------


@pytest.fixture()
def tiny_h5(tmp_path):
    from resnet_signs.data import h5files

    rng = np.random.default_rng(0)
    arrays = {
        split: (rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), np.arange(n) % 6, {})
        for split, n in (("train", 12), ("test", 6))
    }
    h5files.write_splits(tmp_path / "data", arrays)
    return tmp_path / "data"


def cli(monkeypatch, *argv):
    from resnet_signs.cli import main

    monkeypatch.setattr(sys, "argv", ["resnet-signs", *argv])
    return main(list(argv))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--out", "model.h5"], "--out must end in .keras"),
        (["--epochs", "0"], "epochs must be a positive integer, got 0"),
        (["--max-train-images", "0"], "--max-train-images must be a positive integer, got 0"),
    ],
)
def test_cli_errors_are_one_line(monkeypatch, capsys, tiny_h5, tmp_path, argv, message):
    argv = ["--data-dir", str(tiny_h5), "--out", str(tmp_path / "m.keras"), *argv]
    assert cli(monkeypatch, "train", *argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("resnet-signs train: error: ") and message in err and "\n" not in err


@pytest.mark.slow
def test_cli_trains_reference_resnet50_and_writes_what_it_claims(monkeypatch, tiny_h5, tmp_path):
    import keras

    from resnet_signs.training import load_pretrained

    out = tmp_path / "models" / "resnet50_signs.keras"
    argv = ["--data-dir", str(tiny_h5), "--out", str(out), "--epochs", "1", "--batch-size", "4",
            "--max-steps-per-epoch", "2", "--bn-reestimation-images", "8", "--verbose", "0",
            "--validation-per-class", "1", "--run-eagerly"]
    assert cli(monkeypatch, "train", *argv) == 0

    metrics = json.loads(out.with_suffix(".metrics.json").read_text())
    for key in ("history", "epoch_time_s", "train_time_s", "seconds_per_epoch", "images_per_second", "wall_time_s",
                "time_to_accuracy_s", "final", "config", "device", "versions", "parameters", "data"):
        assert key in metrics, key
    assert metrics["parameters"] == 23_600_006
    # One photo per class held out for validation; the test set (no copy in training) evaluated once.
    assert metrics["data"] == {"train_images": 6, "val_images": 6, "test_images": 6, "test_images_unseen": 6}
    assert metrics["final"]["test_accuracy_unseen"] == metrics["final"]["test_accuracy"]
    assert metrics["final"]["val_accuracy"] == metrics["history"]["val_accuracy"][-1]
    # The README's row is generated from this file, numbers included.
    from resnet_signs.training.summary import readme_lines

    row = readme_lines(metrics)[-1]
    assert "6 training images" in row and f"**{metrics['final']['val_accuracy']:.3f}**" in row
    assert f"| {metrics['final']['test_accuracy']:.3f} | {metrics['final']['test_accuracy_unseen']:.3f} |" in row
    assert set(metrics["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == metrics["epochs"] == 1 for v in [*metrics["history"].values(), metrics["epoch_time_s"],
                                                          metrics["train_time_s"]])
    history = metrics["history"]
    accuracies = history["accuracy"] + history["val_accuracy"] + [metrics["final"]["test_accuracy"]]
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert metrics["config"]["max_steps_per_epoch"] == 2 and metrics["versions"]["keras"] == keras.__version__
    assert metrics["config"]["run_eagerly"] is True
    assert out.with_suffix(".png").stat().st_size > 1000

    # The saved file is the model that was evaluated: same test accuracy and loss when loaded back.
    from resnet_signs.data import load_dataset

    _, _, x_test, y_test, _ = load_dataset(tiny_h5)
    model = load_pretrained(out)
    probs = model.predict(x_test.astype("float32") / 255.0, verbose=0)
    assert np.mean(probs.argmax(1) == y_test[0]) == pytest.approx(metrics["final"]["test_accuracy"])
    # The loss through Keras itself: it uses the softmax's logits, so a probability below 1e-7
    # (common after two steps on six images) makes a loss recomputed from clipped probabilities differ.
    scores = model.evaluate(x_test.astype("float32") / 255.0, np.eye(6)[y_test[0]], verbose=0, return_dict=True)
    assert scores["accuracy"] == pytest.approx(metrics["final"]["test_accuracy"])
    assert scores["loss"] == pytest.approx(metrics["final"]["test_loss"], rel=1e-3)


def test_readme_summary_of_a_file_that_is_not_a_metrics_file_is_one_line(tmp_path, capsys):
    from resnet_signs.training.summary import main

    path = tmp_path / "x.metrics.json"
    path.write_text('{"final": {}}')
    assert main([str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"{path}: not a metrics file of `resnet-signs train` (no 'data')"


# --- the notebook's budgets are train() settings --------------------------------------------------


@pytest.mark.parametrize("budget", ["SMOKE_BUDGET", "FULL_BUDGET"])
def test_notebook_budgets_are_valid_training_settings(budget):
    from resnet_signs import notebook

    settings = getattr(notebook, budget)
    config = TrainConfig.from_kwargs(**settings)
    assert {name: getattr(config, name) for name in settings} == settings  # every key is a setting, taken as given


def test_the_smoke_budget_is_a_few_small_steps_and_the_full_one_the_recipe():
    from resnet_signs import notebook

    smoke, full = TrainConfig.from_kwargs(**notebook.SMOKE_BUDGET), TrainConfig.from_kwargs(**notebook.FULL_BUDGET)
    assert smoke.epochs == 1 and smoke.max_steps_per_epoch <= 2 and smoke.batch_size <= 8
    assert full.epochs == TrainConfig().epochs > smoke.epochs and full.max_steps_per_epoch is None


def test_a_pip_install_is_told_the_command_it_has(tmp_path, capsys, monkeypatch):
    from resnet_signs import paths
    from resnet_signs.training import pretrained

    monkeypatch.setattr(paths, "checkout_root", lambda: None)
    assert pretrained.load_pretrained(tmp_path / "none.keras") is None
    out = capsys.readouterr().out
    assert "run `resnet-signs train` to train it" in out and "make" not in out


@pytest.mark.parametrize(("record", "message"), [
    ([], "a training-run record is a mapping"),
    ({"epoch_time_s": [1.0], "speed": 3}, "unknown field"),
    ({"val_accuracy": [0.5]}, "needs epoch_time_s"),
    ({"epoch_time_s": []}, "one non-negative time per epoch"),
    ({"epoch_time_s": [1.0, "2"]}, "epoch_time_s must be a list of finite numbers"),
    ({"epoch_time_s": [1.0], "val_accuracy": [1.5]}, r"val_accuracy must lie in \[0, 1\]"),
    ({"epoch_time_s": [1.0], "cores": -2}, "cores must be a non-negative integer"),
    ({"epoch_time_s": [1.0], "accelerators": "GPU"}, "accelerators must be a list of names"),
])
def test_a_training_run_record_that_is_not_one_is_named(record, message):
    from resnet_signs.training.run import RunRecordError, TrainingRun

    with pytest.raises(RunRecordError, match=message):
        TrainingRun.from_json(record)


def test_a_training_run_record_round_trips_and_states_its_numbers():
    from resnet_signs.training.run import TrainingRun

    run = TrainingRun((80.0, 30.0, 36.0), (0.5, 0.8, 0.9), False, "AMD EPYC", 2, (), "2026-12-08")
    assert TrainingRun.from_json(run.to_json()) == run
    assert (run.minutes_text(), run.seconds_per_epoch_text(), run.device_text("en")) == ("2.4", "36", "2-core CPU")
    assert run.device_text("zh_TW") == "2 核心 CPU" and run.summary_line("zh_CN").startswith("3 个 epoch 共用 2.4 分钟")

