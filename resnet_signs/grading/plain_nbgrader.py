"""Hidden tests under plain nbgrader: the notebook's hidden test cells capture and judge in the kernel.

``nbgrader autograde`` (or validate) runs a hidden test cell's code in the student's own kernel:
``from resnet_signs.grading.plain_nbgrader import run_hidden_test``, then
``run_hidden_test("identity_block_hidden_values", globals())``. That kernel has run the student's
code, so such grades are only as trustworthy as the kernel (README, "Isolation and its limits").
``resnet-signs grade`` never runs this module: it captures in a sandbox and judges in a clean process.
"""

from __future__ import annotations

from resnet_signs import paths
from resnet_signs.grading.course import load
from resnet_signs.grading.judge import Judge, capture_in_process


def run_hidden_test(test_id: str, namespace: dict) -> None:
    """What a notebook test cell runs under plain nbgrader: capture, then judge, in the kernel.

    Args:
        test_id: the cell's nbgrader ``grade_id`` (e.g. ``"identity_block_hidden_values"``).
        namespace: the notebook's globals (``globals()``), holding the student's functions.

    Raises:
        AssertionError: with the hint when the test fails.
    """
    course = load(paths.course_dir())
    passed, message = Judge(course).verdict(test_id, capture_in_process(course, test_id, namespace))
    if not passed:
        raise AssertionError(message)
    print(message)
