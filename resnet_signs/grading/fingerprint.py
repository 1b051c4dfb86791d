"""One fingerprint for every cache: a hash of everything that decides a cached result.

Two caches outlive a grading run: each student's grade (``OUT/<student>/record.json``, reused while
the notebook and the grader are unchanged; :mod:`.api`) and the reference's observations
(``COURSE/.cache/expected-<key>.json``; :mod:`.judge`). Both are keyed by :func:`fingerprint`: the
versions everything runs with (:func:`runtime`: this package's, Keras' and its backend), the
course's files and the code that reads them (:func:`course_files`) and, for a grade, the grading
code (:func:`grading_files`) and the limits. Nothing here imports Keras or TensorFlow, so a run
that reuses every grade starts neither.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterable
from pathlib import Path

import resnet_signs

PACKAGE = Path(resnet_signs.__file__).resolve().parent
#: The grading front's modules: they write what a grade says but decide none, so they stay out of the key.
FRONT = frozenset({"__init__.py", "api.py", "autograded.py", "cli.py", "exports.py", "gradebook.py", "gradescope.py",
                   "jobs.py", "plain_nbgrader.py", "progress.py", "reports.py", "submissions.py"})


def fingerprint(*parts: str | bytes, files: Iterable[Path] = ()) -> str:
    """SHA-256 (hex) of :func:`runtime`, ``parts`` and each file's name and bytes (a missing file
    counts as missing). Every field is length-prefixed, so no two inputs hash alike by concatenation."""
    digest = hashlib.sha256()

    def add(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big") + data)

    for part in (runtime(), *parts):
        add(part if isinstance(part, bytes) else part.encode())
    for path in files:
        path = Path(path)
        add(path.name.encode())
        add(path.read_bytes() if path.is_file() else b"\0<missing>")
    return digest.hexdigest()


def course_files(course) -> list[Path]:
    """What decides the reference's observations: the course's reference, hidden tests and source
    notebook (a :class:`~.course.Course`), and the checks that capture, rebuild and compare."""
    return [course.root / "reference.py", course.root / "hidden_tests.py", course.source,
            *sorted((PACKAGE / "checks").glob("*.py"))]


def grading_files() -> list[Path]:
    """The grading code that decides a grade: every module of the grading package but the front's."""
    return sorted(p for p in (PACKAGE / "grading").glob("*.py") if p.name not in FRONT)


def runtime() -> str:
    """This package's version, Keras' and the backend Keras will load."""
    try:
        keras = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        keras = "none"
    return f"resnet_signs {resnet_signs.__version__}|keras {keras} {keras_backend()}"


def keras_backend() -> str:
    """The backend Keras loads, decided as Keras decides it, without importing it: ``KERAS_BACKEND``,
    else the ``backend`` of ``keras.json`` in ``KERAS_HOME`` (default ``~/.keras``, or ``/tmp/.keras``
    when home is not writable), else TensorFlow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    try:
        backend = json.loads(Path(os.path.expanduser(home), "keras.json").read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return backend if isinstance(backend, str) and backend else "tensorflow"
