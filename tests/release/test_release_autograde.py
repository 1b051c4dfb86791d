"""Real nbgrader grades what the release produces: the untouched release 0, the solution full marks.

Two course directories: the tiny fixture project (no TensorFlow: proves the pipeline's
notebooks work with nbgrader's cell matching, locking and hidden-test restoration; the untouched
release, the solution and a gamed solution) and a scratch copy of the real course (the committed
solution, the hidden tests, the data; the training cells run their smoke budget because nbgrader
sets NBGRADER_EXECUTION). Each runs one ``nbgrader autograde``, shared by its tests. The real
course's kernel rounds as a TensorFloat-32 GPU does (tests/tf32): a GPU-enabled Jupyter server
grades the same. (The real untouched release is graded 0/9 by resnet-signs grade in
tests/grading/test_variants.py; under nbgrader here it cost make test half a minute.)
"""

from __future__ import annotations

import nbformat
import pytest

from resnet_signs import paths
from resnet_signs.release import release

from .conftest import autograde, copy_course, make_tiny_project, nbgrader, nbgrader_env

ROOT = paths.PROJECT_ROOT
NOTEBOOK = "residual_networks/Residual_Networks.ipynb"
#: docs/CONTRACTS.md, "The notebook": every test cell is worth one point.
TEST_CELLS = {
    f"{function}_{suffix}"
    for function, suffixes in (
        ("identity_block", ("public", "hidden_values", "hidden_structure")),
        ("convolutional_block", ("public", "hidden_values", "hidden_structure")),
        ("ResNet50", ("public", "hidden_shapes", "hidden_variants")),
    )
    for suffix in suffixes
}


@pytest.fixture(scope="module")
def tiny_grades(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("tiny-course"))
    release(course=project / "autograder", root=project, execute=False, log=lambda line: None)
    # Passes the public identity_block test only: the hidden ones must come back at grading.
    gamed = nbformat.read(project / "solutions" / NOTEBOOK, as_version=4)
    cell = next(c for c in gamed.cells if c.get("id") == "identity_block")
    cell.source = cell.source.replace("    return X", "    return [1, 2]")
    nbformat.write(gamed, project / "gamed.ipynb")
    return autograde(
        project / "autograder",
        "residual_networks",
        "Residual_Networks",
        {
            "untouched": project / "assignments" / NOTEBOOK,
            "solved": project / "solutions" / NOTEBOOK,
            "gamed": project / "gamed.ipynb",
        },
    )


@pytest.fixture(scope="module")
def course_grades(tmp_path_factory, tf32):
    missing = [name for name in ("train_signs.h5", "test_signs.h5") if not (paths.data_dir() / name).is_file()]
    if missing:
        pytest.skip(f"no prepared SIGNS data ({', '.join(missing)}): run `make data`")
    course = copy_course(tmp_path_factory.mktemp("course") / "autograder")
    nbgrader(course, "generate_assignment", "residual_networks", "--force")
    log = course.parent / "tf32-pids"
    grades = autograde(
        course,
        "residual_networks",
        "Residual_Networks",
        {"solved": ROOT / "solutions" / NOTEBOOK},
        env=tf32.environment(nbgrader_env(course), log=log),
    )
    return {**grades, "tf32_processes": tf32.installed_pids(log)}


def test_fixture_release_scores_zero_and_its_solution_full_marks(tiny_grades):
    assert tiny_grades["untouched"] == {"score": 0, "max_score": 9, "cells": dict.fromkeys(TEST_CELLS, 0)}
    assert tiny_grades["solved"] == {"score": 9, "max_score": 9, "cells": dict.fromkeys(TEST_CELLS, 1)}


def test_hidden_tests_stripped_from_the_release_run_at_grading(tiny_grades):
    hidden_fails = {"identity_block_hidden_values": 0, "identity_block_hidden_structure": 0}
    assert tiny_grades["gamed"]["cells"] == {**dict.fromkeys(TEST_CELLS, 1), **hidden_fails}


@pytest.mark.slow
def test_committed_solution_scores_nine_of_nine_in_kernels_that_round_to_tf32(course_grades):
    assert course_grades["solved"] == {"score": 9, "max_score": 9, "cells": dict.fromkeys(TEST_CELLS, 1)}
    # the notebook's kernel rounded (tests/checks/test_tf32.py: it bites)
    assert len(course_grades["tf32_processes"]) >= 1
