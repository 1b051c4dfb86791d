"""``load_dataset`` and ``convert_to_one_hot``, with the course's signatures and return values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from resnet_signs import paths
from resnet_signs.data import h5files


def load_dataset(path: str | Path | None = None):
    """Load SIGNS as the course's ``resnets_utils.load_dataset`` does.

    Args:
        path: Folder holding ``train_signs.h5`` and ``test_signs.h5``; defaults to
            :func:`resnet_signs.paths.data_dir` (``data/``, or ``$RESNET_SIGNS_DATA``).

    Returns:
        ``(X_train_orig, Y_train_orig, X_test_orig, Y_test_orig, classes)``: uint8 images
        (1080, 64, 64, 3) and (120, 64, 64, 3), int64 labels shaped (1, 1080) and (1, 120),
        and ``classes`` = ``array([0, 1, 2, 3, 4, 5])``.

    Raises:
        DataError: A file is missing, truncated, or has the wrong keys, shapes, dtypes or labels.
    """
    folder = Path(path) if path is not None else paths.data_dir()
    train = h5files.read_split(folder / h5files.file_name("train"), "train")
    test = h5files.read_split(folder / h5files.file_name("test"), "test")
    return train.x, train.y.reshape((1, -1)), test.x, test.y.reshape((1, -1)), test.classes


def convert_to_one_hot(Y, C):
    """One-hot encode labels exactly like the course: ``np.eye(C)[Y.reshape(-1)].T``.

    Args:
        Y: Integer labels of any shape, e.g. (1, m).
        C: Number of classes.

    Returns:
        float64 array of shape (C, m); the notebook transposes it to (m, C).
    """
    return np.eye(C)[np.asarray(Y).reshape(-1)].T
