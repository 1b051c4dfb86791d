"""resnet_signs.notebook: the setup report, the training budget, the per-stage shape summary."""

from __future__ import annotations

import pytest

from resnet_signs import notebook
from resnet_signs.errors import UsageError
from resnet_signs.notebook import Check


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv(notebook.QUICK_ENV, raising=False)
    yield monkeypatch
    notebook.use_quick(False)  # the notebook's request is module state: forget it after each test


# --- training_budget --------------------------------------------------------------------------


def test_full_budget_outside_nbgrader(clean_env):
    assert notebook.quick_reason() is None
    assert notebook.training_budget() == notebook.FULL_BUDGET


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_smoke_budget_under_nbgrader(clean_env, mode):
    clean_env.setenv("NBGRADER_EXECUTION", mode)
    clean_env.setenv(notebook.QUICK_ENV, "0")  # nbgrader wins: grading must stay fast
    assert notebook.quick_reason() == f"NBGRADER_EXECUTION={mode}"
    assert notebook.training_budget() == notebook.SMOKE_BUDGET


@pytest.mark.parametrize(("value", "quick"), [("1", True), ("0", False), ("", False)])
def test_quick_env(clean_env, value, quick):
    clean_env.setenv(notebook.QUICK_ENV, value)
    assert notebook.training_budget() == (notebook.SMOKE_BUDGET if quick else notebook.FULL_BUDGET)


def test_the_notebook_can_switch_quick_mode_on_and_off(clean_env, capsys):
    notebook.setup(quick=True)
    assert "✓ training budget: smoke run — setup(quick=True) asks for a run of seconds" in capsys.readouterr().out
    assert notebook.training_budget() == notebook.SMOKE_BUDGET
    notebook.setup(quick=False)
    assert notebook.training_budget() == notebook.FULL_BUDGET
    # quick=False withdraws the notebook's request; it does not outrank the environment's.
    clean_env.setenv(notebook.QUICK_ENV, "1")
    assert notebook.quick_reason() == f"{notebook.QUICK_ENV}=1"
    clean_env.setenv("NBGRADER_EXECUTION", "autograde")
    assert notebook.quick_reason() == "NBGRADER_EXECUTION=autograde"


def test_bad_quick_choice_is_a_one_line_error():
    with pytest.raises(UsageError, match=r"^quick must be True or False. Received: quick='yes'$"):
        notebook.use_quick("yes")


def test_budget_is_a_fresh_dict(clean_env):
    clean_env.setenv(notebook.QUICK_ENV, "1")
    notebook.training_budget()["epochs"] = 99
    assert notebook.training_budget() == notebook.SMOKE_BUDGET


def test_smoke_budget_is_smaller_than_the_full_one():
    assert notebook.SMOKE_BUDGET["epochs"] == 1 and notebook.SMOKE_BUDGET != notebook.FULL_BUDGET


def test_bad_quick_value(clean_env):
    clean_env.setenv(notebook.QUICK_ENV, "yes please")
    with pytest.raises(UsageError) as info:
        notebook.training_budget()
    assert str(info.value) == "RESNET_SIGNS_QUICK must be 0 or 1. Received: RESNET_SIGNS_QUICK='yes please'"


# --- pins and checks --------------------------------------------------------------------------

REQUIREMENTS = [
    "keras>=3.15.1,<3.16",
    "numpy>=2",
    'tensorflow-cpu>=2.21,<2.22; (sys_platform == "linux" and platform_machine == "x86_64") and extra == "cpu"',
    'tensorflow>=2.21,<2.22; sys_platform == "darwin" and extra == "cpu"',
    'tensorflow[and-cuda]>=2.21,<2.22; sys_platform == "linux" and extra == "gpu"',
    'pytest==9.2.0; extra == "dev"',
]
LINUX_X86 = {"sys_platform": "linux", "platform_machine": "x86_64"}
MAC_ARM = {"sys_platform": "darwin", "platform_machine": "arm64"}


def _ranges(environment):
    return {name: str(spec) for name, spec in notebook.required_versions(REQUIREMENTS, environment).items()}


def test_required_versions_read_markers_and_the_tensorflow_extras_only():
    assert _ranges(LINUX_X86) == {"keras": "<3.16,>=3.15.1", "numpy": ">=2", "tensorflow-cpu": "<2.22,>=2.21",
                                  "tensorflow": "<2.22,>=2.21"}  # cpu or gpu: whichever is installed
    assert _ranges(MAC_ARM) == {"keras": "<3.16,>=3.15.1", "numpy": ">=2", "tensorflow": "<2.22,>=2.21"}


def test_required_versions_of_the_installed_project_cover_tensorflow_and_keras():
    wanted = notebook.required_versions()
    assert "keras" in wanted and ("tensorflow-cpu" in wanted or "tensorflow" in wanted)


@pytest.mark.parametrize(("found", "ok"), [("2.21.0", True), ("2.21.3", True), ("2.20.0", False), ("2.22.0", False)])
def test_version_check_against_a_range(found, ok):
    check = notebook._version_check("TensorFlow", found,
                                    notebook.required_versions(REQUIREMENTS, MAC_ARM)["tensorflow"])
    assert check.ok is ok
    if not ok:
        assert str(check).startswith(f"✗ TensorFlow {found}, but the course needs <2.22,>=2.21 — ")


def test_check_lines_say_pass_or_fail_in_symbols_not_colour():
    assert str(Check(True, "Keras 3.15.1")) == "✓ Keras 3.15.1"
    assert str(Check(False, "data missing", "run `make data`")) == "✗ data missing — run `make data`"


def test_data_check_missing_and_present(clean_env, tmp_path):
    clean_env.setenv("RESNET_SIGNS_DATA", str(tmp_path))
    missing = notebook.data_check()
    assert not missing.ok
    assert str(missing) == (
        f"✗ SIGNS data missing in {tmp_path} (train_signs.h5, test_signs.h5) — run `make data` in the project"
    )
    (tmp_path / "train_signs.h5").write_bytes(b"x")
    assert str(notebook.data_check()).endswith("(test_signs.h5) — run `make data` in the project")
    (tmp_path / "test_signs.h5").write_bytes(b"x")
    assert str(notebook.data_check()) == f"✓ SIGNS data in {tmp_path}"


class _FakeConfig:
    """Stands in for ``tf.config`` so that the GPU branches run on a CPU-only machine."""

    def __init__(self, gpus, fail=False):
        self.gpus, self.fail, self.growth = gpus, fail, []
        self.experimental = self

    def list_physical_devices(self, kind):
        assert kind == "GPU"
        return self.gpus

    def set_memory_growth(self, gpu, enable):
        if self.fail:
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        self.growth.append((gpu, enable))


def test_memory_growth_is_enabled_on_every_gpu():
    config = _FakeConfig(["gpu0", "gpu1"])
    check = notebook.enable_memory_growth(config)
    assert config.growth == [("gpu0", True), ("gpu1", True)]
    assert str(check) == "✓ device: 2 GPU(s), memory growth on (a shared GPU is not monopolised)"


def test_memory_growth_too_late_says_to_restart_the_kernel():
    check = notebook.enable_memory_growth(_FakeConfig(["gpu0"], fail=True))
    assert not check.ok
    assert "restart the kernel and run this cell first" in str(check)


def test_no_gpu_is_reported_as_cpu():
    check = notebook.enable_memory_growth(_FakeConfig([]))
    assert check.ok and check.what == "device: CPU (no GPU found)"


def test_setup_without_data_prints_the_fix_and_carries_on(clean_env, tmp_path, capsys):
    clean_env.setenv("RESNET_SIGNS_DATA", str(tmp_path))
    checks = notebook.setup(seed=3)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("✓ Python 3.")
    assert "✓ TensorFlow 2.21.0" in lines and "✓ Keras 3.15.1" in lines
    missing = f"✗ SIGNS data missing in {tmp_path} (train_signs.h5, test_signs.h5) — run `make data` in the project"
    assert missing in lines
    assert "✓ random seed 3 (Python, NumPy, tensorflow)" in lines
    assert lines[-1] == "Fix the ✗ lines above, then restart the kernel and run this cell again."
    assert [c.ok for c in checks].count(False) == 1
    assert all(line[0] in "✓✗" for line in lines[:-1])


def test_setup_with_data_and_quick_mode_is_all_green(clean_env, tmp_path, capsys):
    for name in notebook.DATA_FILES:
        (tmp_path / name).write_bytes(b"h5")
    clean_env.setenv("RESNET_SIGNS_DATA", str(tmp_path))
    clean_env.setenv(notebook.QUICK_ENV, "1")
    checks = notebook.setup()
    out = capsys.readouterr().out
    assert all(c.ok for c in checks)
    assert "✗" not in out
    assert f"✓ SIGNS data in {tmp_path}" in out
    assert "✓ training budget: smoke run — RESNET_SIGNS_QUICK=1 asks for a run of seconds" in out


def test_setup_fixes_the_seeds(clean_env):
    import numpy as np

    notebook.setup(seed=5, verbose=False)
    first = np.random.rand(3)
    notebook.setup(seed=5, verbose=False)
    np.testing.assert_array_equal(np.random.rand(3), first)


# --- stage_summary ----------------------------------------------------------------------------


def _tiny_resnet(adds_as_layers=True):
    """A two-stage toy ResNet: stem, 2 blocks at 8 channels, 1 block at 16 channels, head."""
    from keras import Input, Model, layers

    x_in = Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(x_in)
    x = layers.MaxPooling2D(2)(x)
    for filters, stride in ((8, 1), (8, 1), (16, 2)):
        shortcut = x if stride == 1 and x.shape[-1] == filters else layers.Conv2D(filters, 1, strides=stride)(x)
        y = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
        x = layers.Add()([y, shortcut]) if adds_as_layers else y + shortcut
        x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return Model(x_in, layers.Dense(6, activation="softmax")(x))


def test_stage_summary_groups_blocks_by_shape():
    rows = notebook.stage_summary(_tiny_resnet())
    assert [(r.name, r.blocks, r.shape) for r in rows] == [
        ("stem", 0, (None, 4, 4, 8)),
        ("stage 2", 2, (None, 4, 4, 8)),
        ("stage 3", 1, (None, 2, 2, 16)),
        ("GlobalAveragePooling2D", 0, (None, 16)),
        ("Dense", 0, (None, 6)),
    ]


def test_print_stage_summary_table_and_missing_add(capsys):
    notebook.print_stage_summary(_tiny_resnet())
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["part", "blocks", "output", "shape"]
    assert out[2].split()[:3] == ["stage", "2", "2"]
    assert out[-1].startswith("parameters: ")
    notebook.print_stage_summary(_tiny_resnet(adds_as_layers=False))
    out = capsys.readouterr().out
    assert out.startswith("No residual blocks found: join each block's shortcut with keras.layers.Add().")


class _Dist:
    def __init__(self, name):
        self.metadata = {"Name": name}


@pytest.mark.parametrize(("names", "found"), [
    (["keras", "tensorflow-cpu"], ["tensorflow-cpu"]),
    (["Tensorflow_CPU", "tensorflow", "numpy"], ["tensorflow", "tensorflow-cpu"]),
    (["numpy"], []),
])
def test_tensorflow_distributions_finds_two_tensorflows(names, found):
    assert notebook.tensorflow_distributions(lambda: [_Dist(n) for n in names]) == found


def test_this_environment_has_one_tensorflow():
    assert len(notebook.tensorflow_distributions()) == 1


# --- shape checks on a stub, the training report --------------------------------------------------


def _stub_block(X, f, filters, training=True, initializer=None):
    # YOUR CODE HERE
    raise NotImplementedError()


def test_a_shape_check_on_the_release_stub_says_to_implement_it_instead_of_a_traceback(capsys):
    import numpy as np

    X = np.zeros((3, 4, 4, 6), dtype="float32")
    assert notebook.check_shape(_stub_block, X, f=2, filters=[4, 4, 6], expected=(3, 4, 4, 6)) is None
    out = capsys.readouterr().out
    assert out == ("✗ _stub_block still raises NotImplementedError: implement the function first (replace "
                   "`raise NotImplementedError()` with your code), then run this cell again\n")
    assert notebook.build_model(lambda **kw: _stub_block(None, 3, []), classes=6) is None
    assert "still raises NotImplementedError" in capsys.readouterr().out


def test_a_shape_check_compares_the_output_shape_and_keeps_the_students_own_errors(capsys):
    import numpy as np

    X = np.zeros((3, 4, 4, 6), dtype="float32")
    notebook.check_shape(lambda X, **kw: X, X, f=2, expected=(3, 4, 4, 6))
    notebook.check_shape(lambda X, s: X[:, ::s, ::s], X, s=2, expected=(3, 4, 4, 6))
    assert capsys.readouterr().out.splitlines() == ["✓ output shape: (3, 4, 4, 6) (expected (3, 4, 4, 6))",
                                                    "✗ output shape: (3, 2, 2, 6) (expected (3, 4, 4, 6))"]
    with pytest.raises(ZeroDivisionError):  # an error in the student's code keeps its traceback
        notebook.check_shape(lambda X: 1 / 0, X, expected=(3, 4, 4, 6))


def test_build_model_prints_the_stage_table_and_returns_the_model(capsys):
    model = notebook.build_model(lambda **kw: _tiny_resnet())
    assert model is not None and capsys.readouterr().out.startswith("part")


class _History:
    history = {"loss": [1.0, 0.5, 0.4], "val_accuracy": [0.5, 0.8, 0.9]}
    epoch_time_s = [80.0, 30.0, 36.0]


def test_the_training_report_is_one_line_outside_a_notebook(capsys, clean_env):
    notebook.report_training(_History())
    assert capsys.readouterr().out == "3 epochs in 2.4 min (36 s per epoch, median; the first 80 s)\n"


def test_the_training_report_leaves_the_run_in_the_outputs_metadata(monkeypatch, clean_env):
    import IPython
    import IPython.display

    from resnet_signs.training.run import OUTPUT_KEY, TrainingRun

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", object)
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    notebook.report_training(_History())
    ((bundle, kw),) = shown
    assert bundle == {"text/plain": "3 epochs in 2.4 min (36 s per epoch, median; the first 80 s)"} and kw["raw"]
    run = TrainingRun.from_json(kw["metadata"][OUTPUT_KEY])
    assert run.epoch_time_s == (80.0, 30.0, 36.0) and run.val_accuracy_text() == "0.900" and not run.smoke
    assert run.minutes_text() == "2.4" and run.cores >= 1 and len(run.date) == 10
