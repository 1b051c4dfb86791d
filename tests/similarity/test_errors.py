"""Bad inputs: a one-line error (exit 2) that writes nothing, or a skip the report names."""

from __future__ import annotations

import json
import shutil

import pytest

from resnet_signs import cli
from resnet_signs.errors import UsageError
from resnet_signs.similarity.api import compare

from . import planted


@pytest.fixture()
def two(tmp_path):
    """A class of two students (the solution and one of its mistakes) and a folder for the outputs."""
    for name in ("solution", "conv-bn-axis-wrong"):
        shutil.copytree(planted.SAMPLES / name, tmp_path / "class" / name)
    return tmp_path


def _error(capsys, *argv) -> str:
    assert cli.main(["similarity", *map(str, argv)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("resnet-signs similarity: error: "), err
    return err


@pytest.mark.parametrize("case, message", [
    ("missing", "no such folder"),
    ("a file", "is not a folder"),
    ("empty", "holds no student folder"),
    ("out inside", "is inside the submissions folder"),
    ("out is the class", "is inside the submissions folder"),
    ("out is a file", "is a file: give a folder"),
    ("against missing", "--against"),
    ("against inside", "its files would be compared as a student's"),
    ("against empty", "holds no .ipynb or .py file"),
    ("threshold", "--threshold must be a number from 0 to 1"),
    ("threshold text", "--threshold must be a number from 0 to 1"),
    ("no course", "is not a course directory"),
])
def test_a_bad_argument_is_one_line_and_writes_nothing(two, capsys, case, message):
    root = two
    submissions, out, extra = root / "class", root / "out", []
    if case == "missing":
        submissions = root / "absent"
    elif case == "a file":
        submissions = root / "class.txt"
        submissions.write_text("not a folder")
    elif case == "empty":
        submissions = root / "empty"
        submissions.mkdir()
    elif case == "out inside":
        out = submissions / "solution" / "report"
    elif case == "out is the class":
        out = submissions
    elif case == "out is a file":
        out.write_text("a file")
    elif case == "against missing":
        extra = ["--against", root / "nowhere"]
    elif case == "against inside":
        extra = ["--against", submissions / "solution"]
    elif case == "against empty":
        (root / "found").mkdir()
        (root / "found" / "notes.txt").write_text("no code")
        extra = ["--against", root / "found"]
    elif case == "threshold":
        extra = ["--threshold", "2"]
    elif case == "threshold text":
        extra = ["--threshold", "high"]
    elif case == "no course":
        extra = ["--course", root]
    before = sorted(p for p in root.rglob("*"))
    assert message in _error(capsys, submissions, "--out", out, *extra)
    assert sorted(p for p in root.rglob("*")) == before  # nothing written, nothing lost


def test_the_api_raises_the_same_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        compare(tmp_path / "absent", out=tmp_path / "out")


def test_a_graded_function_that_does_not_parse_is_named_in_the_report(two):
    path = two / "class" / "conv-bn-axis-wrong" / planted.NOTEBOOK
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == planted.ID)
    cell["source"] = "".join(cell["source"]).replace("F1, F2, F3 = filters", "F1, F2, F3 = filters)")
    path.write_text(json.dumps(nb))
    result = compare(two / "class", out=two / "out")
    broken = next(d for d in result.students if d.name == "conv-bn-axis-wrong")
    assert broken.notes[0].startswith("identity_block: no def identity_block(...) (syntax error at line ")
    assert result.comparison.similarity("conv-bn-axis-wrong", "solution", planted.ID) is None
    assert result.comparison.similarity("conv-bn-axis-wrong", "solution", planted.RES) is not None


def test_a_class_with_nothing_to_compare_still_gets_its_report(tmp_path, capsys):
    shutil.copytree(planted.SAMPLES / "solution", tmp_path / "class" / "alone")
    assert cli.main(["similarity", str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "1 submission (0 with nothing beyond the starter code)" in out and "no pair reaches" in out
    assert (tmp_path / "out" / "similarity.html").is_file()
