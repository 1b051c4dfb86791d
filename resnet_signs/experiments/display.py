"""What the lab notebook shows for one experiment: its settings, its table, its verdicts, its JSON.

Every line is printed in the notebook's language (:mod:`resnet_signs.i18n`); the JSON summary
keeps English, so a program reads the same keys and texts in every edition.
"""

from __future__ import annotations

from resnet_signs import i18n
from resnet_signs.experiments import verdicts
from resnet_signs.experiments.runner import Outcome, run_or_load
from resnet_signs.experiments.settings import shown_budgets
from resnet_signs.experiments.tables import summary_lines

#: The settings each experiment reads (the rest of ``Settings`` does not affect it).
_FIELDS = {
    "depth": ("depths", "seeds", "epochs", "image_size", "batch_size", "learning_rate", "warmup_epochs"),
    "gradients": ("depths", "seeds", "steps", "image_size", "learning_rate"),
    "extra-block": ("base_depth", "extra_blocks", "seeds", "epochs", "extra_epochs", "weight_decay", "image_size",
                    "batch_size", "learning_rate", "warmup_epochs"),
    "shortcuts": ("depths", "seeds", "epochs", "image_size", "batch_size", "learning_rate", "warmup_epochs"),
}
#: Metadata of the JSON output: JupyterLab shows it folded.
_JSON_METADATA = {"application/json": {"expanded": False, "root": "root"}}


def settings_line(outcome: Outcome, chosen_by: str | None = None) -> str:
    fields = ", ".join(f"{name}={getattr(outcome.settings, name)}" for name in _FIELDS[outcome.name])
    if chosen_by:
        return i18n.format("{budget} settings ({chosen_by}): {fields}", budget=outcome.budget,
                           chosen_by=i18n.gettext(chosen_by), fields=fields)
    return i18n.format("{budget} settings: {fields}", budget=outcome.budget, fields=fields)


def state_line(outcome: Outcome) -> str:
    """``depth: cached results, 1454 s of compute`` (the compute time of the run that made the results)."""
    template = "{name}: cached results, {seconds} s of compute" if outcome.cached else \
        "{name}: just ran, {seconds} s of compute"
    return i18n.format(template, name=outcome.name, seconds=f"{outcome.elapsed_s:.0f}")


def show(name: str, budget: str | None = None, **overrides):
    """Run (or load) experiment ``name``; print its settings, table and verdicts; display its summary as JSON.

    Without ``budget``, at every budget :func:`~resnet_signs.experiments.settings.shown_budgets`
    names: the first one's results are returned (for the figures), the others are shown after it
    (the worked solution shows the quick budget students run beside the full one).

    Returns:
        The experiment's results object at the first budget.
    """
    budgets = [(budget, None)] if budget is not None else shown_budgets()
    first = None
    for index, (each, chosen_by) in enumerate(budgets):
        if index:
            print()
            print(i18n.format("— the same experiment at the {budget} budget —", budget=each))
        outcome = run_or_load(name, each, **overrides)
        _show_outcome(outcome, chosen_by)
        first = first or outcome
    return first.results


def _show_outcome(outcome: Outcome, chosen_by: str | None) -> None:
    print(state_line(outcome))
    print(settings_line(outcome, chosen_by))
    print("\n".join(summary_lines(outcome.name, outcome.results)))
    data = verdicts.summary(outcome.name, outcome.results, outcome.settings)
    data["budget"], data["elapsed_s"], data["device"] = outcome.budget, round(outcome.elapsed_s, 1), outcome.device
    for line in verdicts.printed_lines(data):
        print(line)
    from IPython.display import display

    # The JSON for programs; in its plain-text form (what a terminal or a diff shows) one line in words.
    plain = i18n.format("summary of {name} at the {budget} budget, as JSON (application/json)", name=outcome.name,
                        budget=outcome.budget)
    display({"application/json": data, "text/plain": plain}, raw=True, metadata=_JSON_METADATA)
