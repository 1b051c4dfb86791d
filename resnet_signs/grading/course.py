"""The course directory, read once: which assignment, which functions, which tests, which reference.

Everything the grader grades against comes from the course directory (``--course DIR`` or
``RESNET_SIGNS_COURSE``), never from constants in the package:

- ``source/<assignment>/<Notebook>.ipynb``: the nbgrader source notebook. Its answer cells (nbgrader
  ``solution`` cells) name the graded functions; its graded test cells are the tests, with their
  points and canonical text (to detect tampering); cells tagged ``skip-when-grading`` are cells a
  grade cannot depend on (figures, demos), skipped when a submission leaves them unchanged;
- ``hidden_tests.py``: what each test cell captures and how it is judged (data only: typed
  entries, :class:`~resnet_signs.grading.hidden.GradedTest`);
- ``reference.py``: the instructor's implementation, loaded only by the judge.

Parent-side only: this module loads instructor files and never runs next to student code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat

from resnet_signs.checks.cases import StandInSpec
from resnet_signs.errors import CourseError
from resnet_signs.grading.hidden import GradedTest
from resnet_signs.grading.plan import TestRequest, normalise

#: nbgrader-compatible cell tag: a grade cannot depend on this cell (skipped while unchanged).
SKIP_TAG = "skip-when-grading"
_HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*\n?", re.DOTALL | re.MULTILINE)


class GradingError(CourseError):
    """The instructor's side of grading is broken (unreadable source notebook, inconsistent tests...)."""


def released_text(text: str) -> str:
    """The cell as nbgrader releases it: ``### BEGIN/END HIDDEN TESTS`` regions removed."""
    return _HIDDEN_REGION.sub("", text)


@dataclass(frozen=True)
class TestCell:
    """A graded test cell of the source notebook and how it is judged."""

    test_id: str
    function: str
    points: float
    hidden: bool
    texts: frozenset[str]  # accepted (normalised) texts: the source's and the release's
    kind: str  # resnet_signs.grading.hidden.KINDS
    cases: tuple  # BlockCase / ModelCase

    def request(self) -> TestRequest:
        """What the sandbox needs to capture for this test: no answer, no expected value."""
        return TestRequest(self.function, self.cases)


@dataclass(frozen=True)
class Course:
    """A course directory's graded assignment."""

    root: Path
    assignment: str
    source: Path
    functions: tuple[str, ...]
    tests: tuple[TestCell, ...]
    grade_ids: tuple[str, ...]  # answer and test ids in source order
    skip_texts: frozenset[str]  # normalised texts of the cells tagged skip-when-grading
    stand_ins: dict[str, StandInSpec]

    @property
    def notebook_name(self) -> str:
        return self.source.name

    def test(self, test_id: str) -> TestCell:
        return next(t for t in self.tests if t.test_id == test_id)

    def requests(self) -> dict[str, TestRequest]:
        """The observing half of every test, for the sandbox."""
        return {t.test_id: t.request() for t in self.tests}


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def find_assignment(root: Path, assignment: str | None = None) -> Path:
    """The source notebook of ``assignment``, or of the only source notebook with graded cells."""
    sources = root / "source"
    if assignment is not None:
        found = sorted((sources / assignment).glob("*.ipynb"))
        if len(found) != 1:
            raise GradingError(f"expected one source notebook in {sources / assignment}, found {len(found)}: "
                               "run `resnet-signs release` or check --course/--assignment")
        return found[0]
    graded = []
    for path in sorted(sources.glob("*/*.ipynb")):
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 - unreadable sources are reported when chosen explicitly
            continue
        if any(_nbgrader(c).get("grade") for c in nb.cells):
            graded.append(path)
    if len(graded) != 1:
        names = ", ".join(p.parent.name for p in graded) or "none"
        raise GradingError(f"{root} should have one graded assignment under source/, found: {names} "
                           "(pass --assignment)")
    return graded[0]


def load(root: Path, assignment: str | None = None) -> Course:
    """Read the course directory (cached per path and file times).

    Raises:
        GradingError: no or several graded assignments, an unreadable source, a test cell without a
            hidden-tests entry (or the reverse), a test whose function has no answer cell.
    """
    root = Path(root).resolve()
    source = find_assignment(root, assignment)
    hidden = root / "hidden_tests.py"
    stamp = tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in (source, hidden))
    return _load(root, source, stamp)


@lru_cache(maxsize=8)
def _load(root: Path, source: Path, _stamp) -> Course:
    from resnet_signs.instructor import ReferenceNotFound, load_hidden_tests

    try:
        hidden = load_hidden_tests(root)
    except ReferenceNotFound as exc:
        raise GradingError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the instructor's file: any error in it is one line, not a traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise GradingError(f"{root / 'hidden_tests.py'}: {type(exc).__name__}: {first}") from None
    table = getattr(hidden, "TESTS", None)
    if not isinstance(table, dict):
        raise GradingError(f"{root / 'hidden_tests.py'} defines no TESTS table")
    wrong = next(((k, v) for k, v in table.items() if not isinstance(v, GradedTest)), None)
    if wrong is not None:
        raise GradingError(f"hidden_tests.py: TESTS[{wrong[0]!r}] must be a GradedTest(function, kind, cases), "
                           f"got {type(wrong[1]).__name__}")
    try:
        nb = nbformat.read(str(source), as_version=4)
    except Exception as exc:  # nbformat raises assorted types for unreadable files
        raise GradingError(f"cannot read the source notebook {source}: {type(exc).__name__}: {exc}") from exc
    functions = {entry.function for entry in table.values()}
    present = {_nbgrader(c).get("grade_id") for c in nb.cells if _nbgrader(c).get("solution")}
    missing = sorted(functions - present)
    if missing:
        raise GradingError(f"{source}: no answer cell with grade_id {', '.join(missing)}: "
                           "is it the assignment's source?")
    tests, ids, skip, current, answers = [], [], set(), None, []
    for cell in nb.cells:
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            skip.add(normalise(released_text(cell.source)))
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if cell.cell_type != "code" or not grade_id:
            continue
        if meta.get("solution") and grade_id in functions:
            current = grade_id
            answers.append(grade_id)
        elif meta.get("grade"):
            tests.append(_test_cell(source, table, grade_id, current, meta, cell.source))
        else:
            continue
        ids.append(grade_id)
    untested = sorted(set(table) - {t.test_id for t in tests})
    if untested:
        raise GradingError(f"hidden_tests.py has tests with no test cell in {source.name}: {', '.join(untested)}")
    stand_ins = dict(getattr(hidden, "STAND_INS", {}))
    return Course(root, source.parent.name, source, tuple(answers), tuple(tests), tuple(ids), frozenset(skip),
                  stand_ins)


def _test_cell(source: Path, table: dict[str, GradedTest], grade_id: str, current: str | None, meta: dict,
               text: str) -> TestCell:
    if current is None:
        raise GradingError(f"{source}: test cell {grade_id!r} comes before any answer cell")
    if grade_id not in table:
        raise GradingError(f"{source}: test cell {grade_id!r} has no entry in hidden_tests.py")
    entry = table[grade_id]
    if entry.function != current:
        raise GradingError(f"{source}: test cell {grade_id!r} follows the answer cell {current!r} but hidden_tests.py "
                           f"says it tests {entry.function!r}")
    texts = frozenset({normalise(text), normalise(released_text(text))})
    return TestCell(grade_id, entry.function, float(meta.get("points", 0)), "BEGIN HIDDEN TESTS" in text, texts,
                    entry.kind, entry.cases)
