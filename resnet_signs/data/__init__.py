"""The SIGNS dataset: preparing the course's HDF5 files and loading them.

Public API::

    from resnet_signs.data import load_dataset, convert_to_one_hot, prepare
    from resnet_signs.data import split_validation, unseen_test_mask

Everything here needs only numpy and h5py. The tf.data pipeline that feeds training lives with
the training code (:mod:`resnet_signs.training.pipeline`).
"""

from resnet_signs.data.loading import convert_to_one_hot, load_dataset
from resnet_signs.data.prepare import PrepareResult, prepare
from resnet_signs.data.split import split_validation, unseen_test_mask

__all__ = ["PrepareResult", "convert_to_one_hot", "load_dataset", "prepare", "split_validation", "unseen_test_mask"]
