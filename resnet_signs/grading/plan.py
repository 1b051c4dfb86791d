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

A sandbox child receives its :class:`ChildPlan` on stdin as JSON and reads it back with
:meth:`ChildPlan.from_json`, which checks every field. This module runs on both sides, so it holds
no answer and imports nothing of the instructor's: :func:`build` is handed the course.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from resnet_signs.checks.cases import BlockCase, ModelCase, StandInSpec, case_from_json
from resnet_signs.checks.records import RecordError
from resnet_signs.grading import wire
from resnet_signs.grading.model import Limits

if TYPE_CHECKING:
    from resnet_signs.grading.course import Course

#: Bounds on a plan (a notebook has ~100 code cells; a test has a few cases).
MAX_STEPS = 4096
MAX_SOURCE = 1 << 24
MAX_CASES = 64


def normalise(text: str) -> str:
    """Cell text as compared for tampering: trailing spaces and blank edge lines do not count."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


class StepKind(StrEnum):
    CODE = "code"  # run a cell of the submission
    OBSERVE = "observe"  # capture what a test needs (the test cell's text never runs)


@dataclass(frozen=True)
class Step:
    """One unit of work for the sandbox.

    Attributes:
        kind: run a cell, or observe for a test.
        cell: the submission's cell index (``None`` for a restored, deleted test cell).
        function: the graded function whose section holds the step (``None`` before the first
            answer cell: setup).
        source: the cell's code (code steps).
        answer: whether this is the function's answer cell.
        test_id: the test an observe step captures for.
    """

    kind: StepKind
    cell: int | None
    function: str | None
    source: str = ""
    answer: bool = False
    test_id: str | None = None

    def where(self) -> str:
        if self.kind is StepKind.OBSERVE:
            return f"test {self.test_id}"
        return f"answer cell {self.function}" if self.answer else f"cell {self.cell}"

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "cell": self.cell, "function": self.function, "source": self.source,
                "answer": self.answer, "test_id": self.test_id}

    @classmethod
    def from_json(cls, data) -> Step:
        data = wire.fields(data, "a step", ("kind", "cell", "function", "source", "answer", "test_id"))
        kind = wire.choice(StepKind, data["kind"], "a step's kind")
        test_id = wire.optional_text(data["test_id"], "a step's test_id", 128)
        if (kind is StepKind.OBSERVE) != (test_id is not None):
            raise RecordError("an observe step, and only an observe step, names a test")
        return cls(kind, wire.optional_integer(data["cell"], "a step's cell", 0, 1 << 20),
                   wire.optional_text(data["function"], "a step's function", 128),
                   wire.text(data["source"], "a step's source", MAX_SOURCE), wire.flag(data["answer"], "answer"),
                   test_id)


@dataclass(frozen=True)
class TestRequest:
    """What the sandbox captures for one test: the function's name and the cases' inputs, nothing else."""

    __test__ = False  # not a pytest test class, whatever its name
    function: str
    cases: tuple[BlockCase | ModelCase, ...]

    def to_json(self) -> dict:
        return {"function": self.function, "cases": [case.to_json() for case in self.cases]}

    @classmethod
    def from_json(cls, data) -> TestRequest:
        data = wire.fields(data, "a test", ("function", "cases"))
        cases = wire.items(data["cases"], "a test's cases", MAX_CASES)
        try:
            return cls(wire.text(data["function"], "a test's function", 128), tuple(case_from_json(c) for c in cases))
        except (KeyError, TypeError, ValueError) as exc:  # RecordError included
            raise RecordError(f"a test's case is malformed ({type(exc).__name__}: {exc})"[:300]) from None


@dataclass(frozen=True)
class ChildPlan:
    """What one sandbox child runs: the steps, what each test captures, and the limits.

    Attributes:
        steps: the submission's steps (:func:`build`).
        tests: test id -> what its observe step captures.
        stand_ins: the blocks ``ResNet50``'s tests replace, and their public contract.
        limits: the submission's limits (each step's time limit comes from them).
        max_file_bytes: the largest file the child may write.
        skip: steps an earlier child charged for a limit: not run again.
        observed: tests an earlier child already captured for.
    """

    steps: tuple[Step, ...]
    tests: dict[str, TestRequest]
    stand_ins: dict[str, StandInSpec]
    limits: Limits
    max_file_bytes: int
    skip: frozenset[int] = frozenset()
    observed: frozenset[str] = frozenset()

    def to_json(self) -> dict:
        return {"steps": [s.to_json() for s in self.steps],
                "tests": {test_id: t.to_json() for test_id, t in self.tests.items()},
                "stand_ins": {name: spec.to_json() for name, spec in self.stand_ins.items()},
                "limits": self.limits.to_json(), "max_file_bytes": self.max_file_bytes,
                "skip": sorted(self.skip), "observed": sorted(self.observed)}

    @classmethod
    def from_json(cls, data) -> ChildPlan:
        """Validate what the child read on stdin; ``RecordError`` (one line) otherwise."""
        data = wire.fields(data, "the plan", ("steps", "tests", "stand_ins", "limits", "max_file_bytes", "skip",
                                              "observed"))
        steps = tuple(Step.from_json(s) for s in wire.items(data["steps"], "steps", MAX_STEPS))
        tests = {wire.text(k, "a test id", 128): TestRequest.from_json(v)
                 for k, v in wire.mapping(data["tests"], "tests", MAX_STEPS).items()}
        try:
            stand_ins = {wire.text(k, "a stand-in's name", 128): StandInSpec.from_json(v)
                         for k, v in wire.mapping(data["stand_ins"], "stand_ins", 16).items()}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"a stand-in is malformed ({type(exc).__name__}: {exc})"[:300]) from None
        unknown = sorted({s.test_id for s in steps if s.test_id is not None} - set(tests))
        if unknown:
            raise RecordError(f"an observe step names a test the plan does not describe: {unknown[0]}")
        return cls(steps, tests, stand_ins, Limits.from_json(data["limits"]),
                   wire.integer(data["max_file_bytes"], "max_file_bytes", 1),
                   frozenset(wire.integer(i, "a skipped step", 0, MAX_STEPS)
                             for i in wire.items(data["skip"], "skip", MAX_STEPS)),
                   frozenset(wire.text(t, "an observed test", 128)
                             for t in wire.items(data["observed"], "observed", MAX_STEPS)))


@dataclass
class Plan:
    """The sandbox's steps for one submission and what reading it revealed."""

    steps: list[Step]
    answers: set[str] = field(default_factory=set)  # answer cells present in the submission
    tampered: dict[str, str] = field(default_factory=dict)  # test id -> "edited" / "deleted" / "duplicated"
    skipped_cells: list[int] = field(default_factory=list)  # unchanged skip-when-grading cells


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
            plan.steps.append(Step(StepKind.OBSERVE, index, test.function, test_id=grade_id))
            continue
        answer = grade_id in course.functions
        if answer:
            section = grade_id
            plan.answers.add(grade_id)
            placed.setdefault(grade_id, len(plan.steps))
        elif normalise(source) in course.skip_texts:
            plan.skipped_cells.append(index)
            continue
        plan.steps.append(Step(StepKind.CODE, index, section, source, answer))
    _restore_deleted(plan, course, placed)
    last = max((i for i, s in enumerate(plan.steps) if s.kind is StepKind.OBSERVE), default=-1)
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
        plan.steps.insert(position, Step(StepKind.OBSERVE, None, test.function, test_id=test.test_id))
        for key, value in placed.items():
            if value >= position:
                placed[key] = value + 1
        placed[test.test_id] = position
