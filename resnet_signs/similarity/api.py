"""``compare()``: which submissions share their graded code, with each other or with collected solutions.

Everything runs here, on this machine: nothing is sent anywhere, no student code is run (it is only
parsed), and TensorFlow is never imported. Writes ``OUT/similarity.csv`` and ``OUT/similarity.html``
(see :mod:`.report`); a high similarity is a reason to look, never a verdict.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from resnet_signs import paths
from resnet_signs.errors import UsageError
from resnet_signs.grading.submissions import find_submissions, skipped_folders
from resnet_signs.similarity import documents, report
from resnet_signs.similarity.documents import Document, Unreadable
from resnet_signs.similarity.scores import ALL, Comparison, Score

#: Pairs below this similarity (on every function and ``all``) are left out of the CSV.
THRESHOLD = 0.1
#: A pair at or above this on some function is named in the summary as worth a look.
REVIEW = 0.5
#: Files of an ``--against`` folder that are compared.
AGAINST_SUFFIXES = (".ipynb", ".py")


@dataclass
class SimilarityRun:
    """What :func:`compare` found.

    Attributes:
        students: the submissions read (those with nothing beyond the starter code included).
        against: the collected solutions that define at least one graded function.
        skipped: ``(name, reason)`` of each file that could not be read or holds no graded function.
        scores: every pair and function at or above the threshold, most similar first (the CSV).
        comparison: all the scores, for the report and for callers.
        functions: the graded functions, in notebook order.
        out: where the CSV and the HTML report are.
    """

    students: list[Document]
    against: list[Document]
    skipped: list[tuple[str, str]]
    scores: list[Score]
    comparison: Comparison
    functions: tuple[str, ...]
    out: Path
    threshold: float = THRESHOLD
    review: list[tuple[str, str]] = field(default_factory=list)

    @property
    def unanswered(self) -> list[str]:
        """Students with nothing beyond the starter code in any graded function."""
        return [d.name for d in self.students if not any(d.answered(f) for f in self.functions)]


def compare(
    submissions: Path,
    *,
    out: Path,
    against: tuple[Path, ...] | list[Path] = (),
    course: Path | None = None,
    assignment: str | None = None,
    threshold: float = THRESHOLD,
) -> SimilarityRun:
    """Compare the graded functions of every submission with every other and with ``against``.

    Args:
        submissions: one folder per student (or nbgrader's ``submitted/`` layout), as for grading.
        out: output folder (created); must not be inside ``submissions``.
        against: folders whose ``.ipynb`` and ``.py`` files (e.g. solutions found online) are
            compared with every submission; each is named by its path.
        course: the nbgrader course directory (default: :func:`resnet_signs.paths.course_dir`): the
            graded functions and their starter code come from its source notebook.
        assignment: the assignment under ``course/source/`` (default: the only graded one).
        threshold: pairs below it on every function are left out of the CSV.

    Returns:
        A :class:`SimilarityRun`.

    Raises:
        UsageError: a bad argument (missing or empty folder, ``out`` inside ``submissions``...).
        GradingError: the course directory is not usable.
    """
    root = Path(course) if course else paths.course_dir()
    submissions, out = Path(submissions), Path(out)
    against = [Path(a) for a in against]
    _check_arguments(submissions, out, against, threshold)
    if not (root / "source").is_dir():
        raise UsageError(f"{root} is not a course directory (no source/ folder): pass --course")
    assignment_ = documents.load_assignment(root, assignment)
    found = find_submissions(submissions, assignment_.name, assignment_.notebook)
    skipped = [(name, "a hidden or cache folder") for name in skipped_folders(submissions)]
    students = []
    for submission in found:
        if not submission.notebook.is_file():
            skipped.append((submission.student, f"no {assignment_.notebook} in the student's folder"))
            continue
        try:
            students.append(documents.read(submission.student, "student", submission.notebook, assignment_))
        except Unreadable as exc:
            skipped.append((submission.student, str(exc)))
    collected = []
    for path in _against_files(against):
        try:
            document = documents.read(str(path), "against", path, assignment_)
        except Unreadable as exc:
            skipped.append((str(path), str(exc)))
            continue
        if any(document.answered(f) for f in assignment_.functions):
            collected.append(document)
        else:
            skipped.append((str(path), "defines none of the graded functions (beyond the starter code)"))
    comparison = Comparison(students, collected, assignment_.functions)
    scores = comparison.scores(threshold)
    run = SimilarityRun(students, collected, skipped, scores, comparison, assignment_.functions, out, threshold,
                        review=_worth_a_look(scores))
    out.mkdir(parents=True, exist_ok=True)
    report.write_atomic(out / "similarity.csv", report.csv_text(run))
    report.write_atomic(out / "similarity.html", report.html_text(run))
    return run


def _check_arguments(submissions: Path, out: Path, against: list[Path], threshold) -> None:
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise UsageError(f"--threshold must be a number from 0 to 1, got {threshold!r}")
    if not submissions.exists():
        raise UsageError(f"no such folder: {submissions} (give the folder holding one folder per student)")
    src, dst = submissions.resolve(), out.resolve()
    if dst == src or src in dst.parents:
        raise UsageError(f"--out {out} is inside the submissions folder {submissions}: choose a folder outside it")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file: give a folder")
    for folder in against:
        if not folder.is_dir():
            raise UsageError(f"--against {folder}: no such folder")
        resolved = folder.resolve()
        if resolved == src or src in resolved.parents:
            raise UsageError(f"--against {folder} is inside the submissions folder {submissions}: "
                             "its files would be compared as a student's")
        if not any(True for _ in _files(folder)):
            raise UsageError(f"--against {folder} holds no .ipynb or .py file")


def _files(folder: Path):
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.suffix in AGAINST_SUFFIXES and path.is_file() and not any(p.startswith(".") for p in parts):
            yield path


def _against_files(folders: list[Path]) -> list[Path]:
    seen, found = set(), []
    for folder in folders:
        for path in _files(folder):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                found.append(path)
    return found


def _worth_a_look(scores: list[Score]) -> list[tuple[str, str]]:
    """Pairs with some function at or above :data:`REVIEW`, most similar first."""
    pairs: dict[tuple[str, str], None] = {}
    for score in scores:
        if score.similarity < REVIEW:
            break
        pairs.setdefault((score.a, score.b), None)
    return list(pairs)


def print_summary(run: SimilarityRun, stream: TextIO | None = None, limit: int = 10) -> None:
    """A few lines: what was compared, the pairs worth a look, what was skipped, where the report is."""
    stream = stream or sys.stdout
    functions = (*run.functions, ALL)
    print(f"similarity: {_count(len(run.students), 'submission')} ({len(run.unanswered)} with nothing beyond the "
          f"starter code) and {_count(len(run.against), 'collected solution')} compared; "
          f"{_count(len(run.scores), 'row')}"
          f" in {run.out / 'similarity.csv'}", file=stream)
    if run.review:
        print(f"worth a look (similarity {REVIEW:g} or more on a function; a reason to look, not a verdict):",
              file=stream)
        for a, b in run.review[:limit]:
            values = [(f, run.comparison.similarity(a, b, f)) for f in functions]
            text = ", ".join(f"{f} {v:.2f}" for f, v in values if v is not None)
            print(f"  {a} ~ {b}: {text}", file=stream)
        if len(run.review) > limit:
            print(f"  ... and {len(run.review) - limit} more pairs in the report", file=stream)
    else:
        print(f"no pair reaches {REVIEW:g} on any function", file=stream)
    for name, reason in run.skipped:
        print(f"not compared: {name}: {reason}", file=stream)
    print(f"report: {run.out / 'similarity.html'} (a reason to look, not a verdict)", file=stream)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
