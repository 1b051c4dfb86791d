"""Where things live. Every default path in the project is derived here, once.

Each location can be overridden with an environment variable, so that a course
server, a grading sandbox or a test can point the package somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository checkout (the package is installed in editable mode from it).
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def data_dir() -> Path:
    """Folder holding ``train_signs.h5`` and ``test_signs.h5`` (``RESNET_SIGNS_DATA``)."""
    return _env_path("RESNET_SIGNS_DATA", PROJECT_ROOT / "data")


def models_dir() -> Path:
    """Folder for trained models and their metrics (``RESNET_SIGNS_MODELS``)."""
    return _env_path("RESNET_SIGNS_MODELS", PROJECT_ROOT / "models")


def course_dir() -> Path:
    """The nbgrader course directory (``RESNET_SIGNS_COURSE``)."""
    return _env_path("RESNET_SIGNS_COURSE", PROJECT_ROOT / "autograder")


def shared_signs_dir() -> Path:
    """The local copy of the SIGNS data used by tests and CI (``SIGNS_SOURCE``)."""
    return _env_path("SIGNS_SOURCE", PROJECT_ROOT.parent / "shared" / "data" / "signs")


def checkout_root() -> Path | None:
    """The source checkout the package runs from, if any (``None`` for an installed wheel)."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").exists() else None


def isolation_backend() -> str | None:
    """The sandbox backend forced by ``RESNET_SIGNS_ISOLATION`` (``bwrap``, ``unshare``, ``none``), if any."""
    return os.environ.get("RESNET_SIGNS_ISOLATION") or None


def cache_dir() -> Path:
    """Per-user cache (``RESNET_SIGNS_CACHE``, else ``$XDG_CACHE_HOME/resnet-signs`` or ``~/.cache/resnet-signs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return _env_path("RESNET_SIGNS_CACHE", Path(base).expanduser() / "resnet-signs")


def use_zygote() -> bool:
    """Whether sandbox children are forked from a preloaded zygote (``RESNET_SIGNS_ZYGOTE``, default on)."""
    return os.environ.get("RESNET_SIGNS_ZYGOTE", "1") not in ("0", "false", "no")


def language() -> str | None:
    """The language of hints and figures asked for by ``RESNET_SIGNS_LANG`` (``zh_CN``, ...), if any.

    The notebook's own setting (``setup(language=...)``, written by the release) comes first;
    see :mod:`resnet_signs.i18n`.
    """
    return os.environ.get("RESNET_SIGNS_LANG") or None


def executable_path() -> str:
    """``PATH`` for processes the grader starts (the sandbox gets nothing else of our environment)."""
    return os.environ.get("PATH", "/usr/bin:/bin")


#: Variables a sandboxed notebook may need to find its device and threads; nothing else passes.
_SANDBOX_PASSTHROUGH = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "OMP_NUM_THREADS")


def passed_to_sandbox() -> dict[str, str]:
    """The few variables of the grader's environment that the sandbox child inherits."""
    return {name: os.environ[name] for name in _SANDBOX_PASSTHROUGH if name in os.environ}


def experiments_dir() -> Path:
    """Cache of the lab's experiment results (``RESNET_SIGNS_EXPERIMENTS``, default ``experiments-cache/``)."""
    return _env_path("RESNET_SIGNS_EXPERIMENTS", PROJECT_ROOT / "experiments-cache")


def nbgrader_execution() -> str | None:
    """``NBGRADER_EXECUTION`` (``autograde``, ``validate``...) while nbgrader executes a notebook, else ``None``."""
    return os.environ.get("NBGRADER_EXECUTION") or None


def quick_setting() -> str:
    """The raw ``RESNET_SIGNS_QUICK`` value (``""`` when unset); ``resnet_signs.notebook`` validates it."""
    return os.environ.get("RESNET_SIGNS_QUICK", "").strip()
