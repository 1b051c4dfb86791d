"""nbgrader's ``autograded/<student>/<assignment>/<Notebook>.ipynb``, written from our verdicts.

``nbgrader autograde`` executes the submission and keeps the executed notebook there; formgrader
opens it for review and ``nbgrader generate_feedback`` renders it. We never execute the student's
notebook in the grading process, so we build the same file another way, in nbgrader's order:

1. nbgrader's own sanitising preprocessors (the ones ``autograde`` runs before executing): the
   student's outputs cleared, duplicate ids fixed, the kernelspec and every locked or graded cell
   restored from the gradebook's copy of the source (deleted test cells added back);
2. each test cell's output is our verdict, in the form nbgrader scores outputs
   (``nbgrader.utils.determine_grade``): nothing but a "✓ passed" line for full marks, an error
   output carrying the hint for none, a number for partial credit;
3. nbgrader's bookkeeping files of the submission (``timestamp.txt``, ``submission_secret.txt``) are
   copied along, as ``autograde`` copies them: ``generate_feedback`` and ``release_feedback`` need them.

The scores themselves go into the gradebook through :mod:`.gradebook` (formgrader reads them there).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from resnet_signs.grading.model import Status, SubmissionGrade, TestResult
from resnet_signs.grading.reports import as_number, write_atomic

#: Files of an nbgrader submission that its later steps read (copied to autograded/ like nbgrader does).
BOOKKEEPING = ("timestamp.txt", "submission_secret.txt")


def folder(config, student: str, assignment: str) -> Path:
    """``autograded/<student>/<assignment>/`` as the course's nbgrader config places it."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    root = Path(coursedir.format_path(coursedir.autograded_directory, ".", ".")).resolve()
    path = Path(coursedir.format_path(coursedir.autograded_directory, student, assignment)).resolve()
    if root not in path.parents:  # student names are folder names; refuse anything that would leave autograded/
        raise ValueError(f"refusing to write outside {root} for student {student!r}")
    return path


def write(config, db_url: str, grade: SubmissionGrade, notebook: Path, assignment: str) -> Path | None:
    """Write ``grade.student``'s autograded notebook; returns its path.

    Returns ``None`` (and removes an earlier autograded notebook) when the submission is not a
    readable notebook: there is nothing to review, and its zero is in the gradebook.

    Args:
        config: the course's nbgrader config (:func:`resnet_signs.release.nbgrader_steps.load_config`).
        db_url: the gradebook, already holding the assignment and the student's submission.
        grade: the student's grade (each test's ``test_id`` names its cell).
        notebook: the submitted notebook (its folder's bookkeeping files are copied too).
        assignment: the assignment's id.
    """
    dest = folder(config, grade.student, assignment)
    target = dest / notebook.name
    try:
        nb = nbformat.read(str(notebook), as_version=4)
        nb = _sanitise(nb, config, db_url, grade.student, assignment, target.stem)
    except Exception:  # noqa: BLE001 - anything unreadable is graded invalid-notebook already
        target.unlink(missing_ok=True)
        return None
    verdicts = {t.test_id: t for t in grade.tests}
    problems = {f.function: f"{f.status.value}: {f.detail}" if f.detail else f.status.value
                for f in grade.functions if f.status is not Status.OK}
    for cell in nb.cells:
        test = verdicts.get(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"))
        if test is not None and cell.cell_type == "code":
            cell.outputs = _outputs(test, problems.get(test.function))
            cell.execution_count = None
    _give_ids(nb)
    write_atomic(target, nbformat.writes(nb))
    for name in BOOKKEEPING:
        if (notebook.parent / name).is_file():
            shutil.copyfile(notebook.parent / name, dest / name)
    return target


def _sanitise(nb, config, db_url: str, student: str, assignment: str, notebook_id: str):
    """nbgrader autograde's sanitising steps, run by nbgrader itself (no code runs)."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment, "notebook": notebook_id,
                              "student": student}}
    for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
        preprocessor = step(config=config)
        if step is OverwriteCells:
            preprocessor.add_missing_cells = True  # a deleted test cell comes back to carry its verdict
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def _give_ids(nb) -> None:
    """Cells nbgrader added back have no id (nbformat 4.5 wants one): their grade id, if free."""
    used = {cell.get("id") for cell in nb.cells}
    for cell in nb.cells:
        if not cell.get("id"):
            grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
            fresh = grade_id if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", grade_id) and grade_id not in used else ""
            cell["id"] = fresh or nbformat.v4.nbbase.random_cell_id()
            used.add(cell["id"])


def _outputs(test: TestResult, problem: str | None) -> list:
    """The cell outputs from which nbgrader's ``determine_grade`` reads ``test``'s score."""
    note = f"\n({test.function}: {problem})" if problem else ""
    if test.score >= test.max_score:
        text = "✓ passed" + (f": {test.message}" if test.message else "") + note + "\n"
        return [nbformat.v4.new_output("stream", name="stdout", text=text)]
    if test.score > 0:  # partial credit: nbgrader reads a number as the score
        return [nbformat.v4.new_output("execute_result", data={"text/plain": str(as_number(test.score))},
                                       execution_count=None)]
    return [nbformat.v4.new_output("error", ename="AssertionError", evalue=test.message,
                                   traceback=[f"✗ failed: {test.message}{note}"])]
