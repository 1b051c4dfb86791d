"""What to run for one submission: the source notebook's graded cells and the sandbox's step list.

The source notebook (nbgrader's, with hidden tests) says which cells are answers and tests,
their points and their canonical text. A submission's code cells become *steps* for the
sandbox: code steps run the student's cells in order; every test cell becomes an *observe*
step that calls ``hidden_tests.observe`` instead of running the cell's text. A test cell that
was edited or deleted is restored (it becomes an observe step at its place, or after the
graded cell that precedes it in the source) and reported as tampered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from resnet_signs.errors import CourseError

#: Names that only the instructor's side uses. The sandbox must be able to read the reference
#: (the ResNet50 tests substitute its blocks), so code that reaches for it is flagged for a human.
INSTRUCTOR_NAMES = re.compile(r"load_reference|load_hidden_tests|hidden_tests|resnet_signs_reference|"
                              r"RESNET_SIGNS_COURSE|reference\.py|resnet_signs\.instructor")
_HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL | re.MULTILINE)


class GradingError(CourseError):
    """The instructor's side of grading is broken (e.g. an unreadable source notebook)."""


@dataclass(frozen=True)
class TestCell:
    """A graded test cell of the source notebook."""

    test_id: str
    function: str
    points: float
    hidden: bool
    #: The accepted texts (normalised): the source's, and the student release's (hidden tests removed).
    texts: frozenset[str]


@dataclass(frozen=True)
class Spec:
    """The graded cells of the source notebook, in source order."""

    functions: tuple[str, ...]
    tests: tuple[TestCell, ...]
    grade_ids: tuple[str, ...]  # every answer and test id, in source order

    def test(self, test_id: str) -> TestCell:
        return next(t for t in self.tests if t.test_id == test_id)


@dataclass
class Plan:
    """The sandbox's steps for one submission and what reading it revealed."""

    steps: list[dict]
    answers: set[str] = field(default_factory=set)  # answer cells present in the submission
    tampered: dict[str, str] = field(default_factory=dict)  # test id -> "edited" / "deleted" / "duplicated"
    suspicious: list[tuple[int, str | None, str]] = field(default_factory=list)  # (cell, section, name found)


def normalise(text: str) -> str:
    """Cell text as compared for tampering: trailing spaces and blank edge lines do not count."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def released_text(text: str) -> str:
    """The cell as nbgrader releases it: ``### BEGIN/END HIDDEN TESTS`` regions removed."""
    return _HIDDEN_REGION.sub("", text)


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def read_spec(path: Path, functions: tuple[str, ...]) -> Spec:
    """Read the source notebook's answer and test cells.

    Args:
        path: the nbgrader source notebook.
        functions: the graded functions (answer cell ids), e.g. ``FUNCTIONS``.

    Raises:
        GradingError: the notebook is unreadable or lacks an answer cell.
    """
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises assorted types for unreadable files
        raise GradingError(f"cannot read the source notebook {path}: {type(exc).__name__}: {exc}") from exc
    tests, ids, current = [], [], None
    for cell in nb.cells:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        if grade_id in functions:
            current = grade_id
        elif meta.get("grade"):
            if current is None:
                raise GradingError(f"{path}: test cell {grade_id!r} comes before any answer cell")
            texts = frozenset({normalise(cell.source), normalise(released_text(cell.source))})
            hidden = "BEGIN HIDDEN TESTS" in cell.source
            tests.append(TestCell(grade_id, current, float(meta.get("points", 0)), hidden, texts))
        else:
            continue
        ids.append(grade_id)
    missing = [f for f in functions if f not in ids]
    if missing:
        raise GradingError(f"{path}: no answer cell with grade_id {', '.join(missing)}: is it the assignment's source?")
    return Spec(functions=tuple(functions), tests=tuple(tests), grade_ids=tuple(ids))


def build(nb, spec: Spec) -> Plan:
    """The sandbox steps for a submission (an nbformat notebook).

    Code steps: ``{"kind": "code", "source", "cell", "function", "answer"}`` where ``function`` is
    the graded function whose section holds the cell (``None`` before the first answer cell).
    Observe steps: ``{"kind": "observe", "test_id", "function"}``. Steps after the last
    observe step are dropped: nothing that runs after the last test can change a verdict, and
    it would cost the sandbox the notebook's training and plotting cells.
    """
    tests = {t.test_id: t for t in spec.tests}
    plan = Plan(steps=[])
    placed: dict[str, int] = {}
    section = None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if grade_id in tests:
            test = tests[grade_id]
            if grade_id in placed:
                plan.tampered[grade_id] = "duplicated"
                continue
            if normalise(source) not in test.texts:
                plan.tampered[grade_id] = "edited"
            placed[grade_id] = len(plan.steps)
            plan.steps.append({"kind": "observe", "test_id": grade_id, "function": test.function, "cell": index})
            continue
        answer = grade_id in spec.functions
        if answer:
            section = grade_id
            plan.answers.add(grade_id)
            placed.setdefault(grade_id, len(plan.steps))
        plan.steps.append({"kind": "code", "source": source, "cell": index, "function": section, "answer": answer})
        found = sorted(set(INSTRUCTOR_NAMES.findall(source)))
        if found:
            plan.suspicious.append((index, section, ", ".join(found)))
    _restore_deleted(plan, spec, placed)
    last = max((i for i, s in enumerate(plan.steps) if s["kind"] == "observe"), default=-1)
    del plan.steps[last + 1 :]
    return plan


def _restore_deleted(plan: Plan, spec: Spec, placed: dict[str, int]) -> None:
    """Insert an observe step for each deleted test cell after the graded cell preceding it in the source."""
    for test in spec.tests:
        if test.test_id in placed:
            continue
        plan.tampered[test.test_id] = "deleted"
        position = len(plan.steps)
        earlier = spec.grade_ids[: spec.grade_ids.index(test.test_id)]
        anchor = next((placed[g] for g in reversed(earlier) if g in placed), None)
        if anchor is not None:
            position = anchor + 1
        step = {"kind": "observe", "test_id": test.test_id, "function": test.function, "cell": None}
        plan.steps.insert(position, step)
        for key, value in placed.items():
            if value >= position:
                placed[key] = value + 1
        placed[test.test_id] = position
