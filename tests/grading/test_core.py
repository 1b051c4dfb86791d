"""The grader's core without sandboxes: the course directory, plans, budgets, how outcomes become grades.

The report channel's events are tested in test_channel.py, the records that cross to the sandbox in
test_plan.py, the data model in test_model.py. Real sandboxed runs of every kind of submission are
in test_variants.py (one shared run).
"""

from __future__ import annotations

import copy
import json
import shutil

import nbformat
import pytest

from resnet_signs import paths
from resnet_signs.checks.records import Capture, TestRecord
from resnet_signs.grading import core, runner
from resnet_signs.grading import course as courses
from resnet_signs.grading import plan as planning
from resnet_signs.grading.channel import Event, EventKind
from resnet_signs.grading.core import StepOutcome
from resnet_signs.grading.model import Limits, Status
from resnet_signs.grading.plan import ChildPlan, StepKind
from resnet_signs.grading.runner import Kill

from .test_variants import make_samples

COURSE_DIR = paths.course_dir()
FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")


@pytest.fixture(scope="module")
def course():
    return courses.load(COURSE_DIR)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """The solution and a few variants, as nbformat notebooks."""
    root = tmp_path_factory.mktemp("nb")
    wanted = [v for v in make_samples.VARIANTS if v.name in ("solution", "untouched-release")]
    make_samples.write(root, wanted)
    return {v.name: nbformat.read(str(root / v.name / make_samples.NOTEBOOK), as_version=4) for v in wanted}


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# --- The course directory ------------------------------------------------------------------------


def test_the_course_names_its_functions_and_tests(course):
    assert course.assignment == "residual_networks" and course.notebook_name == "Residual_Networks.ipynb"
    assert course.functions == FUNCTIONS
    assert [t.test_id for t in course.tests][:3] == ["identity_block_public", "identity_block_hidden_values",
                                                     "identity_block_hidden_structure"]
    assert sum(t.points for t in course.tests) == 9
    assert [t.hidden for t in course.tests] == [False, True, True] * 3
    assert course.skip_texts  # figures, demos and shape checks are tagged skip-when-grading


def test_what_the_sandbox_gets_holds_no_answer(course, notebooks):
    plan = planning.build(notebooks["solution"], course)
    sent = json.dumps(ChildPlan(tuple(plan.steps), course.requests(), course.stand_ins, Limits(), 1).to_json())
    for secret in ("reference", "expected", "RESNET50_STAGES", "total_params", str(COURSE_DIR)):
        assert secret not in sent


def _course_copy(tmp_path, change=None, hidden=None):
    root = tmp_path / "course"
    (root / "source" / "residual_networks").mkdir(parents=True)
    nb = nbformat.read(str(COURSE_DIR / "source" / "residual_networks" / "Residual_Networks.ipynb"), as_version=4)
    if change:
        change(nb)
    nbformat.write(nb, str(root / "source" / "residual_networks" / "Residual_Networks.ipynb"))
    text = (COURSE_DIR / "hidden_tests.py").read_text()
    (root / "hidden_tests.py").write_text(hidden(text) if hidden else text)
    shutil.copy(COURSE_DIR / "reference.py", root / "reference.py")
    return root


@pytest.mark.parametrize(
    ("change", "hidden", "error"),
    [
        (lambda nb: nb.cells.remove(cell(nb, "ResNet50")), None, r"no answer cell with grade_id ResNet50"),
        (None, lambda t: t.replace('"ResNet50_hidden_variants": G', '"ResNet50_renamed": G'),
         r"test cell 'ResNet50_hidden_variants' has no entry in hidden_tests.py"),
        (None, lambda t: t.replace("TESTS = {", "TABLE = {"), r"defines no TESTS table"),
        (None, lambda t: t.replace('"identity_block_public": GradedTest("identity_block"',
                                   '"identity_block_public": GradedTest("ResNet50"'),
         r"follows the answer cell 'identity_block' but hidden_tests.py says it tests 'ResNet50'"),
        (None, lambda t: t.replace('GradedTest("identity_block", "values"', 'GradedTest("identity_block", "value"'),
         r"hidden_tests.py: ValueError: kind must be one of public, values, structure, model. Received: kind='value'"),
        (None,
         lambda t: t.replace('GradedTest("ResNet50", "model", [SHAPES_CASE])', '("ResNet50", "model", [SHAPES_CASE])'),
         r"TESTS\['ResNet50_hidden_shapes'\] must be a GradedTest\(function, kind, cases\), got tuple"),
        (None, lambda t: t.replace("[SHAPES_CASE]", "[]"), r"cases must be a non-empty list of BlockCase or ModelCase"),
        (None, lambda t: t + "\nraise RuntimeError('half-edited')\n", r"hidden_tests.py: RuntimeError: half-edited$"),
    ],
    ids=["no-answer-cell", "unknown-test-cell", "no-table", "wrong-function", "unknown-kind", "a-tuple", "no-cases",
         "raises"],
)
def test_an_inconsistent_course_is_an_instructor_error_naming_the_problem(tmp_path, change, hidden, error):
    with pytest.raises(courses.GradingError, match=error):
        courses.load(_course_copy(tmp_path, change, hidden))


def test_an_unreadable_source_notebook_is_an_instructor_error(tmp_path):
    root = _course_copy(tmp_path)
    (root / "source" / "residual_networks" / "Residual_Networks.ipynb").write_text("{not json")
    with pytest.raises(courses.GradingError, match=r"should have one graded assignment under source/, found: none"):
        courses.load(root)
    with pytest.raises(courses.GradingError, match=r"cannot read the source notebook .*: NotJSONError"):
        courses.load(root, "residual_networks")


def test_a_course_directory_elsewhere_is_used_end_to_end(tmp_path):
    """The hidden tests come from --course: a course whose table names other cases is read from there."""
    root = _course_copy(tmp_path, hidden=lambda t: t.replace('ModelCase("shapes")', 'ModelCase("shapes", classes=4)'))
    other = courses.load(root)
    assert other.root == root.resolve() and other.test("ResNet50_hidden_shapes").cases[0].classes == 4


# --- Plans ------------------------------------------------------------------------------------------


def test_plan_observes_every_test_skips_tagged_cells_and_stops_after_the_last_test(course, notebooks):
    plan = planning.build(notebooks["solution"], course)
    assert [s.test_id for s in plan.steps if s.kind == "observe"] == [t.test_id for t in course.tests]
    assert plan.steps[-1].kind == "observe"  # training and plots after the last test never run
    assert plan.tampered == {} and plan.answers == set(FUNCTIONS)
    assert not any("gradient_norms" in s.source for s in plan.steps) and plan.skipped_cells


def test_an_edited_tagged_cell_runs(course, notebooks):
    nb = copy.deepcopy(notebooks["solution"])
    index = next(i for i, c in enumerate(nb.cells) if "gradient_norms" in c.source)
    nb.cells[index].source += "\nidentity_helper = 1  # a student may define something here"
    plan = planning.build(nb, course)
    assert index not in plan.skipped_cells and any("identity_helper" in s.source for s in plan.steps)


def test_source_form_and_whitespace_changes_are_not_tampering(course):
    nb = nbformat.read(str(course.source), as_version=4)  # hidden tests still in place: the instructor's own notebook
    cell(nb, "identity_block_public").source += "\n\n   "
    assert planning.build(nb, course).tampered == {}


def test_an_edited_test_cell_is_restored_and_flagged(course, notebooks):
    nb = copy.deepcopy(notebooks["solution"])
    cell(nb, "identity_block_public").source = 'print("all checks passed")'
    plan = planning.build(nb, course)
    assert plan.tampered == {"identity_block_public": "edited"}
    assert "identity_block_public" in [s.test_id for s in plan.steps]


def test_a_deleted_test_cell_is_observed_after_the_cell_before_it_in_the_source(course, notebooks):
    nb = copy.deepcopy(notebooks["solution"])
    nb.cells.remove(cell(nb, "convolutional_block_hidden_values"))
    plan = planning.build(nb, course)
    ids = [s.test_id for s in plan.steps]
    assert plan.tampered == {"convolutional_block_hidden_values": "deleted"}
    assert ids.index("convolutional_block_hidden_values") == ids.index("convolutional_block_public") + 1


def test_a_duplicated_test_cell_is_observed_once(course, notebooks):
    nb = copy.deepcopy(notebooks["solution"])
    copied = copy.deepcopy(cell(nb, "ResNet50_public"))
    copied.id = "copy"
    nb.cells.insert(3, copied)
    plan = planning.build(nb, course)
    assert plan.tampered == {"ResNet50_public": "duplicated"}
    assert [s.test_id for s in plan.steps].count("ResNet50_public") == 1


def test_a_missing_answer_cell_makes_the_function_missing(course, notebooks):
    nb = copy.deepcopy(notebooks["solution"])
    nb.cells.remove(cell(nb, "convolutional_block"))
    plan = planning.build(nb, course)
    verdicts = {t.test_id: (True, "✓") for t in course.tests}
    grade = core._assemble("s", course, plan, core._Execution(), verdicts, 0.0)
    status = {f.function: (f.status, f.detail) for f in grade.functions}
    assert status["convolutional_block"] == (Status.MISSING, "no answer cell with grade_id convolutional_block")
    assert status["identity_block"] == (Status.OK, "")


def test_a_failed_setup_cell_explains_every_lost_point(course, notebooks):
    plan = planning.build(notebooks["solution"], course)
    execution = core._Execution()
    execution.outcomes[0] = StepOutcome(Status.ERROR, "ModuleNotFoundError: No module named 'keras'")
    verdicts = {t.test_id: (t.function == "ResNet50", "✗ hint") for t in course.tests}
    grade = core._assemble("s", course, plan, execution, verdicts, 0.0)
    setup = plan.steps[0].where()
    assert [f.detail for f in grade.functions] == [
        f"✗ hint; {setup}: ModuleNotFoundError: No module named 'keras'",
        f"✗ hint; {setup}: ModuleNotFoundError: No module named 'keras'",
        "",
    ]


def _steps(plan, function, kind):
    return [i for i, s in enumerate(plan.steps) if s.function == function and s.kind is kind]


def test_statuses_combine_by_severity_and_inherited_outcomes_add_no_detail(course, notebooks):
    """A function whose answer cell timed out and whose tests were then not run gets ``timeout`` once,
    with the answer cell's reason; its tests' own status (inherited) repeats nothing."""
    plan = planning.build(notebooks["solution"], course)
    execution = core._Execution()
    answer = next(i for i, s in enumerate(plan.steps) if s.answer and s.function == "convolutional_block")
    execution.outcomes[answer] = StepOutcome(Status.TIMEOUT, "ran past its time limit (60 s)")
    for index in _steps(plan, "convolutional_block", StepKind.OBSERVE):
        execution.outcomes[index] = StepOutcome(Status.TIMEOUT, "not run: convolutional_block ran past", inherited=True)
    first_id_test = _steps(plan, "identity_block", StepKind.OBSERVE)[0]
    execution.outcomes[first_id_test] = StepOutcome(Status.ERROR, "RecursionError: deep")
    verdicts = {t.test_id: (t.function == "ResNet50", "✗ hint") for t in course.tests}
    grade = core._assemble("s", course, plan, execution, verdicts, 0.0)
    status = {f.function: (f.status, f.detail) for f in grade.functions}
    assert status["convolutional_block"] == (Status.TIMEOUT,
                                             "answer cell convolutional_block: ran past its time limit (60 s)")
    assert status["identity_block"] == (Status.ERROR, "test identity_block_public: RecursionError: deep")
    assert status["ResNet50"] == (Status.OK, "")


def test_an_undefined_function_is_missing_and_its_name_error_is_not_an_error(course, notebooks):
    """The observe step says ``missing`` (a status, not a message to read); its captures' NameErrors
    are not counted as the function raising."""
    plan = planning.build(notebooks["solution"], course)
    execution = core._Execution()
    for index in _steps(plan, "identity_block", StepKind.OBSERVE):
        test_id = plan.steps[index].test_id
        execution.outcomes[index] = StepOutcome(Status.MISSING, "NameError: identity_block is not defined")
        execution.records[test_id] = TestRecord(test_id, (Capture("c", False, None, error="NameError: anything"),))
    conv = _steps(plan, "convolutional_block", StepKind.OBSERVE)[0]
    execution.outcomes[conv] = StepOutcome(Status.OK)
    execution.records[plan.steps[conv].test_id] = TestRecord(
        plan.steps[conv].test_id, (Capture("c", False, None, error="ValueError: bad filters"),))
    verdicts = {t.test_id: (False, "✗ hint") for t in course.tests}
    grade = core._assemble("s", course, plan, execution, verdicts, 0.0)
    status = {f.function: (f.status, f.detail.split(";")[0]) for f in grade.functions}
    assert status["identity_block"] == (Status.MISSING, "identity_block is not defined after its cell ran (renamed?)")
    assert status["convolutional_block"] == (Status.ERROR, "convolutional_block raised ValueError: bad filters")


def test_events_out_of_place_are_foreign_and_change_nothing(course, notebooks):
    """What a student can write on the channel: records for a step that is not running, for a code step,
    for another test, twice, or for a step the plan does not have; ends for such steps. None is a crash,
    none is accepted as a record, each is counted."""
    plan = planning.build(notebooks["solution"], course)
    code = next(i for i, s in enumerate(plan.steps) if s.kind is StepKind.CODE)
    first, second = _steps(plan, "identity_block", StepKind.OBSERVE)[:2]
    record = TestRecord(plan.steps[first].test_id, (Capture("public", False, {"layers": []}),))
    other = TestRecord(plan.steps[second].test_id, record.captures)
    E, K = Event, EventKind
    events = [E(K.READY), E(K.RECORD, first, record=record),  # its step is not running
              E(K.START, code), E(K.RECORD, code, record=record), E(K.END, code),  # a code step
              E(K.START, first), E(K.RECORD, first, record=other),  # another test's record
              E(K.RECORD, first, record=record), E(K.RECORD, first, record=record),  # the second one is foreign
              E(K.END, first), E(K.END, 10_000, Status.OK), E(K.START, 10_000), E(K.RECORD, 10_000, record=record),
              E(K.START, second), E(K.RECORD, second, detail="its record was malformed (x)"), E(K.END, second)]
    execution = core._Execution()
    core._collect(runner.Attempt(0, None, events, None, dropped=2), plan, execution)
    assert execution.records == {plan.steps[first].test_id: record,
                                 plan.steps[second].test_id: "its record was malformed (x)"}
    assert execution.foreign == 5 + 2  # five misplaced records, two undecodable lines
    assert set(execution.outcomes) == {code, first, second}


def test_why_a_child_died_is_said_from_its_kill_never_read_from_text():
    limits = Limits(function_timeout=30, cell_timeout=20, memory_mb=500)
    said = {kill: core._death(runner.Attempt(None, kill, [], None), limits) for kill in Kill}
    assert said[Kill.MEMORY] == "went over the memory limit (500 MB)"
    assert said[Kill.CELL_TIME] == "ran past the per-cell limit (20 s) and ignored the interrupt"
    assert said[Kill.CHANNEL] == "flooded the grader's report channel (over 64 MiB, or a line over 8 MiB)"
    assert len(set(said.values())) == len(Kill)
    assert core._death(runner.Attempt(-6, None, [], None), limits) == "crashed (SIGABRT)"
    assert runner.Attempt(-6, None, [], None).status is Status.ERROR
    assert runner.Attempt(None, Kill.MEMORY, [], None).status is Status.MEMORY


def test_a_student_who_handed_in_nothing_is_graded_by_the_core(tmp_path, course):
    grade = core.grade_submission(tmp_path / "absent.ipynb", student="s", course=course, workdir=tmp_path / "work")
    assert [(f.status, f.score, f.detail) for f in grade.functions] == [
        (Status.INVALID_NOTEBOOK, 0.0, "no Residual_Networks.ipynb in the student's folder")] * 3
    assert not (tmp_path / "work" / "sandbox").exists()


# --- Budgets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("used", "limit"), [(0, 60), (70, 50), (119.5, 0.5), (130, 0)])
def test_a_step_gets_the_smaller_of_the_cell_limit_and_its_function_budget_left(used, limit):
    assert Limits(function_timeout=120, cell_timeout=60).step_limit(used) == pytest.approx(limit)


def test_the_submission_cap_covers_every_function_and_restarts():
    assert Limits(function_timeout=10).total(3) == 80
    assert Limits(function_timeout=10, timeout=5).total(3) == 5


# --- Output cap and unreadable submissions -----------------------------------------------------------


def test_output_keeps_head_and_tail_within_the_limit():
    out = runner.Output(limit=10)
    for chunk in (b"abcdefgh", b"ijklmnop", b"qrstuvwxyz"):
        out.add(chunk)
    assert out.text() == "abcde\n[... 16 bytes of output discarded ...]\nvwxyz"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{half a notebook", "not a readable notebook: NotJSONError: Notebook does not appear to be JSON"),
        ("", "not a readable notebook: NotJSONError: Notebook does not appear to be JSON: ''"),
        ("[]", "not a readable notebook: "),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}', "not a readable notebook: "),
    ],
    ids=["corrupt", "empty", "list", "no-cells"],
)
def test_an_unreadable_submission_is_an_invalid_notebook_without_a_sandbox(tmp_path, course, content, reason):
    path = tmp_path / "submission.ipynb"
    path.write_text(content)
    grade = core.grade_submission(path, student="s", course=course, workdir=tmp_path / "work")
    assert [(f.status, f.score, f.max_score) for f in grade.functions] == [(Status.INVALID_NOTEBOOK, 0.0, 3.0)] * 3
    assert all(f.detail.startswith(reason) for f in grade.functions)
    assert [t.passed for t in grade.tests] == [False] * 9
    assert not (tmp_path / "work" / "sandbox").exists()
