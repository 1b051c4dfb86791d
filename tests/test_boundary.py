"""The trust boundary is a module boundary, and the package's imports form no circle.

Nothing students import, and nothing that runs beside student code in the grader's sandbox, may
import a module that holds or loads answers, directly or through others. A static walk of every
``import`` statement (lazy ones inside functions included; those under ``if TYPE_CHECKING:`` never
run and are left out) proves it for every module of the student-facing packages and for everything
the sandbox child and its zygote reach, with no exemption.

What holds answers is found, not listed: the course's files (``autograder/``: the reference, the
hidden tests) are loaded by one module, :mod:`resnet_signs.instructor`, so the instructor's side
is that module and every module that reaches it.
"""

from __future__ import annotations

import ast
import json
import sys
from functools import cache
from pathlib import Path

import pytest

import resnet_signs
from resnet_signs import paths

PACKAGE = Path(resnet_signs.__file__).resolve().parent
#: The one module that loads the course's files (a test below checks that no other module does).
LOADER = "resnet_signs.instructor"
#: Packages whose modules students import in notebooks (a test below checks the notebooks against it).
STUDENT_FACING = ("resnet_signs.checks", "resnet_signs.notebook", "resnet_signs.plots", "resnet_signs.images",
                  "resnet_signs.data", "resnet_signs.training", "resnet_signs.experiments", "resnet_signs.i18n")
#: What runs beside student code: the sandbox child and the zygote that forks it (their whole reach is walked).
SANDBOX_ENTRIES = ("resnet_signs.grading.sandbox", "resnet_signs.grading.zygote")


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "resnet_signs":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(tree: ast.AST):
    """Every node of ``tree`` except those inside ``if TYPE_CHECKING:`` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if _is_type_checking(node):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _package_of(name: str) -> str:
    path = _module_file(name)
    return name if path is not None and path.name == "__init__.py" else name.rpartition(".")[0]


def _target(name: str) -> str | None:
    """The module an import of ``name`` runs: ours when it is a module of the package, the course's files
    under their own names (``autograder.reference``), nothing for third-party modules."""
    if name.split(".")[0] == "autograder":
        return name
    return name if _module_file(name) else None


@cache
def imports(name: str) -> frozenset[str]:
    """The modules of the package (and of ``autograder/``) that module ``name`` imports.

    ``from pkg import sub`` imports ``pkg.sub`` when that is a module, else ``pkg``; a relative import
    is resolved against ``name``'s package.
    """
    path = _module_file(name)
    if path is None:
        return frozenset()
    found = set()
    for node in _statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(_target(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package_of(name).split(".")
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(_target(f"{base}.{alias.name}") or _target(base))
    found.discard(None)
    found.discard(name)
    return frozenset(found)


def reachable(start: str) -> dict[str, str]:
    """Every module reachable from ``start``, mapped to the module that imports it."""
    seen, stack = {start: ""}, [start]
    while stack:
        current = stack.pop()
        for module in sorted(imports(current)):
            if module not in seen:
                seen[module] = current
                stack.append(module)
    return seen


def _chain(seen: dict[str, str], module: str) -> str:
    chain = [module]
    while seen.get(chain[-1]):
        chain.append(seen[chain[-1]])
    return " <- ".join(chain)


def _submodules(package: str) -> list[str]:
    path = _module_file(package)
    if path is None or path.name != "__init__.py":
        return [package]
    names = []
    for file in sorted(path.parent.rglob("*.py")):
        parts = ("resnet_signs", *file.relative_to(PACKAGE).with_suffix("").parts)
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


ALL_MODULES = _submodules("resnet_signs")
#: Modules that hold or load answers: the loader, the course's files, and whatever reaches either.
INSTRUCTOR_SIDE = sorted(m for m in ALL_MODULES
                         if any(r == LOADER or r.startswith("autograder") for r in reachable(m)))
STUDENT_SIDE = sorted({m for package in STUDENT_FACING for m in _submodules(package)}
                      | {m for entry in SANDBOX_ENTRIES for m in reachable(entry) if m.startswith("resnet_signs")})


@pytest.mark.parametrize("start", STUDENT_SIDE)
def test_student_side_modules_never_reach_the_instructor_side(start):
    seen = reachable(start)
    leaks = [_chain(seen, m) for m in seen if m == LOADER or m.startswith("autograder") or m in INSTRUCTOR_SIDE]
    assert leaks == []


def test_the_instructor_side_is_found_and_the_walk_finds_a_leak_when_there_is_one():
    """The test above can fail: the grader's core, the judge and the expected values reach the loader."""
    for module in ("resnet_signs.grading.core", "resnet_signs.grading.judge", "resnet_signs.grading.course",
                   "resnet_signs.grading.expected", "resnet_signs.grading.plain_nbgrader"):
        assert module in INSTRUCTOR_SIDE
        assert LOADER in reachable(module), module
    assert "resnet_signs.grading.sandbox" in STUDENT_SIDE and "resnet_signs.grading.channel" in STUDENT_SIDE


def test_the_instructor_loader_is_a_leaf():
    """No module the loader imports imports it back: it needs nothing but the paths."""
    below = set(reachable(LOADER)) - {LOADER}
    assert below == {"resnet_signs.paths"}
    assert [m for m in below if LOADER in reachable(m)] == []


def test_only_the_loader_executes_the_course_files():
    """Why the instructor's side is what reaches the loader: no other module runs a file as a module."""
    runners = [m for m in ALL_MODULES
               if any(word in _module_file(m).read_text(encoding="utf-8")
                      for word in ("spec_from_file_location", "exec_module", "runpy", "SourceFileLoader"))]
    assert runners == [LOADER]


def _notebook_imports() -> set[str]:
    found = set()
    for notebook in sorted((paths.PROJECT_ROOT / "assignments").rglob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            lines = "".join(cell["source"]).splitlines()
            code = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [_target(f"{node.module}.{a.name}") or node.module for a in node.names]
                found.update(n for n in names if n and n.startswith("resnet_signs"))
    return found


def test_what_the_notebooks_import_is_student_facing():
    imported = _notebook_imports()
    assert imported, "no resnet_signs import found in the released notebooks"
    outside = [m for m in imported if m != "resnet_signs" and m not in STUDENT_SIDE]
    assert outside == []
    assert imports("resnet_signs") <= set(STUDENT_SIDE)  # the package's own __init__, which every import runs


# --- No import circle ----------------------------------------------------------------------------------


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The import circles of ``graph``: its strongly connected components of more than one module
    (Tarjan's algorithm, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_the_package_has_no_import_circle():
    graph = {m: frozenset(i for i in imports(m) if i.startswith("resnet_signs")) for m in ALL_MODULES}
    assert cycles(graph) == []


def test_the_circle_finder_finds_circles():
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a", "d"}), "d": frozenset(),
             "e": frozenset({"f"}), "f": frozenset({"e"})}
    assert cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_the_walk_reads_lazy_relative_and_from_imports_but_not_type_checking_blocks(tmp_path, monkeypatch):
    package = tmp_path / "resnet_signs"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import b\nif TYPE_CHECKING:\n    from resnet_signs import hidden\n"
        "def f():\n    from resnet_signs.sub.c import thing\n    import autograder.reference\n")
    for name in ("b", "c"):
        (package / "sub" / f"{name}.py").write_text("")
    (package / "hidden.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    imports.cache_clear()
    try:
        assert imports("resnet_signs.sub.a") == {"resnet_signs.sub.b", "resnet_signs.sub.c", "autograder.reference"}
    finally:
        imports.cache_clear()
