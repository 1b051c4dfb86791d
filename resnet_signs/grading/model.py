"""The grader's data model: one outcome vocabulary, the limits, and what grading a submission produces.

Shared by the sandbox child (the limits, the clock of each section's time, the outcomes it
reports), the runner, the core, the job runner and the reports. The grade is one type from the core
to the reports: :class:`SubmissionGrade` crosses worker processes pickled and is stored as JSON in
``record.json`` (:meth:`SubmissionGrade.to_json`); reading it back checks every field
(:meth:`SubmissionGrade.from_json`), so a damaged record is graded again, never trusted.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from resnet_signs.grading import wire


class Status(StrEnum):
    """The one outcome vocabulary, from the mildest to the most severe.

    A sandbox step, a function and a grades.csv row all take these values, and when several things
    went wrong the most severe one wins: ``max(statuses)`` (DMOJ's judge ranks its verdicts the same
    way). A tampered test cell outranks an error: it is an integrity flag the instructor must see in
    grades.csv, while the error stays visible in the detail and the feedback.
    """

    OK = "ok"  # graded normally (the score may be partial)
    ERROR = "error"  # the answer cell or the function raised, or the sandbox crashed while it ran
    TAMPERED = "tampered"  # a test cell was edited/deleted; it was restored from the source and graded
    TIMEOUT = "timeout"  # a cell of this function ran past its time limit
    MEMORY = "memory"  # the process went over the memory limit while this function ran
    MISSING = "missing"  # the function is not defined (renamed, deleted, answer cell missing)
    INVALID_NOTEBOOK = "invalid-notebook"  # the file is not a readable notebook, or there is none

    @property
    def rank(self) -> int:
        """Severity: 0 for ``ok``, higher is more severe."""
        return _RANK[self]

    def __lt__(self, other):
        return self.rank < other.rank if isinstance(other, Status) else NotImplemented

    def __le__(self, other):
        return self.rank <= other.rank if isinstance(other, Status) else NotImplemented

    def __gt__(self, other):
        return self.rank > other.rank if isinstance(other, Status) else NotImplemented

    def __ge__(self, other):
        return self.rank >= other.rank if isinstance(other, Status) else NotImplemented


_RANK = {status: rank for rank, status in enumerate(Status)}


@dataclass(frozen=True)
class Limits:
    """Resource limits for running one submission.

    Time is budgeted per graded function, not first come first served: each function's cells
    and tests (and the setup cells before the first function) may run ``function_timeout``
    seconds in each sandbox child, no single cell more than ``cell_timeout``. When a function's
    test or answer cell hits a limit, its other tests are marked with that status without
    running, and the next function still gets its whole budget. ``timeout`` caps the whole
    submission, restarts included (default: :meth:`total`).
    """

    function_timeout: float = 120.0  # seconds for one function's cells and tests, per child
    cell_timeout: float = 60.0  # seconds for one cell or test
    memory_mb: int = 4096  # resident memory of the sandboxed process tree
    output_bytes: int = 1_000_000  # captured output kept; the rest is discarded
    timeout: float | None = None  # the whole submission (None: derived from the functions' budgets)

    def step_limit(self, used: float) -> float:
        """Seconds the next step may run when its function has used ``used`` seconds in this child."""
        return max(0.0, min(self.cell_timeout, self.function_timeout - used))

    def total(self, sections: int) -> float:
        """The whole submission's cap: every section's budget, plus as much again for restarts."""
        return self.timeout if self.timeout is not None else 2 * (sections + 1) * self.function_timeout

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> Limits:
        data = wire.fields(data, "limits", ("function_timeout", "cell_timeout", "memory_mb", "output_bytes", "timeout"))
        return cls(wire.number(data["function_timeout"], "limits.function_timeout"),
                   wire.number(data["cell_timeout"], "limits.cell_timeout"),
                   wire.integer(data["memory_mb"], "limits.memory_mb", 1),
                   wire.integer(data["output_bytes"], "limits.output_bytes"),
                   wire.optional_number(data["timeout"], "limits.timeout"))


class SectionClock:
    """The seconds each section (a graded function, or ``None`` for the setup cells) has run in one
    sandbox child, and what its next step may run: the one place a section's time is counted.

    The child keeps one to arm its interrupt at each step's limit; the runner keeps one from the
    child's events to kill a child that ignores the interrupt (it trusts no time the child reports).
    """

    def __init__(self, limits: Limits):
        self.limits = limits
        self._used: dict[str | None, float] = {}

    def used(self, section: str | None) -> float:
        return self._used.get(section, 0.0)

    def limit(self, section: str | None) -> float:
        """Seconds the section's next step may run (0: its budget in this child is spent)."""
        return self.limits.step_limit(self.used(section))

    def charge(self, section: str | None, seconds: float) -> None:
        self._used[section] = self.used(section) + seconds

    def over_budget(self, section: str | None, running: float = 0.0) -> bool:
        """Whether the section, with a step running for ``running`` seconds, has passed its budget."""
        return self.used(section) + running > self.limits.function_timeout


@dataclass
class TestResult:
    """One test cell's verdict (a row of results.json's ``tests``)."""

    __test__ = False  # not a pytest test class, whatever its name
    test_id: str  # the test cell's grade_id, e.g. "identity_block_hidden_values"
    function: str  # a graded function of the course
    score: float
    max_score: float
    passed: bool
    message: str  # the hint on failure, a short confirmation on success
    hidden: bool  # hidden tests are "after_published" in results.json

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data) -> TestResult:
        data = wire.fields(data, "a test result", ("test_id", "function", "score", "max_score", "passed", "message",
                                                  "hidden"))
        return cls(wire.text(data["test_id"], "test_id", 128), wire.text(data["function"], "function", 128),
                   wire.number(data["score"], "score"), wire.number(data["max_score"], "max_score"),
                   wire.flag(data["passed"], "passed"), wire.text(data["message"], "message", 1 << 16),
                   wire.flag(data["hidden"], "hidden"))


@dataclass
class FunctionGrade:
    """One row of grades.csv."""

    function: str
    score: float
    max_score: float
    status: Status
    detail: str = ""  # one line for the instructor: why this status

    def to_json(self) -> dict:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_json(cls, data) -> FunctionGrade:
        data = wire.fields(data, "a function grade", ("function", "score", "max_score", "status", "detail"))
        return cls(wire.text(data["function"], "function", 128), wire.number(data["score"], "score"),
                   wire.number(data["max_score"], "max_score"), wire.choice(Status, data["status"], "status"),
                   wire.text(data["detail"], "detail"))


@dataclass
class SubmissionGrade:
    """Everything grading one student's notebook produced."""

    student: str
    functions: list[FunctionGrade]
    tests: list[TestResult]
    execution_time: float  # seconds, wall clock, sandbox included
    output: str = ""  # captured stdout/stderr of the student's code, capped
    tampered_cells: list[str] = field(default_factory=list)  # grade_ids restored from the source
    isolation: list[str] = field(default_factory=list)  # what the sandbox applied, e.g. "no network (unshare -rn)"
    skipped_cells: list[int] = field(default_factory=list)  # unchanged skip-when-grading cells, not run
    notes: list[str] = field(default_factory=list)  # about the whole run (e.g. foreign lines on the report channel)

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    def to_json(self) -> dict:
        """A JSON-able dict (the inverse of :meth:`from_json`)."""
        return {"student": self.student, "functions": [f.to_json() for f in self.functions],
                "tests": [t.to_json() for t in self.tests], "execution_time": self.execution_time,
                "output": self.output, "tampered_cells": list(self.tampered_cells), "isolation": list(self.isolation),
                "skipped_cells": list(self.skipped_cells), "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data) -> SubmissionGrade:
        """The grade :meth:`to_json` wrote; ``RecordError`` (one line) when ``data`` is not one."""
        data = wire.fields(data, "a grade", ("student", "functions", "tests", "execution_time"),
                           ("output", "tampered_cells", "isolation", "skipped_cells", "notes"))
        return cls(
            student=wire.text(data["student"], "student", 1024),
            functions=[FunctionGrade.from_json(f) for f in wire.items(data["functions"], "functions", 64)],
            tests=[TestResult.from_json(t) for t in wire.items(data["tests"], "tests", 256)],
            execution_time=wire.number(data["execution_time"], "execution_time"),
            output=wire.text(data.get("output", ""), "output", 1 << 24),
            tampered_cells=[wire.text(c, "a tampered cell", 128)
                            for c in wire.items(data.get("tampered_cells", []), "tampered_cells", 256)],
            isolation=[wire.text(i, "an isolation note")
                       for i in wire.items(data.get("isolation", []), "isolation", 64)],
            skipped_cells=[wire.integer(i, "a skipped cell", 0, 1 << 20)
                           for i in wire.items(data.get("skipped_cells", []), "skipped_cells", 1 << 16)],
            notes=[wire.text(n, "a note") for n in wire.items(data.get("notes", []), "notes", 256)],
        )


def exit_text(returncode: int | None) -> str:
    """How a child process ended, for a message: "killed by SIGKILL", "exit status 1"."""
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"
