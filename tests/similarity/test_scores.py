"""The score: shared fragments, counted less the more students wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest

from resnet_signs.similarity.documents import Document, FunctionCode
from resnet_signs.similarity.normalise import Unit
from resnet_signs.similarity.scores import MIN_CLASS, Comparison


def _class(prints: dict[str, set[int]], against: dict[str, set[int]] | None = None) -> Comparison:
    def document(name, kind, hashes):
        units = [Unit("V = V", "f", (1, 1))]
        code = FunctionCode(units, {}, {"f": ("def f():",)}, {h: frozenset({0}) for h in hashes})
        return Document(name, kind, Path(name), {"f": code})

    return Comparison([document(n, "student", h) for n, h in prints.items()],
                      [document(n, "against", h) for n, h in (against or {}).items()], ("f",))


def test_a_fragment_every_student_wrote_counts_nowhere():
    everyone = {f"s{i}": {0, 100 + i} for i in range(6)}  # fragment 0 in all six, one of their own each
    comparison = _class(everyone)
    assert comparison.similarity("s0", "s1", "f") == 0.0
    only_common = _class({**everyone, "s0": {0}})
    assert only_common.similarity("s0", "s1", "f") is None  # nothing left to compare in s0


def test_rarer_fragments_count_more():
    students = {f"s{i}": {100 + i} for i in range(10)}
    students["a"], students["b"] = {1, 2}, {1, 2}  # two fragments only these two wrote
    students["c"], students["d"] = {3, 4}, {3, 4}
    for name in ("s0", "s1", "s2", "s3", "s4", "s5"):
        students[name] |= {3, 4}  # ...which six more wrote too: half of the twelve other students
    comparison = _class(students)
    assert comparison.similarity("a", "b", "f") == 1.0
    assert comparison.similarity("c", "d", "f") == pytest.approx(1 - (6 / 12) ** 2)


def test_a_small_class_discounts_nothing():
    students = {f"s{i}": {0} for i in range(MIN_CLASS - 1)}
    assert _class(students).similarity("s0", "s1", "f") == 1.0


def test_a_collected_solution_is_weighted_by_the_class_alone():
    students = {f"s{i}": {100 + i} for i in range(6)}
    students["s0"] |= {7, 8}
    comparison = _class(students, against={"found/solution.py": {7, 8}})
    assert comparison.similarity("s0", "found/solution.py", "f") == pytest.approx(2 / ((3 + 2) / 2))
    assert comparison.closest("s0") == ("found/solution.py", pytest.approx(0.8))
    scores = comparison.scores(0.1)
    assert [(s.a, s.b, s.function) for s in scores] == [("s0", "found/solution.py", "f"),
                                                        ("s0", "found/solution.py", "all")]
    assert scores[0].shared == 2 and scores[0].rarest == 1
