"""What the lab notebook shows for one experiment: its settings, its table, its verdicts, its JSON."""

from __future__ import annotations

from resnet_signs.experiments import verdicts
from resnet_signs.experiments.tables import summary_lines
from resnet_signs.experiments.runner import Outcome, run_or_load
from resnet_signs.experiments.settings import budget_choice

#: The settings each experiment reads (the rest of ``Settings`` does not affect it).
_FIELDS = {
    "depth": ("depths", "seeds", "epochs", "image_size", "batch_size", "learning_rate", "warmup_epochs"),
    "gradients": ("depths", "seeds", "steps", "image_size", "learning_rate"),
    "extra-block": ("base_depth", "extra_blocks", "seeds", "epochs", "extra_epochs", "weight_decay", "image_size",
                    "batch_size", "learning_rate", "warmup_epochs"),
    "shortcuts": ("depths", "seeds", "epochs", "image_size", "batch_size", "learning_rate", "warmup_epochs"),
}


def settings_line(outcome: Outcome, chosen_by: str | None = None) -> str:
    fields = ", ".join(f"{name}={getattr(outcome.settings, name)}" for name in _FIELDS[outcome.name])
    return f"{outcome.budget} settings{f' ({chosen_by})' if chosen_by else ''}: {fields}"


def show(name: str, budget: str | None = None, **overrides):
    """Run (or load) experiment ``name``; print its settings, table and verdicts; display its summary as JSON.

    Returns:
        The experiment's results object (for the plots).
    """
    chosen_by = None
    if budget is None:
        budget, chosen_by = budget_choice()
    outcome = run_or_load(name, budget, **overrides)
    state = "cached results" if outcome.cached else "just ran"
    print(f"{name}: {state}, {outcome.elapsed_s:.0f} s of compute")
    print(settings_line(outcome, chosen_by))
    print("\n".join(summary_lines(name, outcome.results)))
    data = verdicts.summary(name, outcome.results, outcome.settings)
    data["budget"], data["elapsed_s"] = outcome.budget, round(outcome.elapsed_s, 1)
    for line in verdicts.printed_lines(data):
        print(line)
    from IPython.display import JSON, display

    display(JSON(data, expanded=False))
    return outcome.results
