"""Access to the instructor's files: the reference implementation and the hidden tests.

The reference solution is deliberately *not* part of the installed package: students install
``resnet_signs`` and must not find the answers in it. It lives in the nbgrader course directory
(``autograder/reference.py``, ``autograder/hidden_tests.py``) and is loaded from there, by this
module only, for the tools that need it: the judge (:mod:`resnet_signs.grading.judge`), the
expected values (:mod:`resnet_signs.grading.expected`), the course's tests
(:mod:`resnet_signs.grading.course`), the pretrained model (:mod:`resnet_signs.pretrain`).

This module is the root of the instructor's side and a leaf of the import graph: it imports
nothing of the package but :mod:`resnet_signs.paths`, and nothing student-facing or running
beside student code imports it, directly or not (``tests/test_boundary.py`` walks the imports).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from resnet_signs import paths

_MODULE_NAME = "resnet_signs_reference"
_HIDDEN_MODULE_NAME = "resnet_signs_hidden_tests"


class ReferenceNotFound(RuntimeError):
    """The course directory holds no reference implementation (or no hidden tests)."""


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
