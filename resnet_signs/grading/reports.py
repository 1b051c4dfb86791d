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
from pathlib import Path

from resnet_signs import i18n
from resnet_signs.grading.model import Status, SubmissionGrade

GRADES_HEADER = ("student", "function", "score", "max_score", "status")


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


def results_json(grade: SubmissionGrade, language: str = i18n.DEFAULT) -> dict:
    """``grade`` in the Gradescope autograder format (``results.json``), its texts in ``language``.

    Public tests are ``visible``; hidden ones ``after_published`` (students see them once the
    instructor publishes grades). Functions that could not run normally add a line to
    ``output`` saying why.
    """
    _, message = (lambda text: i18n.gettext(text, language)), (lambda text: i18n.translate_message(text, language))
    tests = [
        {
            "name": f"{t.function}: {t.test_id}",
            "score": as_number(t.score),
            "max_score": as_number(t.max_score),
            "output": _("passed" if t.passed else "failed") + (f": {message(t.message)}" if t.message else ""),
            "visibility": "after_published" if t.hidden else "visible",
        }
        for t in grade.tests
    ]
    problems = [f"{f.function}: {f.status.value}" + (f" ({f.detail})" if f.detail else "")
                for f in grade.functions if f.status is not Status.OK]
    if grade.tampered_cells:
        problems.append(i18n.format("edited test cells were restored from the original: {cells}", language,
                                    cells=", ".join(grade.tampered_cells)))
    return {
        "score": as_number(grade.score),
        "execution_time": round(grade.execution_time, 1),
        "output": "\n".join(problems) or _("All graded functions ran normally."),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def feedback_html(grade: SubmissionGrade, language: str = i18n.DEFAULT) -> str:
    """A self-contained HTML page for the student: each test passed or failed, with its hint.

    In ``language`` (the notebook's, :mod:`resnet_signs.i18n`): the headings, and the hints,
    which the grader records in English.

    Pass/fail is written out ("✓ passed" / "✗ failed"), never shown by colour alone, and
    every piece of text that came from the submission is HTML-escaped.
    """
    e = html.escape
    _, fmt = (lambda text: i18n.gettext(text, language)), (lambda text, **v: i18n.format(text, language, **v))
    rows = []
    for t in grade.tests:
        verdict = _("✓ passed") if t.passed else _("✗ failed")
        hint = "" if t.passed else e(i18n.translate_message(t.message, language))
        rows.append(
            f'<tr class="{"pass" if t.passed else "fail"}"><td>{e(t.function)}</td><td>{e(t.test_id)}</td>'
            f"<td>{verdict}</td><td>{as_number(t.score)} / {as_number(t.max_score)}</td><td>{hint}</td></tr>"
        )
    notes = "".join(
        f"<li>{e(f.function)}: {e(f.status.value)}{' — ' + e(f.detail) if f.detail else ''}</li>"
        for f in grade.functions if f.status is not Status.OK
    )
    if grade.tampered_cells:
        restored = fmt("Edited test cells were restored from the original: {cells}",
                       cells=", ".join(grade.tampered_cells))
        notes += f"<li>{e(restored)}</li>"
    score = f"{as_number(grade.score)} / {as_number(grade.max_score)}"
    headings = "".join(f"<th>{e(_(h))}</th>" for h in ("Function", "Test", "Result", "Points", "Hint"))
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{i18n.HTML_LANG[i18n.normalise(language)]}"><head><meta charset="utf-8">',
        f"<title>{e(fmt('Feedback: Residual Networks — {student}', student=grade.student))}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}"
        "tr.pass td:nth-child(3){color:#05620b}tr.fail td:nth-child(3){color:#a00000;font-weight:bold}</style>",
        "</head><body>",
        f"<h1>{e(_('Residual Networks — feedback'))}</h1>",
        "<p>" + e(fmt("Student: {student}. Score: {score}.", student="\0", score="\1"))
        .replace("\0", f"<strong>{e(grade.student)}</strong>").replace("\1", f"<strong>{score}</strong>") + "</p>",
        f"<h2>{e(_('Problems while running your notebook'))}</h2><ul>{notes}</ul>" if notes else "",
        f"<table><thead><tr>{headings}</tr></thead>",
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


def write_student(folder: Path, grade: SubmissionGrade, record: dict, language: str = i18n.DEFAULT) -> None:
    """A student's three files; ``record.json`` (the grade and its cache key) goes last, as the
    marker that the student is finished. ``results.json`` and ``feedback.html`` are in ``language``
    (the notebook's); the record keeps the grader's English."""
    write_atomic(folder / "results.json",
                 json.dumps(results_json(grade, language), indent=2, ensure_ascii=False) + "\n")
    write_atomic(folder / "feedback.html", feedback_html(grade, language))
    write_atomic(folder / "record.json", json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
