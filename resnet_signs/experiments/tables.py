"""Plain-text tables of the experiments' results, for the command line and the lab notebook alike.

The header lines are msgids of the gettext catalogues (shown in the current language); the rows
hold numbers and code names (``plain``, ``resnet``, ``zero-pad``), which stay as they are.
"""

from __future__ import annotations

from resnet_signs.errors import UsageError
from resnet_signs.i18n import gettext as _


def summary_lines(name: str, results) -> list[str]:
    """A plain-text table of an experiment's results."""
    if name == "depth":
        lines = [_("depth  net     seeds  train error (mean ± std) [min, max]   test error (mean ± std)")]
        for r in results.summary():
            lines.append(f"{r['depth']:>5}  {r['net']:<6}  {r['seeds']:>5}  {r['train_error_mean']:.3f} ± "
                         f"{r['train_error_std']:.3f} [{r['train_error_min']:.3f}, {r['train_error_max']:.3f}]"
                         f"{'':>10}{r['test_error_mean']:.3f} ± {r['test_error_std']:.3f}")
        return lines
    if name == "gradients":
        lines = [_("net         step  seed  first conv  last conv  first/last")]
        for g in results.norms:
            lines.append(f"{g.label:<10}  {g.step:>4}  {g.seed:>4}  {g.norms[0]:>10.3g}  {g.norms[-1]:>9.3g}"
                         f"  {g.norms[0] / g.norms[-1]:>10.3g}")
        return lines
    if name == "extra-block":
        lines = [_("seed  model     train err  test err  ||out-in||/||in|| before -> after  "
                   "mean |gamma| before -> after")]
        for r in results.runs:
            line = f"{r.seed:>4}  {r.kind:<8}  {r.train_error:>9.3f}  {r.test_error:>8.3f}"
            if r.kind != "base":  # the base net has no appended layers to probe
                line += (f"  {r.change_before:>22.3f} -> {r.change_after:.3f}"
                         f"  {r.gamma_before:>16.3f} -> {r.gamma_after:.3f}")
            lines.append(line)
        return lines
    if name == "shortcuts":
        lines = [_("depth  shortcut    params   shortcut params  train error      test error")]
        for r in results.summary():
            lines.append(f"{r['depth']:>5}  {r['shortcut']:<10}  {r['params']:>7}  {r['shortcut_params']:>15}"
                         f"  {r['train_error_mean']:.3f} ± {r['train_error_std']:.3f}"
                         f"  {r['test_error_mean']:.3f} ± {r['test_error_std']:.3f}")
        return lines
    raise UsageError(f"no summary for experiment {name!r}")
