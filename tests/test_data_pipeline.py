"""``make_dataset``: the tf.data helper the training code uses."""

from __future__ import annotations

import re

import numpy as np
import pytest

from resnet_signs.errors import UsageError

tf = pytest.importorskip("tensorflow")

from resnet_signs.data import make_dataset  # noqa: E402  (after the TensorFlow check)


def _arrays(m=10):
    x = np.arange(m * 4 * 4 * 3, dtype=np.uint8).reshape(m, 4, 4, 3)
    return x, np.arange(m) % 6


def _epoch(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_batches_and_keeps_pairs_together():
    x, y = _arrays()
    batches = _epoch(make_dataset(x, y, batch_size=4, seed=1))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen_x = np.concatenate([b[0] for b in batches])
    seen_y = np.concatenate([b[1] for b in batches])
    order = [int(np.flatnonzero((x == image).all(axis=(1, 2, 3)))[0]) for image in seen_x]
    assert sorted(order) == list(range(10)) and order != list(range(10))
    assert seen_y.tolist() == y[order].tolist()


def test_seeded_shuffle_is_reproducible_and_reshuffles_each_epoch():
    x, y = _arrays()
    first, second = make_dataset(x, y, 10, seed=3), make_dataset(x, y, 10, seed=3)
    epoch1, epoch2 = _epoch(first)[0][1].tolist(), _epoch(first)[0][1].tolist()
    assert _epoch(second)[0][1].tolist() == epoch1
    assert epoch1 != epoch2


def test_no_shuffle_keeps_order_and_drop_remainder():
    x, y = _arrays()
    batches = _epoch(make_dataset(x, y, 4, shuffle=False, drop_remainder=True))
    assert [b[1].tolist() for b in batches] == [y[:4].tolist(), y[4:8].tolist()]


def test_augment_runs_on_each_batch():
    x, y = _arrays()
    batches = _epoch(make_dataset(x, y, 5, shuffle=False, augment=lambda images: tf.cast(images, tf.float32) / 255))
    assert batches[0][0].dtype == np.float32 and batches[0][0].max() <= 1.0
    assert np.allclose(batches[0][0], x[:5] / 255)


def test_one_hot_labels_pass_through():
    x, y = _arrays(6)
    batches = _epoch(make_dataset(x, np.eye(6)[y], 6, shuffle=False))
    assert batches[0][1].shape == (6, 6)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"y": np.arange(10).reshape(1, 10)}, "labels have the course's (1, m) shape (1, 10); pass Y.T"),
        ({"y": np.arange(9)}, "x has 10 examples but y has 9"),
        ({"batch_size": 0}, "batch_size must be a positive integer. Received: batch_size=0"),
    ],
)
def test_bad_arguments(kwargs, expected):
    x, y = _arrays()
    arguments = {"x": x, "y": y, "batch_size": 4, **kwargs}
    with pytest.raises(UsageError, match=re.escape(expected)):
        make_dataset(**arguments)
