"""Pure transformations of notebooks used by the release (no I/O besides read/serialise).

Each function takes an nbformat ``NotebookNode`` and returns a new one; none executes code.
Deterministic by construction: cell ids are derived from nbgrader ``grade_id`` or the cell's
position, and nothing time- or machine-dependent enters the metadata.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jupytext
import nbformat
from nbformat import NotebookNode

from resnet_signs.release.assignments import ReleaseError

BANNER_ID = "generated-banner"
DATASET_IMAGES_TAG = "dataset-images"
IMAGES_NOT_COMMITTED = (
    "[The images of the SIGNS dataset are not committed with this solution: run the notebook to see them.]\n"
)
#: Notebook metadata key that records where a generated notebook comes from.
PROVENANCE_KEY = "resnet_signs"
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def read_markdown(path: Path) -> NotebookNode:
    """Read a jupytext Markdown notebook; a syntax problem becomes a one-line ReleaseError."""
    try:
        return jupytext.read(path, fmt="md")
    except Exception as exc:  # jupytext raises assorted types for malformed front matter/metadata
        raise ReleaseError(f"{path}: not a readable jupytext Markdown notebook ({exc})") from exc


def normalise(nb: NotebookNode, provenance: dict) -> NotebookNode:
    """Source notebook form: no jupytext header, fixed kernel, stable ids, no outputs.

    Args:
        nb: notebook as read from Markdown.
        provenance: stored under ``metadata["resnet_signs"]`` (relative paths only).

    Returns:
        A validated nbformat 4.5 notebook.
    """
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata.pop("jupytext", None)
    nb.metadata.setdefault("kernelspec", dict(_KERNELSPEC))
    nb.metadata[PROVENANCE_KEY] = dict(provenance)
    seen = set()
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = _ID_UNSAFE.sub("-", grade_id)[:64] if grade_id else f"cell-{index:03d}"
        if cell.id in seen:
            raise ReleaseError(f"two cells share the nbgrader grade_id {grade_id!r}: grade ids must be unique")
        seen.add(cell.id)
    nb = clear_outputs(nb)
    nbformat.validate(nb)
    return nb


def with_banner(nb: NotebookNode, text: str) -> NotebookNode:
    """Put ``text`` in a first Markdown cell (replacing an earlier banner)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.get("id") != BANNER_ID]
    banner = nbformat.v4.new_markdown_cell(text, id=BANNER_ID)
    banner.metadata["tags"] = ["generated"]
    nb.cells.insert(0, banner)
    return nb


def with_provenance(nb: NotebookNode, **fields) -> NotebookNode:
    """Update ``metadata["resnet_signs"]`` with ``fields``."""
    nb = copy.deepcopy(nb)
    nb.metadata.setdefault(PROVENANCE_KEY, {}).update(fields)
    return nb


def clear_outputs(nb: NotebookNode) -> NotebookNode:
    """Drop every output and execution count."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    return nb


def strip_hidden_tests(nb: NotebookNode) -> NotebookNode:
    """Remove ``### BEGIN/END HIDDEN TESTS`` regions with nbgrader's own preprocessor."""
    from nbgrader.preprocessors import ClearHiddenTests  # imported late: nbgrader is slow to import

    nb = copy.deepcopy(nb)
    try:
        nb, _ = ClearHiddenTests().preprocess(nb, {})
    except RuntimeError as exc:
        raise ReleaseError(f"hidden tests: {exc}") from exc
    return nb


def strip_solution_markers(nb: NotebookNode, begin: str = "BEGIN SOLUTION", end: str = "END SOLUTION") -> NotebookNode:
    """Keep the solutions but drop the lines that delimit them."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        lines = cell.source.split("\n")
        cell.source = "\n".join(line for line in lines if begin not in line and end not in line)
    return nb


def replace_dataset_images(nb: NotebookNode, tag: str = DATASET_IMAGES_TAG, language: str = "en") -> NotebookNode:
    """In cells tagged ``tag``, replace image outputs by one note that they are not committed (in ``language``)."""
    from resnet_signs import i18n

    note = i18n.gettext(IMAGES_NOT_COMMITTED.strip(), language) + "\n"
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code" or tag not in cell.metadata.get("tags", []):
            continue
        kept, noted = [], False
        for output in cell.outputs:
            if not any(k.startswith("image/") for k in output.get("data", {})):
                kept.append(output)
            elif not noted:  # the note takes the place of the first image
                kept.append(nbformat.v4.new_output("stream", name="stdout", text=note))
                noted = True
        cell.outputs = kept
    return nb


def scrub_paths(nb: NotebookNode, root: Path) -> NotebookNode:
    """Make absolute paths under ``root`` in text outputs relative (warnings, tracebacks)."""
    nb = copy.deepcopy(nb)
    prefix = str(root.resolve()).rstrip("/") + "/"

    def scrub(text):
        return text.replace(prefix, "") if isinstance(text, str) else [t.replace(prefix, "") for t in text]

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = scrub(output.text)
            if "traceback" in output:
                output.traceback = scrub(output.traceback)
            for mime in [k for k in output.get("data", {}) if k.startswith("text/")]:
                output.data[mime] = scrub(output.data[mime])
    return nb


#: Native (absl/C++) log lines TensorFlow writes to the kernel's stderr: they carry timestamps
#: and process ids, say nothing to a reader and would make every regenerated solution differ.
#: (The CPU-feature notice continues on a line of its own, "To enable the following instructions".)
_NATIVE_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} \d\d:\d\d:\d\d"
                         r"|To enable the following instructions: .* rebuild TensorFlow "
                         r"with the appropriate compiler flags)")


def drop_native_logs(nb: NotebookNode) -> NotebookNode:
    """Remove TensorFlow's native log lines from stderr outputs (and streams left empty)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                lines = output.text.splitlines(keepends=True)
                output.text = "".join(line for line in lines if not _NATIVE_LOG.match(line))
                if not output.text:
                    continue
            kept.append(output)
        cell.outputs = kept
    return nb


def outputs_from(nb: NotebookNode, committed: Path) -> NotebookNode | None:
    """``nb`` with the outputs of the notebook at ``committed``, when its code cells are the same
    (ids, sources, metadata, in order); ``None`` when they differ or there is no such notebook."""
    try:
        old = nbformat.read(committed, as_version=4)
    except (OSError, ValueError):
        return None

    def code(notebook):
        return [(c.get("id"), c.source, c.metadata) for c in notebook.cells if c.cell_type == "code"]

    if code(old) != code(nb):
        return None
    nb = copy.deepcopy(nb)
    outputs = {c.get("id"): c for c in old.cells if c.cell_type == "code"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = copy.deepcopy(outputs[cell.get("id")].outputs)
            cell.execution_count = outputs[cell.get("id")].execution_count
    return nb


def cell_signature(nb: NotebookNode) -> list[tuple]:
    """What ``--check`` compares for executed notebooks: everything but outputs."""
    return [(c.get("id"), c.cell_type, c.source, c.metadata) for c in nb.cells]


def dumps(nb: NotebookNode) -> str:
    """Stable JSON text (sorted keys, one-space indent, final newline) as nbformat writes it."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"
