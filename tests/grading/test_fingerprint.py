"""One fingerprint for every cache: the grade cache and the judge's cache of the reference's observations
are keyed by the same function over the same course files, and both follow the versions they run with."""

from __future__ import annotations

import pytest

from resnet_signs import paths
from resnet_signs.grading import api, fingerprint, judge
from resnet_signs.grading import course as courses
from resnet_signs.grading.jobs import DEFAULT_GRADER
from resnet_signs.grading.model import Limits


@pytest.fixture(scope="module")
def course():
    return courses.load(paths.course_dir())


def test_the_same_inputs_give_the_same_fingerprint_and_any_change_another(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1")
    b.write_text("")
    base = fingerprint.fingerprint("grader", files=[a, b])
    assert base == fingerprint.fingerprint("grader", files=[a, b])
    assert base != fingerprint.fingerprint("grader2", files=[a, b])
    assert base != fingerprint.fingerprint("grader", files=[a])
    assert fingerprint.fingerprint("ab", "c") != fingerprint.fingerprint("a", "bc")  # fields are delimited
    b.unlink()
    assert base != fingerprint.fingerprint("grader", files=[a, b])  # a missing file is not an empty one
    a.write_text("x = 2")
    assert base != fingerprint.fingerprint("grader", files=[a])


def test_both_caches_cover_the_course_and_the_checks_and_follow_the_runtime(course, monkeypatch):
    files = fingerprint.course_files(course)
    assert {course.root / "reference.py", course.root / "hidden_tests.py", course.source} <= set(files)
    assert fingerprint.PACKAGE / "checks" / "rebuild.py" in files
    grading = fingerprint.grading_files()
    assert fingerprint.PACKAGE / "grading" / "core.py" in grading
    assert not any(p.name in fingerprint.FRONT for p in grading)
    judge_key = judge.Judge(course, cache=None).cache_key()
    grade_key = api.grader_version(course, Limits(), DEFAULT_GRADER)
    monkeypatch.setattr(fingerprint, "runtime", lambda: "resnet_signs 0|keras 9.9.9 tensorflow")
    assert judge.Judge(course, cache=None).cache_key() != judge_key
    assert api.grader_version(course, Limits(), DEFAULT_GRADER) != grade_key
    assert api.grader_version(course, Limits(memory_mb=1000), DEFAULT_GRADER) != api.grader_version(
        course, Limits(), DEFAULT_GRADER)


def test_the_backend_is_read_as_keras_reads_it_without_importing_it(tmp_path, monkeypatch):
    import keras

    assert fingerprint.keras_backend() == keras.config.backend()
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert fingerprint.keras_backend() == "tensorflow"  # no keras.json
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    assert fingerprint.keras_backend() == "jax"
    (tmp_path / "keras.json").write_text("{broken")
    assert fingerprint.keras_backend() == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert fingerprint.keras_backend() == "torch"
    assert fingerprint.runtime().endswith(f"keras {keras.__version__} torch")
