"""The grader's data model: what grading one submission produces.

Shared by the core (sandboxed execution, verdicts), the job runner and the reports.
Everything here is plain data, JSON-serialisable with :func:`dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

class Status(str, Enum):
    """Per-function status in grades.csv. ``ok`` means graded normally (the score may be partial)."""

    OK = "ok"
    ERROR = "error"  # the answer cell or the function raised, or the kernel crashed while it ran
    TIMEOUT = "timeout"  # a cell of this function ran past its time limit
    MEMORY = "memory"  # the process went over the memory limit while this function ran
    MISSING = "missing"  # the function is not defined (renamed, deleted, answer cell missing)
    INVALID_NOTEBOOK = "invalid-notebook"  # the file is not a readable notebook
    TAMPERED = "tampered"  # a test cell was edited/deleted; it was restored from the source and graded


@dataclass
class TestResult:
    """One test cell's verdict (a row of results.json's ``tests``)."""

    test_id: str  # the test cell's grade_id, e.g. "identity_block_hidden_values"
    function: str  # a graded function of the course
    score: float
    max_score: float
    passed: bool
    message: str  # the hint on failure, a short confirmation on success
    hidden: bool  # hidden tests are "after_published" in results.json


@dataclass
class FunctionGrade:
    """One row of grades.csv."""

    function: str
    score: float
    max_score: float
    status: Status
    detail: str = ""  # one line for the instructor: why this status


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


@dataclass
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
