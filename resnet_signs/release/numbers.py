"""The numbers a notebook's prose states, read from the run that built its worked solution.

The Markdown sources (and their translations) never type a measured number: they write a
placeholder, ``{{training_minutes}}``, which the release fills in from what the executed
solution recorded:

- the assignment's training cell leaves a :class:`~resnet_signs.training.run.TrainingRun` in its
  output's metadata (``training_minutes``, ``seconds_per_epoch``, ``epochs``, ``val_accuracy``,
  ``device``, ``date``);
- the lab displays each experiment's summary as ``application/json`` with its budget and its
  compute time (``full_minutes``, ``quick_minutes``, ``full_device``, ``quick_device``).

A student release states the numbers of the solution in its own language, so the two read the
same. :func:`misstated` finds a time or an accuracy that prose states outside the run's numbers
(a hand-typed "about 6 minutes"): the tests run it over every committed edition.
"""

from __future__ import annotations

import copy
import re

from nbformat import NotebookNode

from resnet_signs import i18n
from resnet_signs.release.assignments import ReleaseError
from resnet_signs.training.run import OUTPUT_KEY, RunRecordError, TrainingRun

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
#: What fills a placeholder when no run recorded it (``--no-execute`` without an executed solution):
#: visibly not a number, and flagged by the tests.
UNKNOWN = "?"
#: The lab's budgets whose times the prose may state.
LAB_BUDGETS = ("full", "quick")

# A time is a number followed by a unit; an accuracy a number right after the word.
_TIME = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:min(?:utes?)?\b|s\b|seconds?\b|h\b|hours?\b|分钟|分鐘|秒|小时|小時)")
_ACCURACY = re.compile(r"(?:accuracy|准确率|準確率|正確率)[^\d.?!\n。？！]{0,30}?(\d+(?:\.\d+)?%?)", re.IGNORECASE)
_CODE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", re.DOTALL)


def training_run(nb: NotebookNode) -> TrainingRun | None:
    """The training run an executed notebook recorded (the last one), or ``None``.

    Raises:
        ReleaseError: a record that does not validate.
    """
    found = None
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("metadata", {}).get(OUTPUT_KEY)
            if data is not None:
                try:
                    found = TrainingRun.from_json(data)
                except RunRecordError as exc:
                    raise ReleaseError(f"cell {cell.get('id')}: {exc}") from exc
    return found


def lab_summaries(nb: NotebookNode) -> dict[str, list[dict]]:
    """``{budget: [summary, ...]}`` of every experiment summary an executed lab displayed."""
    found: dict[str, list[dict]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {}).get("application/json")
            if isinstance(data, dict) and "experiment" in data and "budget" in data:
                found.setdefault(str(data["budget"]), []).append(data)
    return found


def values(nb: NotebookNode | None, language: str) -> dict[str, str]:
    """Every placeholder's text from an executed solution, in ``language`` (empty: nothing recorded)."""
    if nb is None:
        return {}
    found = {}
    run = training_run(nb)
    if run is not None:
        found.update(training_minutes=run.minutes_text(), seconds_per_epoch=run.seconds_per_epoch_text(),
                     epochs=str(run.epochs), val_accuracy=run.val_accuracy_text(),
                     device=run.device_text(language), date=run.date or UNKNOWN)
    for budget, summaries in lab_summaries(nb).items():
        if budget not in LAB_BUDGETS:
            continue
        seconds = sum(float(s.get("elapsed_s", 0.0)) for s in summaries)
        found[f"{budget}_minutes"] = f"{seconds / 60:.0f}"
        devices = sorted({_device_text(str(s.get("device") or ""), language) for s in summaries} - {""})
        found[f"{budget}_device"] = ", ".join(devices) if devices else UNKNOWN
    return found


_LAB_CPU = re.compile(r"CPU \([^,]*, (\d+) cores\)")


def _device_text(device: str, language: str) -> str:
    """The lab's device description (``tensorflow, CPU (x86_64, 2 cores)``) as the prose says it: ``2-core CPU``."""
    cpu = _LAB_CPU.search(device)
    if cpu:
        return i18n.format("{cores}-core CPU", language, cores=cpu.group(1))
    gpus = re.search(r"(\d+) GPU", device)
    if gpus:
        return i18n.format("{count} GPU(s)", language, count=gpus.group(1))
    return device


def placeholders(nb: NotebookNode) -> list[str]:
    """The placeholder names the Markdown cells of ``nb`` use, in order of first use."""
    names = [m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in PLACEHOLDER.finditer(c.source)]
    return list(dict.fromkeys(names))


def fill(nb: NotebookNode, found: dict[str, str], label: str) -> NotebookNode:
    """``nb`` with every placeholder of its Markdown cells replaced by its value.

    A placeholder the run did not record becomes :data:`UNKNOWN` (the caller says so).

    Raises:
        ReleaseError: a placeholder no run can ever record (a typo in the source or a translation).
    """
    unknown = [name for name in placeholders(nb) if name not in KNOWN]
    if unknown:
        raise ReleaseError(f"{label}: unknown placeholder {{{{{unknown[0]}}}}} in the prose; "
                           f"known: {', '.join(sorted(KNOWN))}")
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = PLACEHOLDER.sub(lambda m: found.get(m.group(1), UNKNOWN), cell.source)
    return nb


#: Every placeholder a source may use.
KNOWN = frozenset({"training_minutes", "seconds_per_epoch", "epochs", "val_accuracy", "device", "date",
                   *(f"{budget}_{what}" for budget in LAB_BUDGETS for what in ("minutes", "device"))})


def prose(nb: NotebookNode) -> str:
    """The text of the Markdown cells but the generated banner, without code spans, code blocks and maths."""
    text = "\n\n".join(c.source for c in nb.cells
                       if c.cell_type == "markdown" and "generated" not in c.metadata.get("tags", []))
    return _CODE.sub(" ", text)


def stated(text: str) -> list[tuple[str, str]]:
    """``(kind, number)`` for every time (``"time"``) and accuracy (``"accuracy"``) ``text`` states."""
    return ([("time", m.group(1)) for m in _TIME.finditer(text)]
            + [("accuracy", m.group(1)) for m in _ACCURACY.finditer(text)])


#: Which placeholders are times and which accuracies (a stated number must be one of its kind).
_KINDS = {"time": ("training_minutes", "seconds_per_epoch", *(f"{b}_minutes" for b in LAB_BUDGETS)),
          "accuracy": ("val_accuracy",)}


def misstated(nb: NotebookNode, run_values: dict[str, str]) -> list[str]:
    """The times and accuracies the prose of ``nb`` states that are not the run's numbers.

    Returns:
        One ``"time 6 (the run's: 11.6, 33)"`` per number no run value of its kind backs.
    """
    problems = []
    for kind, number in stated(prose(nb)):
        allowed = sorted({run_values[k] for k in _KINDS[kind] if run_values.get(k, UNKNOWN) != UNKNOWN})
        if number.replace(",", ".") not in allowed:
            problems.append(f"{kind} {number} (the run's: {', '.join(allowed) or 'none recorded'})")
    return problems


def missing(nb: NotebookNode, found: dict[str, str]) -> list[str]:
    """The placeholders of ``nb`` that ``found`` (a run's values) lacks."""
    return [name for name in placeholders(nb) if name not in found]


def language_of(nb: NotebookNode) -> str:
    return nb.metadata.get("resnet_signs", {}).get("language", i18n.DEFAULT)
