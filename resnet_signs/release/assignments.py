"""The assignments the release builds, and where each of their files lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from resnet_signs import paths
from resnet_signs.errors import CourseError


class ReleaseError(CourseError):
    """The notebook sources cannot be released as they are (one-line message)."""


@dataclass(frozen=True)
class Assignment:
    """One nbgrader assignment: a folder id and the notebook name inside it.

    Attributes:
        id: nbgrader assignment id, the folder name (``residual_networks``).
        name: notebook name without extension (``Residual_Networks``).
        graded: whether the notebook holds graded cells (the lab does not).
        solution_env: environment variables the worked solution is executed with (the lab's
            solution shows the full budget, and beside it the quick one the notebook offers students).
    """

    id: str
    name: str
    graded: bool
    solution_env: tuple[tuple[str, str], ...] = ()

    def markdown(self, course: Path) -> Path:
        """The one source of truth: jupytext Markdown with nbgrader cell metadata."""
        return course / "source" / self.id / f"{self.name}.md"

    def source(self, course: Path) -> Path:
        """The nbgrader source notebook built from the Markdown (committed)."""
        return course / "source" / self.id / f"{self.name}.ipynb"

    def nbgrader_release(self, course: Path) -> Path:
        """Where ``nbgrader generate_assignment`` writes the student version (ignored by git)."""
        return course / "release" / self.id / f"{self.name}.ipynb"

    def release(self, root: Path, language: str = "en") -> Path:
        """The student release, committed under ``assignments/`` (a translation in ``<language>/``)."""
        return _edition(root / "assignments" / self.id, language) / f"{self.name}.ipynb"

    def solution(self, root: Path, language: str = "en") -> Path:
        """The executed worked solution, committed under ``solutions/`` (a translation in ``<language>/``)."""
        return _edition(root / "solutions" / self.id, language) / f"{self.name}.ipynb"


def _edition(folder: Path, language: str) -> Path:
    """English where nbgrader, the grader's samples and the lab expect it (``assignments/<id>/``);
    a translation in a subfolder, under the same file name, so a student submits
    ``<Name>.ipynb`` whichever language they worked in."""
    return folder if language == "en" else folder / language


ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment("residual_networks", "Residual_Networks", graded=True),
    Assignment("why_resnets_work", "Why_ResNets_Work", graded=False,
               solution_env=((paths.LAB_BUDGET_ENV, "full,quick"),)),
)


def select(ids: list[str] | None) -> tuple[Assignment, ...]:
    """The assignments named by ``ids`` (all of them when ``ids`` is empty or None)."""
    if not ids:
        return ASSIGNMENTS
    known = {a.id: a for a in ASSIGNMENTS}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ReleaseError(f"unknown assignment {unknown[0]!r}: choose from {', '.join(known)}")
    return tuple(known[i] for i in dict.fromkeys(ids))
