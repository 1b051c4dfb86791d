"""Exports from a grading run: a Canvas gradebook import and the per-test pass rates.

Both are computed from the same grades as ``grades.csv`` (every student recorded in the output
folder), deterministic, and written next to it by :func:`resnet_signs.grading.api.grade`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from resnet_signs.grading.model import SubmissionGrade
from resnet_signs.grading.reports import as_number

#: Canvas's gradebook columns before the assignments, as its own "Export" writes them. Canvas
#: matches a row to a student by ID, SIS User ID or SIS Login ID; Section is read but not required.
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
#: The row under the header in Canvas's export; its import reads and skips it.
POINTS_POSSIBLE = "Points Possible"


def canvas_csv(grades: list[SubmissionGrade], *, column: str, points: float) -> str:
    """A CSV that Canvas's gradebook "Import" accepts: one row per student, the total autograded score.

    The student's id (the nbgrader/JupyterHub user name, i.e. the submission folder's name) goes
    into ``Student`` and ``SIS Login ID``; ``ID``, ``SIS User ID`` and ``Section`` stay empty, as
    Canvas needs only one identifier. Where user names are not Canvas login ids, fill ``ID`` from
    Canvas's own gradebook export (README: "Exports").

    Args:
        grades: one grade per student (any order; rows come out sorted by student).
        column: the assignment column: ``"Name (1234)"`` updates Canvas assignment 1234, a bare
            name creates a new assignment.
        points: the assignment's points possible (the second row).
    """
    if not column.strip():
        raise ValueError("the Canvas assignment column needs a name")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow((*CANVAS_HEADER, column))
    writer.writerow((POINTS_POSSIBLE, "", "", "", "", as_number(points)))
    for grade in sorted(grades, key=lambda g: g.student):
        writer.writerow((grade.student, "", "", grade.student, "", as_number(grade.score)))
    return buf.getvalue()


@dataclass(frozen=True)
class PassRate:
    """How many students passed one test."""

    test_id: str
    function: str
    hidden: bool
    passed: int
    failed: int

    @property
    def failure_rate(self) -> float:
        return self.failed / max(self.passed + self.failed, 1)


def pass_rates(grades: list[SubmissionGrade]) -> list[PassRate]:
    """Every test's pass count, the most failed first (ties in the notebook's order).

    A student whose notebook could not run fails its tests here as in the grades.
    """
    order: dict[str, tuple[str, bool]] = {}
    passed: dict[str, int] = {}
    failed: dict[str, int] = {}
    for grade in grades:
        for t in grade.tests:
            order.setdefault(t.test_id, (t.function, t.hidden))
            counter = passed if t.passed else failed
            counter[t.test_id] = counter.get(t.test_id, 0) + 1
    rates = [PassRate(test_id, fn, hidden, passed.get(test_id, 0), failed.get(test_id, 0))
             for test_id, (fn, hidden) in order.items()]
    return sorted(rates, key=lambda r: -r.failure_rate)  # sorted() is stable: ties keep notebook order


TESTS_HEADER = ("test", "function", "hidden", "students", "passed", "failed", "failure_rate")


def tests_csv(rates: list[PassRate]) -> str:
    """``tests.csv``: :func:`pass_rates` as a table, the most failed test first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(TESTS_HEADER)
    for r in rates:
        writer.writerow((r.test_id, r.function, "yes" if r.hidden else "no", r.passed + r.failed, r.passed, r.failed,
                         f"{r.failure_rate:.3f}"))
    return buf.getvalue()


def pass_rate_table(rates: list[PassRate], *, students: int, limit: int = 9) -> str:
    """The few most failed tests, for the end of the run."""
    lines = [f"tests failed most ({students} students):",
             f"  {'test':<40} {'function':<20} {'failed':>7}"]
    for r in rates[:limit]:
        lines.append(f"  {r.test_id[:40]:<40} {r.function[:20]:<20} {r.failed:>3}/{r.passed + r.failed:<3} "
                     f"{r.failure_rate:4.0%}")
    if len(rates) > limit:
        lines.append(f"  ... {len(rates) - limit} more in tests.csv")
    return "\n".join(lines)
