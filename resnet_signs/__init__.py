"""Residual Networks course package: ResNet-50 on the SIGNS hand-sign dataset.

The student-facing library (data loading, public checks, plots, training) lives here;
the reference solution does not: it sits with the instructor in ``autograder/reference.py``.
Submodules import TensorFlow lazily so that ``resnet-signs --help`` stays fast.
"""

__version__ = "0.1.0"
