"""What grading writes for people: grades.csv, results.json (Gradescope), feedback.html, a summary.

Every writer is deterministic: the same grades give byte-identical files. ``grades.csv`` has
one row per student and graded function, sorted by the student's real name (Unicode code
point order) and then by function in notebook order (the order of the grade's functions).
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import asdict
from pathlib import Path

from resnet_signs.grading.model import FunctionGrade, Status, SubmissionGrade, TestResult

GRADES_HEADER = ("student", "function", "score", "max_score", "status")


def grade_to_dict(grade: SubmissionGrade) -> dict:
    """A JSON-able dict of ``grade`` (the inverse of :func:`grade_from_dict`)."""
    data = asdict(grade)
    for row in data["functions"]:
        row["status"] = Status(row["status"]).value
    return data


def grade_from_dict(data: dict) -> SubmissionGrade:
    """The :class:`SubmissionGrade` that :func:`grade_to_dict` turned into ``data``."""
    functions = [FunctionGrade(**{**row, "status": Status(row["status"])}) for row in data["functions"]]
    tests = [TestResult(**row) for row in data["tests"]]
    rest = {k: v for k, v in data.items() if k not in ("functions", "tests")}
    return SubmissionGrade(functions=functions, tests=tests, **rest)


def as_number(x: float) -> float | int:
    """Scores as ints when whole, so the CSV says ``1`` and not ``1.0``."""
    return int(x) if float(x).is_integer() else round(float(x), 4)


def grades_csv(grades: list[SubmissionGrade]) -> str:
    """The text of grades.csv for ``grades`` (any order in, documented order out)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(GRADES_HEADER)
    for grade in sorted(grades, key=lambda g: g.student):
        for f in grade.functions:  # the course's notebook order
            writer.writerow((grade.student, f.function, as_number(f.score), as_number(f.max_score), f.status.value))
    return buf.getvalue()


def results_json(grade: SubmissionGrade) -> dict:
    """``grade`` in the Gradescope autograder format (``results.json``).

    Public tests are ``visible``; hidden ones ``after_published`` (students see them once the
    instructor publishes grades). Functions that could not run normally add a line to
    ``output`` saying why.
    """
    tests = [
        {
            "name": f"{t.function}: {t.test_id}",
            "score": as_number(t.score),
            "max_score": as_number(t.max_score),
            "output": ("passed" if t.passed else "failed") + (f": {t.message}" if t.message else ""),
            "visibility": "after_published" if t.hidden else "visible",
        }
        for t in grade.tests
    ]
    problems = [f"{f.function}: {f.status.value}" + (f" ({f.detail})" if f.detail else "")
                for f in grade.functions if f.status is not Status.OK]
    if grade.tampered_cells:
        problems.append(f"edited test cells were restored from the original: {', '.join(grade.tampered_cells)}")
    return {
        "score": as_number(grade.score),
        "execution_time": round(grade.execution_time, 1),
        "output": "\n".join(problems) or "All graded functions ran normally.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def feedback_html(grade: SubmissionGrade) -> str:
    """A self-contained HTML page for the student: each test passed or failed, with its hint.

    Pass/fail is written out ("✓ passed" / "✗ failed"), never shown by colour alone, and
    every piece of text that came from the submission is HTML-escaped.
    """
    e = html.escape
    rows = []
    for t in grade.tests:
        verdict = "✓ passed" if t.passed else "✗ failed"
        hint = "" if t.passed else e(t.message)
        rows.append(
            f'<tr class="{"pass" if t.passed else "fail"}"><td>{e(t.function)}</td><td>{e(t.test_id)}</td>'
            f"<td>{verdict}</td><td>{as_number(t.score)} / {as_number(t.max_score)}</td><td>{hint}</td></tr>"
        )
    notes = "".join(
        f"<li>{e(f.function)}: {e(f.status.value)}{' — ' + e(f.detail) if f.detail else ''}</li>"
        for f in grade.functions if f.status is not Status.OK
    )
    if grade.tampered_cells:
        notes += f"<li>Edited test cells were restored from the original: {e(', '.join(grade.tampered_cells))}</li>"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback: Residual Networks — {e(grade.student)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}"
        "tr.pass td:nth-child(3){color:#05620b}tr.fail td:nth-child(3){color:#a00000;font-weight:bold}</style>",
        "</head><body>",
        "<h1>Residual Networks — feedback</h1>",
        f"<p>Student: <strong>{e(grade.student)}</strong>. "
        f"Score: <strong>{as_number(grade.score)} / {as_number(grade.max_score)}</strong>.</p>",
        f"<h2>Problems while running your notebook</h2><ul>{notes}</ul>" if notes else "",
        "<table><thead><tr><th>Function</th><th>Test</th><th>Result</th><th>Points</th><th>Hint</th></tr></thead>",
        "<tbody>", *rows, "</tbody></table>",
        "</body></html>",
        "",
    ])


def summary_table(grades: list[SubmissionGrade], reused: set[str] = frozenset()) -> str:
    """A plain-text table: one line per student with the total and any non-ok status."""
    lines = [f"{'student':<24} {'score':>9}  statuses"]
    for g in sorted(grades, key=lambda g: g.student):
        bad = [f"{f.function}={f.status.value}" for f in g.functions if f.status is not Status.OK]
        note = ", ".join(bad) or "ok"
        if g.student in reused:
            note += " (reused)"
        lines.append(f"{g.student[:24]:<24} {as_number(g.score):>4}/{as_number(g.max_score):<4}  {note}")
    total = sum(g.score for g in grades)
    lines.append(f"{len(grades)} submissions graded, mean score {total / max(len(grades), 1):.2f}")
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so a reader (or a
    resumed run) sees either the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_student(folder: Path, grade: SubmissionGrade, record: dict) -> None:
    """A student's three files; ``record.json`` (the grade and its cache key) goes last, as the
    marker that the student is finished."""
    write_atomic(folder / "results.json", json.dumps(results_json(grade), indent=2, ensure_ascii=False) + "\n")
    write_atomic(folder / "feedback.html", feedback_html(grade))
    write_atomic(folder / "record.json", json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
