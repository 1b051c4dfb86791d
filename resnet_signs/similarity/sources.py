"""Reading what is compared: the code cells of a notebook (or a ``.py`` file) and its top-level functions.

A submission is hostile input: a file that is not a notebook, a cell that does not parse or a
function defined twice must not stop the report. Unreadable files raise :class:`Unreadable` with
a one-line reason (the report lists them as skipped); a cell with a syntax error is parsed in
pieces, so one broken statement loses only the piece it is in.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

#: A notebook bigger than this is not a submission (outputs included; they are not read).
MAX_BYTES = 64 * 2**20
#: IPython's line magics and shell escapes, which are not Python.
_MAGIC = re.compile(r"^(\s*)[%!].*$", re.MULTILINE)
#: Where a top-level statement may start: a line that is not indented, blank or a comment.
_TOP_LEVEL = re.compile(r"^(?=[^\s#])", re.MULTILINE)
#: Line ends as Python counts them (str.splitlines also splits at form feeds and other separators).
_LINES = re.compile(r"\r\n|\r|\n")


class Unreadable(Exception):
    """A file that holds no readable code; ``str(error)`` is the reason, one line."""


@dataclass(frozen=True)
class Definition:
    """A top-level ``def`` of a notebook or file.

    Attributes:
        name: the function's name.
        lines: the source lines of the definition alone (decorators included), as written.
        code: the same as Python (IPython's magics made ``pass``), for :meth:`tree`.
    """

    name: str
    lines: tuple[str, ...]
    code: str

    def tree(self) -> ast.FunctionDef | ast.AsyncFunctionDef:
        """A fresh syntax tree of the definition (callers edit it), line 1 being its first line."""
        return ast.parse(self.code).body[0]


@dataclass(frozen=True)
class Parsed:
    """A file's top-level functions (the last definition of a name wins, as when a notebook runs
    top to bottom) and the syntax errors that hid code (``"line 3 of code cell 12: ..."``)."""

    definitions: dict[str, Definition]
    errors: tuple[str, ...]


def code_cells(path: Path) -> list[str]:
    """The code of ``path``: a notebook's code cells in order, or a ``.py`` file as one cell.

    Raises:
        Unreadable: missing, too big, not UTF-8, not a notebook.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise Unreadable(f"{size / 2**20:.0f} MB: larger than a notebook ({MAX_BYTES // 2**20} MB)")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8 text") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    if path.suffix != ".ipynb":
        return [text]
    try:
        notebook = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"not a notebook: invalid JSON ({str(exc).splitlines()[0]})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise Unreadable("not a notebook: no list of cells")
    found = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if isinstance(source, str):
            found.append(source)
    return found


def parse(cells: list[str]) -> Parsed:
    """The top-level functions of ``cells`` (see :class:`Parsed`)."""
    definitions: dict[str, Definition] = {}
    errors: list[str] = []
    for number, cell in enumerate(cells, start=1):
        if "def" not in cell:  # most cells define nothing: no need to parse them
            continue
        python = _MAGIC.sub(lambda m: m.group(1) + "pass", cell)
        written, lines = _LINES.split(cell), _LINES.split(python)
        for tree, problem in _pieces(python):
            if problem is not None:
                errors.append(f"line {problem[0]} of code cell {number}: {problem[1]}")
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    definitions[node.name] = Definition(node.name, tuple(written[first - 1:node.end_lineno]),
                                                        "\n".join(lines[first - 1:node.end_lineno]))
    return Parsed(definitions, tuple(errors))


def _pieces(text: str):
    """``(tree, None)`` for the whole cell or, when it does not parse, for each piece of it that
    starts at an unindented line (``(None, (line, message))`` for the pieces that still fail). Line
    numbers count from the cell's first line."""
    tree, _ = _parse(text)
    if tree is not None:
        yield tree, None
        return
    starts = [m.start() for m in _TOP_LEVEL.finditer(text)] + [len(text)]
    for begin, end in itertools.pairwise(starts):
        skipped = text.count("\n", 0, begin)
        tree, problem = _parse(text[begin:end])
        if tree is None:
            yield None, (problem[0] + skipped, problem[1])
        else:
            yield ast.increment_lineno(tree, skipped), None


def _parse(text: str) -> tuple[ast.Module | None, tuple[int, str]]:
    """The syntax tree of ``text``, or why there is none (a syntax error; null bytes; nesting deeper
    than the parser allows)."""
    try:
        return ast.parse(text), (0, "")
    except SyntaxError as error:
        return None, (error.lineno or 1, error.msg)
    except (ValueError, RecursionError, MemoryError) as error:
        return None, (1, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'cannot parse'}")
