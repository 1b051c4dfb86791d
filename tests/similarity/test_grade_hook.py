"""``resnet-signs grade DIR --out OUT --similarity``: grading, then the similarity report, named in the summary."""

from __future__ import annotations

import functools
import shutil

from resnet_signs import cli
from resnet_signs.grading import api as grading

from . import planted


def test_grade_with_similarity_writes_the_report_and_names_the_pairs_worth_a_look(tmp_path, monkeypatch, capsys):
    students = [s for s in planted.students() if s.name in ("author-epsilon", "copy-of-epsilon", "author-loop")]
    planted.write(tmp_path / "class", students)
    shutil.copytree(planted.SAMPLES / "solution", tmp_path / "class" / "solution")
    graded = []
    _skip_grading(monkeypatch, graded)
    status = cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--similarity"])
    out = capsys.readouterr().out
    assert status == 0 and graded == [tmp_path / "class"]
    assert out.index("outputs in") < out.index("similarity: 4 submissions")
    assert "worth a look" in out and "author-epsilon ~ copy-of-epsilon: identity_block" in out
    assert (tmp_path / "out" / "similarity.csv").is_file() and (tmp_path / "out" / "similarity.html").is_file()


def test_grade_without_similarity_writes_no_report(tmp_path, monkeypatch, capsys):
    shutil.copytree(planted.SAMPLES / "solution", tmp_path / "class" / "solution")
    _skip_grading(monkeypatch, [])
    assert cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "out")]) == 0
    assert "similarity: " not in capsys.readouterr().out
    assert not (tmp_path / "out" / "similarity.csv").exists()


def _skip_grading(monkeypatch, graded: list) -> None:
    """Grading itself is tested in tests/grading/: here it only has to run first (and keep its signature,
    from which the command reads its defaults)."""

    @functools.wraps(grading.grade)
    def grade(submissions, **kwargs):
        graded.append(submissions)
        return grading.GradeRun()

    monkeypatch.setattr(grading, "grade", grade)
    monkeypatch.setattr("resnet_signs.quiet.import_tensorflow", lambda: None)
