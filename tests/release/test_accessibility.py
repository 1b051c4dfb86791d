"""Readability of the student notebooks, without a browser: captions, outline, ✓/✗ words."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from resnet_signs import paths

NOTEBOOKS = sorted((paths.PROJECT_ROOT / "assignments").glob("*/*.ipynb"))
#: A code cell draws a figure when it calls one of these (our plotting helpers, matplotlib).
DRAWS = re.compile(r"\b(plots\.\w+|plot_\w+|plt\.\w+|imshow)\(")
CAPTION = re.compile(r"^\*Figure \d+: \S")


def _cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text())["cells"]
    return [dict(c, text="".join(c["source"])) for c in cells]


def _headings(notebook: Path) -> list[int]:
    levels = []
    for cell in _cells(notebook):
        if cell["cell_type"] != "markdown":
            continue
        in_code = False
        for line in cell["text"].splitlines():
            in_code ^= line.startswith("```")
            match = re.match(r"^(#{1,6}) \S", line)
            if match and not in_code:
                levels.append(len(match.group(1)))
    return levels


def test_there_are_notebooks_to_check():
    assert {n.name for n in NOTEBOOKS} >= {"Residual_Networks.ipynb", "Why_ResNets_Work.ipynb"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_headings_form_an_outline(notebook):
    levels = _headings(notebook)
    assert levels.count(1) == 1 and levels[0] == 1, f"{notebook.name}: one H1, first; got levels {levels}"
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"{notebook.name}: heading level jumps from {before} to {after}"


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=lambda p: p.name,
)
def test_every_figure_has_a_caption(notebook):
    cells = _cells(notebook)
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            for alt in re.findall(r"!\[([^\]]*)\]", cell["text"]):
                assert alt.strip(), f"{notebook.name}: an image in cell {i} has no alt text"
            assert "<img" not in cell["text"] or re.search(r'<img[^>]*alt="[^"]+"', cell["text"]), i
        elif (cell["cell_type"] == "code" and DRAWS.search(cell["text"])
              and "import" not in cell["text"].split("\n")[-1]):
            following = next((c for c in cells[i + 1 :] if c["cell_type"] == "markdown"), None)
            assert following is not None and CAPTION.match(following["text"]), (
                f"{notebook.name}: the figure drawn by cell {i} ({cell['text'].splitlines()[-1]!r}) "
                "has no '*Figure N: ...*' caption right after it"
            )


def _builds_nothing(X, f, filters, training=True, initializer=None):
    return X  # a wrong identity block: the check must say so in words


@pytest.mark.parametrize("language", ["en", "zh_CN", "zh_TW"])
def test_check_messages_use_words_not_colour(language, capsys):
    """A check's verdict starts with ✓ or ✗ (a mark and words, in every language) and nothing it prints
    or shows carries an ANSI colour code (colour alone says nothing)."""
    from resnet_signs import checks, i18n
    from resnet_signs.checks.public import CheckFailure
    from resnet_signs.instructor import load_reference

    ansi = re.compile(r"\x1b\[|\033\[")
    i18n.use(language)
    try:
        checks.identity_block_test(load_reference().identity_block)
        passed = capsys.readouterr().out
        with pytest.raises(CheckFailure) as failure:
            checks.identity_block_test(_builds_nothing)
        shown = failure.value._render_traceback_()
    finally:
        i18n.use(None)  # back to the environment's language
    assert passed.startswith("✓ identity_block") and len(passed.splitlines()) == 1, passed
    assert shown[0].startswith("✗ ") and len(shown[0]) > 10, shown
    assert not ansi.search(passed + "\n".join(shown)), "ANSI colour codes in a check's message"
    source = "".join(p.read_text() for p in (paths.PROJECT_ROOT / "resnet_signs" / "checks").glob("*.py"))
    assert not re.search(r"\\x1b\[|\\033\[|\\u001b\[", source), "ANSI colour codes in the checks' messages"
