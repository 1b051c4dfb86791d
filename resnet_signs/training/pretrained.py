"""The trained ResNet-50 that ``make pretrained`` writes, and where its companions live.

``models/resnet50_signs.keras`` (the model), ``.metrics.json`` beside it (what the run
measured) and ``.png`` (its training curves); ``RESNET_SIGNS_MODELS`` moves the folder.
"""

from __future__ import annotations

from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError

MODEL_NAME = "resnet50_signs"


class ModelFileError(CourseError):
    """A saved model file exists but cannot be loaded."""


def default_model_path() -> Path:
    return paths.models_dir() / f"{MODEL_NAME}.keras"


def metrics_path(model_path: Path) -> Path:
    """``models/resnet50_signs.keras`` -> ``models/resnet50_signs.metrics.json``."""
    return Path(model_path).with_suffix(".metrics.json")


def curve_path(model_path: Path) -> Path:
    """``models/resnet50_signs.keras`` -> ``models/resnet50_signs.png``."""
    return Path(model_path).with_suffix(".png")


def train_command() -> str:
    """How to train the pretrained model here: ``make pretrained`` in a checkout, else the CLI it runs."""
    return "make pretrained" if paths.checkout_root() else "resnet-signs train"


def missing_model_line(path: Path) -> str:
    """The one line :func:`load_pretrained` prints when there is no model, in the current language."""
    from resnet_signs import i18n

    return i18n.format("no pretrained model at {path}: run `{command}` to train it (the recipe of section 6, "
                       "from the command line)", path=path, command=train_command())


def load_pretrained(path: str | Path | None = None):
    """Load the ResNet-50 trained by ``make pretrained``.

    Args:
        path: a ``.keras`` file; default ``models/resnet50_signs.keras``.

    Returns:
        The ``keras.Model``, compiled with categorical cross-entropy and accuracy so that
        ``model.evaluate(X_test, Y_test)`` works as in the course; or ``None`` (after printing one line
        saying how to produce it) when the file does not exist.

    Raises:
        ModelFileError: the file exists but is not a loadable Keras model.
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        print(missing_model_line(path))
        return None
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # noqa: BLE001 - a truncated zip, a foreign file, a version mismatch...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            f"cannot load the pretrained model {path} ({type(exc).__name__}: {reason[:160]}); "
            f"delete it and run `{train_command()}` again"
        ) from None
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    return model
