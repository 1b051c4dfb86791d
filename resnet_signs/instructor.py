"""Access to the instructor's reference implementation.

The reference solution is deliberately *not* part of the installed package: students
install ``resnet_signs`` and must not find the answers in it. It lives in the nbgrader
course directory (``autograder/reference.py``) and is loaded from there by the tools that
need it (the expected-value generator, the autograder, the training command).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from resnet_signs import paths

_MODULE_NAME = "resnet_signs_reference"


class ReferenceNotFound(RuntimeError):
    """The course directory holds no reference implementation."""


def reference_path(course: Path | None = None) -> Path:
    return (course or paths.course_dir()) / "reference.py"


def load_reference(course: Path | None = None) -> ModuleType:
    """Import ``reference.py`` from the course directory (cached per path)."""
    return _load_course_module(
        reference_path(course),
        _MODULE_NAME,
        "no reference implementation at {path}: this command is for instructors and needs the course "
        "directory (set RESNET_SIGNS_COURSE or run it from a checkout of the project)",
    )


_HIDDEN_MODULE_NAME = "resnet_signs_hidden_tests"


def load_hidden_tests(course: Path | None = None) -> ModuleType:
    """Import ``hidden_tests.py`` from the course directory (cached per path)."""
    return _load_course_module(
        (course or paths.course_dir()) / "hidden_tests.py",
        _HIDDEN_MODULE_NAME,
        "no hidden tests at {path}: they live in the instructor's course directory",
    )


def _load_course_module(path: Path, module_name: str, missing: str) -> ModuleType:
    """Import a file of the course directory under a fixed module name, once per path."""
    if not path.is_file():
        raise ReferenceNotFound(missing.format(path=path))
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__file__", None) == str(path):
        return cached
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def run_hidden_test(test_id: str, namespace: dict) -> None:
    """What a notebook test cell runs under plain nbgrader: capture, then judge, in the kernel.

    ``resnet-signs grade`` never runs this: it captures in a sandbox and judges in a clean process.

    Args:
        test_id: the cell's nbgrader ``grade_id`` (e.g. ``"identity_block_hidden_values"``).
        namespace: the notebook's globals (``globals()``), holding the student's functions.

    Raises:
        AssertionError: with the hint when the test fails.
    """
    from resnet_signs.grading.course import load
    from resnet_signs.grading.judge import Judge, capture_in_process

    course = load(paths.course_dir())
    passed, message = Judge(course).verdict(test_id, capture_in_process(course, test_id, namespace))
    if not passed:
        raise AssertionError(message)
    print(message)
