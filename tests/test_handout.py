"""``resnet-signs notebooks get``: the student notebooks copied out, never over a student's work."""

from __future__ import annotations

import pytest

from resnet_signs import cli, handout, paths
from resnet_signs.errors import UsageError

RELEASED = sorted(p.relative_to(paths.PROJECT_ROOT / "assignments")
                  for p in (paths.PROJECT_ROOT / "assignments").glob("*/*.ipynb"))


def test_the_student_notebooks_are_the_release():
    assert [str(p) for p in RELEASED] == list(handout.student_notebooks())
    assert "residual_networks/Residual_Networks.ipynb" in handout.student_notebooks()


def test_get_copies_every_notebook_byte_for_byte(tmp_path):
    written = handout.get(tmp_path / "course")
    assert written == [tmp_path / "course" / p for p in RELEASED]
    for relative in RELEASED:
        original = paths.PROJECT_ROOT / "assignments" / relative
        assert (tmp_path / "course" / relative).read_bytes() == original.read_bytes()


def test_get_refuses_to_overwrite_and_writes_nothing(tmp_path):
    mine = tmp_path / RELEASED[0]
    mine.parent.mkdir(parents=True)
    mine.write_text("my answers")
    with pytest.raises(UsageError, match=r"already exists: copying would overwrite your work\. Pass --force"):
        handout.get(tmp_path)
    assert mine.read_text() == "my answers"
    assert not any((tmp_path / p).exists() for p in RELEASED[1:])
    handout.get(tmp_path, force=True)
    assert mine.read_bytes() == (paths.PROJECT_ROOT / "assignments" / RELEASED[0]).read_bytes()


def test_get_into_a_file_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        handout.get(tmp_path / "file")


def test_cli_defaults_to_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["notebooks", "get"]) == 0
    assert (tmp_path / RELEASED[0]).is_file() and f"wrote {RELEASED[0]}" in capsys.readouterr().out
    assert cli.main(["notebooks", "get"]) == 2
    assert "Pass --force to replace" in capsys.readouterr().err
