"""The "why ResNets work" lab: plain vs residual nets of depth 6n + 2 on SIGNS.

Experiments (``resnet-signs experiment NAME``): ``depth`` (training error vs depth),
``gradients`` (per-layer gradient norms), ``extra-block`` (appended blocks drift toward the
identity) and ``shortcuts`` (zero-padding vs projection). The names below are imported
lazily, so that the CLI answers ``--help`` without importing TensorFlow.
"""

from __future__ import annotations

import importlib

from resnet_signs import paths

# The lab's and the CLI's first TensorFlow import happens inside these modules: fewer C++ log
# lines (the CPU-feature notice goes; absl's pre-init lines stay). A user's own level wins.
paths.quiet_tensorflow()

#: The experiments, in the lab's order (kept here so the CLI can check a name without TensorFlow).
NAMES = ("depth", "gradients", "extra-block", "shortcuts")

_EXPORTS = {
    "build_net": "resnet_signs.experiments.nets",
    "gradient_norms": "resnet_signs.experiments.gradients",
    "GradientNorms": "resnet_signs.experiments.gradients",
    "identity_demo": "resnet_signs.experiments.identity",
    "run_or_load": "resnet_signs.experiments.runner",
    "EXPERIMENTS": "resnet_signs.experiments.runner",
    "show": "resnet_signs.experiments.display",
    "summary": "resnet_signs.experiments.verdicts",
    "use_budget": "resnet_signs.experiments.settings",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - a list, built from the one table of lazy exports


def check_name(name: str) -> str:
    """Return ``name`` if it names an experiment, else raise a one-line ``UsageError``."""
    from resnet_signs.errors import UsageError

    if name not in NAMES:
        raise UsageError(f"unknown experiment {name!r}: choose one of {', '.join(NAMES)}")
    return name


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
