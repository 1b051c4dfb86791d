"""The similarity report in Chromium: a pair side by side, its shared lines highlighted, student text inert."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from resnet_signs import paths
from resnet_signs.similarity.api import compare

_spec = importlib.util.spec_from_file_location("similarity_planted",
                                               paths.PROJECT_ROOT / "tests" / "similarity" / "planted.py")
planted = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # dataclasses look it up there
_spec.loader.exec_module(planted)

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert('copied')</script>"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    students = [s for s in planted.students() if s.name in ("author-epsilon", "copy-of-epsilon", "author-nested",
                                                             "author-loop", "author-relu-layer")]
    copy = next(s for s in students if s.name == "copy-of-epsilon")
    copy.cells[planted.ID] = copy.cells[planted.ID].replace("    n1,n2,n3 = filters",
                                                            f"    # {SCRIPT}\n    n1,n2,n3 = filters")
    planted.write(root / "class", students)
    run = compare(root / "class", out=root / "out")
    assert run.review[0] == ("author-epsilon", "copy-of-epsilon")
    return root / "out" / "similarity.html"


def test_the_report_opens_on_a_highlighted_pair_and_runs_no_student_text(page, report, shots):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(report.as_uri())
    assert page.locator("h1").inner_text() == "Similarity of the graded code"
    assert "a reason to look, not a verdict" in page.locator(".framing").inner_text()
    first = page.locator("table.pairs tbody tr").first
    assert first.locator("td").nth(0).inner_text() == "author-epsilon"
    first.get_by_role("link", name="side by side").click()
    section = page.locator("section.pair").first
    assert section.locator("h3").inner_text() == "author-epsilon ~ copy-of-epsilon"
    marks = section.locator("mark")
    assert marks.count() >= 6  # both sides: the loop over the three convolutions and the join
    mark = marks.first
    assert mark.is_visible()
    box = mark.bounding_box()
    assert box and 0 <= box["y"] < page.viewport_size["height"]  # the link scrolled to the pair
    colour = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    assert re.fullmatch(r"only these two|\d of 5", section.locator("tr.match td.freq").first.inner_text())
    page.screenshot(path=str(shots / "similarity_pair.png"))
    assert SCRIPT in section.inner_text()  # shown as text in the copy's code...
    assert page.locator("script").count() == 0 and dialogs == []  # ...and never run
