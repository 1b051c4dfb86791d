"""Hidden tests of the Residual Networks assignment: one entry per test cell (nbgrader grade_id).

Data only: which function each test cell checks, how (``kind``) and on which cases, as typed
entries (:class:`resnet_signs.grading.hidden.GradedTest`). The grader
reads this file in its clean parent process (:mod:`resnet_signs.grading.course`) and sends the
sandbox only what to capture (the function's name and the cases' inputs); the verdicts are
computed in the parent against the reference (:mod:`resnet_signs.grading.judge`). Kinds:

- blocks: ``public`` (the notebook's own check), ``values`` (runs, shapes and outputs; a
  structural hint is reported once values fail), ``structure`` (kernels, strides, padding, BN
  axis and mode, where the shortcut joins, initializers);
- ``ResNet50``: ``public`` and ``model`` — built with stand-in blocks (``STAND_INS``), so only
  its own stem, stage table and head count: a bug in a block costs that block's points once.
"""

from resnet_signs.checks.cases import (
    PUBLIC_BLOCK_CASES,
    PUBLIC_MODEL_CASE,
    PUBLIC_STAND_INS,
    BlockCase,
    ModelCase,
)
from resnet_signs.grading.hidden import GradedTest

# Cases: odd and even sizes, f = 1, 2, 3, 5, strides 1-3, unequal filters, four initializers.
IDENTITY_CASES = [
    BlockCase("a", (2, 5, 5, 6), f=3, filters=(3, 5, 6), initializer="random_uniform", input_seed=1),
    BlockCase("b", (4, 3, 3, 4), f=1, filters=(2, 3, 4), initializer="he_normal", input_seed=2),
    BlockCase("c", (3, 4, 4, 3), f=2, filters=(4, 4, 3), initializer="glorot_uniform", input_seed=3),
    BlockCase("d", (2, 6, 4, 8), f=5, filters=(8, 2, 8), initializer="constant1", input_seed=4),
]
CONV_CASES = [
    BlockCase("a", (2, 5, 5, 3), f=3, filters=(2, 4, 6), initializer="glorot_uniform", s=2, input_seed=1),
    BlockCase("b", (2, 6, 6, 4), f=2, filters=(4, 2, 8), initializer="he_normal", s=3, input_seed=2),
    BlockCase("c", (3, 4, 4, 3), f=3, filters=(3, 3, 5), initializer="random_uniform", s=1, input_seed=3),
    BlockCase("d", (2, 7, 5, 2), f=1, filters=(5, 3, 4), initializer="constant1", s=2, input_seed=4),
]
SHAPES_CASE = ModelCase("shapes")
# (32, 32, 3) would shrink stage 5 to 1x1, below AveragePooling2D(2): the course's own model fails there.
VARIANT_CASES = [ModelCase("wide", (48, 48, 3), 10, forward=True), ModelCase("gray", (64, 64, 1), 6, forward=True)]

#: The blocks that ResNet50's tests replace by stand-ins, and their public contract.
STAND_INS = PUBLIC_STAND_INS

#: test id -> what the test cell checks
TESTS = {
    "identity_block_public": GradedTest("identity_block", "public", [PUBLIC_BLOCK_CASES["identity_block"]]),
    "identity_block_hidden_values": GradedTest("identity_block", "values", IDENTITY_CASES),
    "identity_block_hidden_structure": GradedTest("identity_block", "structure", IDENTITY_CASES),
    "convolutional_block_public": GradedTest("convolutional_block", "public",
                                             [PUBLIC_BLOCK_CASES["convolutional_block"]]),
    "convolutional_block_hidden_values": GradedTest("convolutional_block", "values", CONV_CASES),
    "convolutional_block_hidden_structure": GradedTest("convolutional_block", "structure", CONV_CASES),
    "ResNet50_public": GradedTest("ResNet50", "public", [PUBLIC_MODEL_CASE]),
    "ResNet50_hidden_shapes": GradedTest("ResNet50", "model", [SHAPES_CASE]),
    "ResNet50_hidden_variants": GradedTest("ResNet50", "model", VARIANT_CASES),
}
