"""Translated editions of a notebook: per-cell catalogues of its Markdown prose.

The English jupytext source is the one source of every code cell. Each Markdown cell's prose
is translated in ``autograder/source/<assignment>/i18n/<language>.yaml``, one entry per cell,
keyed by a stable cell key (:func:`cell_keys`: the section's heading, then the cell's place in
the section), recording the English it translates and that text's SHA-256::

    language: zh_CN
    cells:
      3-exercise-1-the-identity-block:
        en_sha256: 5f0c...
        en: |
          ## 3. Exercise 1: the identity block
        text: |
          ## 3. 练习 1：恒等块

An entry is found by the English text's hash first (so inserting or moving a cell stales
nothing) and else by its key. The release refuses to build a language when a Markdown cell has
no entry (*missing*), or its entry translates other English or is flagged ``needs_review``
(*stale*: the English changed after the translation). :func:`update_catalogue` writes the
skeleton entries a translator fills in.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from resnet_signs import i18n
from resnet_signs.release.assignments import ReleaseError

#: Folder of the catalogues, next to the Markdown source.
FOLDER = "i18n"
#: Id of the code cell that sets a translated notebook's language (hints, figures).
LANGUAGE_CELL_ID = "notebook-language"
_SLUG = re.compile(r"[^0-9a-z]+")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:60] or "section"


def cell_keys(nb: NotebookNode) -> dict[int, str]:
    """Cell index -> stable key, for every Markdown cell but the generated banner.

    A cell that opens with a heading is keyed by the heading (``3-exercise-1-the-identity-block``);
    the cells after it by the last heading above them and their place after it
    (``3-exercise-1-the-identity-block/2``), so an edit in one section never renames the keys
    of another.
    """
    keys, section, count, seen = {}, "top", 0, set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or "generated" in cell.metadata.get("tags", []):
            continue
        headings = _headings(cell.source)
        if headings and headings[0][0] == 0:
            key = headings[0][1]
        else:
            count += 1
            key = f"{section}/{count}"
        if headings:
            section, count = headings[-1][1], 0
        while key in seen:
            key += "+"
        seen.add(key)
        keys[index] = key
    return keys


def _headings(source: str) -> list[tuple[int, str]]:
    """(line number, slug) of each Markdown heading outside fenced code."""
    found, fenced = [], False
    for number, line in enumerate(source.strip().splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            found.append((number, _slug(match.group(1))))
    return found


@dataclass
class Catalogue:
    """One language's translations of one notebook."""

    language: str
    path: Path
    cells: dict[str, dict] = field(default_factory=dict)

    @property
    def by_hash(self) -> dict[str, dict]:
        return {e.get("en_sha256"): e for e in self.cells.values() if _usable(e)}

    def lookup(self, key: str, english: str, previous: dict | None = None) -> tuple[str, str | None]:
        """``("ok", text)``, ``("stale", None)`` or ``("missing", None)`` for one Markdown cell;
        ``previous`` is the entry it had before its English changed (:meth:`previous`)."""
        entry = self.by_hash.get(sha256(english))
        if entry is not None:
            return "ok", entry["text"]
        return ("stale" if previous is not None else "missing"), None

    def previous(self, key: str, position: int, keys: set[str]) -> dict | None:
        """The entry a cell had before its English changed: the one under its key, else (a renamed
        heading renames the key) the entry at its position whose key the notebook no longer has."""
        if isinstance(self.cells.get(key), dict):
            return self.cells[key]
        order = list(self.cells)
        if position < len(order) and order[position] not in keys and isinstance(self.cells[order[position]], dict):
            return self.cells[order[position]]
        return None


def _usable(entry: dict) -> bool:
    return isinstance(entry, dict) and bool((entry.get("text") or "").strip()) and not entry.get("needs_review")


def catalogue_paths(markdown: Path) -> dict[str, Path]:
    """Language -> catalogue file, for the catalogues next to a Markdown source."""
    folder = markdown.parent / FOLDER
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def load(path: Path) -> Catalogue:
    """Read one catalogue; a malformed file is a ReleaseError naming it."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReleaseError(f"{path}: not a readable translation catalogue ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells", {}), dict):
        raise ReleaseError(f"{path}: a translation catalogue is a mapping with 'language' and 'cells'")
    try:
        language = i18n.normalise(data.get("language") or path.stem)
    except ValueError as exc:
        raise ReleaseError(f"{path}: {exc}") from exc
    if language != path.stem or language == i18n.DEFAULT:
        raise ReleaseError(f"{path}: the file name must be its language, one of {', '.join(i18n.LANGUAGES[1:])}")
    return Catalogue(language, path, dict(data.get("cells") or {}))


def problems(nb: NotebookNode, catalogue: Catalogue) -> list[str]:
    """Each Markdown cell of ``nb`` without a current translation: ``"KEY (missing|stale)"``."""
    found = []
    keys = cell_keys(nb)
    for position, (index, key) in enumerate(keys.items()):
        previous = catalogue.previous(key, position, set(keys.values()))
        status, _ = catalogue.lookup(key, nb.cells[index].source, previous)
        if status != "ok":
            found.append(f"{key} ({status})")
    return found


def check(nb: NotebookNode, catalogue: Catalogue, label: str) -> None:
    """Raise a ReleaseError listing every missing or stale translation of ``nb``."""
    bad = problems(nb, catalogue)
    if bad:
        shown = "; ".join(bad[:8]) + (f"; and {len(bad) - 8} more" if len(bad) > 8 else "")
        raise ReleaseError(
            f"{catalogue.path.name} of {label}: {len(bad)} Markdown cell(s) lack a current {catalogue.language} "
            f"translation: {shown}. Run `resnet-signs release --update-translations`, translate the entries "
            "with an empty text or needs_review: true, and release again"
        )


def translate(nb: NotebookNode, catalogue: Catalogue) -> NotebookNode:
    """``nb`` with its Markdown prose in the catalogue's language (``check`` it first)."""
    nb = copy.deepcopy(nb)
    for index, key in cell_keys(nb).items():
        status, text = catalogue.lookup(key, nb.cells[index].source)
        if status != "ok":
            raise ReleaseError(f"{catalogue.path.name}: cell {key} is {status}")
        nb.cells[index].source = text.rstrip("\n")
    return nb


def language_cell(language: str) -> NotebookNode:
    """The code cell that switches hints and figures to ``language`` (not run by the grader)."""
    cell = nbformat.v4.new_code_cell(
        f'from resnet_signs.notebook import use_language\n\nuse_language("{language}")', id=LANGUAGE_CELL_ID
    )
    cell.metadata["tags"] = ["skip-when-grading", "generated"]
    return cell


def with_language_cell(nb: NotebookNode, language: str) -> NotebookNode:
    """Insert :func:`language_cell` after the generated banner (replacing an earlier one)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.get("id") != LANGUAGE_CELL_ID]
    at = 1 if nb.cells and "generated" in nb.cells[0].metadata.get("tags", []) else 0
    nb.cells.insert(at, language_cell(language))
    return nb


# --------------------------------------------------------------------------- maintenance
def update_catalogue(nb: NotebookNode, path: Path, language: str) -> list[str]:
    """Rewrite ``path`` in the notebook's cell order for the translator.

    Current entries are kept; a new cell gets an entry with an empty ``text``; an entry whose
    English changed gets the new English and hash, keeps its old translation and the old
    English (``previous_en``) and is flagged ``needs_review: true`` until the translator
    revises the text and removes the flag. Entries of cells that no longer exist are dropped.

    Returns:
        One ``"KEY (new|needs review)"`` line per entry the translator must look at.
    """
    import yaml

    old = load(path) if path.is_file() else Catalogue(language, path)
    by_hash = {e.get("en_sha256"): e for e in old.cells.values() if isinstance(e, dict)}
    cells, todo = {}, []
    keys = cell_keys(nb)
    for position, (index, key) in enumerate(keys.items()):
        english = nb.cells[index].source
        digest = sha256(english)
        entry = dict(by_hash.get(digest) or {})
        if not entry:
            previous = old.previous(key, position, set(keys.values()))
            if isinstance(previous, dict) and (previous.get("text") or "").strip():
                entry = {"text": previous["text"], "needs_review": True,
                         "previous_en": previous.get("en", "")}
            else:
                entry = {"text": ""}
        entry.update(en_sha256=digest, en=english)
        if not _usable(entry):
            todo.append(f"{key} ({'needs review' if entry.get('needs_review') else 'new'})")
        cells[key] = {k: entry[k] for k in ("en_sha256", "needs_review", "previous_en", "en", "text") if k in entry}
    path.parent.mkdir(parents=True, exist_ok=True)
    source = nb.metadata.get("resnet_signs", {}).get("source", "")
    header = (f"# {language} translation of the Markdown cells of {source}\n"
              "# One entry per cell: en is the English it translates (en_sha256 its hash), text the translation.\n"
              "# Terms: resnet_signs/locale/glossary.json. Refresh after English edits: "
              "resnet-signs release --update-translations\n")
    body = yaml.dump({"language": language, "cells": cells}, Dumper=_dumper(), allow_unicode=True,
                     sort_keys=False, width=100000)
    path.write_text(header + body, encoding="utf-8")
    return todo


@functools.cache
def _dumper():
    """A YAML dumper writing multi-line strings as ``|`` blocks: prose stays readable and diffs
    line by line (PyYAML is imported here: only the release needs it)."""
    import yaml

    class BlockDumper(yaml.SafeDumper):
        pass

    def text(dumper, value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    BlockDumper.add_representer(str, text)
    return BlockDumper
