"""The real autograder (front + core) on the sample submissions in autograder/samples/.

One grading run (two local workers) is shared by every test here; it is the slowest part of
the front's tests because each sample is graded for real in its own sandbox.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from resnet_signs.grading import gradebook
from resnet_signs.grading.api import grade

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "autograder" / "samples"
SAMPLE_TIMEOUT = 90


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """A copy of the samples (grading never writes next to the submissions, but a copy proves it)."""
    root = tmp_path_factory.mktemp("samples")
    for folder in SAMPLES.iterdir():
        if folder.is_dir() and (folder / "Residual_Networks.ipynb").is_file():
            shutil.copytree(folder, root / folder.name)
    return root


@pytest.fixture(scope="module")
def graded(samples, tmp_path_factory):
    work = tmp_path_factory.mktemp("graded")
    db = f"sqlite:///{work / 'gradebook.db'}"
    # 90 s per submission (60 s per cell) keeps the infinite-loop sample's wait short; the others need ~20 s.
    result = grade(samples, out=work / "out", workers=2, timeout=SAMPLE_TIMEOUT, db_url=db,
                   progress=open(os.devnull, "w"))
    return {"out": work / "out", "db": db, "result": result}


def test_samples_are_in_sync_with_the_source_notebook():
    make = _make_samples()
    assert make.stale(make.build()) == [], "run: python autograder/samples/make_samples.py --update"


@pytest.mark.slow
def test_samples_get_exactly_the_expected_grades(graded):
    assert not graded["result"].failed
    got = (graded["out"] / "grades.csv").read_text(encoding="utf-8")
    assert got == (SAMPLES / "expected_grades.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_gradebook_has_every_sample_with_its_total(graded):
    scores = gradebook.read_scores(graded["db"])
    totals = {student: sum(cells.values()) for student, cells in scores.items()}
    expected: dict[str, float] = {}
    for line in (SAMPLES / "expected_grades.csv").read_text(encoding="utf-8").splitlines()[1:]:
        student, _, score, _, _ = line.split(",")
        expected[student] = expected.get(student, 0.0) + float(score)
    assert totals == expected


@pytest.mark.slow
def test_grading_again_reuses_and_writes_identical_files(graded, samples):
    out = graded["out"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = grade(samples, out=out, workers=2, timeout=SAMPLE_TIMEOUT, db_url=graded["db"],
                  progress=open(os.devnull, "w"))
    assert again.reused == {g.student for g in graded["result"].grades}
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_an_edited_test_cell_is_reported_to_the_student(graded):
    results = (graded["out"] / "edited-test-cell" / "results.json").read_text(encoding="utf-8")
    assert "edited test cells were restored from the original: identity_block_public" in results
    page = (graded["out"] / "edited-test-cell" / "feedback.html").read_text(encoding="utf-8")
    assert "restored from the original: identity_block_public" in page and "✗ failed" in page
