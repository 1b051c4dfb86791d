"""The grader's data model: what grading one submission produces.

Shared by the core (sandboxed execution, verdicts), the job runner and the reports.
Everything here is plain data, JSON-serialisable with :func:`dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

#: The graded functions, in notebook order. Also the nbgrader grade_ids of the answer cells.
FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")


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
    function: str  # one of FUNCTIONS
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

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)


@dataclass
class Limits:
    """Resource limits for running one submission."""

    timeout: float = 300.0  # wall-clock seconds for the whole submission
    cell_timeout: float = 120.0  # seconds for one cell
    memory_mb: int = 4096  # resident memory of the sandboxed process
    output_bytes: int = 1_000_000  # captured output kept; the rest is discarded
