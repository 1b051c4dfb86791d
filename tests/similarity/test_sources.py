"""Reading submissions (hostile input) and fingerprinting them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from resnet_signs.similarity import fingerprints
from resnet_signs.similarity.normalise import Unit
from resnet_signs.similarity.sources import Unreadable, code_cells, parse


def _notebook(path, cells) -> None:
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_a_notebook_gives_its_code_cells_in_order(tmp_path):
    path = tmp_path / "a.ipynb"
    _notebook(path, [{"cell_type": "markdown", "source": "def nope(): pass"},
                     {"cell_type": "code", "source": ["def f(x):\n", "    return x\n"]},
                     {"cell_type": "code", "source": "g = 1"}])
    assert code_cells(path) == ["def f(x):\n    return x\n", "g = 1"]


def test_a_python_file_is_one_cell(tmp_path):
    path = tmp_path / "solution.py"
    path.write_text("def f(x):\n    return x\n")
    assert code_cells(path) == ["def f(x):\n    return x\n"]


@pytest.mark.parametrize("content, reason", [
    (b'{"cells": [', "not a notebook: invalid JSON"),
    (b'["a list"]', "not a notebook: no list of cells"),
    (b"\xff\xfe\x00garbage", "not UTF-8 text"),
])
def test_an_unreadable_file_says_why_in_one_line(tmp_path, content, reason):
    path = tmp_path / "bad.ipynb"
    path.write_bytes(content)
    with pytest.raises(Unreadable, match=reason) as caught:
        code_cells(path)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(Unreadable, match="no such file"):
        code_cells(tmp_path / "absent.ipynb")


def test_the_last_definition_wins_and_magics_are_no_python():
    parsed = parse(["%matplotlib inline\ndef f(x):\n    !ls\n    return 1\n", "def f(x):\n    return 2\n"])
    assert parsed.definitions["f"].lines == ("def f(x):", "    return 2")
    assert parsed.errors == ()


def test_a_syntax_error_loses_only_its_own_piece_of_the_cell():
    parsed = parse(["def good(x):\n    return x\n\ndef bad(x:\n    return x\n\ndef also_good():\n    pass\n"])
    assert set(parsed.definitions) == {"good", "also_good"}
    assert parsed.errors and parsed.errors[0].startswith("line 4 of code cell 1:")


@pytest.mark.parametrize("hostile", [
    "def f(x):\n    return x\x00\n",  # a null byte
    "def f(x):\n    return " + "(" * 300 + "x" + ")" * 300 + "\n",  # deeper than the parser goes
])
def test_code_python_cannot_parse_is_an_error_not_a_crash(hostile):
    parsed = parse([hostile, "def g(y):\n    return y\n"])
    assert set(parsed.definitions) == {"g"} and len(parsed.errors) == 1
    assert parsed.errors[0].startswith("line ") and "\n" not in parsed.errors[0]


def test_lines_are_counted_as_python_counts_them():
    parsed = parse(["# a form feed \x0c in a comment\ndef f(x):\r\n    return x\n"])
    assert parsed.definitions["f"].lines == ("def f(x):", "    return x")


def _units(text: str) -> list[Unit]:
    return [Unit(line, "f", (n, n)) for n, line in enumerate(text.splitlines(), start=1)]


def test_a_shared_run_of_k_plus_window_tokens_always_shares_a_fingerprint():
    shared = "V = Conv2D(filters=V, kernel_size=V, padding='same')(V)"  # 19 tokens > K + WINDOW - 1
    assert len(Unit(shared, "f", (1, 1)).tokens) >= fingerprints.K + fingerprints.WINDOW - 1
    left = fingerprints.fingerprints(_units(f"V = a(V)\nV = b(V, V)\n{shared}\nreturn V"))
    right = fingerprints.fingerprints(_units(f"V, V = V\n{shared}\nV = Add()([V, V])"))
    common = left.keys() & right.keys()
    assert common
    assert all(right[h] == {1} for h in common)  # the shared statement, and it alone, on the right


def test_fingerprints_are_the_same_in_every_process():
    """Python salts str hashes per process; the report's numbers must not depend on it."""
    code = ("from resnet_signs.similarity.fingerprints import fingerprints\n"
            "from resnet_signs.similarity.normalise import Unit\n"
            "print(sorted(fingerprints([Unit(\"V = Conv2D(filters=V, kernel_size=1)(V)\", 'f', (1, 1)),"
            " Unit('return V', 'f', (2, 2))])))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1
