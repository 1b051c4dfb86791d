"""The SIGNS dataset: preparing the course's HDF5 files, loading them, feeding them to Keras.

Public API::

    from resnet_signs.data import load_dataset, convert_to_one_hot, make_dataset, prepare
    from resnet_signs.data import split_validation, unseen_test_mask

``make_dataset`` imports TensorFlow on first use; everything else needs only numpy and h5py.
"""

from resnet_signs.data.loading import convert_to_one_hot, load_dataset
from resnet_signs.data.prepare import PrepareResult, prepare
from resnet_signs.data.split import split_validation, unseen_test_mask

__all__ = ["PrepareResult", "convert_to_one_hot", "load_dataset", "make_dataset", "prepare", "split_validation",
           "unseen_test_mask"]


def __getattr__(name):
    if name == "make_dataset":
        from resnet_signs.data.pipeline import make_dataset

        return make_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
