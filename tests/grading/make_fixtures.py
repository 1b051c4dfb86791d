"""Build the grader's fixture notebooks: one source notebook and one submission per failure.

``source.ipynb`` is a small nbgrader source notebook with the contract's answer and test
cells (docs/CONTRACTS.md), the solutions filled in and the hidden tests in place. Every
submission is the student release of it (hidden tests removed) with the answers written,
plus one change named after the failure it represents. Run with ``--update`` after
changing this file; without it, the script fails when a committed fixture is stale
(tests/grading/test_core.py runs that check).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent / "fixtures"
SOURCE = HERE / "source.ipynb"

SETUP = """\
%matplotlib inline
import numpy as np
from keras import Input, Model, layers
from keras.initializers import glorot_uniform, random_uniform

from resnet_signs.checks import convolutional_block_test, identity_block_test, resnet50_test
"""

IDENTITY = """\
def identity_block(X, f, filters, training=True, initializer=random_uniform):
    ### BEGIN SOLUTION
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(F1, 1, strides=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F2, f, strides=1, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F3, 1, strides=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)
    ### END SOLUTION
    return X
"""

CONVOLUTIONAL = """\
def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    ### BEGIN SOLUTION
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(F1, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F2, f, strides=1, padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F3, 1, strides=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X_shortcut = layers.Conv2D(F3, 1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)
    X = layers.Add()([X, X_shortcut])
    X = layers.Activation("relu")(X)
    ### END SOLUTION
    return X
"""

RESNET50 = """\
def ResNet50(input_shape=(64, 64, 3), classes=6):
    ### BEGIN SOLUTION
    X_input = Input(input_shape)
    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = layers.Conv2D(64, 7, strides=2, kernel_initializer=glorot_uniform(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X)
    X = layers.Activation("relu")(X)
    X = layers.MaxPooling2D(3, strides=2)(X)
    for filters, blocks, s in (([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2),
                               ([256, 256, 1024], 6, 2), ([512, 512, 2048], 3, 2)):
        X = convolutional_block(X, f=3, filters=filters, s=s)
        for _ in range(blocks - 1):
            X = identity_block(X, 3, filters)
    X = layers.AveragePooling2D(2)(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    ### END SOLUTION
    return Model(inputs=X_input, outputs=X)
"""

PUBLIC = {"identity_block": "identity_block_test", "convolutional_block": "convolutional_block_test",
          "ResNet50": "resnet50_test"}
HIDDEN = {"identity_block": ("hidden_values", "hidden_structure"),
          "convolutional_block": ("hidden_values", "hidden_structure"),
          "ResNet50": ("hidden_shapes", "hidden_variants")}


def _meta(grade_id, *, answer):
    if answer:
        return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True,
                "task": False}
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": 1, "schema_version": 3,
            "solution": False, "task": False}


def source_notebook() -> nbformat.NotebookNode:
    """The fixture source notebook (solutions and hidden tests in place)."""
    cells = [new_markdown_cell("# Residual Networks (grader fixture)"), new_code_cell(SETUP)]
    for function, code in (("identity_block", IDENTITY), ("convolutional_block", CONVOLUTIONAL),
                           ("ResNet50", RESNET50)):
        cells.append(new_markdown_cell(f"## {function}"))
        cells.append(new_code_cell(code, metadata={"nbgrader": _meta(function, answer=True)}))
        cells.append(new_code_cell(f"{PUBLIC[function]}({function})",
                                   metadata={"nbgrader": _meta(f"{function}_public", answer=False)}))
        for suffix in HIDDEN[function]:
            test_id = f"{function}_{suffix}"
            text = ("# Hidden tests: run by the autograder.\n### BEGIN HIDDEN TESTS\n"
                    "from resnet_signs.instructor import run_hidden_test\n"
                    f"run_hidden_test({test_id!r}, globals())\n### END HIDDEN TESTS")
            cells.append(new_code_cell(text, metadata={"nbgrader": _meta(test_id, answer=False)}))
    cells.append(new_code_cell('print("training would run here: the grader never reaches it")'))
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    for index, cell in enumerate(nb.cells):
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell-{index}")
    return nb


def submission(nb) -> nbformat.NotebookNode:
    """The student release with the answers written: hidden test regions removed."""
    from resnet_signs.grading.plan import released_text

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.source = released_text(cell.source).rstrip("\n")
    return nb


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _edit(grade_id, old, new):
    def change(nb):
        cell = _cell(nb, grade_id)
        assert old in cell.source, (grade_id, old)
        cell.source = cell.source.replace(old, new, 1)
    return change


def _insert_after(grade_id, code):
    def change(nb):
        nb.cells.insert(nb.cells.index(_cell(nb, grade_id)) + 1, new_code_cell(code, id="student-cell"))
    return change


def _delete(grade_id):
    def change(nb):
        nb.cells.remove(_cell(nb, grade_id))
    return change


def _replace(grade_id, code):
    def change(nb):
        _cell(nb, grade_id).source = code
    return change


FAKE_PASSES_ASSERT = """
import builtins, sys
builtins.AssertionError = type("AssertionError", (Exception,), {})  # assert failures become something else
import resnet_signs.checks.diagnose as _d
_d.block_hint = lambda *a, **k: None
_d.structure_hint_for = lambda *a, **k: None
_h = sys.modules.get("resnet_signs_hidden_tests")
if _h is not None:
    _h.judge = lambda *a, **k: (True, "passed")
"""

FAKE_PASSES_NUMPY = """
import numpy as np
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: np.True_
"""

FAKE_PASSES_HELPERS = """
import resnet_signs.checks, resnet_signs.instructor
resnet50_test = lambda f: print("✓ ResNet50: all checks passed.")
resnet_signs.checks.resnet50_test = resnet50_test
resnet_signs.instructor.run_hidden_test = lambda *a, **k: print("✓ passed")
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.showtraceback = lambda *a, **k: None  # no traceback, no visible failure
"""

#: fixture name -> change applied to the correct submission
FIXTURES = {
    "correct": None,
    # The stride on the 3x3 convolution instead of the first 1x1: convolutional_block's tests fail.
    "wrong-stride": lambda nb: [
        _edit("convolutional_block", 'X = layers.Conv2D(F1, 1, strides=s,', 'X = layers.Conv2D(F1, 1, strides=1,')(nb),
        _edit("convolutional_block", 'X = layers.Conv2D(F2, f, strides=1,', 'X = layers.Conv2D(F2, f, strides=s,')(nb),
    ],
    "edited-test-cell": _replace("identity_block_public", 'print("all checks passed")'),
    "deleted-test-cell": _delete("convolutional_block_hidden_values"),
    "infinite-loop": _edit("ResNet50", "def ResNet50(",
                           "while True:  # an infinite loop in the answer cell\n    pass\n\ndef ResNet50("),
    "stubborn-loop": _insert_after("convolutional_block", (
        "import time\nwhile True:  # swallows the grader's interrupt: the parent must kill it\n"
        "    try:\n        time.sleep(0.2)\n    except BaseException:\n        pass")),
    "memory-bomb": _insert_after("convolutional_block",
                                 "import numpy as np\nhog = [np.ones(2**26) for _ in range(1000)]  # 512 MB each"),
    "os-exit": _edit("convolutional_block", "    return X", "    return X\n\nimport os\nos._exit(3)"),
    "kernel-crash": _edit("ResNet50", "    return Model(inputs=X_input, outputs=X)",
                          "    return Model(inputs=X_input, outputs=X)\n\n"
                          "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"),
    "huge-output": _insert_after("identity_block", 'for _ in range(100):\n    print("x" * 1_000_000)'),
    "syntax-error": _edit("identity_block", "    F1, F2, F3 = filters\n", "    F1, F2, F3 = filters)\n"),
    "renamed-function": _edit("identity_block", "def identity_block(", "def my_identity_block("),
    # Answers with the instructor's reference: cannot be prevented in-process, so it is flagged.
    "uses-reference": _edit("identity_block", "    return X",
                            "    return X\n\nfrom resnet_signs.instructor import load_reference\n"
                            "identity_block = load_reference().identity_block"),
    # Each of these has a bug in one function and tries to make its tests pass anyway.
    "monkeypatch-assert": lambda nb: [
        _edit("identity_block", '    X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)\n',
              "    X = layers.Add()([X, X_shortcut])\n")(nb),
        _insert_after("identity_block", FAKE_PASSES_ASSERT)(nb),
    ],
    "monkeypatch-numpy": lambda nb: [
        _edit("convolutional_block", "    X = layers.Add()([X, X_shortcut])\n", "    X = layers.Add()([X, X])\n")(nb),
        _insert_after("convolutional_block", FAKE_PASSES_NUMPY)(nb),
    ],
    "patched-helpers": lambda nb: [
        _edit("ResNet50", "    X = layers.AveragePooling2D(2)(X)\n", "")(nb),
        _insert_after("convolutional_block", FAKE_PASSES_HELPERS)(nb),
    ],
}


def build() -> dict[str, bytes]:
    """Every fixture file's bytes, by file name."""
    source = source_notebook()
    files = {"source.ipynb": nbformat.writes(source)}
    for name, change in FIXTURES.items():
        nb = submission(source)
        if change is not None:
            change(nb)
        nbformat.validate(nb)
        files[f"{name}.ipynb"] = nbformat.writes(nb)
    files["corrupt.ipynb"] = files["correct.ipynb"][: len(files["correct.ipynb"]) // 2]
    files["empty.ipynb"] = ""
    return {name: (text + "\n" if text else "").encode() for name, text in files.items()}


def stale() -> list[str]:
    """Fixture files that differ from what :func:`build` makes."""
    return [n for n, data in build().items() if not (HERE / n).is_file() or (HERE / n).read_bytes() != data]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the fixtures (default: check them)")
    args = parser.parse_args(argv)
    if args.update:
        HERE.mkdir(parents=True, exist_ok=True)
        for name, data in build().items():
            (HERE / name).write_bytes(data)
        print(f"wrote {len(build())} fixtures to {HERE}")
        return 0
    names = stale()
    if names:
        print(f"stale fixtures: {', '.join(names)}; run python tests/grading/make_fixtures.py --update")
        return 1
    print("fixtures up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
