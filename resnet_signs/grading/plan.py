"""What to run for one submission: the sandbox's steps, from the course's graded cells.

A submission's code cells become :class:`Step` objects, in notebook order:

- ``code`` steps run the student's cells;
- every test cell becomes an ``observe`` step that captures what the test needs instead of
  running the cell's text. A test cell that was edited, deleted or duplicated is restored (at
  its place, or after the graded cell that precedes it in the source) and reported as tampered;
- a cell the source tags ``skip-when-grading`` (figures, demos, training: a grade cannot depend
  on it) is skipped while its text is the release's; an edited one runs, since a student may
  define something there;
- nothing after the last observe step runs: it cannot change a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from resnet_signs.grading.course import Course, normalise


@dataclass(frozen=True)
class Step:
    """One unit of work for the sandbox.

    Attributes:
        kind: ``"code"`` or ``"observe"``.
        cell: the submission's cell index (``None`` for a restored, deleted test cell).
        function: the graded function whose section holds the step (``None`` before the first
            answer cell: setup).
        source: the cell's code (code steps).
        answer: whether this is the function's answer cell.
        test_id: the test an observe step captures for.
    """

    kind: str
    cell: int | None
    function: str | None
    source: str = ""
    answer: bool = False
    test_id: str | None = None

    def to_json(self) -> dict:
        """What the sandbox needs: the code to run, or the test to capture."""
        if self.kind == "code":
            return {"kind": "code", "source": self.source, "section": self.function, "answer": self.answer}
        return {"kind": "observe", "test_id": self.test_id, "section": self.function}

    def where(self) -> str:
        if self.kind == "observe":
            return f"test {self.test_id}"
        return f"answer cell {self.function}" if self.answer else f"cell {self.cell}"


@dataclass
class Plan:
    """The sandbox's steps for one submission and what reading it revealed."""

    steps: list[Step]
    answers: set[str] = field(default_factory=set)  # answer cells present in the submission
    tampered: dict[str, str] = field(default_factory=dict)  # test id -> "edited" / "deleted" / "duplicated"
    skipped_cells: list[int] = field(default_factory=list)  # unchanged skip-when-grading cells

    def sections(self) -> list[str | None]:
        """The sections in order: ``None`` (setup) first, then the functions."""
        seen: list[str | None] = []
        for step in self.steps:
            if step.function not in seen:
                seen.append(step.function)
        return seen


def build(nb, course: Course) -> Plan:
    """The sandbox steps for a submission (an nbformat notebook)."""
    tests = {t.test_id: t for t in course.tests}
    plan = Plan(steps=[])
    placed: dict[str, int] = {}
    section = None
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
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
            plan.steps.append(Step("observe", index, test.function, test_id=grade_id))
            continue
        answer = grade_id in course.functions
        if answer:
            section = grade_id
            plan.answers.add(grade_id)
            placed.setdefault(grade_id, len(plan.steps))
        elif normalise(source) in course.skip_texts:
            plan.skipped_cells.append(index)
            continue
        plan.steps.append(Step("code", index, section, source, answer))
    _restore_deleted(plan, course, placed)
    last = max((i for i, s in enumerate(plan.steps) if s.kind == "observe"), default=-1)
    del plan.steps[last + 1 :]
    return plan


def _restore_deleted(plan: Plan, course: Course, placed: dict[str, int]) -> None:
    """Insert an observe step for each deleted test cell after the graded cell preceding it in the source."""
    for test in course.tests:
        if test.test_id in placed:
            continue
        plan.tampered[test.test_id] = "deleted"
        position = len(plan.steps)
        earlier = course.grade_ids[: course.grade_ids.index(test.test_id)]
        anchor = next((placed[g] for g in reversed(earlier) if g in placed), None)
        if anchor is not None:
            position = anchor + 1
        plan.steps.insert(position, Step("observe", None, test.function, test_id=test.test_id))
        for key, value in placed.items():
            if value >= position:
                placed[key] = value + 1
        placed[test.test_id] = position
