"""What the similarity report writes: ``similarity.csv`` and ``similarity.html``.

Both are deterministic (the same submissions give byte-identical files). Every text that came from a
submission or a collected file (names, paths, code, reasons) is HTML-escaped; the page loads
nothing from anywhere (no script, no font, no stylesheet outside it).
"""

from __future__ import annotations

import csv
import html
import io
from typing import TYPE_CHECKING

from resnet_signs.grading.reports import write_atomic
from resnet_signs.similarity.documents import Document
from resnet_signs.similarity.scores import ALL, Match

if TYPE_CHECKING:
    from resnet_signs.similarity.api import SimilarityRun

CSV_HEADER = ("student_a", "student_b", "function", "similarity", "shared_fragments", "rarest_shared_in", "answers")
#: Pairs shown side by side in the HTML (the CSV has them all).
MAX_PAIRS = 50

__all__ = ["CSV_HEADER", "csv_text", "html_text", "write_atomic"]


def csv_text(run: SimilarityRun) -> str:
    """One row per pair and function (and ``all``) at or above the threshold, most similar first.

    ``rarest_shared_in``: how many students' code holds the rarest fragment the pair shares;
    ``answers``: how many students answered the function (any function, for ``all``).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    answers = _answers(run)
    for s in run.scores:
        writer.writerow((s.a, s.b, s.function, f"{s.similarity:.4f}", s.shared, s.rarest, answers[s.function]))
    return buf.getvalue()


def _answers(run: SimilarityRun) -> dict[str, int]:
    counts = dict(run.comparison.answers)
    counts[ALL] = sum(1 for d in run.students if any(d.answered(f) for f in run.functions))
    return counts


def _pairs(run: SimilarityRun) -> list[tuple[str, str]]:
    """The pairs of the CSV, each once, most similar first."""
    seen: dict[tuple[str, str], None] = {}
    for s in run.scores:
        seen.setdefault((s.a, s.b), None)
    return list(seen)


# --------------------------------------------------------------------------- HTML
_STYLE = """
body{font-family:sans-serif;margin:1.5em;max-width:110em}
.framing{border-left:.4em solid #8a6d00;background:#fff8e0;padding:.6em 1em;max-width:60em}
table{border-collapse:collapse}td,th{border:1px solid #aaa;padding:.2em .5em;text-align:left;vertical-align:top}
td.num,th.num{text-align:right}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1em}
.side h5{margin:.3em 0}
.code{border:none;font-family:monospace;font-size:85%;width:100%}
.code td{border:none;padding:0 .4em;white-space:pre-wrap;word-break:break-all}
.code td.n{color:#777;text-align:right;width:3em;user-select:none}
.code td.freq{width:6.5em;font-family:sans-serif;font-size:85%;color:#333}
.code tr.starter td.text{color:#999}
mark.rare{background:#ff9e9e}mark.few{background:#ffd08a}mark.common{background:#fff3b0}
.where{font-family:monospace;font-weight:bold;margin-top:.5em}
.legend mark{padding:0 .4em}
"""


def html_text(run: SimilarityRun) -> str:
    """The report: the framing, the most similar pairs, each student's closest match, the pairs side by
    side with the shared statements highlighted and how common each is, and what was not compared."""
    pairs = _pairs(run)
    shown = pairs[:MAX_PAIRS]
    anchors = {pair: f"pair-{number}" for number, pair in enumerate(shown, start=1)}
    functions = (*run.functions, ALL)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Similarity of the graded code</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        "<h1>Similarity of the graded code</h1>",
        _framing(run),
        _counts(run, len(pairs)),
        "<h2>Most similar pairs</h2>",
        _pair_table(run, pairs[:MAX_PAIRS], anchors, functions) if pairs else
        f"<p>No pair reaches {run.threshold:g} on any function.</p>",
        "<h2>Each student's closest match</h2>",
        _closest_table(run, anchors),
        "<h2>Pairs side by side</h2>" if shown else "",
        _LEGEND if shown else "",
        *(_pair_section(run, a, b, anchors[(a, b)]) for a, b in shown),
        _skipped(run),
        "</body></html>",
        "",
    ]
    return "\n".join(p for p in parts if p)


def _framing(run: SimilarityRun) -> str:
    functions = ", ".join(f"<code>{html.escape(f)}</code>" for f in run.functions)
    return (
        '<div class="framing"><p><strong>Similarity is a reason to look, not a verdict.</strong> '
        f"It compares the graded functions ({functions}, with every helper they call) after removing what "
        "does not make two answers different: comments, docstrings, spacing, quotes, variable names, the order "
        "of independent statements, helpers extracted from or folded into a function. The starter code of the "
        "release is left out, and so is any fragment every student wrote.</p>"
        "<p>These functions are short and written from the same instructions, so independent answers converge: "
        "the same line in two answers is often the line the instructions ask for. A fragment therefore counts "
        "less the more students wrote it, and each highlighted line says how many students' code holds it. "
        "Two answers that share only common lines are not evidence of anything; two that share lines nobody "
        "else wrote deserve a conversation, not a conclusion. Read both codes before deciding anything.</p></div>"
    )


def _counts(run: SimilarityRun, pairs: int) -> str:
    e = html.escape
    unanswered = run.unanswered
    text = (f"<p>{len(run.students)} submissions compared with each other"
            f"{f' and with {len(run.against)} collected solutions' if run.against else ''}; "
            f"{pairs} pairs at or above {run.threshold:g} on some function (all of them in "
            "<code>similarity.csv</code>).")
    if unanswered:
        text += f" Nothing beyond the starter code: {e(', '.join(unanswered))}."
    return text + "</p>"


def _pair_table(run: SimilarityRun, pairs, anchors, functions) -> str:
    e = html.escape
    head = "".join(f'<th class="num">{e(f)}</th>' for f in functions)
    rows = []
    for a, b in pairs:
        cells = "".join(f'<td class="num">{_value(run.comparison.similarity(a, b, f))}</td>' for f in functions)
        link = f'<a href="#{anchors[(a, b)]}">side by side</a>' if (a, b) in anchors else ""
        rows.append(f"<tr><td>{e(a)}</td><td>{e(b)}</td>{cells}<td>{link}</td></tr>")
    return (f"<table class=\"pairs\"><thead><tr><th>student</th><th>other</th>{head}<th></th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _closest_table(run: SimilarityRun, anchors) -> str:
    e = html.escape
    ranked = []
    for document in run.students:
        best = run.comparison.closest(document.name)
        if best is not None:
            ranked.append((-best[1], document.name, best[0]))
    if not ranked:
        return "<p>No two answers to compare.</p>"
    rows = []
    for rank, (value, name, other) in enumerate(sorted(ranked), start=1):
        pair = (name, other) if (name, other) in anchors else (other, name)
        link = f' (<a href="#{anchors[pair]}">side by side</a>)' if pair in anchors else ""
        rows.append(f'<tr><td class="num">{rank}</td><td>{e(name)}</td><td>{e(other)}{link}</td>'
                    f'<td class="num">{_value(-value)}</td></tr>')
    return ("<table class=\"closest\"><thead><tr><th class=\"num\">rank</th><th>student</th><th>closest match</th>"
            f"<th class=\"num\">all</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


_LEGEND = ('<p class="legend">Highlighted lines share fragments with the other side: '
           '<mark class="rare">only these two</mark> '
           '<mark class="few">a few other students too (at most a quarter)</mark> '
           '<mark class="common">many students</mark>; the column beside each line says how many students\' '
           'code holds its rarest shared fragment. Grey lines are the release\'s starter code (not compared).</p>')


def _pair_section(run: SimilarityRun, a: str, b: str, anchor: str) -> str:
    e = html.escape
    left, right = _document(run, a), _document(run, b)
    values = ", ".join(f"{e(f)} {_value(run.comparison.similarity(a, b, f))}" for f in (*run.functions, ALL))
    parts = [f'<section class="pair" id="{anchor}"><h3>{e(a)} ~ {e(b)}</h3><p>{values}</p>']
    for function in run.functions:
        if not (left.answered(function) and right.answered(function)):
            continue  # nothing to put side by side (the scores above say "–")
        ours, theirs = run.comparison.matches(left, right, function)
        answers = run.comparison.answers[function]
        parts.append(f"<h4>{e(function)}: {_value(run.comparison.similarity(a, b, function))}</h4>")
        parts.append('<div class="sides">')
        for document, found in ((left, ours), (right, theirs)):
            code = _code(document, function, found, answers)
            parts.append(f'<div class="side"><h5>{e(document.name)}</h5>{code}</div>')
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _document(run: SimilarityRun, name: str) -> Document:
    return next(d for d in (*run.students, *run.against) if d.name == name)


def _code(document: Document, function: str, found: list[Match], answers: int) -> str:
    e = html.escape
    code = document.functions.get(function)
    if code is None:
        note = next((n for n in document.notes if n.startswith(f"{function}:")), f"{function}: not defined")
        return f"<p>{e(note)}</p>"
    shared: dict[tuple[str, int], int] = {}
    for match in found:
        for line in range(match.lines[0], match.lines[1] + 1):
            key = (match.where, line)
            shared[key] = min(shared.get(key, match.students), match.students)
    blocks = []
    for where, lines in code.sources.items():
        rows = []
        starter = code.starter_lines.get(where, set())
        for number, line in enumerate(lines, start=1):
            students = shared.get((where, number))
            text = e(line) or " "
            if students is not None:
                kind = _rarity(students, answers)
                label = "only these two" if students <= 2 else f"{students} of {answers}"
                rows.append(f'<tr class="match {kind}" title="shared by {label} students">'
                            f'<td class="n">{number}</td><td class="freq">{label}</td>'
                            f'<td class="text"><mark class="{kind}">{text}</mark></td></tr>')
            else:
                css = ' class="starter"' if number in starter else ""
                rows.append(f'<tr{css}><td class="n">{number}</td><td class="freq"></td>'
                            f'<td class="text">{text}</td></tr>')
        title = "" if where == function else f'<div class="where">helper {e(where)}()</div>'
        blocks.append(f'{title}<table class="code">{"".join(rows)}</table>')
    if not document.answered(function):
        blocks.insert(0, "<p>No answer beyond the starter code.</p>")
    return "".join(blocks)


def _rarity(students: int, answers: int) -> str:
    if students <= 2:
        return "rare"
    return "few" if answers <= 2 or (students - 2) / (answers - 2) <= 0.25 else "common"


def _value(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _skipped(run: SimilarityRun) -> str:
    if not run.skipped:
        return ""
    e = html.escape
    items = "".join(f"<li>{e(name)}: {e(reason)}</li>" for name, reason in run.skipped)
    return f"<h2>Not compared</h2><ul>{items}</ul>"
