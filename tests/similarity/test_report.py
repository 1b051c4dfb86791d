"""The similarity report on a class with planted copies (tests/similarity/planted.py).

One run of ``compare()`` is shared by the module: the class (the samples, independent answers from the
project's fixtures, rewritten copies), a corrupt notebook, a folder without one, and collected
solutions to compare against.
"""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from resnet_signs import paths
from resnet_signs.similarity.api import REVIEW, compare, print_summary
from resnet_signs.similarity.documents import load_assignment
from resnet_signs.similarity.normalise import function_units
from resnet_signs.similarity.report import CSV_HEADER
from resnet_signs.similarity.sources import code_cells, parse

from . import planted

SCRIPT = "<script>alert('copied')</script>"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("similarity")
    students = planted.students()
    epsilon = next(s for s in students if s.name == "copy-of-epsilon")
    epsilon.cells[planted.ID] = epsilon.cells[planted.ID].replace("    n1,n2,n3 = filters",
                                                                  f"    # {SCRIPT}\n    n1,n2,n3 = filters")
    assert SCRIPT in epsilon.cells[planted.ID]
    planted.write(root / "class", students)
    (root / "class" / "corrupt").mkdir()
    (root / "class" / "corrupt" / planted.NOTEBOOK).write_text('{"cells": [')
    (root / "class" / "no-notebook").mkdir()
    found = root / "found" / "repo"
    found.mkdir(parents=True)
    relu = planted.origins()["relu-layer"][planted.ID][1]
    (found / "relu_solution.py").write_text(planted.respace(planted.rename(relu)))
    (found / "README.py").write_text("print('no graded function here')\n")
    (root / "found" / ".git").mkdir()
    (root / "found" / ".git" / "ignored.py").write_text(relu)
    result = compare(root / "class", out=root / "out", against=[root / "found"])
    return {"run": result, "students": students, "out": root / "out", "found": found, "root": root}


def _rows(out) -> list[dict]:
    return list(csv.DictReader(io.StringIO((out / "similarity.csv").read_text(encoding="utf-8"))))


@pytest.mark.parametrize("function", planted.FUNCTIONS)
def test_every_planted_copy_pair_ranks_above_every_independent_pair(run, function):
    comparison = run["run"].comparison
    copies, independent = planted.pairs(run["students"], function)
    assert copies and independent
    lowest = min((comparison.similarity(a, b, function), a, b) for a, b in copies)
    highest = max((comparison.similarity(a, b, function), a, b) for a, b in independent)
    assert lowest[0] > highest[0], f"{function}: copy pair {lowest} ranks below independent pair {highest}"


@pytest.mark.parametrize("name, author, rewrites", planted.PLANTED, ids=[p[0] for p in planted.PLANTED])
def test_a_rewritten_copy_reads_exactly_as_the_answer_it_copies(run, name, author, rewrites):
    """Renames, comments, quotes, spacing, swapped or moved statements, extracted helpers: all undone."""
    documents = {d.name: d for d in run["run"].students}
    origin = documents["solution" if author == "course" else f"author-{author}"]
    for function in rewrites:
        copied = [u.text for u in documents[name].functions[function].units]
        assert copied == [u.text for u in origin.functions[function].units], function
        assert len(copied) > 3


def test_the_rewritten_copies_of_distinct_answers_are_worth_a_look(run):
    review = run["run"].review
    for name, author, _ in planted.PLANTED:
        if author not in ("course", "old-revision"):  # the class's common answer is discounted: see test below
            assert (f"author-{author}", name) in review, name


def test_the_class_common_answer_counts_less_but_still_ranks_above_independent_answers(run):
    """Twelve students hold the solution's lines: sharing them is weaker evidence than a rare answer."""
    comparison = run["run"].comparison
    common = comparison.similarity("solution", "copy-of-solution", planted.ID)
    rare = comparison.similarity("author-epsilon", "copy-of-epsilon", planted.ID)
    assert common < rare


def test_starter_code_alone_never_makes_a_pair(run):
    rows = _rows(run["out"])
    assert not [r for r in rows if "untouched-release" in (r["student_a"], r["student_b"])]
    stubs = {s.name: [f for f in planted.FUNCTIONS if s.origins[f] is None] for s in run["students"]}
    for row in rows:
        if row["function"] != "all":
            assert row["function"] not in stubs.get(row["student_a"], []), row
            assert row["function"] not in stubs.get(row["student_b"], []), row


def test_a_class_of_untouched_releases_has_no_pair(tmp_path):
    for name in ("ann", "ben", "cat"):
        shutil.copytree(planted.SAMPLES / "untouched-release", tmp_path / "class" / name)
    result = compare(tmp_path / "class", out=tmp_path / "out")
    assert result.scores == [] and result.unanswered == ["ann", "ben", "cat"]
    assert _rows(tmp_path / "out") == []
    assert "No pair reaches" in (tmp_path / "out" / "similarity.html").read_text()


def test_the_csv_lists_pairs_most_similar_first_with_a_row_for_the_whole_notebook(run):
    rows = _rows(run["out"])
    assert tuple(rows[0]) == CSV_HEADER
    values = [float(r["similarity"]) for r in rows]
    assert values == sorted(values, reverse=True) and values[-1] >= 0 and values[0] <= 1
    assert min(float(r["similarity"]) for r in rows if r["function"] != "all") >= run["run"].threshold
    functions = {r["function"] for r in rows}
    assert functions == {*planted.FUNCTIONS, "all"}
    pairs = [(r["student_a"], r["student_b"]) for r in rows]
    whole = [(r["student_a"], r["student_b"]) for r in rows if r["function"] == "all"]
    assert sorted(set(pairs)) == sorted(whole)  # each pair once with its notebook as a whole
    top = rows[0]
    assert int(top["rarest_shared_in"]) >= 1 and int(top["shared_fragments"]) > 0 and int(top["answers"]) > 1


def test_collected_solutions_are_named_by_their_path(run):
    rows = _rows(run["out"])
    path = str(run["found"] / "relu_solution.py")
    against = [r for r in rows if r["student_b"] == path]
    assert against and all(r["student_a"] != path for r in rows)
    best = max(against, key=lambda r: float(r["similarity"]))
    assert best["student_a"].endswith("relu-layer") and float(best["similarity"]) >= REVIEW
    assert not [r for r in rows if "ignored.py" in r["student_b"]]  # hidden folders are not read


def test_what_could_not_be_compared_is_reported(run, capsys):
    skipped = dict(run["run"].skipped)
    assert skipped["corrupt"].startswith("not a notebook: invalid JSON")
    assert skipped["no-notebook"] == "no Residual_Networks.ipynb in the student's folder"
    assert "defines none of the graded functions" in skipped[str(run["found"] / "README.py")]
    print_summary(run["run"])
    out = capsys.readouterr().out
    assert "not compared: corrupt: not a notebook" in out and "not compared: no-notebook" in out
    assert "a reason to look, not a verdict" in out
    first = run["run"].review[0]
    assert f"{first[0]} ~ {first[1]}:" in out
    html = (run["out"] / "similarity.html").read_text()
    assert "Not compared" in html and "corrupt" in html


def test_the_html_escapes_what_students_wrote(run):
    html = (run["out"] / "similarity.html").read_text()
    assert "copy-of-epsilon" in html
    assert SCRIPT not in html and "&lt;script&gt;alert(&#x27;copied&#x27;)&lt;/script&gt;" in html
    assert "<script" not in html  # the page itself has no script at all


def test_the_html_shows_each_students_closest_match_and_how_common_each_fragment_is(run):
    html = (run["out"] / "similarity.html").read_text()
    assert "Each student's closest match" in html and "a reason to look, not a verdict" in html
    assert '<mark class="rare">' in html and "only these two" in html
    assert '<mark class="common">' in html and " of 22" in html  # lines many students wrote, with their count


def test_the_same_class_gives_the_same_files(run, tmp_path):
    compare(run["root"] / "class", out=tmp_path, against=[run["root"] / "found"])
    for name in ("similarity.csv", "similarity.html"):
        assert (tmp_path / name).read_bytes() == (run["out"] / name).read_bytes()


def test_a_notebook_in_nbgraders_submitted_layout_is_found(tmp_path, run):
    for name in ("author-epsilon", "copy-of-epsilon"):
        target = tmp_path / "submitted" / name / "residual_networks"
        target.mkdir(parents=True)
        shutil.copy(run["root"] / "class" / name / planted.NOTEBOOK, target)
    result = compare(tmp_path / "submitted", out=tmp_path / "out")
    assert result.review == [("author-epsilon", "copy-of-epsilon")]


def test_it_runs_without_tensorflow(tmp_path):
    """Similarity is for a laptop too: importing and running it must not pull in TensorFlow or Keras."""
    import subprocess
    import sys

    shutil.copytree(planted.SAMPLES / "solution", tmp_path / "class" / "a")
    shutil.copytree(planted.SAMPLES / "conv-bn-axis-wrong", tmp_path / "class" / "b")
    code = ("import sys; from pathlib import Path; from resnet_signs.similarity.api import compare\n"
            f"compare(Path({str(tmp_path / 'class')!r}), out=Path({str(tmp_path / 'out')!r}))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    assert json.loads(json.dumps(_rows(tmp_path / "out")))  # the two share code: the report is not empty


def test_the_starter_code_left_out_is_the_releases():
    """Derived from the source notebook (its solution regions replaced by nbgrader's stub), it must be
    what the committed release gives students."""
    assignment = load_assignment(paths.course_dir())
    release = parse(code_cells(planted.RELEASE)).definitions
    for function in assignment.functions:
        written, _ = function_units(function, release, frozenset(assignment.functions))
        assert [u.text for u in written] == assignment.starters[function]
        assert "raise NotImplementedError()" in assignment.starters[function]
