"""Finding the submissions in a folder, and safe output folder names for their students.

Two layouts are accepted, per student folder (the folder name is the student's name), with the
assignment and notebook names the course directory gives (:mod:`resnet_signs.grading.course`):

- ``DIR/<student>/<Notebook>.ipynb`` (a plain collection, e.g. an LMS download);
- ``DIR/<student>/<assignment>/<Notebook>.ipynb`` (nbgrader's ``submitted/``),
  also when ``DIR`` is the course directory itself (then ``DIR/submitted/`` is used).

Hidden folders and ``__pycache__`` are skipped. A student folder without the notebook is still a
submission (graded as an invalid notebook), so a missing file shows up in the grades instead of
silently vanishing.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from resnet_signs import i18n
from resnet_signs.errors import UsageError

# Anything but letters, digits, "_", "-" and "." becomes "_" in an output folder name.
_UNSAFE = re.compile(r"[^\w.-]+")
_MAX_SLUG = 80


@dataclass(frozen=True)
class Submission:
    """One student's notebook.

    Attributes:
        student: the real name (the folder name), kept verbatim in every report.
        notebook: path of the notebook (may not exist: graded as an invalid notebook).
        slug: the student's folder name under the output folder; safe on every OS.
    """

    student: str
    notebook: Path
    slug: str


def safe_slug(name: str) -> str:
    """A folder name for ``name`` that cannot escape its parent or clash with another student.

    Names that are already safe are kept as they are; any other name is transliterated
    (separators, control characters, leading dots, ``..`` become ``_``) and gets a short hash
    of the real name appended, so two different names never share a folder.

    Args:
        name: the student's real name.

    Returns:
        A non-empty name made of word characters, ``.``, ``-`` and ``_``, not starting with ``.``.
    """
    normal = unicodedata.normalize("NFC", name)
    slug = _UNSAFE.sub("_", normal).lstrip(".")[:_MAX_SLUG] or "_"
    if slug == name:
        return slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{slug}-{digest}"


def find_submissions(root: Path, assignment: str, notebook: str) -> list[Submission]:
    """The submissions under ``root``, sorted by student name (code point order).

    Args:
        root: a folder of student folders, nbgrader's ``submitted/`` or a course directory.
        assignment: the assignment's id (nbgrader's folder name), e.g. ``residual_networks``.
        notebook: the notebook's file name, e.g. ``Residual_Networks.ipynb``.

    Returns:
        One :class:`Submission` per student folder (hidden folders are skipped).

    Raises:
        UsageError: ``root`` is missing, not a folder, or holds no student folder.
    """
    if not root.exists():
        raise UsageError(f"no such folder: {root} (give the folder holding one folder per student)")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder (give the folder holding one folder per student)")
    root = submissions_root(root)
    students = sorted(p for p in root.iterdir() if p.is_dir() and not _ignored(p.name))
    if not students:
        raise UsageError(f"{root} holds no student folder (expected {root}/<student>/{notebook})")
    found = [Submission(p.name, _notebook_in(p, assignment, notebook), safe_slug(p.name)) for p in students]
    return sorted(found, key=lambda s: s.student)


def _notebook_in(folder: Path, assignment: str, notebook: str) -> Path:
    nbgrader_layout = folder / assignment / notebook
    return nbgrader_layout if nbgrader_layout.is_file() else folder / notebook


def submissions_root(root: Path) -> Path:
    """``root``, or its ``submitted/`` folder when ``root`` is an nbgrader course directory."""
    if (root / "submitted").is_dir() and (root / "nbgrader_config.py").is_file():
        return root / "submitted"
    return root


def _ignored(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__"


def skipped_folders(root: Path) -> list[str]:
    """Folders under ``root`` that are not graded (hidden names, caches), for the run's summary."""
    root = submissions_root(root)
    return sorted(p.name for p in root.iterdir() if p.is_dir() and _ignored(p.name)) if root.is_dir() else []


def notebook_language(notebook: Path) -> str:
    """The language the release wrote into the notebook's metadata (``resnet_signs.language``),
    in which the student reads the feedback; English when the notebook is missing, unreadable
    or names no language the course is published in (a submission is hostile input)."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
        return i18n.normalise(meta.get("resnet_signs", {}).get("language") or i18n.DEFAULT)
    except (OSError, ValueError, AttributeError, TypeError):
        return i18n.DEFAULT
