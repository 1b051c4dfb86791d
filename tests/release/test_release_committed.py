"""The committed generated notebooks: in sync with their Markdown source, and what each must hold."""

from __future__ import annotations

import ast

import nbformat
import pytest

from resnet_signs import paths
from resnet_signs.release import ASSIGNMENTS, release

from .test_release_autograde import TEST_CELLS

ROOT = paths.PROJECT_ROOT
COURSE = ROOT / "autograder"
GRADED = next(a for a in ASSIGNMENTS if a.graded)
ANSWERS = ("identity_block", "convolutional_block", "ResNet50")


def _read(path):
    return nbformat.read(path, as_version=4)


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _answer_cells(nb) -> dict:
    return {_nbgrader(c)["grade_id"]: c for c in nb.cells if _nbgrader(c).get("solution")}


def _test_cells(nb) -> dict:
    return {_nbgrader(c)["grade_id"]: c for c in nb.cells if _nbgrader(c).get("grade")}


def _signature(function: ast.FunctionDef) -> tuple:
    """Positional parameters and their defaults (the reference's keyword-only ``name`` is not part of the course)."""
    args = function.args
    return [a.arg for a in args.args], [ast.unparse(d) for d in args.defaults]


def _course_signatures() -> dict:
    tree = ast.parse((COURSE / "reference.py").read_text())
    return {f.name: _signature(f) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name in ANSWERS}


def _only_function(cell) -> ast.FunctionDef:
    tree = ast.parse(cell.source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert len(functions) == 1, f"cell {cell.get('id')}: defines {[f.name for f in functions]}"
    return functions[0]


def _hidden_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def test_committed_notebooks_are_in_sync_with_their_markdown_sources():
    stale = release(check=True, log=lambda line: None)
    assert stale == [], "stale generated notebooks (run `make release`): " + "; ".join(stale)


@pytest.mark.parametrize("kind", ["source", "release", "solution"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_every_generated_notebook_says_so(assignment, kind):
    path = getattr(assignment, kind)(COURSE if kind == "source" else ROOT)
    nb = _read(path)
    source = f"autograder/source/{assignment.id}/{assignment.name}.md"
    assert nb.metadata["resnet_signs"]["source"] == source
    assert nb.metadata["resnet_signs"]["generated_by"] == "make release"
    assert "make release" in nb.cells[0].source and source in nb.cells[0].source


@pytest.mark.parametrize("language", ["en", "zh_CN", "zh_TW"])
def test_only_the_graded_release_asks_students_to_write_code_where_it_says_so(language):
    for assignment in ASSIGNMENTS:
        nb = _read(assignment.release(ROOT, language))
        has_stub = any("# YOUR CODE HERE" in c.source for c in nb.cells if c.cell_type == "code")
        assert has_stub == assignment.graded
        assert ("`# YOUR CODE HERE`" in nb.cells[0].source) == has_stub, assignment.id


def test_release_answer_cells_are_stubs_with_the_course_signatures():
    answers = _answer_cells(_read(GRADED.release(ROOT)))
    assert sorted(answers) == sorted(ANSWERS)
    signatures = _course_signatures()
    for grade_id, cell in answers.items():
        function = _only_function(cell)
        assert function.name == grade_id
        assert _signature(function) == signatures[grade_id], grade_id
        assert "# YOUR CODE HERE" in cell.source and "raise NotImplementedError()" in cell.source
        assert "SOLUTION" not in cell.source


def test_release_test_cells_are_locked_worth_one_point_and_named_after_their_function():
    tests = _test_cells(_read(GRADED.release(ROOT)))
    assert set(tests) == TEST_CELLS
    for grade_id, cell in tests.items():
        assert grade_id.startswith(ANSWERS)
        meta = _nbgrader(cell)
        assert (meta["locked"], meta["points"], meta["solution"]) == (True, 1, False), grade_id
        assert (cell.metadata.get("editable"), cell.metadata.get("deletable")) == (False, False), grade_id


def test_release_has_no_hidden_tests_no_solutions_and_no_outputs():
    release_nb = _read(GRADED.release(ROOT))
    source_tests = _test_cells(_read(GRADED.source(COURSE)))
    hidden = {gid: _hidden_lines(c.source) for gid, c in source_tests.items()}
    assert any(hidden.values()), "the source notebook has no hidden tests at all"
    for grade_id, cell in _test_cells(release_nb).items():
        assert "HIDDEN TESTS" not in cell.source
        leaked = [line for line in hidden[grade_id] if line in cell.source.splitlines()]
        assert leaked == [], f"{grade_id}: hidden test lines in the release: {leaked}"
    for cell in release_nb.cells:
        assert "BEGIN SOLUTION" not in cell.source and "END SOLUTION" not in cell.source
        if cell.cell_type == "code":
            assert (cell.outputs, cell.execution_count) == ([], None), cell.get("id")


def test_solution_holds_the_answers_without_hidden_tests_or_dataset_images():
    nb = _read(GRADED.solution(ROOT))
    for grade_id, cell in _answer_cells(nb).items():
        assert _only_function(cell).name == grade_id
        assert "NotImplementedError" not in cell.source and "SOLUTION" not in cell.source
    for cell in nb.cells:
        assert "HIDDEN TESTS" not in cell.source
        if "dataset-images" in cell.metadata.get("tags", []):
            assert not [o for o in cell.get("outputs", []) if any(k.startswith("image/") for k in o.get("data", {}))]


def _json_outputs(nb, budget: str) -> dict:
    """``{experiment: summary}`` of every ``application/json`` output at ``budget`` of an executed notebook."""
    summaries = [o["data"]["application/json"] for cell in nb.cells if cell.cell_type == "code"
                 for o in cell.get("outputs", []) if "application/json" in o.get("data", {})]
    return {s["experiment"]: s for s in summaries if s["budget"] == budget}


def test_executed_lab_solution_carries_each_experiments_numbers_as_json():
    lab = next(a for a in ASSIGNMENTS if not a.graded)
    nb = _read(lab.solution(ROOT))
    for budget in ("full", "quick"):  # the full budget, and the students' default beside it (make release sets both)
        summaries = _json_outputs(nb, budget)
        assert set(summaries) == {"depth", "gradients", "extra-block", "shortcuts"}, budget
        for data in summaries.values():
            assert data["verdicts"] and all(v["text"] for v in data["verdicts"])
    summaries = _json_outputs(nb, "full")
    train_error = summaries["depth"]["train_error"]
    for net in ("plain", "resnet"):
        depths = sorted(map(int, train_error[net]))
        assert 20 in depths and depths[-1] >= 56, depths
        assert all(len(per_seed) >= 3 for per_seed in train_error[net].values())
