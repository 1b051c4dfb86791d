"""Every time and accuracy a notebook states comes from the run that built it.

What the Chinese editions print is Chinese.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from resnet_signs import i18n, paths
from resnet_signs.release import ASSIGNMENTS, ReleaseError, numbers, release
from resnet_signs.training.run import OUTPUT_KEY, TrainingRun

from .conftest import make_tiny_project

ROOT = paths.PROJECT_ROOT
COURSE = ROOT / "autograder"
EDITIONS = [(a, language) for a in ASSIGNMENTS for language in ("en", "zh_CN", "zh_TW")]
GRADED = next(a for a in ASSIGNMENTS if a.graded)
LAB = next(a for a in ASSIGNMENTS if not a.graded)


def _run_output(epoch_time_s=(80.0, 30.0, 36.0), val_accuracy=(0.5, 0.8, 0.9)):
    run = TrainingRun(tuple(epoch_time_s), tuple(val_accuracy), False, "AMD EPYC", 2, (), "2026-12-08")
    return new_output("display_data", data={"text/plain": run.summary_line("en")}, metadata={OUTPUT_KEY: run.to_json()})


def _lab_output(experiment, budget, elapsed_s):
    data = {"experiment": experiment, "budget": budget, "elapsed_s": elapsed_s, "verdicts": [],
            "device": "tensorflow, CPU (x86_64, 2 cores)"}
    return new_output("display_data", data={"application/json": data, "text/plain": "summary"})


def _executed(*outputs):
    return new_notebook(cells=[new_code_cell("train()", outputs=list(outputs), execution_count=1)])


# --- the numbers of a run, and what prose may state -------------------------------------------------


def test_the_numbers_of_a_run_are_read_from_its_executed_notebook():
    found = numbers.values(_executed(_run_output(), _lab_output("depth", "full", 1454.0),
                                     _lab_output("gradients", "full", 136.0), _lab_output("depth", "quick", 150.0),
                                     _lab_output("depth", "smoke", 9.0)), "zh_TW")
    assert found == {"training_minutes": "2.4", "seconds_per_epoch": "36", "epochs": "3", "val_accuracy": "0.900",
                     "device": "2 核心 CPU", "date": "2026-12-08", "full_minutes": "26", "full_device": "2 核心 CPU",
                     "quick_minutes": "2", "quick_device": "2 核心 CPU"}
    assert numbers.values(None, "en") == {} and numbers.values(_executed(), "en") == {}


def test_a_record_that_does_not_validate_is_a_release_error():
    bad = new_output("display_data", data={"text/plain": "x"}, metadata={OUTPUT_KEY: {"epoch_time_s": "slow"}})
    with pytest.raises(ReleaseError, match="epoch_time_s must be a list of finite numbers"):
        numbers.training_run(_executed(bad))


def test_a_hand_typed_time_or_accuracy_is_found_and_the_runs_own_pass():
    run = numbers.values(_executed(_run_output()), "en")
    nb = new_notebook(cells=[new_markdown_cell(
        "The full recipe takes about **6 minutes** on a 2-core CPU, then `run(timeout=30 s)`.\n\n"
        "It took 2.4 min (36 s per epoch) and reached a validation accuracy of 0.900; "
        "$0.99^k$ after 30 steps: 74%.")])
    assert numbers.misstated(nb, run) == ["time 6 (the run's: 2.4, 36)"]
    nb.cells[0].source += "\n\nHow much accuracy?\n\n*Figure 4*"  # a figure's number is no accuracy
    assert numbers.misstated(nb, run) == ["time 6 (the run's: 2.4, 36)"]
    nb.cells[0].source += " 訓練只需 5 分鐘，準確率 0.95。"
    assert numbers.misstated(nb, run)[1:] == ["time 5 (the run's: 2.4, 36)", "accuracy 0.95 (the run's: 0.900)"]
    assert numbers.misstated(nb, {}) [0] == "time 6 (the run's: none recorded)"


def test_placeholders_are_filled_and_an_unknown_one_is_refused():
    prose = "It took {{training_minutes}} min on a {{ device }}; {{quick_minutes}}."
    nb = new_notebook(cells=[new_markdown_cell(prose)])
    filled = numbers.fill(nb, {"training_minutes": "2.4", "device": "2-core CPU"}, "x.ipynb")
    assert filled.cells[0].source == "It took 2.4 min on a 2-core CPU; ?."
    assert numbers.missing(nb, {"training_minutes": "2.4", "device": "2-core CPU"}) == ["quick_minutes"]
    nb.cells[0].source += " {{training_hours}}"
    with pytest.raises(ReleaseError,
                       match=r"x.ipynb: unknown placeholder \{\{training_hours\}\} in the prose; known: "):
        numbers.fill(nb, {}, "x.ipynb")


# --- the release states the numbers of the solution it executed ----------------------------------------

TIMED = """
In the run that built the worked solution, training took {{training_minutes}} min ({{seconds_per_epoch}} s per epoch) on a {{device}}.

```python
from IPython.display import display
display({"text/plain": "3 epochs in 2.4 min"}, raw=True,
        metadata={"resnet_signs/training-run": {"epoch_time_s": [80.0, 30.0, 36.0], "cores": 2}})
```
"""  # noqa: E501 - a notebook's prose, one paragraph per line


@pytest.mark.slow
def test_the_release_states_the_numbers_of_the_solution_it_executed(tmp_path):
    project = make_tiny_project(tmp_path)
    md = GRADED.markdown(project / "autograder")
    md.write_text(md.read_text() + TIMED)
    lines = []

    def released(**kwargs):
        return release(course=project / "autograder", root=project, log=lines.append,
                       assignments=["residual_networks"], **kwargs)

    released(execute=False)  # nothing ran yet: stated as "?", and said
    student = nbformat.read(GRADED.release(project), as_version=4)
    assert "training took ? min (? s per epoch) on a ?." in student.cells[-2].source
    assert any("its run records no training_minutes, seconds_per_epoch, device" in line for line in lines)
    assert "its run records no" in " ".join(released(check=True))

    released(execute=True)
    for nb in (nbformat.read(GRADED.release(project), as_version=4),
               nbformat.read(GRADED.solution(project), as_version=4)):
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "training took 2.4 min (36 s per epoch) on a 2-core CPU." in prose and "{{" not in prose
    assert released(check=True) == []
    released(execute=False, reuse_outputs=True)  # the committed solution's run, read back
    assert "2.4 min" in nbformat.read(GRADED.release(project), as_version=4).cells[-2].source
    nbgrader_copy = nbformat.read(GRADED.nbgrader_release(project / "autograder"), as_version=4)
    assert "training took 2.4 min" in "\n".join(c.source for c in nbgrader_copy.cells)


# --- the committed editions (they hold the numbers of the last `make release`) -------------------------


def _read(path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize(("assignment", "language"), EDITIONS, ids=lambda x: getattr(x, "id", x))
def test_each_committed_edition_states_the_numbers_of_its_solutions_run(assignment, language):
    solution = _read(assignment.solution(ROOT, language))
    run = numbers.values(solution, language)
    source = nbformat.read(assignment.source(COURSE), as_version=4)
    assert numbers.missing(source, run) == [], "the solution records no run: run `make release`"
    for nb in (solution, _read(assignment.release(ROOT, language))):
        assert numbers.misstated(nb, run) == []
        # Every placeholder was filled from the run (missing() above: none reads numbers.UNKNOWN); "? " is
        # no sign of one ("Which signs does the network confuse? Here are ...").
        assert "{{" not in numbers.prose(nb)


def _printed(template: str, language: str, **regexes: str) -> re.Pattern:
    """What ``i18n.format(template, language, ...)`` prints, as a pattern: the translation's text literal,
    each placeholder the regular expression given for it."""
    marks = {name: f"QQ{name}QQ" for name in regexes}  # survive re.escape unchanged
    pattern = re.escape(i18n.format(template, language, **marks))
    for name, regex in regexes.items():
        pattern = pattern.replace(marks[name], regex)
    return re.compile(pattern)


@pytest.mark.parametrize("language", ["en", "zh_CN", "zh_TW"])
def test_the_run_record_is_what_the_solution_printed(language):
    solution = _read(GRADED.solution(ROOT, language))
    run = numbers.training_run(solution)
    assert run is not None and not run.smoke and run.epochs == 20, "the committed solution shows the full recipe"
    texts = [o.get("text", "") or o.get("data", {}).get("text/plain", "")
             for c in solution.cells if c.cell_type == "code" for o in c.outputs]
    assert run.summary_line(language) in texts
    epoch_line = _printed("epoch {epoch}/{epochs}: {seconds} s; training loss {loss}, accuracy {accuracy}; validation "
                          "loss {val_loss}, accuracy {val_accuracy}", language, epoch=r"\d+", epochs="20",
                          seconds=r"\d+", loss=r"\S+", accuracy=r"\S+", val_loss=r"\S+", val_accuracy=r"\S+")
    epoch_lines = [line for text in texts for line in text.splitlines() if epoch_line.fullmatch(line)]
    assert len(epoch_lines) == run.epochs
    lab = _read(LAB.solution(ROOT, language))
    stated = sorted(round(float(s["elapsed_s"]))
                    for summaries in numbers.lab_summaries(lab).values() for s in summaries)
    printed = [int(m) for template in ("{name}: cached results, {seconds} s of compute",
                                       "{name}: just ran, {seconds} s of compute")
               for c in lab.cells if c.cell_type == "code" for o in c.outputs
               for m in _printed(template, language, name=r"\S+", seconds=r"(\d+)").findall(o.get("text", ""))]
    assert sorted(printed) == stated and len(stated) == 8  # four experiments at two budgets


def test_the_committed_lab_shows_the_students_budget_beside_the_full_one():
    summaries = numbers.lab_summaries(_read(LAB.solution(ROOT)))
    assert sorted(summaries) == ["full", "quick"]
    for budget in summaries.values():
        assert sorted(s["experiment"] for s in budget) == ["depth", "extra-block", "gradients", "shortcuts"]


# --- what the Chinese editions print ------------------------------------------------------------------


def _printed_lines(nb) -> list[str]:
    lines = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "stream":
                lines += output.text.splitlines()
            elif "text/plain" in output.get("data", {}) and not any(k.startswith("image/") for k in output.data):
                lines += output.data["text/plain"].splitlines()
    return [line for line in lines if line.strip()]


@pytest.mark.parametrize(("assignment", "language"), [e for e in EDITIONS if e[1] != "en"],
                         ids=lambda x: getattr(x, "id", x))
def test_at_most_a_tenth_of_what_a_chinese_solution_prints_is_english(assignment, language):
    lines = _printed_lines(_read(assignment.solution(ROOT, language)))
    english = [line for line in lines if i18n.looks_english(line)]
    assert lines and len(english) <= 0.1 * len(lines), english


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.id)
def test_the_taiwan_editions_use_no_mainland_words(assignment):
    for nb in (_read(assignment.release(ROOT, "zh_TW")), _read(assignment.solution(ROOT, "zh_TW"))):
        text = "\n".join([c.source for c in nb.cells if c.cell_type == "markdown"] + _printed_lines(nb))
        assert i18n.mainland_forms(text) == []
