"""Honest evaluation: a seeded validation split of the training images, and the test photos
that have no byte-identical copy in training.

Recipe choices are judged on the validation split (monitored every epoch); the test set is
touched once, at the end. SIGNS has byte-identical duplicate photos (``resnet-signs data
audit``), 12 of them shared by the test and the training set, so the test accuracy is also
reported on the test photos without a copy in training. A validation photo never has a copy
left in training either: photos with a duplicate stay in training.
"""

from __future__ import annotations

import hashlib

import numpy as np

from resnet_signs.errors import UsageError

#: Validation photos per class taken from the 1080 training photos (120 in all, as many as the test set).
VALIDATION_PER_CLASS = 20


def _digests(x: np.ndarray) -> list[str]:
    return [hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest() for image in x]


def _label_vector(y: np.ndarray, m: int) -> np.ndarray:
    y = np.asarray(y)
    if y.size == m:
        return y.reshape(-1)
    if y.ndim == 2 and y.shape[0] == m:  # one-hot
        return y.argmax(axis=1)
    raise UsageError(f"labels must be (m,), (1, m) or one-hot (m, classes) for {m} images. Received: {y.shape}")


def _take(y: np.ndarray, index: np.ndarray, m: int) -> np.ndarray:
    """Select ``index`` from labels shaped like the course's: (1, m) rows stay rows."""
    y = np.asarray(y)
    return y[:, index] if y.ndim == 2 and y.shape[0] == 1 and y.shape[1] == m and m != 1 else y[index]


def split_validation(x, y, per_class: int = VALIDATION_PER_CLASS, seed: int = 0):
    """Hold out ``per_class`` photos of each class of ``(x, y)`` as a validation set.

    Args:
        x: training images (m, height, width, channels).
        y: labels: the course's (1, m) row, (m,) class ids or one-hot (m, classes).
        per_class: validation photos per class.
        seed: which photos (the same seed gives the same split).

    Returns:
        ``((x_train, y_train), (x_val, y_val))``, labels in ``y``'s layout, each part in the
        original order. Photos with a byte-identical copy anywhere in ``x`` stay in training.

    Raises:
        UsageError: a class has fewer than ``per_class`` photos without duplicates.
    """
    x = np.asarray(x)
    m = len(x)
    labels = _label_vector(y, m)
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise UsageError(f"per_class must be a positive integer. Received: per_class={per_class!r}")
    digests = _digests(x)
    counts: dict[str, int] = {}
    for d in digests:
        counts[d] = counts.get(d, 0) + 1
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        candidates = [i for i in np.flatnonzero(labels == label) if counts[digests[i]] == 1]
        if len(candidates) < per_class:
            raise UsageError(f"class {label} has {len(candidates)} photos without duplicates, fewer than "
                             f"per_class={per_class}")
        held.extend(rng.choice(candidates, size=per_class, replace=False).tolist())
    val = np.zeros(m, bool)
    val[held] = True
    train_index, val_index = np.flatnonzero(~val), np.flatnonzero(val)
    return (x[train_index], _take(y, train_index, m)), (x[val_index], _take(y, val_index, m))


def unseen_test_mask(x_train, x_test) -> np.ndarray:
    """``True`` for each test image with no byte-identical copy among the training images."""
    seen = set(_digests(np.asarray(x_train)))
    return np.array([d not in seen for d in _digests(np.asarray(x_test))], bool)
