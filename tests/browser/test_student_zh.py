"""The 繁體中文 edition in a student's JupyterLab: Chinese prose, and a wrong identity block's hint in Chinese."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from resnet_signs import paths

pytestmark = pytest.mark.browser

RELEASE = paths.PROJECT_ROOT / "assignments" / "residual_networks" / "zh_TW" / "Residual_Networks.ipynb"
WRONG = paths.PROJECT_ROOT / "autograder" / "samples" / "identity-shortcut-after-relu" / "Residual_Networks.ipynb"


def _cut_notebook() -> dict:
    """The zh_TW release's first exercise (title, language, setup, imports, identity block and its public
    check), with the wrong identity block of the sample ``identity-shortcut-after-relu``."""
    release = json.loads(RELEASE.read_text())
    grade_id = lambda cell: cell["metadata"].get("nbgrader", {}).get("grade_id")  # noqa: E731
    answer = next(c for c in json.loads(WRONG.read_text())["cells"] if grade_id(c) == "identity_block")
    keep = []
    for cell in release["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("# "):
            keep.append(cell)
        elif cell["cell_type"] == "code" and ("use_language(" in text or "setup(" in text or text.startswith("import numpy")):
            keep.append(cell)
        elif grade_id(cell) == "identity_block":
            keep.append(dict(cell, source=answer["source"]))
        elif grade_id(cell) == "identity_block_public":
            keep.append(cell)
    assert len(keep) == 6, "the zh_TW release no longer has the cells this test cuts out"
    return dict(release, cells=keep)


def test_the_traditional_chinese_notebook_shows_chinese_prose_and_a_chinese_hint(page, start_lab, tmp_path, shots):
    fonts = subprocess.run(["fc-list", ":lang=zh-tw", "family"], capture_output=True, text=True).stdout
    if "CJK" not in fonts:
        pytest.skip("no CJK font for the browser: run `make fonts-deps` (apt-get install fonts-noto-cjk)")
    root = tmp_path / "zh"
    (root / "residual_networks").mkdir(parents=True)  # where the student lab opens the assignment
    (root / "residual_networks" / "Residual_Networks.ipynb").write_text(json.dumps(_cut_notebook()))
    server = start_lab("student", root, tmp_path / "config")
    try:
        page.set_viewport_size({"width": 1280, "height": 2600})  # the whole cut notebook in one screenshot
        page.goto(server.link("/lab/tree/residual_networks/Residual_Networks.ipynb") + "&reset")
        page.locator(".jp-NotebookPanel:visible .jp-Cell").first.wait_for()
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        outputs = page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output")
        hint = outputs.filter(has_text="✗ 捷徑")
        try:
            hint.first.wait_for(timeout=int(os.environ.get("BROWSER_WAIT_MS", "120000")))
        finally:
            page.screenshot(path=str(shots / "student_hint_zh_TW.png"))
        assert "殘差網路" in page.locator(".jp-NotebookPanel:visible h1").first.inner_text()
        hint.first.scroll_into_view_if_needed()
        text = hint.first.inner_text()
        assert text.startswith("✗ 捷徑必須在最後的 ReLU 之前相加"), text
        assert "應有的" in text and "你的" in text, text
        assert outputs.filter(has_text="✓ language: zh_TW").count() == 1  # the language cell found a CJK font
        page.screenshot(path=str(shots / "student_hint_zh_TW.png"))
    finally:
        server.stop()
