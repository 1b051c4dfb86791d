"""Training the course's ResNet-50 on SIGNS: the recipe, the pretrained model, the CLI.

The public API: :func:`train`, :class:`TrainConfig`, :func:`reestimate_batchnorm`,
:func:`batchnorm_effect` and :func:`load_pretrained`. TensorFlow is imported only when one of them is first used.
"""

from __future__ import annotations

from resnet_signs.training.config import TrainConfig

__all__ = ["TrainConfig", "batchnorm_effect", "load_pretrained", "reestimate_batchnorm", "train"]


def __getattr__(name):
    if name == "train":
        from resnet_signs.training.loop import train

        return train
    if name == "reestimate_batchnorm":
        from resnet_signs.training.batchnorm import reestimate_batchnorm

        return reestimate_batchnorm
    if name == "batchnorm_effect":
        from resnet_signs.training.batchnorm import batchnorm_effect

        return batchnorm_effect
    if name == "load_pretrained":
        from resnet_signs.training.pretrained import load_pretrained

        return load_pretrained
    raise AttributeError(f"module 'resnet_signs.training' has no attribute {name!r}")
