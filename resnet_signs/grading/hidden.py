"""The typed entries of a course's ``hidden_tests.py``: one :class:`GradedTest` per test cell.

``hidden_tests.py`` is data the instructor writes, ``TESTS = {grade_id: GradedTest(function, kind,
cases)}``, read by the grader's clean process (:mod:`resnet_signs.grading.course`). An entry checks
itself when it is made, so a mistake in the table stops the grader with one line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_signs.checks.cases import BlockCase, ModelCase

#: How a test judges what the function built: ``public`` (the notebook's own check), ``values``
#: (outputs against the reference's), ``structure`` (kernels, strides, padding, BN axis, shortcut),
#: ``model`` (ResNet50's stem, stage table and head, with stand-in blocks).
KINDS = ("public", "values", "structure", "model")


@dataclass(frozen=True)
class GradedTest:
    """What one test cell checks, how, and on which cases.

    Attributes:
        function: the graded function (an answer cell's ``grade_id``).
        kind: one of :data:`KINDS`.
        cases: the inputs (:class:`~resnet_signs.checks.cases.BlockCase` or ``ModelCase``); a list is
            kept as a tuple.

    Raises:
        ValueError: a function that is not a name, an unknown kind, or no cases / a case of another type.
    """

    function: str
    kind: str
    cases: tuple[BlockCase | ModelCase, ...]

    def __post_init__(self):
        if not isinstance(self.function, str) or not self.function.isidentifier():
            raise ValueError(f"function must be the graded function's name. Received: function={self.function!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}. Received: kind={self.kind!r}")
        cases = tuple(self.cases) if isinstance(self.cases, (list, tuple)) else ()
        if not cases or not all(isinstance(case, (BlockCase, ModelCase)) for case in cases):
            raise ValueError(("cases must be a non-empty list of BlockCase or ModelCase. "
                              f"Received: cases={self.cases!r}")[:300])
        object.__setattr__(self, "cases", cases)
