"""A class with planted copies, for the similarity report's tests and benchmark.

Independent answers come from the project's own fixtures: the committed samples (the solution
and its realistic mistakes: copies of one answer, as when a class copies a public solution),
the spellings in ``tests/checks/student_variants.py`` and the 2021 revision's identity block from
``autograder/samples/make_samples.py``. Each student's answer to each function has an *origin*;
two students whose answers share an origin are a copy pair, two with different origins an
independent pair. The planted copies are rewritten the way a student hides a copy: variables
renamed, comments removed and others written elsewhere, docstrings dropped, quotes and spacing
changed, independent statements swapped or moved, a helper function extracted.

Nothing here is imported by the package; ``benchmarks/similarity.py`` grows its class of 300
from the same students.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "assignments" / "residual_networks" / "Residual_Networks.ipynb"
SAMPLES = ROOT / "autograder" / "samples"
VARIANTS = ROOT / "tests" / "checks" / "student_variants.py"
MAKE_SAMPLES = SAMPLES / "make_samples.py"
NOTEBOOK = "Residual_Networks.ipynb"
ID, CONV, RES = "identity_block", "convolutional_block", "ResNet50"
FUNCTIONS = (ID, CONV, RES)

#: Samples that answer all three functions from the solution (each with at most one mistake).
COURSE_SAMPLES = ("solution", "conv-bn-axis-wrong", "conv-shortcut-wrong-stride", "identity-shortcut-after-relu",
                  "resnet50-stage4-stride", "resnet50-infinite-loop", "edited-test-cell", "monkeypatch-checks")
#: What a copier renames (never a keyword argument's name).
RENAMES = {"X": "Z", "X_shortcut": "skip", "shortcut": "bypass", "F1": "n1", "F2": "n2", "F3": "n3",
           "X_input": "inputs", "n": "width", "i": "step"}


# --------------------------------------------------------------------------- rewrites
def rename(code: str, names: dict[str, str] = RENAMES) -> str:
    """Every whole-word occurrence of each name replaced (outside strings, which these answers lack)."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b(?!=[^=])")  # not a keyword argument
    return pattern.sub(lambda m: names[m.group(1)], code)


def recomment(code: str) -> str:
    """Docstrings and comments removed; new comments written at other places."""
    code = re.sub(r'\n[ \t]*(?:"""|\'\'\').*?(?:"""|\'\'\')[ \t]*(?=\n)', "", code, flags=re.DOTALL)
    lines = []
    for line in code.splitlines():
        stripped = re.sub(r"\s+#.*$", "", line)
        if stripped.strip().startswith("#"):
            continue
        lines.append(stripped)
    out, body = [], 0
    for line in lines:
        if line.startswith("    ") and line.strip():
            body += 1
            if body % 3 == 2:
                out.append(line[: len(line) - len(line.lstrip())] + "# my own step, do not remove")
        out.append(line)
    return "\n".join(out) + "\n"


def requote(code: str) -> str:
    """Double quotes become single quotes (after :func:`recomment`: no docstrings left)."""
    return code.replace('"', "'")


def respace(code: str) -> str:
    """``a=b`` becomes ``a = b``, ``, `` becomes ``,``, and blank lines double."""
    code = re.sub(r"(?<=[\w)\]'\"])=(?=[\w(\['\"\-])", " = ", code)
    return code.replace(", ", ",").replace("\n\n", "\n\n\n")


def swap(code: str, first: str, second: str) -> str:
    """The statement on the line ``first`` and the next one, ``second`` (stripped lines), swapped."""
    lines = code.splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == first]
    after = [j for j in range(found[0] + 1, len(lines)) if lines[j].strip() and not lines[j].strip().startswith("#")]
    if len(found) != 1 or not after or lines[after[0]].strip() != second:
        raise AssertionError(f"no line {first!r} followed by {second!r} to swap in:\n{code}")
    i, j = found[0], after[0]
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def move(code: str, function: str, first: str, count: int, before: str) -> str:
    """``count`` top-level statements of ``function`` (from the one starting with ``first``) moved up to just
    before the statement starting with ``before`` (the caller makes sure they are independent)."""
    tree = ast.parse(code)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = code.splitlines()
    starts = [lines[s.lineno - 1].strip() for s in fn.body]
    i = next(n for n, text in enumerate(starts) if text.startswith(first))
    j = next(n for n, text in enumerate(starts) if text.startswith(before))
    assert j < i and i + count <= len(fn.body), f"cannot move {first!r} before {before!r}"
    block = lines[fn.body[i].lineno - 1:fn.body[i + count - 1].end_lineno]
    rest = lines[:fn.body[i].lineno - 1] + lines[fn.body[i + count - 1].end_lineno:]
    at = fn.body[j].lineno - 1
    return "\n".join(rest[:at] + block + rest[at:]) + "\n"


def extract_helper(code: str, function: str, first: str, count: int, helper: str) -> tuple[str, str]:
    """``count`` top-level statements of ``function`` (from the one starting with ``first``) moved into a
    new function ``helper``; returns ``(code calling it, the helper's code)``."""
    tree = ast.parse(code)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    lines = code.splitlines()
    start = next(i for i, s in enumerate(fn.body) if lines[s.lineno - 1].strip().startswith(first))
    moved = fn.body[start:start + count]
    assert len(moved) == count, f"{function} has no {count} statements from {first!r}"
    bound = [a.arg for a in fn.args.args]
    for statement in fn.body[:start]:
        bound += [n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    used = []
    for statement in moved:
        for n in ast.walk(statement):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in bound and n.id not in used:
                used.append(n.id)
    stored = [n.id for s in moved for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    target = [name for name in stored if name in bound][-1]  # what the caller goes on with (X)
    first_line, last_line = moved[0].lineno - 1, moved[-1].end_lineno
    indent = lines[first_line][: len(lines[first_line]) - len(lines[first_line].lstrip())]
    body = [("    " + line[len(indent):]) if line.strip() else "" for line in lines[first_line:last_line]]
    helper_code = "\n".join([f"def {helper}({', '.join(used)}):", *body, f"    return {target}", ""]) + "\n"
    call = f"{indent}{target} = {helper}({', '.join(used)})"
    return "\n".join([*lines[:first_line], call, *lines[last_line:]]) + "\n", helper_code


@dataclass(frozen=True)
class Rewrite:
    """How one planted copy hides one function: a swap, a helper extracted (in the answer cell or
    in a cell of its own), then renames, comments, quotes and spacing."""

    swap: tuple[str, str] | None = None
    move: tuple[str, int, str] | None = None  # (first statement, how many, before which statement)
    extract: tuple[str, int] | None = None  # (first statement, how many)
    helper_cell: bool = False

    def apply(self, code: str, function: str, helper: str) -> tuple[str, str]:
        """``(answer cell, extra cell before it or "")``."""
        extra = ""
        if self.swap:
            code = swap(code, *self.swap)
        if self.move:
            code = move(code, function, *self.move)
        if self.extract:
            code, helper_code = extract_helper(code, function, *self.extract, helper)
            if self.helper_cell:
                extra = helper_code
            else:
                code = code.replace(f"def {function}(", helper_code + "\n" + f"def {function}(", 1)
        code, extra = (respace(requote(recomment(rename(c)))) if c else "" for c in (code, extra))
        return code, extra


# --------------------------------------------------------------------------- answers
def _functions(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {n.name: ast.get_source_segment(text, n) for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}


def _old_revision_identity() -> str:
    tree = ast.parse(MAKE_SAMPLES.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "OLD_REVISION_IDENTITY":
            return ast.literal_eval(node.value)
    raise AssertionError("make_samples.py no longer has OLD_REVISION_IDENTITY")


def _answer(function: str, code: str, *helpers: str) -> str:
    return f"# GRADED FUNCTION: {function}\n\n" + "".join(h + "\n\n\n" for h in helpers) + code + "\n"


def _as(code: str, name: str) -> str:
    return re.sub(r"^def \w+\(", f"def {name}(", code, count=1)


def _sample_answers(sample: str) -> dict[str, str]:
    cells = json.loads((SAMPLES / sample / NOTEBOOK).read_text())["cells"]
    return {_grade_id(c): "".join(c["source"]) for c in cells if _grade_id(c) in FUNCTIONS}


def _grade_id(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def origins() -> dict[str, dict[str, tuple[str, str]]]:
    """``{author: {function: (origin, answer cell)}}``: each author's answers and where they come from.

    Two answers are the course's code in another spelling, so their origin is ``course``: the 2021
    revision's identity block (the same lines without ``training``) and ``resnet_course`` (the
    solution with stage 5 unrolled); they are copies of the solution's lineage, not independent work.
    """
    v = _functions(VARIANTS)
    return {
        "course": {f: ("course", code) for f, code in _sample_answers("solution").items()},
        "relu-layer": {ID: ("relu-layer", _answer(ID, _as(v["identity_plus_relu_layer"], ID))),
                       CONV: ("loop-plus", _answer(CONV, _as(v["conv_loop_plus"], CONV))),
                       RES: ("stage-table", _answer(RES, _as(v["resnet_stage_loop"], RES), v["_resnet"]))},
        "loop": {ID: ("loop", _answer(ID, _as(v["identity_loop"], ID))),
                 CONV: ("conv-helper", _answer(CONV, _as(v["conv_shortcut_without_bn"], CONV), v["_conv_block"])),
                 RES: ("course", _answer(RES, _as(v["resnet_course"], RES)))},
        "main-path-helper": {ID: ("main-path-helper", _answer(ID, _as(v["identity_bn_axis_1"], ID),
                                                              v["_identity_main"]))},
        "nested": {ID: ("nested", _answer(ID, _as(v["identity_no_training"], ID)))},
        "epsilon": {ID: ("epsilon", _answer(ID, _as(v["identity_bn_epsilon"], ID)))},
        "old-revision": {ID: ("course", _answer(ID, _old_revision_identity()))},
    }


# --------------------------------------------------------------------------- the class
@dataclass
class Student:
    """A submission of the test class: ``origins[function]`` is ``None`` where the release's stub is left."""

    name: str
    origins: dict[str, str | None]
    cells: dict[str, str] = field(default_factory=dict)  # answer cells that differ from the release
    extra: dict[str, str] = field(default_factory=dict)  # a helper's own cell, before the answer cell
    sample: str | None = None  # a committed sample, taken whole


#: Planted copies: ``(name, origin, {function: Rewrite})``; functions not listed keep the release's stub.
PLANTED = (
    ("copy-of-solution", "course", {
        ID: Rewrite(swap=("F1, F2, F3 = filters", "X_shortcut = X"), extract=('X = Conv2D(filters=F3', 2)),
        CONV: Rewrite(move=("X_shortcut = Conv2D(", 2, "X = Conv2D(filters=F2")),
        RES: Rewrite(extract=("X = convolutional_block(X, f=3, filters=[256", 2), helper_cell=True)}),
    ("copy-of-relu-layer", "relu-layer", {
        ID: Rewrite(swap=("F1, F2, F3 = filters", "shortcut = X"), extract=("X = Conv2D(F2", 2)),
        CONV: Rewrite(), RES: Rewrite()}),
    ("second-copy-of-relu-layer", "relu-layer", {ID: Rewrite(extract=("X = Conv2D(F1", 2), helper_cell=True),
                                                 CONV: Rewrite(extract=("for i, (n, k, stride)", 1))}),
    ("copy-of-loop", "loop", {ID: Rewrite(extract=("for i, (n, k)", 1)), RES: Rewrite()}),
    ("copy-of-main-path-helper", "main-path-helper", {ID: Rewrite()}),
    ("copy-of-nested", "nested", {ID: Rewrite(extract=("X = Conv2D(F2", 2), helper_cell=True)}),
    ("copy-of-epsilon", "epsilon", {ID: Rewrite(swap=("F1, F2, F3 = filters", "X_shortcut = X"))}),
    ("copy-of-old-revision", "old-revision", {ID: Rewrite(swap=("F1, F2, F3 = filters", "X_shortcut = X"),
                                                          extract=("X = Conv2D(filters=F2", 3))}),
)


def students() -> list[Student]:
    """The test class: the samples, one author per other origin, and the planted copies."""
    authors = origins()
    found = [Student(s, dict.fromkeys(FUNCTIONS, "course"), sample=s) for s in COURSE_SAMPLES]
    found.append(Student("untouched-release", dict.fromkeys(FUNCTIONS), sample="untouched-release"))
    for author, answers in authors.items():
        if author != "course":
            found.append(Student(f"author-{author}", {f: answers[f][0] if f in answers else None for f in FUNCTIONS},
                                 cells={f: code for f, (_, code) in answers.items()}))
    for name, author, rewrites in PLANTED:
        student = Student(name, {f: authors[author][f][0] if f in rewrites else None for f in FUNCTIONS})
        for function, rewrite in rewrites.items():
            cell, extra = rewrite.apply(authors[author][function][1], function, f"{function}_part")
            student.cells[function] = cell
            if extra:
                student.extra[function] = extra
        found.append(student)
    return found


def notebook(student: Student) -> dict:
    """The student's notebook: the release with their answer cells (or a committed sample)."""
    if student.sample:
        return json.loads((SAMPLES / student.sample / NOTEBOOK).read_text())
    nb = json.loads(RELEASE.read_text())
    cells = []
    for cell in nb["cells"]:
        function = _grade_id(cell)
        if function in student.extra:
            cells.append({"cell_type": "code", "execution_count": None, "id": f"helper-{function}",
                          "metadata": {}, "outputs": [], "source": student.extra[function]})
        if function in student.cells:
            cell = dict(copy.deepcopy(cell), source=student.cells[function])
        cells.append(cell)
    return dict(nb, cells=cells)


def write(root: Path, class_students: list[Student] | None = None) -> list[Student]:
    """Each student's notebook as ``root/<name>/Residual_Networks.ipynb``; returns the students."""
    class_students = students() if class_students is None else class_students
    for student in class_students:
        folder = root / student.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / NOTEBOOK).write_text(json.dumps(notebook(student), indent=1), encoding="utf-8")
    return class_students


def pairs(class_students: list[Student], function: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(copy pairs, independent pairs)`` of the students who answered ``function``."""
    answered = [s for s in class_students if s.origins[function]]
    copies, independent = [], []
    for i, a in enumerate(answered):
        for b in answered[i + 1:]:
            (copies if a.origins[function] == b.origins[function] else independent).append((a.name, b.name))
    return copies, independent
