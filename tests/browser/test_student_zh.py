"""The 繁體中文 edition in a student's JupyterLab: Chinese prose, and a wrong identity block's hint in Chinese."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from resnet_signs import i18n, paths

pytestmark = pytest.mark.browser

RELEASE = paths.PROJECT_ROOT / "assignments" / "residual_networks" / "zh_TW" / "Residual_Networks.ipynb"


def test_the_traditional_chinese_notebook_shows_chinese_prose_and_a_chinese_hint(page, start_lab, tmp_path, shots,
                                                                                  cut_first_exercise):
    fonts = subprocess.run(["fc-list", ":lang=zh-tw", "family"], check=False, capture_output=True, text=True).stdout
    if "CJK" not in fonts:
        pytest.skip("no CJK font for the browser: run `make fonts-deps` (apt-get install fonts-noto-cjk)")
    root = tmp_path / "zh"
    (root / "residual_networks").mkdir(parents=True)  # where the student lab opens the assignment
    cut = cut_first_exercise(RELEASE, "identity-shortcut-after-relu")
    (root / "residual_networks" / "Residual_Networks.ipynb").write_text(json.dumps(cut))
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
        language_line = "✓ " + i18n.format("language: {name}", "zh_TW", name="zh_TW")  # "✓ 語言：zh_TW"
        assert outputs.filter(has_text=language_line).count() == 1  # the language cell found a CJK font
        page.screenshot(path=str(shots / "student_hint_zh_TW.png"))
    finally:
        server.stop()
