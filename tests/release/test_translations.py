"""Translated editions: complete and current catalogues, the lectures' terms, graded cells shared by every language."""

from __future__ import annotations

import nbformat
import pytest
import yaml

from resnet_signs import i18n, paths
from resnet_signs.release import ASSIGNMENTS, ReleaseError, release
from resnet_signs.release import notebooks as nbs
from resnet_signs.release import translations as tr

ROOT = paths.PROJECT_ROOT
COURSE = ROOT / "autograder"
TRANSLATED = ("zh_CN", "zh_TW")


def _source(assignment, course=COURSE):
    return nbs.normalise(nbs.read_markdown(assignment.markdown(course)), {"source": assignment.name})


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_every_markdown_cell_has_a_current_translation(assignment, language):
    catalogues = tr.catalogue_paths(assignment.markdown(COURSE))
    assert language in catalogues, f"no {language} catalogue for {assignment.id}"
    assert tr.problems(_source(assignment), tr.load(catalogues[language])) == []


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_translations_use_the_lectures_terms(assignment, language):
    catalogue = tr.load(tr.catalogue_paths(assignment.markdown(COURSE))[language])
    problems = [f"{key}: {p}" for key, e in catalogue.cells.items()
                for p in i18n.terminology_problems(e["en"], e["text"], language)]
    assert problems == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_the_taiwan_catalogues_are_written_in_taiwan_words(assignment):
    catalogue = tr.load(tr.catalogue_paths(assignment.markdown(COURSE))["zh_TW"])
    problems = [f"{key}: {form}" for key, e in catalogue.cells.items() for form in i18n.mainland_forms(e["text"])]
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_each_language_quotes_in_its_own_style(assignment, language):
    catalogue = tr.load(tr.catalogue_paths(assignment.markdown(COURSE))[language])
    problems = [f"{key}: {p}"
                for key, e in catalogue.cells.items() for p in i18n.quotation_problems(e["text"], language)]
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_translations_keep_every_placeholder_of_the_english(assignment, language):
    from resnet_signs.release import numbers

    catalogue = tr.load(tr.catalogue_paths(assignment.markdown(COURSE))[language])
    for key, entry in catalogue.cells.items():
        english, text = (sorted(numbers.PLACEHOLDER.findall(entry[k])) for k in ("en", "text"))
        assert english == text, key


@pytest.mark.parametrize("language", TRANSLATED)
def test_committed_editions_share_the_graded_cells_and_record_their_language(language):
    graded = next(a for a in ASSIGNMENTS if a.graded)
    for kind in ("release", "solution"):
        english = nbformat.read(getattr(graded, kind)(ROOT), as_version=4)
        edition = nbformat.read(getattr(graded, kind)(ROOT, language), as_version=4)
        assert edition.metadata["resnet_signs"]["language"] == language
        def graded_cells(nb):
            return [(c.source, c.metadata["nbgrader"])
                    for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]
        assert graded_cells(edition) == graded_cells(english) and len(graded_cells(english)) == 12
        prose = [c.source for c in edition.cells if c.cell_type == "markdown"]
        english_prose = [c.source for c in english.cells if c.cell_type == "markdown"]
        assert all(a != b for a, b in zip(prose[1:], english_prose[1:], strict=False))
        assert edition.cells[1].id == tr.LANGUAGE_CELL_ID and f'use_language("{language}")' in edition.cells[1].source


def _tiny_with_catalogue(root, text_for):
    """A tiny project whose Residual_Networks has a zh_CN catalogue written by ``text_for(key, english)``."""
    from .conftest import make_tiny_project

    project = make_tiny_project(root)
    a = ASSIGNMENTS[0]
    md = a.markdown(project / "autograder")
    path = md.parent / "i18n" / "zh_CN.yaml"
    path.parent.mkdir()
    tr.update_catalogue(_source(a, project / "autograder"), path, "zh_CN")
    data = yaml.safe_load(path.read_text())
    for key, entry in data["cells"].items():
        entry["text"] = text_for(key, entry["en"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return project, md, path


def test_release_builds_the_translation_and_refuses_a_stale_or_missing_entry(tmp_path):
    project, md, catalogue = _tiny_with_catalogue(tmp_path, lambda key, en: f"译文 {key}")
    written = release(course=project / "autograder", root=project, execute=False, log=lambda line: None,
                      assignments=["residual_networks"])
    assert "assignments/residual_networks/zh_CN/Residual_Networks.ipynb" in written
    assert "solutions/residual_networks/zh_CN/Residual_Networks.ipynb" in written
    nb = nbformat.read(project / "assignments/residual_networks/zh_CN/Residual_Networks.ipynb", as_version=4)
    assert nb.metadata["resnet_signs"]["language"] == "zh_CN"
    assert any(c.source.startswith("译文 ") for c in nb.cells) and "make release" in nb.cells[0].source

    # a revised heading: the cell's key changes with it, its old entry is found at its place
    md.write_text(md.read_text().replace("# Residual Networks (release fixture)", "# Residual Networks, revised", 1))
    with pytest.raises(ReleaseError,
                       match=r"zh_CN.yaml of .*Markdown cell\(s\) lack a current zh_CN translation: .*\(stale\)"):
        release(course=project / "autograder", root=project, execute=False, log=lambda line: None,
                assignments=["residual_networks"])
    todo = tr.update_catalogue(_source(ASSIGNMENTS[0], project / "autograder"), catalogue, "zh_CN")
    assert len(todo) == 1 and todo[0].endswith("(needs review)")
    entry = next(e for e in yaml.safe_load(catalogue.read_text())["cells"].values() if e.get("needs_review"))
    assert entry["text"].startswith("译文 ") and "revised" in entry["en"] and "revised" not in entry["previous_en"]

    md.write_text(md.read_text() + "\nA paragraph nobody translated.\n")
    with pytest.raises(ReleaseError, match=r"\(missing\)"):
        release(course=project / "autograder", root=project, check=True, log=lambda line: None,
                assignments=["residual_networks"])


def test_cell_keys_follow_headings_so_an_insertion_renames_nothing_before_it():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in
                                         ("# Title\n\ntext", "more", "## 2. Part two", "x", "y\n\n## 3. Three", "z")])
    assert list(tr.cell_keys(nb).values()) == ["title", "title/1", "2-part-two", "2-part-two/1", "2-part-two/2",
                                               "3-three/1"]
    nb.cells.insert(4, nbformat.v4.new_markdown_cell("inserted"))
    assert list(tr.cell_keys(nb).values())[:4] == ["title", "title/1", "2-part-two", "2-part-two/1"]


def test_a_malformed_catalogue_is_named(tmp_path):
    bad = tmp_path / "zh_CN.yaml"
    bad.write_text("cells: [1, 2]\n")
    with pytest.raises(ReleaseError, match=r"zh_CN.yaml: a translation catalogue is a mapping"):
        tr.load(bad)
    wrong = tmp_path / "fr.yaml"
    wrong.write_text("language: fr\ncells: {}\n")
    with pytest.raises(ReleaseError, match="unknown language 'fr'"):
        tr.load(wrong)


def test_a_solution_keeps_its_outputs_when_only_its_prose_changed(tmp_path):
    code = nbformat.v4.new_code_cell("print(1)", id="c1")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    committed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("old prose", id="m1"), code])
    path = tmp_path / "solution.ipynb"
    nbformat.write(committed, path)
    fresh = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("新的文字", id="m1"),
                                            nbformat.v4.new_code_cell("print(1)", id="c1")])
    reused = nbs.outputs_from(fresh, path)
    assert reused.cells[0].source == "新的文字" and reused.cells[1].outputs[0].text == "1\n"
    fresh.cells[1].source = "print(2)"
    assert nbs.outputs_from(fresh, path) is None  # changed code: its outputs would lie
    assert nbs.outputs_from(fresh, tmp_path / "missing.ipynb") is None


def test_an_unknown_language_is_a_clear_error(tmp_path):
    with pytest.raises(ReleaseError, match="unknown language 'fr': choose from en, zh_CN, zh_TW"):
        release(check=True, languages=["fr"], log=lambda line: None)
