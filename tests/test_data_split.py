"""Honest evaluation: the validation split and the test photos without a copy in training."""

from __future__ import annotations

import numpy as np
import pytest

from resnet_signs.data import split_validation, unseen_test_mask
from resnet_signs.errors import UsageError


def _images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)


def test_split_holds_out_per_class_photos_keeps_label_layout_and_is_seeded():
    x, y = _images(60), (np.arange(60) % 6).reshape(1, -1)
    (x_train, y_train), (x_val, y_val) = split_validation(x, y, per_class=3, seed=1)
    assert x_train.shape == (42, 4, 4, 3) and y_train.shape == (1, 42)
    assert x_val.shape == (18, 4, 4, 3) and y_val.shape == (1, 18)
    assert np.bincount(y_val[0]).tolist() == [3] * 6
    # Every photo lands on exactly one side, with its label.
    together = np.concatenate([x_train, x_val])
    assert sorted(map(bytes, together)) == sorted(map(bytes, x))
    again = split_validation(x, y, per_class=3, seed=1)[1][0]
    other = split_validation(x, y, per_class=3, seed=2)[1][0]
    np.testing.assert_array_equal(again, x_val)
    assert not np.array_equal(other, x_val)


def test_duplicated_photos_stay_in_training():
    x, y = _images(18), np.arange(18) % 6
    x[6] = x[0]  # a byte-identical pair, both class 0: photo 12 is class 0's only candidate
    for seed in range(5):
        (x_train, _), (x_val, y_val) = split_validation(x, y, per_class=1, seed=seed)
        assert (x_val[y_val == 0] == x[12]).all()
    assert unseen_test_mask(x_train, x_val).all()


def test_unseen_mask_marks_test_photos_with_a_copy_in_training():
    train, test = _images(5), _images(3, seed=1)
    test[1] = train[4]
    assert unseen_test_mask(train, test).tolist() == [True, False, True]


def test_too_few_photos_per_class_is_a_one_line_error():
    x, y = _images(12), np.arange(12) % 6
    with pytest.raises(UsageError, match=r"^class 0 has 2 photos without duplicates, fewer than per_class=3$"):
        split_validation(x, y, per_class=3)
    with pytest.raises(UsageError, match=r"^per_class must be a positive integer. Received: per_class=0$"):
        split_validation(x, y, per_class=0)
