"""feedback.html and results.json in the notebook's language; the record stays in the grader's English."""

from __future__ import annotations

import json

import pytest

from resnet_signs.grading import reports
from resnet_signs.grading.model import FunctionGrade, Status, SubmissionGrade
from resnet_signs.grading.model import TestResult as Result
from resnet_signs.grading.submissions import notebook_language

HINT = ("✗ the shortcut must be added before the final ReLU\n"
        "  expected after the Add: ReLU\n  yours after the Add:    (nothing)")


def _grade() -> SubmissionGrade:
    tests = [Result("identity_block_public", "identity_block", 0.0, 1.0, False, HINT, False),
             Result("identity_block_hidden_values", "identity_block", 1.0, 1.0, True,
                        "✓ identity_block_hidden_values: passed.", True)]
    return SubmissionGrade("张三 <b>", [FunctionGrade("identity_block", 1.0, 2.0, Status.OK)], tests, 1.0,
                           tampered_cells=["identity_block_public"])


def test_feedback_is_written_in_the_notebooks_language():
    page = reports.feedback_html(_grade(), "zh_CN")
    assert '<html lang="zh-Hans">' in page and "残差网络 — 反馈" in page
    assert "✗ 快捷路径必须在最后的 ReLU 之前相加" in page and "你的 Add 之后：（无）" in page
    assert "<th>提示</th>" in page and "✓ 通过" in page and "被修改的测试单元格已恢复为原始版本" in page
    assert "张三 &lt;b&gt;" in page and "张三 <b>" not in page  # the name stays escaped
    english = reports.feedback_html(_grade())
    assert '<html lang="en">' in english and "the shortcut must be added before the final ReLU" in english


def test_gradescope_results_are_in_the_notebooks_language():
    results = reports.results_json(_grade(), "zh_TW")
    assert results["tests"][0]["output"].startswith("未通過: ✗ 捷徑必須在最後的 ReLU 之前相加")
    assert results["tests"][1]["output"] == "通過: ✓ identity_block_hidden_values：通過。"


@pytest.mark.parametrize(("content", "language"), [
    ({"metadata": {"resnet_signs": {"language": "zh_TW"}}}, "zh_TW"),
    ({"metadata": {"resnet_signs": {"role": "student release"}}}, "en"),
    ({"metadata": {"resnet_signs": {"language": "../../etc"}}}, "en"),
    ({"metadata": {"resnet_signs": "not a mapping"}}, "en"),
    ([1, 2], "en"),
])
def test_the_language_comes_from_the_notebooks_metadata_and_anything_odd_is_english(tmp_path, content, language):
    notebook = tmp_path / "Residual_Networks.ipynb"
    notebook.write_text(json.dumps(content))
    assert notebook_language(notebook) == language
    assert notebook_language(tmp_path / "missing.ipynb") == "en"
