"""Pure notebook transformations of the release (no nbgrader run, no kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from resnet_signs.release import notebooks as nbs


def _nb(*cells):
    return new_notebook(cells=list(cells))


def test_normalise_gives_grade_ids_or_positions_as_cell_ids_and_clears_outputs():
    graded = new_code_cell("x = 1", outputs=[new_output("stream", text="1\n")], execution_count=3)
    graded.metadata["nbgrader"] = {"grade_id": "identity_block", "solution": True}
    nb = _nb(new_markdown_cell("# Title"), graded)
    nb.metadata["jupytext"] = {"text_representation": {"jupytext_version": "1.19.6"}}
    out = nbs.normalise(nb, {"source": "x.md"})
    assert [c.id for c in out.cells] == ["cell-000", "identity_block"]
    assert (out.cells[1].outputs, out.cells[1].execution_count) == ([], None)
    assert "jupytext" not in out.metadata and out.metadata["resnet_signs"] == {"source": "x.md"}
    assert out.metadata["kernelspec"]["name"] == "python3"


def test_with_banner_replaces_an_earlier_banner():
    nb = nbs.with_banner(nbs.with_banner(_nb(new_markdown_cell("body")), "first"), "second")
    assert (nb.cells[0].id, nb.cells[0].source) == (nbs.BANNER_ID, "second")
    assert len(nb.cells) == 2


def test_strip_solution_markers_keeps_the_solution():
    cell = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    assert nbs.strip_solution_markers(_nb(cell)).cells[0].source == "def f():\n    return 1"


def test_replace_dataset_images_drops_figures_with_their_text_repr_only_in_tagged_cells():
    figure = new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure size 640x480>"})
    tagged = new_code_cell("show()", outputs=[figure, new_output("stream", text="ok\n"), figure])
    tagged.metadata["tags"] = ["dataset-images"]
    untagged = new_code_cell("plot()", outputs=[figure])
    out = nbs.replace_dataset_images(_nb(tagged, untagged))
    assert [o.get("text") for o in out.cells[0].outputs] == [nbs.IMAGES_NOT_COMMITTED, "ok\n"]
    assert out.cells[1].outputs == [figure]


def test_scrub_paths_makes_project_paths_relative_in_every_text_output(tmp_path):
    root = Path(tmp_path)
    warning = new_output("stream", name="stderr", text=f"{root}/resnet_signs/x.py:3: UserWarning\n")
    error = new_output("error", ename="E", evalue="", traceback=[f"File {root}/a.py"])
    result = new_output("execute_result", data={"text/plain": f"'{root}/data'"}, execution_count=1)
    out = nbs.scrub_paths(_nb(new_code_cell("", outputs=[warning, error, result])), root)
    text = nbformat.writes(out)
    assert str(root) not in text
    assert "resnet_signs/x.py:3" in text and "File a.py" in text and "'data'" in text


def test_drop_native_logs_keeps_python_warnings_and_drops_emptied_streams():
    native = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795431293.493809   25965 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1796192047.729709   13919 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
        "appropriate compiler flags.\n"
    )
    mixed = native + "x.py:3: UserWarning: careful\n"
    cell = new_code_cell("import tensorflow", outputs=[
        new_output("stream", name="stderr", text=native),
        new_output("stream", name="stderr", text=mixed),
        new_output("stream", name="stdout", text="I0000 00:00:1 stdout is the notebook's own\n"),
    ])
    out = nbs.drop_native_logs(_nb(cell))
    assert [o.text for o in out.cells[0].outputs] == [
        "x.py:3: UserWarning: careful\n",
        "I0000 00:00:1 stdout is the notebook's own\n",
    ]
