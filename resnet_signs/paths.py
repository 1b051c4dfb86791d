"""Where things live, and the one place that reads the environment.

Every default path and every environment variable the package honours is read here, once;
the rest of the package asks these functions.

Two ways to run the package, told apart by :func:`checkout_root`:

- **From a checkout** of the course repository (``make install`` installs it in editable mode):
  the data, models and course directory are the checkout's ``data/``, ``models/`` and
  ``autograder/``, as the Makefile and the tests expect.
- **Installed from the wheel** (``pip install resnet-signs``): what ships with the package
  (checksum manifest, expected values, student notebooks) is read through
  :mod:`importlib.resources`; the data and trained models live in a per-user folder
  (:func:`user_data_root`, from ``platformdirs``).

Each location can be overridden with an environment variable, so that a course server, a
grading sandbox or a test can point the package somewhere else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import platformdirs

#: The distribution name (``pip install resnet-signs``, the per-user folders' name).
DISTRIBUTION = "resnet-signs"

#: The folder above the package: the checkout when there is one (see :func:`checkout_root`).
#: Tests and checkout-only tools use it; code that also runs installed asks the functions below.
PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Environment variables (the names other modules mention in messages).
DATA_ENV = "RESNET_SIGNS_DATA"
MODELS_ENV = "RESNET_SIGNS_MODELS"
COURSE_ENV = "RESNET_SIGNS_COURSE"
QUICK_ENV = "RESNET_SIGNS_QUICK"
LAB_BUDGET_ENV = "RESNET_SIGNS_LAB_BUDGET"
NBGRADER_ENV = "NBGRADER_EXECUTION"
GRADER_GPU_ENV = "RESNET_SIGNS_GRADER_GPU"
SANDBOX_PID_NAMESPACE_ENV = "RESNET_SIGNS_SANDBOX_PID_NAMESPACE"
#: Hides every NVIDIA GPU from CUDA, so from TensorFlow, JAX and PyTorch, in a process started with it.
NO_GPU = {"CUDA_VISIBLE_DEVICES": "-1"}


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


# --- Checkout or installed --------------------------------------------------------------------


def checkout_root() -> Path | None:
    """The source checkout the package runs from, if any (``None`` for an installed wheel).

    A checkout of the course repository has ``pyproject.toml`` and the ``Makefile`` next to the
    package. A wheel installs the package alone into ``site-packages``; an unpacked sdist has no
    ``Makefile`` (it is not shipped), so it also counts as installed.
    """
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "Makefile").is_file():
        return PROJECT_ROOT
    return None


def user_data_root() -> Path:
    """The per-user folder of an installed package (``~/.local/share/resnet-signs`` on Linux,
    ``~/Library/Application Support/resnet-signs`` on macOS)."""
    return platformdirs.user_data_path(DISTRIBUTION, appauthor=False)


def _default(checkout_relative: str, user_relative: str) -> Path:
    root = checkout_root()
    return root / checkout_relative if root else user_data_root() / user_relative


# --- Data, models, course ---------------------------------------------------------------------


def data_dir() -> Path:
    """Folder holding ``train_signs.h5`` and ``test_signs.h5``.

    ``$RESNET_SIGNS_DATA`` (also set by ``resnet-signs --data-dir``), else ``data/`` in a
    checkout, else ``data/`` in :func:`user_data_root`.
    """
    return _env_path(DATA_ENV, _default("data", "data"))


def override_data_dir(folder: Path | str) -> Path:
    """Point :func:`data_dir` at ``folder`` for this process and every process it starts
    (grading sandboxes, Jupyter kernels): the ``--data-dir`` option."""
    resolved = Path(folder).expanduser().resolve()
    os.environ[DATA_ENV] = str(resolved)
    return resolved


def models_dir() -> Path:
    """Folder for trained models and their metrics (``RESNET_SIGNS_MODELS``, else ``models/`` in a
    checkout or in :func:`user_data_root`)."""
    return _env_path(MODELS_ENV, _default("models", "models"))


def course_dir() -> Path:
    """The nbgrader course directory (``RESNET_SIGNS_COURSE``).

    In a checkout its ``autograder/``. The course directory holds the answers (reference,
    hidden tests), so no wheel ships it: installed, the default is ``course/`` in
    :func:`user_data_root`, where an instructor may put (or link) their copy.
    """
    return _env_path(COURSE_ENV, _default("autograder", "course"))


def experiments_cache_dir() -> Path:
    """Cached results of the 'why ResNets work' experiments (``RESNET_SIGNS_EXPERIMENTS``, else
    ``experiments-cache/`` in a checkout, or in the per-user cache)."""
    root = checkout_root()
    default = root / "experiments-cache" if root else cache_dir() / "experiments"
    return _env_path("RESNET_SIGNS_EXPERIMENTS", default)


def shared_signs_dir() -> Path:
    """The local copy of the SIGNS photos used by tests and CI (``SIGNS_SOURCE``, else
    ``../shared/data/signs`` beside the checkout, as in the Makefile)."""
    return _env_path("SIGNS_SOURCE", PROJECT_ROOT.parent / "shared" / "data" / "signs")


# --- What ships inside the package ------------------------------------------------------------


def package_file(*parts: str) -> Traversable:
    """A file shipped inside the package, e.g. ``package_file("data", "SHA256SUMS")``."""
    return resources.files("resnet_signs").joinpath(*parts)


def student_notebooks_dir() -> Traversable:
    """The released student notebooks, one folder per assignment.

    In a checkout the committed ``assignments/`` (what ``make release`` writes); installed, the
    copy the wheel carries as ``resnet_signs/assignments`` (``setup.py`` puts it there).
    """
    root = checkout_root()
    return root / "assignments" if root else package_file("assignments")


# --- Switches ---------------------------------------------------------------------------------


def quick_setting() -> str:
    """The raw value of ``RESNET_SIGNS_QUICK`` (``""`` when unset); :mod:`resnet_signs.notebook`
    validates it."""
    return os.environ.get(QUICK_ENV, "").strip()


def lab_budget_setting() -> str:
    """The raw value of ``RESNET_SIGNS_LAB_BUDGET`` (``""`` when unset): the lab's budget for
    every notebook on this server, e.g. ``full`` on a GPU server or for the executed solution;
    :mod:`resnet_signs.experiments.settings` validates it."""
    return os.environ.get(LAB_BUDGET_ENV, "").strip()


def nbgrader_execution() -> str | None:
    """``NBGRADER_EXECUTION`` (``autograde``, ``validate``), set by nbgrader while it runs a notebook."""
    return os.environ.get(NBGRADER_ENV) or None


def gradescope_root() -> Path:
    """Gradescope's autograder folder: ``source/``, ``submission/``, ``results/``
    (``RESNET_SIGNS_GRADESCOPE_ROOT``, default ``/autograder``; tests use a fake tree)."""
    return _env_path("RESNET_SIGNS_GRADESCOPE_ROOT", Path("/autograder"))


def isolation_backend() -> str | None:
    """The sandbox backend forced by ``RESNET_SIGNS_ISOLATION`` (``bwrap``, ``unshare``, ``none``), if any."""
    return os.environ.get("RESNET_SIGNS_ISOLATION") or None


def sandbox_owns_pid_namespace() -> bool:
    """Whether this sandbox child has a PID namespace of its own (``RESNET_SIGNS_SANDBOX_PID_NAMESPACE=1``,
    set by the runner when an isolation backend gives it one): then every process in it is the submission's."""
    return os.environ.get(SANDBOX_PID_NAMESPACE_ENV) == "1"


def grader_gpu_setting() -> str:
    """The raw value of ``RESNET_SIGNS_GRADER_GPU`` (``""`` when unset; ``resnet-signs grade --gpu`` sets it):
    whether grading may use the GPU; :mod:`resnet_signs.grading.devices` validates it."""
    return os.environ.get(GRADER_GPU_ENV, "").strip()


def allow_grader_gpu() -> None:
    """Let grading use the GPU in this process and every process it starts (``--gpu``)."""
    os.environ[GRADER_GPU_ENV] = "1"


def hide_gpus() -> None:
    """Hide the GPUs from CUDA in this process (before it initialises CUDA) and the processes it starts."""
    os.environ.update(NO_GPU)


def cache_dir() -> Path:
    """Per-user cache (``RESNET_SIGNS_CACHE``, else ``$XDG_CACHE_HOME/resnet-signs`` or ``~/.cache/resnet-signs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return _env_path("RESNET_SIGNS_CACHE", Path(base).expanduser() / "resnet-signs")


def use_zygote() -> bool:
    """Whether sandbox children are forked from a preloaded zygote (``RESNET_SIGNS_ZYGOTE``, default on)."""
    return os.environ.get("RESNET_SIGNS_ZYGOTE", "1") not in ("0", "false", "no")


def quiet_tensorflow(level: str = "2") -> None:
    """Ask TensorFlow's C++ runtime for fewer log lines (``TF_CPP_MIN_LOG_LEVEL``), unless the user
    chose a level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", level)


@contextlib.contextmanager
def interpreter_scripts_on_path():
    """Put this interpreter's scripts folder first on ``PATH`` meanwhile: tools that run a
    script by name (nbgrader runs ``alembic`` to create a gradebook) miss the one installed next to
    this interpreter when its venv is not activated."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old
    try:
        yield
    finally:
        os.environ["PATH"] = old


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

