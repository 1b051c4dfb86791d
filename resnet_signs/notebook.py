"""What the assignment notebook needs besides the student's code.

- :func:`setup` (the notebook's first cell) checks the environment against the project's
  version ranges, looks for the data, picks the device (turning on GPU memory growth so that one
  notebook does not take a shared GPU server's whole memory), fixes the random seeds, and
  prints one ✓/✗ line per check.
- :func:`training_budget` is the ``train()`` configuration the notebook uses: the full recipe
  normally, a smoke run of seconds when nbgrader executes the notebook (``NBGRADER_EXECUTION``,
  set by ``nbgrader validate``/``autograde``), when the notebook calls ``setup(quick=True)``
  (:func:`use_quick`) or when ``RESNET_SIGNS_QUICK=1``.
- :func:`stage_summary` / :func:`print_stage_summary` print a ResNet's output shape per stage,
  a short alternative to the wall of ``model.summary()``; :func:`check_shape` and
  :func:`build_model` run a student's function for the shape-check cells and say "implement it
  first" while it is still the release's stub.
- :func:`report_training` ends the training cell: one summary line, and the run's numbers as a
  :class:`~resnet_signs.training.run.TrainingRun` in the output's metadata, from which the release
  states the training time in the notebook's prose.

Every line printed here goes through :mod:`resnet_signs.i18n` (msgids are the English texts), so
a translated edition prints its own language.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from resnet_signs import i18n, paths
from resnet_signs.errors import UsageError

#: The distribution whose version ranges the environment is checked against.
DISTRIBUTION = "resnet-signs"
#: Files ``make data`` writes into :func:`resnet_signs.paths.data_dir`.
DATA_FILES = ("train_signs.h5", "test_signs.h5")
#: Seed used by :func:`setup` unless told otherwise.
DEFAULT_SEED = 1
#: Environment variable that asks for the smoke budget outside nbgrader.
QUICK_ENV = paths.QUICK_ENV

#: The full recipe: ``train()``'s defaults (``resnet_signs.training.TrainConfig``) are the recipe;
#: the notebook only asks for one line per epoch, in its language.
FULL_BUDGET: dict = {"epoch_log": True}
#: A smoke run of seconds: two small steps and a quick BatchNorm re-estimation, enough to prove
#: that the training code runs end to end (nbgrader must not spend minutes per submission).
#: Eagerly: compiling the training step would take most of the run.
SMOKE_BUDGET: dict = {"epochs": 1, "max_steps_per_epoch": 2, "batch_size": 8, "bn_reestimation_images": 16,
                      "run_eagerly": True, "epoch_log": True}


@dataclass(frozen=True)
class Check:
    """One line of the setup report.

    Attributes:
        ok: whether the check passed.
        what: what was found, e.g. ``"TensorFlow 2.21.0"``.
        hint: what to do about it (shown after the line), or extra information.
    """

    ok: bool
    what: str
    hint: str = ""

    def __str__(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.what}" + (f" — {self.hint}" if self.hint else "")


# --- Budget -----------------------------------------------------------------------------------


#: Whether the notebook asked for the smoke budget with :func:`use_quick`.
_quick_asked = False


def use_quick(on: bool = True) -> None:
    """Ask, from inside a notebook, for the smoke budget (``True``), or withdraw that request (``False``).

    ``False`` does not force the full recipe: nbgrader and ``RESNET_SIGNS_QUICK=1`` (as in
    ``resnet-signs demo``) still ask for the smoke budget, so a notebook that says
    ``setup(quick=False)`` stays fast wherever it is run for checking.

    Raises:
        UsageError: ``on`` is not True or False.
    """
    global _quick_asked
    if not isinstance(on, bool):
        raise UsageError(f"quick must be True or False. Received: quick={on!r}")
    _quick_asked = on


def quick_reason() -> str | None:
    """Why the smoke budget applies (``"NBGRADER_EXECUTION=autograde"``, ...), or ``None``.

    Any of these asks for it: nbgrader executing the notebook, the notebook's
    :func:`use_quick` (``setup(quick=True)``), ``RESNET_SIGNS_QUICK=1`` in the environment.

    Raises:
        UsageError: ``RESNET_SIGNS_QUICK`` is set to something other than 0 or 1.
    """
    nbgrader = paths.nbgrader_execution()
    if nbgrader:
        return f"{paths.NBGRADER_ENV}={nbgrader}"
    if _quick_asked:
        return "setup(quick=True)"
    quick = paths.quick_setting()
    if quick not in ("", "0", "1"):
        raise UsageError(f"{QUICK_ENV} must be 0 or 1. Received: {QUICK_ENV}={quick!r}")
    return f"{QUICK_ENV}=1" if quick == "1" else None


def training_budget() -> dict:
    """The ``train(model, data, **config)`` configuration for the notebook.

    Returns:
        A new dict: :data:`SMOKE_BUDGET` under nbgrader or with ``RESNET_SIGNS_QUICK=1``,
        else :data:`FULL_BUDGET`.
    """
    return dict(SMOKE_BUDGET if quick_reason() else FULL_BUDGET)


# --- Setup ------------------------------------------------------------------------------------


def required_versions(
    requirements: list[str] | None = None, environment: dict[str, str] | None = None
) -> dict[str, SpecifierSet]:
    """``{name: version range}`` of the project's requirements that apply here.

    The package metadata states compatible ranges (the exact pins live in ``constraints.txt``);
    TensorFlow comes from the ``cpu`` or the ``gpu`` extra, so requirements of those extras count
    too (whichever is installed is checked), other extras' (``dev``, ``grader``) do not.

    Args:
        requirements: requirement strings; by default the installed project's metadata.
        environment: marker variables to evaluate against (``sys_platform``, ``platform_machine``...);
            by default this interpreter's.
    """
    if requirements is None:
        requirements = importlib.metadata.requires(DISTRIBUTION) or []
    wanted = {}
    for text in requirements:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({**(environment or {}), "extra": e}) for e in _TENSORFLOW_EXTRAS):
            wanted[canonicalize_name(requirement.name)] = requirement.specifier
    return wanted


#: The extras that choose a TensorFlow build (``""``: no extra, the base requirements).
_TENSORFLOW_EXTRAS = ("", "cpu", "gpu")


def _reinstall_hint() -> str:
    if paths.checkout_root():
        return i18n.gettext("run `make install` in the project")
    return i18n.gettext("reinstall: pip install 'resnet-signs[cpu]' (or [gpu])")


def tensorflow_distributions(installed=importlib.metadata.distributions) -> list[str]:
    """The TensorFlow distributions installed here; more than one (``tensorflow-cpu`` beside the
    CUDA ``tensorflow``) share one ``tensorflow`` folder and break each other."""
    names = {canonicalize_name(dist.metadata["Name"] or "") for dist in installed()}
    return sorted(names & {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"})


def _version_check(label: str, found: str, wanted: SpecifierSet | None) -> Check:
    if not wanted or wanted.contains(found, prereleases=True):
        return Check(True, f"{label} {found}")
    return Check(False, i18n.format("{label} {found}, but the course needs {wanted}", label=label, found=found,
                                    wanted=wanted), _reinstall_hint())


def environment_checks() -> list[Check]:
    """Python, TensorFlow and Keras versions against the required ranges, and the SIGNS data files."""
    import keras
    import tensorflow as tf

    checks = []
    try:
        wanted = required_versions()
        requires_python = importlib.metadata.metadata(DISTRIBUTION)["Requires-Python"] or ""
    except importlib.metadata.PackageNotFoundError:
        wanted, requires_python = {}, ""
        checks.append(Check(False, i18n.gettext("the resnet-signs package is not installed"), _reinstall_hint()))
    minimum = tuple(int(p) for p in re.findall(r"\d+", requires_python)[:2]) or (3, 11)
    python = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= minimum:
        checks.append(Check(True, f"Python {python}"))
    else:
        needed = ".".join(map(str, minimum))
        checks.append(Check(False, i18n.format("Python {python}, but the course needs {needed} or newer", python=python,
                                               needed=needed), i18n.gettext("install a newer Python")))
    tf_wanted = wanted.get("tensorflow-cpu") or wanted.get("tensorflow")
    checks.append(_version_check("TensorFlow", tf.__version__, tf_wanted))
    both = tensorflow_distributions()
    if len(both) > 1:
        checks.append(Check(False, i18n.format("two TensorFlow packages installed ({names}): they overwrite each other",
                                               names=", ".join(both)),
                            i18n.gettext("make a fresh environment with one extra: [cpu] or [gpu]")))
    checks.append(_version_check("Keras", keras.__version__, wanted.get("keras")))
    checks.append(data_check())
    return checks


def data_check() -> Check:
    """Whether the prepared SIGNS files are in :func:`resnet_signs.paths.data_dir`."""
    folder = paths.data_dir()
    missing = [name for name in DATA_FILES if not (folder / name).is_file()]
    if missing:
        fix = i18n.gettext("run `make data` in the project") if paths.checkout_root() else i18n.gettext(
            "run `resnet-signs data fetch` (or `resnet-signs data prepare --from DIR` with a copy of SIGNS)")
        return Check(False, i18n.format("SIGNS data missing in {folder} ({files})", folder=folder,
                                        files=", ".join(missing)), fix)
    return Check(True, i18n.format("SIGNS data in {folder}", folder=folder))


def enable_memory_growth(config) -> Check:
    """Let TensorFlow allocate GPU memory as it needs it instead of all of it at start.

    Args:
        config: ``tf.config`` (a parameter so that the GPU branches can be tested without one).

    Returns:
        The device line of the setup report.
    """
    gpus = config.list_physical_devices("GPU")
    if not gpus:
        return Check(True, i18n.gettext("device: CPU (no GPU found)"),
                     i18n.gettext("fine for the exercises; full training is slow on a CPU"))
    try:
        for gpu in gpus:
            config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        # TensorFlow refuses once a GPU is initialised: only a fresh kernel can change it.
        return Check(
            False,
            i18n.format("device: {count} GPU(s), memory growth NOT enabled", count=len(gpus)),
            i18n.gettext("TensorFlow already used the GPU: restart the kernel and run this cell first"),
        )
    return Check(True, i18n.format("device: {count} GPU(s), memory growth on (a shared GPU is not monopolised)",
                                   count=len(gpus)))


def language_check(language: str) -> Check:
    """Switch hints and figures to ``language`` and find a font that has its glyphs."""
    from resnet_signs import plots

    try:
        language = i18n.use(language)
    except ValueError as exc:
        return Check(False, f"language {language!r}", str(exc))
    if language == i18n.DEFAULT:
        return Check(True, "language: en")
    family = plots.configure_fonts(language)
    what = i18n.format("language: {name}", name=language)
    if family is None:
        return Check(False, what, i18n.gettext("no CJK font found: install fonts-noto-cjk (apt) for the figures"))
    return Check(True, what, i18n.format("figures use {family}", family=family))


def use_language(language: str) -> None:
    """The translated notebooks' first code cell: hints and figures in ``language``; prints one ✓/✗ line
    (and returns nothing, so the cell shows that line only)."""
    print(language_check(language))


def setup(seed: int = DEFAULT_SEED, verbose: bool = True, quick: bool = False,
          language: str | None = None) -> list[Check]:
    """Check the environment, configure the device, fix the seeds, and print the report.

    Nothing here raises: a missing data file or a version mismatch becomes a ✗ line that
    says what to run, so the student sees every problem at once.

    Args:
        seed: seed for Python's ``random``, NumPy and the backend (``keras.utils.set_random_seed``).
        verbose: print one line per check.
        quick: ``True`` asks for the smoke training budget (:func:`use_quick`); ``False``
            leaves the choice to the environment (nbgrader, ``RESNET_SIGNS_QUICK``).
        language: hints and figure labels in this language from now on (``zh_CN``, ``zh_TW``;
            the translated notebooks call :func:`use_language` in a cell of their own instead).

    Returns:
        The checks, in the order printed.
    """
    import keras
    import tensorflow as tf

    use_quick(quick)
    checks = environment_checks()
    if language is not None:
        checks.append(language_check(language))
    checks.append(enable_memory_growth(tf.config))
    keras.utils.set_random_seed(seed)
    checks.append(Check(True, i18n.format("random seed {seed} (Python, NumPy, {backend})", seed=seed,
                                          backend=keras.backend.backend())))
    reason = quick_reason()
    if reason:
        checks.append(Check(True, i18n.gettext("training budget: smoke run"),
                            i18n.format("{reason} asks for a run of seconds", reason=reason)))
    else:
        checks.append(Check(True, i18n.gettext("training budget: full recipe"),
                            i18n.gettext("setup(quick=True) asks for a run of seconds")))
    if verbose:
        for check in checks:
            print(check)
        if not all(check.ok for check in checks):
            print(i18n.gettext("Fix the ✗ lines above, then restart the kernel and run this cell again."))
    return checks


# --- Shapes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One row of :func:`stage_summary`: a part of the network and its output shape."""

    name: str
    blocks: int
    shape: tuple


def _shape(layer) -> tuple:
    return tuple(layer.output.shape)


def stage_summary(model) -> list[StageRow]:
    """Output shape of the stem, of each stage of residual blocks, and of the head.

    A stage is a run of consecutive residual blocks (``Add`` layers) with the same output
    shape: each stage starts with a convolutional block that changes the shape.

    Args:
        model: a functional ``keras.Model`` built from ``keras.layers``.

    Returns:
        Rows in network order: ``stem`` (up to the first max pooling), ``stage 2``, ...,
        then every layer after the last block.
    """
    layers = list(model.layers)
    adds = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Add"]
    rows = []
    pools = [i for i, layer in enumerate(layers) if type(layer).__name__ == "MaxPooling2D"]
    if pools and (not adds or pools[0] < adds[0]):
        rows.append(StageRow("stem", 0, _shape(layers[pools[0]])))
    for i in adds:
        shape = _shape(layers[i])
        if rows and rows[-1].name.startswith("stage") and rows[-1].shape == shape:
            rows[-1] = StageRow(rows[-1].name, rows[-1].blocks + 1, shape)
        else:
            stage = sum(row.name.startswith("stage") for row in rows) + 2
            rows.append(StageRow(f"stage {stage}", 1, shape))
    head_start = adds[-1] + 1 if adds else (pools[0] + 1 if pools else 0)
    for layer in layers[head_start:]:
        kind = type(layer).__name__
        if kind in ("Activation", "ReLU", "InputLayer"):
            continue
        rows.append(StageRow(kind, 0, _shape(layer)))
    return rows


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced output: a CJK character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _rjust(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def _part_name(row: StageRow) -> str:
    if row.name == "stem":
        return i18n.gettext("stem")
    if row.name.startswith("stage "):
        return i18n.format("stage {k}", k=row.name.split()[1])
    return row.name  # a Keras layer class: a code name


def print_stage_summary(model) -> None:
    """Print :func:`stage_summary` as a table, with the parameter count."""
    rows = stage_summary(model)
    if not any(row.name.startswith("stage") for row in rows):
        print(i18n.gettext("No residual blocks found: join each block's shortcut with keras.layers.Add()."))
    print(_ljust(i18n.gettext("part"), 20) + _rjust(i18n.gettext("blocks"), 7) + "  " + i18n.gettext("output shape"))
    for row in rows:
        blocks = str(row.blocks) if row.blocks else ""
        print(f"{_ljust(_part_name(row), 20)}{blocks:>7}  {row.shape}")
    print(i18n.format("parameters: {count}", count=f"{model.count_params():,}"))


# --- Shape checks -------------------------------------------------------------------------------


def _call_student(function, *args, **kwargs):
    """``function(*args, **kwargs)``, or ``None`` after one line when it is still the release's stub.

    The stub raises ``NotImplementedError`` (nbgrader's ``# YOUR CODE HERE``); any other error comes
    from the student's own code and keeps its traceback.
    """
    name = getattr(function, "__name__", "the function")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        print(i18n.format("✗ {name} still raises NotImplementedError: implement the function first (replace "
                          "`raise NotImplementedError()` with your code), then run this cell again", name=name))
        return None


def check_shape(function, *args, expected: tuple, **kwargs) -> None:
    """Call a block on a small input and compare its output shape with ``expected``.

    Prints one ✓/✗ line; while ``function`` is still the stub, a line saying to implement it first
    instead of a traceback.

    Args:
        function: the student's block (``identity_block``, ``convolutional_block``).
        *args, **kwargs: its arguments.
        expected: the output shape a correct block gives.
    """
    output = _call_student(function, *args, **kwargs)
    if output is None:
        return
    shape = tuple(int(d) if d is not None else None for d in output.shape)
    mark = "✓" if shape == tuple(expected) else "✗"
    print(mark + " " + i18n.format("output shape: {shape} (expected {expected})", shape=shape,
                                   expected=tuple(expected)))


def build_model(function, **kwargs):
    """Build the student's model and print its per-stage shapes (:func:`print_stage_summary`).

    Returns:
        The model, or ``None`` (after a line saying to implement it first) while ``function`` is the stub.
    """
    model = _call_student(function, **kwargs)
    if model is not None:
        print_stage_summary(model)
    return model


# --- Training report ------------------------------------------------------------------------------


def report_training(history) -> None:
    """End the training cell: one line with the run's time, its numbers in the output's metadata.

    The line reads e.g. "20 epochs in 11.6 min (33 s per epoch, median; the first 80 s)"; the
    metadata (key :data:`resnet_signs.training.run.OUTPUT_KEY`) holds the
    :class:`~resnet_signs.training.run.TrainingRun` the release reads when it states the training
    time in the notebook's prose. Outside IPython the line is printed and nothing else.
    """
    from resnet_signs.training.run import OUTPUT_KEY, TrainingRun

    run = TrainingRun.from_history(history, smoke=quick_reason() is not None)
    line = run.summary_line()
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - the notebook always has IPython
        print(line)
        return
    if get_ipython() is None:
        print(line)
        return
    display({"text/plain": line}, raw=True, metadata={OUTPUT_KEY: run.to_json()})
