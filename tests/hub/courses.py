"""The course directory the hub's tests use: the real one (config, hidden tests, reference), with the
source notebook cut to its graded cells and their setup.

nbgrader's Validate runs every cell of a notebook, and the whole assignment (figures, demos, a smoke
training) takes about 3 minutes per Validate on 2 cores; the graded cells, their tests and the grader
are the real ones.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from resnet_signs import paths

COURSE = paths.PROJECT_ROOT / "autograder"
ASSIGNMENT, NOTEBOOK = "residual_networks", "Residual_Networks.ipynb"
FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")


def grade_id(cell: dict) -> str | None:
    return cell["metadata"].get("nbgrader", {}).get("grade_id")


def cut_source(source: Path) -> dict:
    """``source`` cut to the title, the setup and import cells, the exercises' headings, the answer
    cells and the test cells."""
    notebook = json.loads(source.read_text(encoding="utf-8"))
    kept = []
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        heading = cell["cell_type"] == "markdown" and (text.startswith("# ") or re.match(r"## \d+\. Exercise", text))
        setup = cell["cell_type"] == "code" and text.startswith(("from resnet_signs.notebook import setup",
                                                                 "import numpy"))
        if heading or setup or grade_id(cell):
            kept.append(cell)
    ids = [grade_id(c) for c in kept if grade_id(c)]
    assert [i for i in ids if i in FUNCTIONS] == list(FUNCTIONS) and len(ids) == 12, \
        f"{source} no longer has the cells this test keeps: {ids}"
    return dict(notebook, cells=kept)


def make_course(folder: Path) -> Path:
    """A course directory in ``folder``: the checkout's configuration, hidden tests and reference, the cut source."""
    (folder / "source" / ASSIGNMENT).mkdir(parents=True)
    for name in ("nbgrader_config.py", "hidden_tests.py", "reference.py"):
        shutil.copy(COURSE / name, folder / name)
    source = folder / "source" / ASSIGNMENT / NOTEBOOK
    source.write_text(json.dumps(cut_source(COURSE / "source" / ASSIGNMENT / NOTEBOOK), indent=1), encoding="utf-8")
    return folder


def with_answers(notebook: dict, sample: str) -> dict:
    """``notebook`` with its answer cells taken from the sample submission ``sample`` (what a student wrote)."""
    answers = json.loads((COURSE / "samples" / sample / NOTEBOOK).read_text(encoding="utf-8"))
    mine = {grade_id(c): c["source"] for c in answers["cells"] if grade_id(c) in FUNCTIONS}
    cells = [dict(cell, source=mine[grade_id(cell)]) if grade_id(cell) in mine else cell for cell in notebook["cells"]]
    return dict(notebook, cells=cells)
