"""``audit``: class balance per split, byte-identical duplicates and train/test leakage.

Works on the JPEG layout (duplicates = identical files) or on a folder of the two course
``.h5`` files (duplicates = identical pixel arrays).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path

from resnet_signs.data import h5files, jpegs, manifest
from resnet_signs.errors import DataError

TEST_SPLITS = ("test_signs", "test")


@dataclass
class AuditReport:
    """The audit of one SIGNS source.

    Attributes:
        source: The audited folder.
        counts: ``{split: [images of class 0, ..., class 5]}``.
        duplicates: Groups of byte-identical items (``split/name``), each of two or more.
        leaks: ``(test item, train item)`` pairs that are byte-identical.
    """

    source: str
    counts: dict[str, list[int]]
    duplicates: list[list[str]]
    leaks: list[tuple[str, str]]

    @property
    def duplicate_pairs(self) -> int:
        """Number of identical pairs (a group of n counts n(n-1)/2)."""
        return sum(len(g) * (len(g) - 1) // 2 for g in self.duplicates)

    def to_dict(self) -> dict:
        """JSON-ready form, with the pair counts spelled out."""
        return {**asdict(self), "duplicate_pairs": self.duplicate_pairs, "leak_pairs": len(self.leaks)}

    def table(self) -> str:
        """A readable multi-line report."""
        rows = dict(self.counts)
        training = [s for s in self.counts if s not in TEST_SPLITS]
        if len(training) > 1:  # the course's training set is train_signs + val_signs
            rows["+".join(training)] = [sum(c) for c in zip(*(self.counts[s] for s in training), strict=True)]
        width = max(len(s) for s in rows) + 2
        header = "split".ljust(width) + "".join(f"{c:>6}" for c in range(jpegs.NUM_CLASSES)) + f"{'total':>8}"
        lines = [f"SIGNS audit of {self.source}", "", header]
        for split, row in rows.items():
            lines.append(split.ljust(width) + "".join(f"{n:>6}" for n in row) + f"{sum(row):>8}")
        lines += ["", f"byte-identical duplicates: {self.duplicate_pairs} pairs in {len(self.duplicates)} groups "
                  f"({len(self.leaks)} pairs cross training and test)"]
        lines += [f"  {' == '.join(group)}" for group in self.duplicates]
        lines += ["", f"train/test leakage: {len(self.leaks)} test items also appear in training"]
        lines += [f"  {test} == {train}" for test, train in self.leaks]
        return "\n".join(lines)


def audit(source: Path) -> AuditReport:
    """Audit a SIGNS folder (JPEG layout, or the two .h5 files).

    Raises:
        DataError: The folder holds neither layout, or a file cannot be read.
    """
    source = Path(source)
    root = jpegs.find_root(source) if source.is_dir() else None
    if root is not None:
        items = [(p.folder, p.name, p.label, manifest.sha256_file(p.path)) for p in jpegs.list_photos(root)]
    elif source.is_dir() and all((source / h5files.file_name(s)).is_file() for s in h5files.SPLITS):
        items = _h5_items(source)
        root = source
    else:
        raise DataError(f"{source} holds neither the SIGNS JPEG folders nor train_signs.h5 + test_signs.h5; "
                        "pass --from a SIGNS copy (or run `make data` first)")
    return _report(root, items)


def _h5_items(folder: Path) -> list[tuple[str, str, int, str]]:
    items = []
    for split in h5files.SPLITS:
        arrays = h5files.read_split(folder / h5files.file_name(split), split)
        for index, (image, label) in enumerate(zip(arrays.x, arrays.y, strict=True)):
            items.append((split, f"#{index}", int(label), hashlib.sha256(image.tobytes()).hexdigest()))
    return items


def _report(root: Path, items: list[tuple[str, str, int, str]]) -> AuditReport:
    counts: dict[str, list[int]] = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for split, name, label, digest in items:
        counts.setdefault(split, [0] * jpegs.NUM_CLASSES)[label] += 1
        groups[digest].append(f"{split}/{name}")
    duplicates = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    leaks = []
    for group in duplicates:
        for a, b in combinations(group, 2):
            a_test, b_test = a.split("/")[0] in TEST_SPLITS, b.split("/")[0] in TEST_SPLITS
            if a_test != b_test:
                leaks.append((a, b) if a_test else (b, a))
    return AuditReport(str(root), counts, duplicates, sorted(leaks))
