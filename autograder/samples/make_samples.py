"""Generate the sample submissions from the source notebook (the one source of truth).

Each sample starts from the real student release (``nbgrader generate_assignment`` run on
``autograder/source/residual_networks/Residual_Networks.ipynb`` in a temporary course), has
its answer cells filled with the source's solution, and then gets the one mistake or trick
its folder is named after. ``expected_grades.csv`` says what the autograder must give each
of them; tests/grading/test_front_samples.py grades them for real and compares.

Usage::

    python autograder/samples/make_samples.py --update   # rewrite the samples
    python autograder/samples/make_samples.py --check    # exit 1 when they are out of date

An edit that no longer applies (the source's solution changed) stops the script with the
sample's name, so the samples cannot silently drift into testing nothing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent
SOURCE = COURSE / "source" / "residual_networks" / "Residual_Networks.ipynb"
NOTEBOOK = "Residual_Networks.ipynb"
FUNCTIONS = ("identity_block", "convolutional_block", "ResNet50")

CHEAT = '''\
# Make every check pass, whatever the code does.
import builtins
import numpy as np
import resnet_signs.instructor as _instructor
_instructor.run_hidden_test = lambda *args, **kwargs: None
identity_block_test = convolutional_block_test = resnet50_test = lambda *args, **kwargs: print("All tests passed!")
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
builtins.AssertionError = type("AssertionError", (Exception,), {})
'''

#: sample name -> (what it represents, edits). An edit is (grade_id, old, new, count): ``old``
#: must occur exactly ``count`` times in that cell and is replaced; grade_id "+<after>" inserts
#: a new code cell ``new`` after the cell with that grade_id.
SAMPLES: dict[str, tuple[str, list[tuple[str, str, str, int]]]] = {
    "solution": ("the reference solution: full marks", []),
    "conv-shortcut-wrong-stride": ("the shortcut convolution keeps stride 1", [
        ("convolutional_block", "filters=F3, kernel_size=1, strides=(s, s)", "filters=F3, kernel_size=1, strides=(1, 1)", 1),
    ]),
    "identity-shortcut-after-relu": ("the shortcut is added after the last ReLU", [
        ("identity_block", 'X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)',
         'X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])', 1),
    ]),
    "conv-bn-axis-wrong": ("BatchNormalization over axis 1 (height) instead of the channels", [
        ("convolutional_block", "BatchNormalization(axis=3)", "BatchNormalization(axis=1)", 4),
    ]),
    "resnet50-stage4-stride": ("stage 4's convolutional block keeps stride 1", [
        ("ResNet50", "filters=[256, 256, 1024], s=2", "filters=[256, 256, 1024], s=1", 1),
    ]),
    "monkeypatch-checks": ("patches the checks, numpy and AssertionError to fake passes; identity block wrong", [
        ("identity_block", 'X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)',
         'X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])', 1),
        ("+identity_block", "", CHEAT, 1),
    ]),
    "edited-test-cell": ("replaces the identity block's public test with a print; identity block wrong", [
        ("identity_block", 'kernel_size=f, strides=(1, 1), padding="same"', 'kernel_size=f, strides=(1, 1), padding="valid"', 1),
        ("identity_block_public", "identity_block_test(identity_block)", 'print("All tests passed!")', 1),
    ]),
    "resnet50-infinite-loop": ("ResNet50 never returns; the two blocks are right", [
        ("ResNet50", "    ## Stage 3\n", "    while True:  # forgot to stop\n        pass\n    ## Stage 3\n", 1),
    ]),
}
UNTOUCHED = "untouched-release"


def student_release(source: Path) -> nbformat.NotebookNode:
    """The notebook a student receives: nbgrader's generate_assignment in a throwaway course."""
    from resnet_signs.release.nbgrader_steps import generate_assignment, load_config

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "source" / "residual_networks").mkdir(parents=True)
        (root / "source" / "residual_networks" / NOTEBOOK).write_bytes(source.read_bytes())
        config = load_config(COURSE, root=root, db_url=f"sqlite:///{root / 'gradebook.db'}")
        generate_assignment(config, "residual_networks")
        return nbformat.read(str(root / "release" / "residual_networks" / NOTEBOOK), as_version=4)


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solved(release: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``release`` with each answer cell replaced by the source's solution (markers removed)."""
    solutions = {_grade_id(c): c.source for c in source.cells if _grade_id(c) in FUNCTIONS}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if _grade_id(cell) in FUNCTIONS:
            lines = solutions[_grade_id(cell)].splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return nb


def apply(name: str, nb: nbformat.NotebookNode, edits) -> nbformat.NotebookNode:
    """The solved notebook with ``edits`` applied; a stale edit raises SystemExit naming the sample."""
    nb = copy.deepcopy(nb)
    for grade_id, old, new, count in edits:
        if grade_id.startswith("+"):
            at = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == grade_id[1:])
            cell = nbformat.v4.new_code_cell(new)
            cell.id = f"sample-{name}"  # fixed, so regenerating gives identical bytes
            nb.cells.insert(at + 1, cell)
            continue
        [cell] = [c for c in nb.cells if _grade_id(c) == grade_id]
        found = cell.source.count(old)
        if found != count:
            raise SystemExit(f"sample {name}: expected {count} x {old!r} in cell {grade_id}, found {found}: "
                             "update SAMPLES in autograder/samples/make_samples.py")
        cell.source = cell.source.replace(old, new)
    return nb


def build(source: Path = SOURCE) -> dict[str, str]:
    """Every sample's notebook text, keyed by ``<name>/Residual_Networks.ipynb``."""
    release = student_release(source)
    solution = solved(release, nbformat.read(str(source), as_version=4))
    files = {f"{UNTOUCHED}/{NOTEBOOK}": nbformat.writes(release) + "\n"}
    for name, (_, edits) in SAMPLES.items():
        files[f"{name}/{NOTEBOOK}"] = nbformat.writes(apply(name, solution, edits)) + "\n"
    return files


def stale(files: dict[str, str], root: Path = HERE) -> list[str]:
    """The sample files under ``root`` that differ from ``files`` (or are missing/extra)."""
    on_disk = {str(p.relative_to(root)) for p in root.glob(f"*/{NOTEBOOK}")}
    wrong = [rel for rel, text in files.items() if not (root / rel).is_file()
             or (root / rel).read_text(encoding="utf-8") != text]
    return sorted(wrong + sorted(on_disk - set(files)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", action="store_true", help="rewrite the sample notebooks")
    mode.add_argument("--check", action="store_true", help="exit 1 when a sample is out of date")
    args = parser.parse_args(argv)
    if not SOURCE.is_file():
        print(f"no source notebook at {SOURCE}: run `resnet-signs release` first", file=sys.stderr)
        return 2
    files = build()
    if args.check:
        bad = stale(files)
        for rel in bad:
            print(f"out of date: autograder/samples/{rel}", file=sys.stderr)
        return 1 if bad else 0
    for rel, text in files.items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote autograder/samples/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
