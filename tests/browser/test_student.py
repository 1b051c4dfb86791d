"""The student's JupyterLab: public checks in the notebook and nbgrader's Validate button.

To keep the suite short, each notebook here is the student release cut to what one
exercise needs (the setup cell, the imports, the identity block and its public check),
with the identity block filled in from a sample submission: the reference solution, or
``identity-shortcut-after-relu`` (a wrong answer).
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from resnet_signs import paths

pytestmark = pytest.mark.browser

RELEASE = paths.PROJECT_ROOT / "assignments" / "residual_networks" / "Residual_Networks.ipynb"


@pytest.fixture(scope="module")
def student_lab(tmp_path_factory, start_lab, cut_first_exercise):
    root = tmp_path_factory.mktemp("student")
    (root / "residual_networks").mkdir()
    shutil.copy(RELEASE, root / "residual_networks" / RELEASE.name)  # what `make lab` opens first
    for name, sample in (("right", "solution"), ("wrong", "identity-shortcut-after-relu")):
        (root / f"{name}.ipynb").write_text(json.dumps(cut_first_exercise(RELEASE, sample)))
    server = start_lab("student", root, tmp_path_factory.mktemp("student-config"))
    yield server
    server.stop()


def _open_notebook(page, server, name: str) -> None:
    # `reset`: a fresh workspace, so that no notebook from an earlier test is open too.
    page.goto(server.link(f"/lab/tree/{name}") + "&reset")
    page.locator(".jp-NotebookPanel:visible .jp-Cell").first.wait_for()
    # Run only once the kernel is connected and idle (the status bar says so).
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)


def _run_all(page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def test_wrong_answer_shows_a_hint(page, student_lab, shots):
    _open_notebook(page, student_lab, "wrong.ipynb")
    _run_all(page)
    outputs = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output")
    try:
        outputs.filter(has_text="✗").first.wait_for(timeout=int(os.environ.get("BROWSER_WAIT_MS", "120000")))
    finally:
        page.screenshot(path=str(shots / "student_hint.png"))
    env_check = outputs.first.inner_text()
    assert "✓" in env_check, env_check
    hint = outputs.filter(has_text="✗").last
    hint.scroll_into_view_if_needed()
    hint = hint.inner_text()
    assert "identity_block" in hint or "shortcut" in hint.lower(), hint
    page.screenshot(path=str(shots / "student_hint.png"))


def test_right_answer_shows_success(page, student_lab, shots):
    _open_notebook(page, student_lab, "right.ipynb")
    _run_all(page)
    last_cell = page.locator(".jp-NotebookPanel:visible .jp-CodeCell").last
    last_cell.locator(".jp-OutputArea-output").filter(has_text="✓").wait_for(timeout=120_000)
    assert "✗" not in last_cell.locator(".jp-OutputArea").inner_text()
    page.screenshot(path=str(shots / "student_success.png"))


@pytest.mark.parametrize(("name", "expected"), [("right", "Success! Your notebook passes all the tests."),
                                                 ("wrong", "The following cell failed:")])  # fmt: skip
def test_validate_button(page, student_lab, shots, name, expected):
    _open_notebook(page, student_lab, f"{name}.ipynb")
    page.locator(".jp-NotebookPanel:visible .validate-button button, "
                 ".jp-NotebookPanel:visible button:has-text('Validate')").first.click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=150_000)
    dialog.get_by_text(expected).first.wait_for()
    page.screenshot(path=str(shots / f"validate_{name}.png"))


def test_student_has_no_formgrader(page, student_lab, shots):
    page.goto(student_lab.link("/lab") + "&reset")
    page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
    page.get_by_text("Assignment List", exact=True).first.wait_for()
    assert page.get_by_text("Formgrader", exact=True).count() == 0
    page.screenshot(path=str(shots / "student_menu.png"))
