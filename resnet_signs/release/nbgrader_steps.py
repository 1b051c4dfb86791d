"""Running nbgrader itself: the course configuration and ``generate_assignment``.

nbgrader is driven through its Python API (the same converter its ``generate_assignment``
app runs) with the settings of ``autograder/nbgrader_config.py``, so the release, the
instructor's own ``nbgrader`` commands and the tests agree on stubs, locks and timeouts.
"""

from __future__ import annotations

from pathlib import Path

from resnet_signs import paths
from resnet_signs.release.assignments import ReleaseError


def load_config(course: Path, *, root: Path | None = None, db_url: str | None = None):
    """The course's nbgrader config, optionally pointed at another root and gradebook.

    Args:
        course: course directory holding ``nbgrader_config.py``.
        root: course root nbgrader should read ``source/`` from and write ``release/`` to
            (default: the config's own, i.e. ``course``).
        db_url: gradebook URL (default: the config's own).

    Returns:
        A ``traitlets.config.Config``.
    """
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    except ConfigFileNotFound as exc:
        raise ReleaseError(f"no nbgrader_config.py in {course}: is RESNET_SIGNS_COURSE the course directory?") from exc
    if root is not None:
        config.CourseDirectory.root = str(root)
    if db_url is not None:
        config.CourseDirectory.db_url = db_url
    return config


def generate_assignment(config, assignment_id: str) -> None:
    """``nbgrader generate_assignment --force ASSIGNMENT``; its first error becomes a ReleaseError."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment_id
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_assignment = True
    with _scripts_on_path():
        result = capture_log(converter)
    if not result["success"]:
        raise ReleaseError(f"nbgrader generate_assignment {assignment_id} failed: {_first_error(result)}")


def _scripts_on_path():
    """nbgrader creates a gradebook by running the ``alembic`` script found on PATH."""
    return paths.interpreter_scripts_on_path()


def _first_error(result: dict) -> str:
    """The line that says what went wrong: the end of nbgrader's first logged traceback,
    else its first error line."""
    log = result.get("log", "")
    errors = [line.removeprefix("[ERROR]").strip() for line in log.splitlines() if line.startswith("[ERROR]")]
    blocks = log.split("[ERROR] Traceback")
    if len(blocks) > 1:
        lines = [line.strip() for line in blocks[1].split("\n[")[0].splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return errors[0] if errors else "see nbgrader's log"
