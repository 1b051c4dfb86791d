"""The trust boundary is a module boundary: nothing students import, and nothing that runs beside
student code in the grader's sandbox, imports the instructor's side.

A static walk of the package's imports (every ``import`` statement, lazy ones inside functions
included), from the student-facing modules and the sandbox's, must never reach a module that
holds or loads answers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import resnet_signs

PACKAGE = Path(resnet_signs.__file__).resolve().parent
#: What students import in notebooks, and what the sandbox child imports before and beside student code.
STUDENT_SIDE = ("resnet_signs.checks", "resnet_signs.notebook", "resnet_signs.plots", "resnet_signs.images",
                "resnet_signs.data", "resnet_signs.training", "resnet_signs.experiments",
                "resnet_signs.grading.sandbox", "resnet_signs.grading.zygote")
#: Modules that hold answers or load them (the reference, hidden tests, expected values of hidden cases).
INSTRUCTOR_SIDE = ("resnet_signs.instructor", "resnet_signs.checks.generate", "resnet_signs.grading.judge",
                   "resnet_signs.grading.course", "resnet_signs.grading.core", "autograder")


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "resnet_signs":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str) -> set[str]:
    """Every module ``name``'s file imports (absolute names; ``from pkg import sub`` counts ``pkg.sub``)."""
    path = _module_file(name)
    if path is None:
        return set()
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.startswith(("resnet_signs", "autograder")) and (_module_file(m) or m.startswith("autograder"))}


def reachable(start: str) -> dict[str, str]:
    """Every module reachable from ``start``, mapped to the module that imports it."""
    seen, stack = {start: ""}, [start]
    while stack:
        current = stack.pop()
        for module in _imports(current):
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
    names = [package]
    for file in sorted(path.parent.rglob("*.py")):
        rel = file.relative_to(PACKAGE).with_suffix("")
        parts = ["resnet_signs", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


STARTS = [m for package in STUDENT_SIDE for m in _submodules(package)
          if not m.endswith((".cli", ".generate")) and m not in INSTRUCTOR_SIDE]


@pytest.mark.parametrize("start", STARTS)
def test_student_side_modules_never_reach_the_instructor_side(start):
    seen = reachable(start)
    leaks = [_chain(seen, m) for m in seen if m.startswith(INSTRUCTOR_SIDE)]
    assert leaks == []


def test_the_walk_finds_a_leak_when_there_is_one():
    """The test above can fail: the grader's core does reach the judge and the instructor's loader."""
    seen = reachable("resnet_signs.grading.core")
    assert "resnet_signs.grading.judge" in seen and "resnet_signs.instructor" in seen


def test_the_command_modules_left_out_are_instructor_tools():
    """The CLI modules skipped above are commands (``resnet-signs train``, ``expected``), not imported by notebooks."""
    skipped = [m for package in STUDENT_SIDE for m in _submodules(package) if m.endswith((".cli", ".generate"))]
    for module in skipped:
        for start in STARTS:
            assert module not in reachable(start), f"{start} imports the command module {module}"
