"""The grader's core: isolated execution and verdicts (resnet_signs.grading.{plan,runner,sandbox,core}).

Fast tests cover reading notebooks, tamper detection, the output cap and observation files.
The slow ones grade every fixture notebook (tests/grading/fixtures, made by make_fixtures.py)
with a real sandboxed run, several at a time, and assert statuses and scores.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

from resnet_signs.errors import CourseError
from resnet_signs.grading import core, observations, runner
from resnet_signs.grading import plan as planning
from resnet_signs.grading.model import FUNCTIONS, Limits, Status

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SOURCE = FIXTURES / "source.ipynb"
_spec = importlib.util.spec_from_file_location("make_grading_fixtures", HERE / "make_fixtures.py")
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)


def spec():
    return planning.read_spec(SOURCE, FUNCTIONS)


def read(name):
    return nbformat.read(str(FIXTURES / f"{name}.ipynb"), as_version=4)


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# --- Fixtures and the source notebook ---------------------------------------------------------


def test_fixtures_are_generated_from_make_fixtures():
    assert make_fixtures.stale() == []


def test_source_spec_has_the_contract_cells():
    s = spec()
    assert s.functions == FUNCTIONS
    assert [t.test_id for t in s.tests] == [
        f"{f}_{kind}" for f in FUNCTIONS for kind in ("public", *make_fixtures.HIDDEN[f])
    ]
    assert sum(t.points for t in s.tests) == 9
    assert [t.hidden for t in s.tests] == [False, True, True] * 3


def test_unreadable_source_notebook_is_an_instructor_error(tmp_path):
    bad = tmp_path / "source.ipynb"
    bad.write_text("{not json")
    with pytest.raises(CourseError, match=r"^cannot read the source notebook .*source\.ipynb: NotJSONError"):
        planning.read_spec(bad, FUNCTIONS)


def test_source_without_an_answer_cell_is_an_instructor_error(tmp_path):
    nb = read("source")
    nb.cells.remove(cell(nb, "ResNet50"))
    path = tmp_path / "source.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(CourseError, match=r"no answer cell with grade_id ResNet50: is it the assignment's source\?$"):
        planning.read_spec(path, FUNCTIONS)


# --- Plans: which cells run, which tests are restored --------------------------------------------


def test_plan_observes_every_test_and_stops_after_the_last():
    plan = planning.build(read("correct"), spec())
    observed = [s["test_id"] for s in plan.steps if s["kind"] == "observe"]
    assert observed == [t.test_id for t in spec().tests]
    assert plan.steps[-1]["kind"] == "observe"  # the closing "training" cell is never run
    assert not any("training would run here" in s.get("source", "") for s in plan.steps)
    assert plan.tampered == {} and plan.answers == set(FUNCTIONS)


def test_source_form_and_whitespace_changes_are_not_tampering():
    nb = read("source")  # hidden tests still in place: the instructor's own notebook
    cell(nb, "identity_block_public").source += "\n\n   "
    assert planning.build(nb, spec()).tampered == {}


def test_edited_test_cell_is_restored_and_flagged():
    plan = planning.build(read("edited-test-cell"), spec())
    assert plan.tampered == {"identity_block_public": "edited"}
    assert "identity_block_public" in [s.get("test_id") for s in plan.steps]


def test_deleted_test_cell_is_observed_after_the_cell_before_it_in_the_source():
    plan = planning.build(read("deleted-test-cell"), spec())
    ids = [s.get("test_id") for s in plan.steps]
    assert plan.tampered == {"convolutional_block_hidden_values": "deleted"}
    assert ids.index("convolutional_block_hidden_values") == ids.index("convolutional_block_public") + 1


def test_duplicated_test_cell_is_observed_once():
    nb = read("correct")
    copied = copy.deepcopy(cell(nb, "ResNet50_public"))
    copied.id = "copy"
    nb.cells.insert(3, copied)
    plan = planning.build(nb, spec())
    assert plan.tampered == {"ResNet50_public": "duplicated"}
    assert [s.get("test_id") for s in plan.steps].count("ResNet50_public") == 1


def test_missing_answer_cell_makes_the_function_missing():
    nb = read("correct")
    nb.cells.remove(cell(nb, "convolutional_block"))
    plan = planning.build(nb, spec())
    execution = core._Execution()
    grade = core._assemble("s", spec(), plan, execution, {t.test_id: (True, "✓") for t in spec().tests}, 0.0)
    status = {f.function: (f.status, f.detail) for f in grade.functions}
    assert status["convolutional_block"] == (Status.MISSING, "no answer cell with grade_id convolutional_block")
    assert status["identity_block"] == (Status.OK, "")


def test_a_failed_setup_cell_explains_every_lost_point():
    plan = planning.build(read("correct"), spec())
    execution = core._Execution()
    execution.outcomes[0] = ("error", "ModuleNotFoundError: No module named 'keras'")
    verdicts = {t.test_id: (t.function == "ResNet50", "✗ hint") for t in spec().tests}
    grade = core._assemble("s", spec(), plan, execution, verdicts, 0.0)
    setup = plan.steps[0]["cell"]
    assert [f.detail for f in grade.functions] == [
        f"✗ hint; cell {setup}: ModuleNotFoundError: No module named 'keras'",
        f"✗ hint; cell {setup}: ModuleNotFoundError: No module named 'keras'",
        "",
    ]


# --- Output cap and observation files ------------------------------------------------------------


def test_output_keeps_head_and_tail_within_the_limit():
    out = runner.Output(limit=10)
    for chunk in (b"abcdefgh", b"ijklmnop", b"qrstuvwxyz"):
        out.add(chunk)
    assert out.text() == "abcde\n[... 16 bytes of output discarded ...]\nvwxyz"


def test_observation_round_trip(tmp_path):
    observation = {"a.out.True": np.arange(6, dtype=np.float32).reshape(2, 3), "a.error.False": "ValueError: x",
                   "a.structure.True": {"convs": [np.int64(3), (1, 2)]}, "odd": {1, 2}}
    observations.save(tmp_path, "t", observation)
    loaded = observations.load(tmp_path, "t")
    np.testing.assert_array_equal(loaded["a.out.True"], observation["a.out.True"])
    assert loaded["a.error.False"] == "ValueError: x"
    assert loaded["a.structure.True"] == {"convs": [3, [1, 2]]}
    assert loaded["odd"] == "<unserialisable set>"
    assert observations.load(tmp_path, "never-observed") is None


def test_observation_files_are_never_unpickled(tmp_path):
    observations.save(tmp_path, "t", {"x": np.zeros(2)})
    np.save(tmp_path / "evil.npy", np.array([object()], dtype=object), allow_pickle=True)
    with open(tmp_path / "t.npz", "wb") as f:
        np.savez(f, x=np.array([object()], dtype=object))
    assert observations.load(tmp_path, "t") == {"error": "the recorded observation is unreadable (ValueError)"}


# --- Unreadable submissions: no sandbox at all ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("corrupt", None, "not a readable notebook: NotJSONError: Notebook does not appear to be JSON"),
        ("empty", None, "not a readable notebook: NotJSONError: Notebook does not appear to be JSON: ''"),
        ("list", "[]", "not a readable notebook: "),
        ("no-cells", '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}', "not a readable notebook: "),
    ],
)
def test_unreadable_submission_is_invalid_notebook(tmp_path, name, content, reason):
    path = FIXTURES / f"{name}.ipynb"
    if content is not None:
        path = tmp_path / f"{name}.ipynb"
        path.write_text(content)
    grade = core.grade_submission(path, student=name, source_notebook=SOURCE, workdir=tmp_path / "work")
    assert [(f.status, f.score, f.max_score) for f in grade.functions] == [(Status.INVALID_NOTEBOOK, 0.0, 3.0)] * 3
    assert all(f.detail.startswith(reason) for f in grade.functions)
    assert [t.passed for t in grade.tests] == [False] * 9
    assert not (tmp_path / "work" / "sandbox").exists()


# --- Real sandboxed runs -------------------------------------------------------------------------

LIMITS = Limits(timeout=240, cell_timeout=20, memory_mb=3000, output_bytes=20_000)
SHORT_CELLS = dataclasses.replace(LIMITS, cell_timeout=12)
#: fixture -> its limits (most share LIMITS; the loops get short cells to keep the suite fast)
RUNS = {
    "correct": LIMITS, "wrong-stride": LIMITS, "wrong-stride#again": LIMITS, "edited-test-cell": LIMITS,
    "deleted-test-cell": LIMITS, "infinite-loop": SHORT_CELLS, "stubborn-loop": SHORT_CELLS,
    "memory-bomb": LIMITS, "os-exit": LIMITS, "kernel-crash": LIMITS, "huge-output": LIMITS,
    "syntax-error": LIMITS, "renamed-function": LIMITS, "monkeypatch-assert": LIMITS, "monkeypatch-numpy": LIMITS,
    "patched-helpers": LIMITS,
    "correct#no-time": dataclasses.replace(LIMITS, timeout=2),
}
OK, ERR, TO, MEM, MISS, TAMP = Status.OK, Status.ERROR, Status.TIMEOUT, Status.MEMORY, Status.MISSING, Status.TAMPERED
#: fixture -> (status, score) of identity_block, convolutional_block, ResNet50
EXPECTED = {
    "correct": [(OK, 3), (OK, 3), (OK, 3)],
    "wrong-stride": [(OK, 3), (OK, 0), (OK, 3)],
    "edited-test-cell": [(TAMP, 3), (OK, 3), (OK, 3)],
    "deleted-test-cell": [(OK, 3), (TAMP, 3), (OK, 3)],
    "infinite-loop": [(OK, 3), (OK, 3), (TO, 0)],  # interrupted before ResNet50 was defined
    "stubborn-loop": [(OK, 3), (TO, 3), (OK, 3)],  # killed by the parent, resumed without that cell
    "memory-bomb": [(OK, 3), (MEM, 3), (OK, 3)],
    # The answer cell is skipped after the crash: its function is undefined; every ResNet50 test
    # runs with the reference blocks, so that costs ResNet50 nothing.
    "os-exit": [(OK, 3), (ERR, 0), (OK, 3)],
    "kernel-crash": [(OK, 3), (OK, 3), (ERR, 0)],
    "huge-output": [(OK, 3), (OK, 3), (OK, 3)],
    "syntax-error": [(ERR, 0), (OK, 3), (OK, 3)],
    "renamed-function": [(MISS, 0), (OK, 3), (OK, 3)],
    # A bug plus patches that try to fake passes: the patches change nothing.
    "monkeypatch-assert": [(OK, 0), (OK, 3), (OK, 3)],
    "monkeypatch-numpy": [(OK, 3), (OK, 0), (OK, 3)],
    "patched-helpers": [(OK, 3), (OK, 3), (OK, 0)],
    "correct#no-time": [(TO, 0), (TO, 0), (TO, 0)],
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every fixture graded once (three sandboxes at a time: most of a run is TensorFlow start-up)."""

    def grade(run):
        name, limits = run
        workdir = tmp_path_factory.mktemp(name.replace("#", "-"))
        notebook = FIXTURES / f"{name.split('#')[0]}.ipynb"
        result = core.grade_submission(notebook, student=name, source_notebook=SOURCE, limits=limits, workdir=workdir)
        return name, (result, workdir)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(grade, RUNS.items()))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPECTED))
def test_fixture_statuses_and_scores(graded, name):
    grade, _ = graded[name]
    got = [(f.function, f.status, f.score) for f in grade.functions]
    assert got == [(f, status, float(score)) for f, (status, score) in zip(FUNCTIONS, EXPECTED[name], strict=True)]
    assert [f.max_score for f in grade.functions] == [3.0, 3.0, 3.0]
    assert sum(t.score for t in grade.tests) == grade.score
    for f in grade.functions:
        assert "\n" not in f.detail
        if f.status != Status.OK or f.score < f.max_score:
            assert f.detail, "a lost point or a status needs a reason"


@pytest.mark.slow
def test_details_name_what_happened(graded):
    detail = {name: [f.detail for f in graded[name][0].functions] for name in EXPECTED}
    assert "ignored the interrupt" in detail["stubborn-loop"][1]
    assert "went over the memory limit (3000 MB)" in detail["memory-bomb"][1]
    assert "exited with status 3" in detail["os-exit"][1]
    assert "crashed (SIGSEGV)" in detail["kernel-crash"][2]
    assert "SyntaxError" in detail["syntax-error"][0]
    assert detail["renamed-function"][0] == "identity_block is not defined after its cell ran (renamed?)"
    assert detail["edited-test-cell"][0] == "test cell identity_block_public was edited; graded with the original"
    assert detail["infinite-loop"][2] == "answer cell ResNet50: ran past the per-cell time limit"
    assert "use AveragePooling2D" in detail["patched-helpers"][2]
    assert detail["patched-helpers"][1] == "cell 9 uses the instructor's resnet_signs.instructor: check it by hand"
    assert detail["correct"] == ["", "", ""]
    assert "ran past the whole-submission limit (2 s)" in detail["correct#no-time"][0]


@pytest.mark.slow
def test_tampered_cells_are_listed(graded):
    assert graded["edited-test-cell"][0].tampered_cells == ["identity_block_public"]
    assert graded["deleted-test-cell"][0].tampered_cells == ["convolutional_block_hidden_values"]
    assert graded["correct"][0].tampered_cells == []


@pytest.mark.slow
def test_hidden_tests_keep_their_hints_and_flags(graded):
    tests = {t.test_id: t for t in graded["wrong-stride"][0].tests}
    assert tests["convolutional_block_hidden_structure"].hidden
    assert not tests["convolutional_block_public"].hidden
    assert tests["convolutional_block_hidden_values"].message.startswith("✗")
    assert tests["identity_block_hidden_values"].message == "✓ identity_block_hidden_values: passed."


@pytest.mark.slow
def test_huge_output_is_capped(graded):
    grade, _ = graded["huge-output"]
    assert len(grade.output.encode()) <= LIMITS.output_bytes + 100
    assert "bytes of output discarded" in grade.output


ESCAPE = """\
import errno, os, socket
for target in ("../escaped.txt", "/dev/shm/escaped.txt", "escaped.txt"):
    try:
        with open(target, "w") as f:
            f.write("x")
        print(target, "written")
    except OSError as exc:
        print(target, errno.errorcode[exc.errno])
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2).close()
except OSError as exc:
    print("network", errno.errorcode[exc.errno])
print("processes", sum(p.isdigit() for p in os.listdir("/proc")))
"""


def test_sandbox_cannot_write_outside_its_folder_or_reach_the_network(tmp_path):
    if not runner.isolation_available():
        pytest.skip("unprivileged namespaces are unavailable here: only the process group applies")
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    argv = runner.isolated([sys.executable, "-c", ESCAPE], sandbox)
    done = subprocess.run(argv, cwd=sandbox, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == [
        "../escaped.txt EROFS",  # the grader's folder (and everything else) is read-only
        "/dev/shm/escaped.txt written",  # a private tmpfs, gone with the sandbox
        "escaped.txt written",
        "network ENETUNREACH",
        "processes 2",  # the namespace's shell and this process: nothing else to signal
    ], done.stderr
    assert not (tmp_path / "escaped.txt").exists()
    assert not Path("/dev/shm/escaped.txt").exists()
    assert "no network (unshare --net)" in runner.isolation_notes()


def test_sandbox_files_are_capped_in_size(tmp_path):
    script = (
        "from resnet_signs.grading.sandbox import _limit_resources\n_limit_resources(1000)\n"
        "try:\n    with open('big', 'wb') as f:\n        f.write(b'x' * 5000)\n"
        "except OSError as exc:\n    print(exc.strerror)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "File too large", done.stderr
    assert (tmp_path / "big").stat().st_size <= 1000


def test_code_that_reaches_for_the_reference_is_flagged():
    plan = planning.build(read("uses-reference"), spec())
    answer = read("uses-reference").cells.index(cell(read("uses-reference"), "identity_block"))
    assert plan.suspicious == [(answer, "identity_block", "load_reference, resnet_signs.instructor")]
    assert planning.build(read("correct"), spec()).suspicious == []


@pytest.mark.slow
def test_sandbox_folder_is_removed_after_grading(graded):
    for name, (_, workdir) in graded.items():
        assert list(workdir.iterdir()) == [], name


@pytest.mark.slow
def test_grading_twice_gives_identical_results(graded):
    first, second = (dataclasses.asdict(graded[n][0]) for n in ("wrong-stride", "wrong-stride#again"))
    for grade in (first, second):
        grade.pop("execution_time")
        grade.pop("student")
    assert first == second
