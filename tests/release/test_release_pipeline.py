"""The release pipeline on a tiny fixture project: outputs, determinism, --check, errors."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from resnet_signs import cli
from resnet_signs.release import ReleaseError, release
from resnet_signs.release import execute as executing
from resnet_signs.release.notebooks import BANNER_ID, IMAGES_NOT_COMMITTED

from .conftest import FIXTURES, make_tiny_project

GENERATED = [
    "autograder/source/residual_networks/Residual_Networks.ipynb",
    "assignments/residual_networks/Residual_Networks.ipynb",
    "solutions/residual_networks/Residual_Networks.ipynb",
    "autograder/source/why_resnets_work/Why_ResNets_Work.ipynb",
    "assignments/why_resnets_work/Why_ResNets_Work.ipynb",
    "solutions/why_resnets_work/Why_ResNets_Work.ipynb",
]


def _release(project, **kwargs):
    return release(course=project / "autograder", root=project, log=lambda line: None, **kwargs)


def _snapshot(project, paths=GENERATED):
    return {p: (project / p).read_bytes() for p in paths}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """The fixture project released once with executed solutions, and what release() returned.

    Tests must not modify it: those that edit files work on a copy (``_copy``).
    """
    project = make_tiny_project(tmp_path_factory.mktemp("released"))
    return project, _release(project, execute=True)


def _copy(released, tmp_path):
    project, _ = released
    shutil.copytree(project, tmp_path / "project")
    return tmp_path / "project"


def test_release_writes_source_release_and_solution_of_each_assignment(released):
    project, written = released
    assert written == GENERATED
    for path in GENERATED:
        nb = nbformat.read(project / path, as_version=4)
        nbformat.validate(nb)
        assert nb.cells[0].id == BANNER_ID and "make release" in nb.cells[0].source
        assert nb.metadata["resnet_signs"]["source"].startswith("autograder/source/")
        assert "jupytext" not in nb.metadata


def test_another_checkout_regenerates_identical_files(released, tiny_project):
    project, _ = released
    _release(tiny_project, execute=False)
    unexecuted = [p for p in GENERATED if not p.startswith("solutions/")]
    assert _snapshot(tiny_project, unexecuted) == _snapshot(project, unexecuted)
    for path, data in _snapshot(tiny_project).items():
        assert str(tiny_project).encode() not in data, path


def test_executed_solution_keeps_outputs_but_not_dataset_images(released):
    project, _ = released
    nb = nbformat.read(project / "solutions/residual_networks/Residual_Networks.ipynb", as_version=4)
    images_cell = next(c for c in nb.cells if "dataset-images" in c.metadata.get("tags", []))
    assert [o.get("text") for o in images_cell.outputs] == [IMAGES_NOT_COMMITTED, "six classes\n"]
    last = nb.cells[-1]
    assert last.outputs[0].text == "trained: ((64, 64, 3), 6)\n"
    assert "execution" not in last.metadata


def test_solution_has_answers_without_markers_or_hidden_tests(released):
    project, _ = released
    text = (project / "solutions/residual_networks/Residual_Networks.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "HIDDEN TESTS" not in text and "[5], 2, [2, 2, 5]" not in text
    assert "return X[::s]" in text


def test_check_passes_on_executed_release_and_writes_nothing(released):
    project, _ = released
    course = project / "autograder"
    state = [course / "gradebook.db", course / "release/residual_networks/Residual_Networks.ipynb"]
    before = _snapshot(project), [p.stat().st_mtime_ns for p in state]
    assert _release(project, check=True) == []
    assert (_snapshot(project), [p.stat().st_mtime_ns for p in state]) == before


def test_check_names_every_notebook_made_stale_by_a_markdown_edit(released, tmp_path):
    project = _copy(released, tmp_path)
    md = project / "autograder/source/residual_networks/Residual_Networks.md"
    md.write_text(md.read_text().replace("A tiny stand-in", "A small stand-in"))
    stale = _release(project, check=True, assignments=["residual_networks"])
    md_label = "autograder/source/residual_networks/Residual_Networks.md"
    assert stale == [f"{p} (out of date with {md_label})" for p in GENERATED[:3]]


def test_unknown_assignment_is_a_one_line_error(tiny_project):
    message = r"^unknown assignment 'nope': choose from residual_networks, why_resnets_work$"
    with pytest.raises(ReleaseError, match=message):
        _release(tiny_project, assignments=["nope"])


def test_missing_markdown_source_is_named(tiny_project):
    (tiny_project / "autograder/source/why_resnets_work/Why_ResNets_Work.md").unlink()
    with pytest.raises(ReleaseError, match=r"^no notebook source at .*Why_ResNets_Work\.md: write it as jupytext"):
        _release(tiny_project, execute=False)


def _use_fixture(project, fixture):
    shutil.copy(FIXTURES / fixture, project / "autograder/source/residual_networks/Residual_Networks.md")


def test_hidden_tests_outside_a_test_cell_fail_in_nbgrader_with_its_reason(tiny_project):
    _use_fixture(tiny_project, "hidden-tests-outside-test-cell.md")
    message = r"^nbgrader generate_assignment residual_networks failed: .*Hidden test region"
    with pytest.raises(ReleaseError, match=message):
        _release(tiny_project, execute=False, assignments=["residual_networks"])


def test_duplicate_grade_ids_are_refused(tiny_project):
    _use_fixture(tiny_project, "duplicate-grade-id.md")
    with pytest.raises(ReleaseError, match=r"^two cells share the nbgrader grade_id 'identity_block'"):
        _release(tiny_project, execute=False, assignments=["residual_networks"])


def test_a_failing_solution_cell_is_named(tiny_project):
    _use_fixture(tiny_project, "solution-cell-raises.md")
    message = r"Residual_Networks\.md: cell cell-002 raised ValueError: the solution is broken$"
    with pytest.raises(ReleaseError, match=message):
        _release(tiny_project, execute=True, assignments=["residual_networks"])


def test_a_solution_that_fails_later_keeps_the_earlier_executed_one(tiny_project):
    lab = tiny_project / "autograder/source/why_resnets_work/Why_ResNets_Work.md"
    shutil.copy(FIXTURES / "solution-cell-raises.md", lab)
    with pytest.raises(ReleaseError, match=r"Why_ResNets_Work\.md: cell cell-002 raised ValueError"):
        _release(tiny_project, execute=True)
    nb = nbformat.read(tiny_project / "solutions/residual_networks/Residual_Networks.ipynb", as_version=4)
    assert nb.cells[-1].outputs[0].text == "trained: ((64, 64, 3), 6)\n"
    assert not (tiny_project / "solutions/why_resnets_work/Why_ResNets_Work.ipynb").exists()


def test_execution_reports_each_slow_cell_after_it_ran(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t")])
    nb.cells += [
        nbformat.v4.new_code_cell("import time; time.sleep(1.5)", id="slow"),
        nbformat.v4.new_code_cell("1", id="fast"),
    ]
    lines = []
    executing.execute(nb, workdir=tmp_path, label="t.md", log=lines.append, report_after_s=1.0)
    assert len(lines) == 1 and lines[0].startswith("  t.md: cell slow (2/3) took")


def test_the_lab_solution_runs_the_full_budget_without_the_smoke_switches(tmp_path, monkeypatch):
    from resnet_signs.release.assignments import select

    [lab] = select(["why_resnets_work"])
    [main] = select(["residual_networks"])
    assert dict(lab.solution_env) == {"RESNET_SIGNS_LAB_BUDGET": "full,quick"} and not main.solution_env
    monkeypatch.setenv("RESNET_SIGNS_QUICK", "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os; print(os.environ.get('RESNET_SIGNS_QUICK'), os.environ.get('RESNET_SIGNS_LAB_BUDGET'))")])
    done = executing.execute(nb, workdir=tmp_path, label="t.md", extra_env=dict(lab.solution_env))
    assert done.cells[0].outputs[0].text == "None full,quick\n"


def test_cli_check_exits_1_naming_missing_files(released, tmp_path, monkeypatch, capsys):
    project = _copy(released, tmp_path)
    (project / "solutions/why_resnets_work/Why_ResNets_Work.ipynb").unlink()
    monkeypatch.setenv("RESNET_SIGNS_COURSE", str(project / "autograder"))
    assert cli.main(["release", "--check", "--assignment", "why_resnets_work"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "stale: solutions/why_resnets_work/Why_ResNets_Work.ipynb (missing)",
        "run `make release` to regenerate them",
    ]


def test_cli_unknown_assignment_exits_2(tiny_project, monkeypatch, capsys):
    monkeypatch.setenv("RESNET_SIGNS_COURSE", str(tiny_project / "autograder"))
    assert cli.main(["release", "--assignment", "nope"]) == 2
    assert capsys.readouterr().err.strip() == (
        "resnet-signs release: error: unknown assignment 'nope': choose from residual_networks, why_resnets_work"
    )
