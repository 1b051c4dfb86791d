"""Browser tests: a real JupyterLab driven through Playwright and Debian's Chromium.

The ``browser`` fixture (tests/conftest.py) is shared with the JupyterHub test: Playwright's
sync API allows one instance per process. Where Chromium or Playwright is missing, every test
here is skipped with a message naming what is missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from resnet_signs import lab, paths


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()
#: Screenshots of every step; `make screenshots` copies three of them into docs/.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "browser"


@pytest.fixture(scope="session")
def shots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def start_lab(browser):
    """``start_lab(role, root, config_dir)``: JupyterLab with the same role config as `make lab`.

    Depends on ``browser`` so that a missing Chromium skips before any server starts.
    """

    def start(role: str, root: Path, config_dir: Path) -> lab.LabServer:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return lab.start(role, root=root, config_dir=config_dir, ready_timeout=120)

    return start


@pytest.fixture(scope="session")
def cut_first_exercise():
    """``cut_first_exercise(release, answer_sample)``: see :func:`_cut_first_exercise`."""
    return _cut_first_exercise


def _cut_first_exercise(release: Path, answer_sample: str) -> dict:
    """``release``'s first exercise, the identity block taken from the sample ``answer_sample``.

    Kept: the title (the page's H1), the language and setup cells, the imports, the identity
    block and its public check, so a browser test runs one exercise instead of the notebook.
    """
    notebook = json.loads(release.read_text())
    sample = paths.PROJECT_ROOT / "autograder" / "samples" / answer_sample / "Residual_Networks.ipynb"
    grade_id = lambda cell: cell["metadata"].get("nbgrader", {}).get("grade_id")  # noqa: E731 - a one-line helper
    answer = next(c for c in json.loads(sample.read_text())["cells"] if grade_id(c) == "identity_block")
    keep = []
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        title = cell["cell_type"] == "markdown" and text.startswith("# ")
        setup = cell["cell_type"] == "code" and ("use_language(" in text or "setup(" in text
                                                 or text.startswith("import numpy"))
        if title or setup:
            keep.append(cell)
        elif grade_id(cell) == "identity_block":
            keep.append(dict(cell, source=answer["source"]))
        elif grade_id(cell) == "identity_block_public":
            keep.append(cell)
    kept = [grade_id(c) for c in keep]
    assert "identity_block" in kept and "identity_block_public" in kept and len(keep) >= 5, \
        f"{release.name} no longer has the cells this test cuts out"
    return dict(notebook, cells=keep)
