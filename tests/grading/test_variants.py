"""The real autograder (front + core + sandbox) on every variant of autograder/samples/make_samples.py.

One grading run (two local workers, test-sized limits) is shared by every test here: the committed
samples, the crashes and hangs, and the cheats. Each variant's expected grade lives next to its
edits in make_samples.py; these tests compare, then check what a grade table cannot show (no
process outlives grading, the hints a student reads, the gradebook, reuse on a second run).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import sys
from pathlib import Path

import psutil
import pytest

from resnet_signs import paths
from resnet_signs.grading import gradebook, isolation
from resnet_signs.grading.api import grade

COURSE = paths.course_dir()
SAMPLES = COURSE / "samples"
_spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
make_samples = sys.modules[_spec.name] = importlib.util.module_from_spec(_spec)  # dataclasses look it up there
_spec.loader.exec_module(make_samples)
FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")
#: Test-sized budgets: a hang costs a function 30 s, not the default 120 s (30, not less: the
#: machine running the tests may be busy, and a legitimate step must never reach the limit).
LIMITS = {"timeout": 30, "memory_mb": 3000}
#: The fork bomb is bounded (2000 sleeping processes) but only a pids cgroup makes it cheap to survive.
NEEDS_CGROUP = {"fork-bomb"}
RUNNABLE = [v for v in make_samples.VARIANTS if v.name not in NEEDS_CGROUP or isolation.ProcessLimit.available()]
#: The variants whose grade depends on the isolation (make_samples.ISOLATION) are graded once more under
#: every other backend that works here, in one extra run (the whole suite twice would double its time).
OTHER_BACKENDS = [b for b in ("bwrap", "unshare") if b != isolation.backend() and isolation.works(b)]
ISOLATED = [v for v in RUNNABLE if v.name in make_samples.ISOLATION]


def _param(variant):
    if variant in RUNNABLE:
        return pytest.param(variant, id=variant.name)
    return pytest.param(variant, id=variant.name, marks=pytest.mark.skip(reason="no writable pids cgroup here"))


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("variants")
    make_samples.write(root)
    for variant in make_samples.VARIANTS:
        if variant not in RUNNABLE:
            shutil.rmtree(root / variant.name)
    return root


@pytest.fixture(scope="module")
def graded(variants, tmp_path_factory, tf32):
    """Judged as on a GPU that rounds to TensorFloat-32: the workers round (tests/tf32)."""
    work = tmp_path_factory.mktemp("graded")
    db = f"sqlite:///{work / 'gradebook.db'}"
    saved, log = dict(os.environ), work / "tf32-pids"
    os.environ.update(tf32.environment(log=log))  # the spawned workers inherit it
    try:
        result = grade(variants, out=work / "out", workers=3, db_url=db, progress=io.StringIO(), **LIMITS)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    grades = {g.student: g for g in result.grades}
    return {"out": work / "out", "db": db, "result": result, "grades": grades, "variants": variants,
            "tf32_processes": tf32.installed_pids(log)}


@pytest.fixture(scope="module")
def graded_elsewhere(variants, tmp_path_factory) -> dict:
    """The isolation variants graded under each other backend: ``{backend: {student: grade}}``."""
    folder = tmp_path_factory.mktemp("isolation-variants")
    for variant in ISOLATED:
        shutil.copytree(variants / variant.name, folder / variant.name)
    grades = {}
    for backend in OTHER_BACKENDS:
        work = tmp_path_factory.mktemp(f"graded-{backend}")
        saved = os.environ.get("RESNET_SIGNS_ISOLATION")
        os.environ["RESNET_SIGNS_ISOLATION"] = backend  # the spawned workers inherit it
        isolation.backend.cache_clear()
        try:
            result = grade(folder, out=work / "out", workers=2, db_url=f"sqlite:///{work / 'gradebook.db'}",
                           progress=io.StringIO(), **LIMITS)
        finally:
            if saved is None:
                os.environ.pop("RESNET_SIGNS_ISOLATION")
            else:
                os.environ["RESNET_SIGNS_ISOLATION"] = saved
            isolation.backend.cache_clear()
        assert not result.failed
        grades[backend] = {g.student: g for g in result.grades}
    return grades


def test_the_committed_samples_are_in_sync_with_the_source_notebook():
    assert make_samples.main(["--check"]) == 0, "run: python autograder/samples/make_samples.py --update"


@pytest.mark.slow
@pytest.mark.parametrize("variant", [_param(v) for v in make_samples.VARIANTS])
def test_every_variant_gets_its_expected_grade(graded, variant):
    assert not graded["result"].failed
    grade = graded["grades"][variant.name]
    got = {f.function: (f.status.value, f.score) for f in grade.functions}
    assert variant.accepts(got, FUNCTIONS), (got, [f.detail for f in grade.functions])


def _other_backends():
    if OTHER_BACKENDS:
        return OTHER_BACKENDS
    return [pytest.param("other", marks=pytest.mark.skip(reason=f"only {isolation.backend()} works here"))]


@pytest.mark.slow
@pytest.mark.parametrize("backend", _other_backends())
@pytest.mark.parametrize("variant", [pytest.param(v, id=v.name) for v in ISOLATED])
def test_the_isolation_variants_get_their_grade_under_every_backend(graded_elsewhere, backend, variant):
    """Issue 19: a notebook that found a classmate's submission under the unshare fallback scored 9/9."""
    grade = graded_elsewhere[backend][variant.name]
    got = {f.function: (f.status.value, f.score) for f in grade.functions}
    assert variant.accepts(got, FUNCTIONS), (got, [f.detail for f in grade.functions])
    tool = {"bwrap": "bubblewrap", "unshare": "unshare"}[backend]
    assert any(note.startswith(f"{tool}: only the Python environment") for note in grade.isolation), grade.isolation


@pytest.mark.slow
def test_no_process_outlives_grading_under_every_backend(graded_elsewhere):
    survivors = [p.pid for p in psutil.process_iter(["cmdline"])
                 if any(make_samples.ORPHAN_MARK in part for part in (p.info["cmdline"] or []))]
    assert survivors == []


@pytest.mark.slow
def test_the_judging_workers_rounded_as_a_tf32_gpu_does(graded):
    # each judging worker rounds; tests/checks/test_tf32.py shows the rounding bites
    assert len(graded["tf32_processes"]) >= 1


@pytest.mark.slow
def test_the_samples_get_exactly_expected_grades_csv(graded):
    rows = list(csv.reader((graded["out"] / "grades.csv").read_text(encoding="utf-8").splitlines()))
    samples = {v.name for v in make_samples.SAMPLES}
    got = "\n".join(",".join(r) for r in rows if r[0] in samples or r[0] == "student") + "\n"
    assert got == (SAMPLES / "expected_grades.csv").read_text(encoding="utf-8")


@pytest.mark.slow
def test_no_process_outlives_grading(graded):
    survivors = [p.pid for p in psutil.process_iter(["cmdline"])
                 if any(make_samples.ORPHAN_MARK in part for part in (p.info["cmdline"] or []))]
    assert survivors == []


@pytest.mark.slow
def test_forged_channel_lines_are_ignored_and_reported(graded):
    grade = graded["grades"]["cheat-forge-channel"]
    assert any("lines on the grader's report channel were not the sandbox's" in note for note in grade.notes)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("student", "test_id", "hint"),
    [
        ("old-revision-identity", "identity_block_public",
         "it looks like code from an older revision of this notebook"),
        ("old-revision-avgpool", "ResNet50_public", "AveragePooling2D needs its pool size in Keras 3"),
        ("conv-infinite-loop-inside", "convolutional_block_hidden_values", "the test did not run to the end"),
        ("identity-shortcut-after-relu", "identity_block_public", "expected main path:"),
        ("judge-compute-heavy", "convolutional_block_hidden_values", "builds a graph over the grader's budget: the "
                                                                     "graph would compute"),
        ("judge-huge-nested", "identity_block_hidden_structure", "the graph has 483 layers (at most 400 are graded)"),
    ],
)
def test_the_student_reads_a_specific_hint(graded, student, test_id, hint):
    test = next(t for t in graded["grades"][student].tests if t.test_id == test_id)
    assert not test.passed and hint in test.message, test.message


@pytest.mark.slow
def test_unchanged_figure_and_demo_cells_are_not_run(graded):
    assert graded["grades"]["solution"].skipped_cells  # the tagged cells of the source notebook


@pytest.mark.slow
def test_skipping_unchanged_cells_never_changes_a_grade(graded, tmp_path_factory):
    # One committed sample: two right functions and a block bug behind patched checks (its cells run either
    # way); the figures, demos and training run for it, which is what makes this test slow.
    chosen = {"monkeypatch-checks"}
    quick = [v for v in RUNNABLE if v.name in chosen]
    folder = tmp_path_factory.mktemp("every-cell")
    for variant in quick:
        shutil.copytree(graded["variants"] / variant.name, folder / variant.name)
    work = tmp_path_factory.mktemp("every-cell-out")
    again = grade(folder, out=work / "out", workers=2, db_url=f"sqlite:///{work / 'gradebook.db'}",
                  progress=io.StringIO(), grader=f"{__package__}.grade_all_cells:grade_submission", **LIMITS)
    assert len(quick) == len(chosen) and not any(g.skipped_cells for g in again.grades)

    def table(grade):
        return {(f.function, str(f.status), f.score) for f in grade.functions}

    assert {g.student: table(g) for g in again.grades} == {v.name: table(graded["grades"][v.name]) for v in quick}


@pytest.mark.slow
def test_gradebook_has_every_variant_with_its_total(graded):
    scores = gradebook.read_scores(graded["db"], "residual_networks")
    totals = {student: sum(cells.values()) for student, cells in scores.items()}
    expected = {v.name: float(sum(score for _, score in v.grades(FUNCTIONS).values())) for v in RUNNABLE}
    assert totals == expected


@pytest.mark.slow
def test_an_edited_test_cell_is_reported_to_the_student(graded):
    results = (graded["out"] / "edited-test-cell" / "results.json").read_text(encoding="utf-8")
    assert "edited test cells were restored from the original: identity_block_public" in results
    page = (graded["out"] / "edited-test-cell" / "feedback.html").read_text(encoding="utf-8")
    assert "restored from the original: identity_block_public" in page and "✗ failed" in page


@pytest.mark.slow
def test_grading_again_reuses_and_writes_identical_files(graded):
    out = graded["out"]
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = grade(graded["variants"], out=out, workers=2, db_url=graded["db"], progress=io.StringIO(),
                  **LIMITS)
    assert again.reused == {g.student for g in graded["result"].grades}
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
