"""What is compared: each submission's (or collected solution's) graded functions, fingerprinted.

The graded functions and their starter code come from the course's source notebook: its answer
cells (nbgrader ``solution`` cells named after the function) with the solution regions replaced
by nbgrader's stub, exactly what the release gives students. A submission's statements that are
the starter's (matched in order, see :func:`~resnet_signs.similarity.normalise.starter_positions`)
are shown but never compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from resnet_signs.grading import course as courses
from resnet_signs.similarity import normalise
from resnet_signs.similarity.fingerprints import fingerprints
from resnet_signs.similarity.normalise import Unit
from resnet_signs.similarity.sources import Definition, Unreadable, code_cells, parse

#: nbgrader's ClearSolutions: what a solution region becomes in the release.
_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?### END SOLUTION[^\n]*$", re.DOTALL | re.MULTILINE)
_STUB = r"\1# YOUR CODE HERE\n\1raise NotImplementedError()"


@dataclass(frozen=True)
class Assignment:
    """An assignment as compared.

    Attributes:
        name: its id (nbgrader's folder name), e.g. ``residual_networks``.
        notebook: the notebook's file name, e.g. ``Residual_Networks.ipynb``.
        functions: the graded functions, in notebook order.
        starters: each function's starter statements (normalised texts, as written).
    """

    name: str
    notebook: str
    functions: tuple[str, ...]
    starters: dict[str, list[str]]


@dataclass
class FunctionCode:
    """One graded function of one document.

    Attributes:
        units: its statements in canonical order, the starter's left out: what is fingerprinted.
        starter_lines: ``{definition: {line, ...}}`` of the starter statements, shown greyed.
        sources: ``{definition: lines}``: the graded function's and each inlined helper's code as written.
        prints: fingerprint hash -> indices of ``units`` it spans.
    """

    units: list[Unit]
    starter_lines: dict[str, set[int]]
    sources: dict[str, tuple[str, ...]]
    prints: dict[int, frozenset[int]]


@dataclass
class Document:
    """A submission (``kind == "student"``) or a collected solution (``"against"``, named by its path)."""

    name: str
    kind: str
    path: Path
    functions: dict[str, FunctionCode] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # why a graded function is not compared

    def answered(self, function: str) -> bool:
        code = self.functions.get(function)
        return bool(code and code.prints)


def load_assignment(course_root: Path, assignment: str | None = None) -> Assignment:
    """The graded functions of the course's assignment and their starter code.

    Raises:
        GradingError: the course directory has no (single) graded assignment or is inconsistent.
    """
    course = courses.load(course_root, assignment)
    notebook = nbformat.read(str(course.source), as_version=4)
    answers = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in course.functions:
            answers[grade_id] = starter_text(cell.source)
    starters = {}
    for function in course.functions:
        parsed = parse([answers.get(function, "")])
        if function not in parsed.definitions:
            raise courses.GradingError(f"{course.source}: the answer cell {function!r} does not define {function}()")
        written, _ = normalise.function_units(function, parsed.definitions, frozenset(course.functions))
        starters[function] = [u.text for u in written]
    return Assignment(course.assignment, course.notebook_name, course.functions, starters)


def starter_text(answer_cell: str) -> str:
    """An answer cell as the release gives it: each solution region replaced by nbgrader's stub."""
    return _SOLUTION.sub(_STUB, answer_cell)


def read(name: str, kind: str, path: Path, assignment: Assignment) -> Document:
    """The document at ``path`` with each graded function it defines.

    Raises:
        Unreadable: not a readable notebook or Python file.
    """
    parsed = parse(code_cells(path))
    document = Document(name, kind, path)
    graded = frozenset(assignment.functions)
    for function in assignment.functions:
        if function not in parsed.definitions:
            document.notes.append(f"{function}: no def {function}(...)" + _errors(parsed.errors))
            continue
        try:
            document.functions[function] = _function(function, parsed.definitions, graded,
                                                     assignment.starters[function])
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # hostile code: say so, go on
            document.notes.append(f"{function}: cannot be compared ({type(exc).__name__})")
    return document


def _errors(errors: tuple[str, ...]) -> str:
    return f" (syntax error at {errors[0]})" if errors else ""


def _function(function: str, definitions: dict[str, Definition], graded: frozenset[str],
              starter: list[str]) -> FunctionCode:
    written, canonical = normalise.function_units(function, definitions, graded)
    starters = {id(written[i]) for i in normalise.starter_positions(starter, written)}
    starter_lines: dict[str, set[int]] = {}
    for unit in written:
        if id(unit) in starters:
            starter_lines.setdefault(unit.where, set()).update(range(unit.lines[0], unit.lines[1] + 1))
    units = [u for u in canonical if id(u) not in starters]
    sources = {function: definitions[function].lines}
    for unit in units:
        if unit.where not in sources:
            sources[unit.where] = definitions[unit.where].lines
    return FunctionCode(units, starter_lines, sources, fingerprints(units))


__all__ = ["Assignment", "Document", "FunctionCode", "Unreadable", "load_assignment", "read", "starter_text"]
