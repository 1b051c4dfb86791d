"""Figures for the experiments. They draw results and never train.

Each function takes an experiment's results (or, for gradients, a list of
``GradientNorms``) and an optional matplotlib ``ax``; it returns the axes it drew on.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from resnet_signs import i18n
from resnet_signs.i18n import gettext as _

PLAIN, RESNET = "tab:red", "tab:blue"
#: Legend words of the error bars, and of the shortcut kinds (msgids).
_ERRORS = {"train_error": "training error", "test_error": "test error"}
_SHORTCUTS = {"zero-pad": "zero-padding", "projection": "projection"}


def _axes(ax, ncols: int = 1, width: float = 6.0):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, ncols, figsize=(width * ncols, 4), squeeze=False)
    return axes[0] if ncols > 1 else axes[0][0]


def _color(residual: bool) -> str:
    return RESNET if residual else PLAIN


def _net(residual: bool, depth: int) -> str:
    """``ResNet-56`` / ``plain-56`` in the figure's language (a plain net is named in words)."""
    return f"ResNet-{depth}" if residual else i18n.format("plain-{depth}", depth=depth)


def plot_depth(results, ax=None):
    """Final training error vs depth, plain vs ResNet: mean over seeds, min-max bar, each seed a dot."""
    ax = _axes(ax)
    for row_net, residual in (("plain", False), ("resnet", True)):
        rows = [r for r in results.summary() if r["net"] == row_net]
        depths = np.array([r["depth"] for r in rows])
        mean = np.array([r["train_error_mean"] for r in rows])
        # Clipped: equal errors over seeds can give a mean a rounding step outside [min, max].
        spread = np.clip([[r["train_error_mean"] - r["train_error_min"] for r in rows],
                          [r["train_error_max"] - r["train_error_mean"] for r in rows]], 0, None)
        ax.errorbar(depths, mean, yerr=spread, marker="o", capsize=4, color=_color(residual),
                    label=_("ResNet") if residual else _("plain"))
        seeds = [(r.depth, r.train_error) for r in results.runs if r.residual == residual]
        ax.scatter(*zip(*seeds, strict=True), s=12, alpha=0.5, color=_color(residual))
    ax.set(xlabel=_("depth (weighted layers)"), ylabel=_("training error after training"),
           title=_("Training error vs depth (mean, min-max over seeds, dots: seeds)"))
    ax.set_xticks(sorted({r.depth for r in results.runs}))
    ax.legend()
    return ax


def plot_training_curves(results, depth: int | None = None, ax=None):
    """Training error per epoch at one depth (the deepest by default), every seed."""
    ax = _axes(ax)
    depth = depth or max(r.depth for r in results.runs)
    for run in (r for r in results.runs if r.depth == depth):
        ax.plot(range(1, len(run.train_errors) + 1), run.train_errors, color=_color(run.residual), alpha=0.8,
                label=_net(run.residual, depth) if run.seed == 0 else None)
    ax.set(xlabel=_("epoch"), ylabel=_("training error"),
           title=i18n.format("Training curves at depth {depth}", depth=depth))
    ax.legend()
    return ax


def plot_gradient_norms(results, ax=None, title: str = "Gradient norm per layer"):
    """Per-layer gradient norm (log scale) against layer index; mean over seeds with a min-max band.

    Args:
        results: a ``GradientNorms``, a list of them, or ``GradientResults``.
        ax: matplotlib axes (a new figure when ``None``).
        title: the axes' title, shown in the notebook's language when the catalogues know it.
    """
    ax = _axes(ax)
    norms = getattr(results, "norms", results)
    items = [results] if hasattr(results, "layers") else list(norms)
    groups = defaultdict(list)
    for g in items:
        groups[(g.depth, g.residual, g.step)].append(g.norms)
    depths = sorted({d for d, _, _ in groups})
    for (depth, residual, step), values in sorted(groups.items()):
        values = np.array(values)
        x = np.arange(1, values.shape[1] + 1)
        style = "-" if step == 0 else "--"
        width = 1.0 + depths.index(depth)
        when = _("at init") if step == 0 else i18n.format("after {steps} steps", steps=step)
        label = f"{_net(residual, depth)}, {when}"
        ax.plot(x, values.mean(axis=0), style, lw=width, color=_color(residual), label=label)
        if len(values) > 1:
            ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=_color(residual), alpha=0.15)
    ax.set_yscale("log")
    ax.set(xlabel=_("conv layer (1 = closest to the input)"), ylabel="||dLoss/dW||",
           title=_(title))
    ax.legend(fontsize="small")
    return ax


def plot_extra_block(results, ax=None):
    """Errors of the trained base, base + residual blocks, base + plain layers (bars: mean, dots: seeds)."""
    ax = _axes(ax)
    kinds = ("base", "residual", "plain")
    labels = (f"ResNet-{results.base_depth}", i18n.format("+ {count} residual blocks", count=results.extra_blocks),
              i18n.format("+ {count} plain layers", count=2 * results.extra_blocks))
    for offset, (key, color) in enumerate((("train_error", "0.6"), ("test_error", "0.3"))):
        for i, kind in enumerate(kinds):
            values = [getattr(r, key) for r in results.runs if r.kind == kind]
            ax.bar(i + 0.2 * (2 * offset - 1), np.mean(values), width=0.4, color=color,
                   label=_(_ERRORS[key]) if i == 0 else None)
            ax.scatter([i + 0.2 * (2 * offset - 1)] * len(values), values, color="k", s=10, zorder=3)
    ax.set_xticks(range(len(kinds)), labels)
    ax.set(ylabel=_("error (inference mode)"),
           title=i18n.format("Appending layers, L2 {decay} on them", decay=f"{results.weight_decay:g}"))
    ax.legend()
    return ax


def plot_shortcuts(results, ax=None):
    """Training and test error of zero-pad vs projection shortcuts, parameter counts in the labels."""
    ax = _axes(ax)
    rows = results.summary()
    for offset, (key, color) in enumerate((("train_error", "0.6"), ("test_error", "0.3"))):
        x = np.arange(len(rows)) + 0.2 * (2 * offset - 1)
        ax.bar(x, [r[f"{key}_mean"] for r in rows], yerr=[r[f"{key}_std"] for r in rows], width=0.4,
               color=color, capsize=4, label=_(_ERRORS[key]))
    ax.set_xticks(range(len(rows)), [i18n.format("ResNet-{depth}, {shortcut}\n{params} parameters", depth=r["depth"],
                                                 shortcut=_(_SHORTCUTS.get(r["shortcut"], r["shortcut"])),
                                                 params=f"{r['params']:,}") for r in rows])
    ax.set(ylabel=_("error"), title=_("Shortcuts where the shapes change"))
    ax.legend()
    return ax
