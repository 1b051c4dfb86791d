"""Scores: how much of two documents' graded code is the same, counting common code less.

For one graded function, with ``A`` and ``B`` the two documents' fingerprints:

    similarity = sum(weight(h) for h in A & B) / ((|A| + |B|) / 2)

``weight`` is 1 for a fragment that at most two students of the class wrote and ``1 - share**2``
above, where ``share`` is the fraction of the other students who also wrote it: a fragment in half
of the class still counts 3/4, in 90% of it 1/5, in every answer 0. Code the instructions dictate
converges (``X = Activation("relu")(X)`` is in nearly every answer), so sharing it says little;
sharing what few others wrote says more. Fragments every student shares count nowhere (neither in
the numerator nor in the sizes). Frequencies count students only; a collected solution (``--against``)
is compared with the same weights. In a class smaller than :data:`MIN_CLASS` nothing is discounted:
too few answers to tell common code from copied code.

``all`` is the same sum over the three functions together. A score is defined only where both
documents answered the function (fingerprints beyond the starter code).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resnet_signs.similarity.documents import Document

#: Below this many answers to a function, no fragment is discounted as common.
MIN_CLASS = 5
ALL = "all"
_CHUNK = 4096  # fingerprint columns multiplied at once (bounds memory for big classes)


@dataclass(frozen=True)
class Score:
    """One pair's similarity on one function (or ``all``).

    Attributes:
        a: a student's name.
        b: another student's name, or a collected solution's path.
        function: a graded function, or ``"all"``.
        similarity: 0 to 1 (see the module's docstring).
        shared: fingerprints the two share that count (not shared by every student).
        rarest: the fewest students any of those fragments appears in (``1``: only ``a``, when ``b``
            is a collected solution).
    """

    a: str
    b: str
    function: str
    similarity: float
    shared: int
    rarest: int


@dataclass(frozen=True)
class Match:
    """A statement of one side of a pair that shares fragments with the other side.

    Attributes:
        where: the definition it is in; lines: its first and last line there;
        students: how many students' code holds its rarest shared fragment.
    """

    where: str
    lines: tuple[int, int]
    students: int


class Comparison:
    """Every pair's scores for a class (and its collected solutions).

    Args:
        students: the submissions, in report order.
        against: collected solutions.
        functions: the graded functions, in notebook order.
    """

    def __init__(self, students: list[Document], against: list[Document], functions: tuple[str, ...]):
        self.students, self.against, self.functions = students, against, functions
        self.frequency: dict[str, dict[int, int]] = {}
        self.answers: dict[str, int] = {}
        self._pairs: dict[str, np.ndarray] = {}  # students x students
        self._versus: dict[str, np.ndarray] = {}  # students x against
        self._shared: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._rarest: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._index = {d.name: i for i, d in enumerate(students)}
        self._against_index = {d.name: i for i, d in enumerate(against)}
        totals = [np.zeros((len(students), len(students))), np.zeros((len(students), len(against)))]
        sizes_s, sizes_a = np.zeros(len(students)), np.zeros(len(against))
        for function in functions:
            numerators, size_s, size_a = self._function(function)
            totals[0] += numerators[0]
            totals[1] += numerators[1]
            sizes_s += size_s
            sizes_a += size_a
        self._pairs[ALL] = _ratio(totals[0], sizes_s, sizes_s)
        self._versus[ALL] = _ratio(totals[1], sizes_s, sizes_a)
        self._shared[ALL] = tuple(sum(self._shared[f][k] for f in functions) for k in (0, 1))
        self._rarest[ALL] = tuple(np.minimum.reduce([self._rarest[f][k] for f in functions]) for k in (0, 1))

    # ------------------------------------------------------------------ weights
    def weight(self, function: str, fingerprint: int) -> float:
        """How much sharing this fragment counts (see the module's docstring)."""
        return _weight(self.frequency[function].get(fingerprint, 0), self.answers[function])

    def _function(self, function: str):
        students = [d.functions[function].prints if d.answered(function) else {} for d in self.students]
        against = [d.functions[function].prints if d.answered(function) else {} for d in self.against]
        frequency: dict[int, int] = {}
        for prints in students:
            for h in prints:
                frequency[h] = frequency.get(h, 0) + 1
        answers = sum(1 for p in students if p)
        self.frequency[function], self.answers[function] = frequency, answers
        counts = dict(frequency)
        for prints in against:
            for h in prints:
                counts[h] = counts.get(h, 0) + 1
        columns = [h for h, n in counts.items() if n >= 2 and _weight(frequency.get(h, 0), answers) > 0]
        position = {h: i for i, h in enumerate(columns)}
        weights = np.array([_weight(frequency.get(h, 0), answers) for h in columns], dtype=np.float64)
        rarity = np.array([max(frequency.get(h, 0), 1) for h in columns], dtype=np.float64)
        size_s = np.array([_size(p, frequency, answers) for p in students], dtype=np.float64)
        size_a = np.array([_size(p, frequency, answers) for p in against], dtype=np.float64)
        num_ss = np.zeros((len(students), len(students)))
        num_sa = np.zeros((len(students), len(against)))
        shared_ss, shared_sa = np.zeros_like(num_ss), np.zeros_like(num_sa)
        rarest_ss = np.full(num_ss.shape, np.inf)
        rarest_sa = np.full(num_sa.shape, np.inf)
        for start in range(0, len(columns), _CHUNK):
            stop = min(start + _CHUNK, len(columns))
            ms, ma = _matrix(students, position, start, stop), _matrix(against, position, start, stop)
            w = weights[start:stop]
            num_ss += (ms * w) @ ms.T
            num_sa += (ms * w) @ ma.T
            shared_ss += ms @ ms.T
            shared_sa += ms @ ma.T
            rarest_ss = np.minimum(rarest_ss, _rarest(ms, ms, rarity[start:stop]))
            rarest_sa = np.minimum(rarest_sa, _rarest(ms, ma, rarity[start:stop]))
        self._pairs[function] = _ratio(num_ss, size_s, size_s)
        self._versus[function] = _ratio(num_sa, size_s, size_a)
        self._shared[function] = (shared_ss, shared_sa)
        self._rarest[function] = (rarest_ss, rarest_sa)
        return (num_ss, num_sa), size_s, size_a

    # ------------------------------------------------------------------ scores
    def similarity(self, a: str, b: str, function: str = ALL) -> float | None:
        """The similarity of student ``a`` and student (or collected solution) ``b``; ``None`` where
        one of them did not answer ``function``."""
        i = self._index[a]
        if b in self._index:
            value = self._pairs[function][i, self._index[b]]
        else:
            value = self._versus[function][i, self._against_index[b]]
        return None if np.isnan(value) else float(value)

    def scores(self, threshold: float) -> list[Score]:
        """Every pair and function at or above ``threshold``, most similar first, and for each such
        pair its ``all`` row (whatever its value): the notebook as a whole.

        Student pairs are named in the class's order (``a`` before ``b``); a collected solution is
        always ``b``.
        """
        found, pairs = [], {}
        tables = ((0, self._pairs, self.students, 1), (1, self._versus, self.against, None))
        for function in (*self.functions, ALL):
            for side, table, others, above in tables:
                values = np.nan_to_num(table[function], nan=-1.0) >= threshold
                if above is not None:
                    values = np.triu(values, k=above)
                for i, j in zip(*(axis.tolist() for axis in np.nonzero(values)), strict=True):
                    if function != ALL:
                        found.append(self._score(function, i, j, others[j].name, table[function], side))
                    pairs[(side, i, j)] = None
        for side, i, j in pairs:
            table, others = (self._pairs, self.students) if side == 0 else (self._versus, self.against)
            found.append(self._score(ALL, i, j, others[j].name, table[ALL], side))
        order = {f: n for n, f in enumerate((*self.functions, ALL))}
        return sorted(found, key=lambda s: (-s.similarity, order[s.function], s.a, s.b))

    def _score(self, function: str, i: int, j: int, b: str, values: np.ndarray, side: int) -> Score:
        rarest = self._rarest[function][side][i, j]
        return Score(self.students[i].name, b, function, round(float(values[i, j]), 4),
                     int(self._shared[function][side][i, j]), int(rarest) if np.isfinite(rarest) else 0)

    def closest(self, student: str) -> tuple[str, float] | None:
        """The document most similar to ``student`` as a whole (``all``), and how similar; ``None``
        when nothing is comparable."""
        i = self._index[student]
        row = np.concatenate([np.delete(self._pairs[ALL][i], i), self._versus[ALL][i]])
        names = [d.name for k, d in enumerate(self.students) if k != i] + [d.name for d in self.against]
        if not len(row) or np.all(np.isnan(row)):
            return None
        best = int(np.nanargmax(row))
        return names[best], float(row[best])

    def matches(self, a: Document, b: Document, function: str) -> tuple[list[Match], list[Match]]:
        """The statements of ``a`` and of ``b`` that share counted fragments, for the report."""
        if not (a.answered(function) and b.answered(function)):
            return [], []
        left, right = a.functions[function], b.functions[function]
        shared = [h for h in left.prints.keys() & right.prints.keys() if self.weight(function, h) > 0]
        return _matches(left, shared, self.frequency[function]), _matches(right, shared, self.frequency[function])


def _weight(students: int, answers: int) -> float:
    """1 for a fragment at most two of ``answers`` students wrote, ``1 - share**2`` above, 0 for all."""
    if answers < MIN_CLASS or students <= 2:
        return 1.0
    return max(0.0, 1.0 - ((students - 2) / (answers - 2)) ** 2)


def _size(prints: dict, frequency: dict[int, int], answers: int) -> float:
    """Fingerprints that count: all but those every student shares (in a class big enough)."""
    if answers < MIN_CLASS:
        return float(len(prints))
    return float(sum(1 for h in prints if frequency.get(h, 0) < answers))


def _matrix(documents: list[dict], position: dict[int, int], start: int, stop: int) -> np.ndarray:
    matrix = np.zeros((len(documents), stop - start))
    for row, prints in enumerate(documents):
        for h in prints:
            column = position.get(h)
            if column is not None and start <= column < stop:
                matrix[row, column - start] = 1.0
    return matrix


def _rarest(left: np.ndarray, right: np.ndarray, rarity: np.ndarray) -> np.ndarray:
    """For each pair of rows, the smallest ``rarity`` among the columns both have (inf: none)."""
    result = np.full((left.shape[0], right.shape[0]), np.inf)
    for value in np.unique(rarity):  # ascending: the first level a pair shares is its rarest
        columns = rarity == value
        both = (left[:, columns] @ right[:, columns].T) > 0
        result = np.where(both & np.isinf(result), value, result)
    return result


def _ratio(numerator: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    denominator = (size_a[:, None] + size_b[None, :]) / 2
    present = (size_a[:, None] > 0) & (size_b[None, :] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, np.minimum(numerator / denominator, 1.0), np.nan)


def _matches(code, shared: list[int], frequency: dict[int, int]) -> list[Match]:
    rarest: dict[int, int] = {}
    for h in shared:
        for index in code.prints[h]:
            rarest[index] = min(rarest.get(index, 1 << 30), max(frequency.get(h, 0), 1))
    return [Match(code.units[i].where, code.units[i].lines, n) for i, n in sorted(rarest.items())]
