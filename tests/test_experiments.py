"""The "why ResNets work" lab: mechanics on tiny settings (the science is in the README's numbers)."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from resnet_signs import cli
from resnet_signs.errors import UsageError
from resnet_signs.experiments import depth, fit, gradients, identity, nets, runner, settings, shortcuts, signs, verdicts


@pytest.fixture(scope="module")
def tiny_signs():
    """Random SIGNS-shaped data: 48 training and 12 test images, 64x64 uint8 downsampled to 32x32."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(60, 64, 64, 3), dtype=np.uint8)
    y = np.arange(60) % 6
    return signs.prepare(x[:48], y[:48].reshape(1, -1), x[48:], y[48:].reshape(1, -1), size=32)


# --- the identity ----------------------------------------------------------------------------

def test_zeroed_residual_block_returns_its_non_negative_input_exactly():
    demo = identity.identity_demo()
    assert demo["input"].min() >= 0 and demo["input"].max() > 0
    assert demo["is_identity"] is True
    assert demo["max_abs_difference"] == 0.0
    np.testing.assert_array_equal(demo["output"], demo["input"])


def test_batchnorm_undoes_a_shrunk_kernel_so_only_gamma_and_beta_can_zero_the_main_path():
    demo = identity.identity_demo()
    # Without BatchNorm, W * 0.1 would shrink the output tenfold (a change of 90%).
    assert 0.0 < demo["w_shrunk_change"] < 0.15


def test_zeroed_plain_block_loses_the_input_and_negative_inputs_are_clipped():
    demo = identity.identity_demo(shape=(1, 4, 4, 8), seed=3)
    assert demo["plain_output_max"] == 0.0
    assert demo["negative_input_passes"] is False


# --- architectures ---------------------------------------------------------------------------

def _expected_plain_params(depth: int, classes: int = 6) -> int:
    """Convs have no bias; each BN has gamma, beta, moving mean and variance (4 per channel)."""
    n = (depth - 2) // 6
    total = 3 * 3 * 3 * 16 + 4 * 16  # stem
    channels_in = 16
    for filters in (16, 32, 64):
        for b in range(n):
            total += 3 * 3 * (channels_in if b == 0 else filters) * filters + 4 * filters
            total += 3 * 3 * filters * filters + 4 * filters
        channels_in = filters
    return total + 64 * classes + classes  # dense


PROJECTIONS = (16 * 32 + 4 * 32) + (32 * 64 + 4 * 64)  # two 1x1 convs + their BNs


@pytest.mark.parametrize("depth", [8, 14])
def test_parameter_counts_match_the_formula(depth):
    plain = nets.build_net(depth, residual=False)
    assert plain.count_params() == _expected_plain_params(depth)
    assert nets.build_net(depth, residual=True, shortcut="zero-pad").count_params() == _expected_plain_params(depth)
    assert nets.build_net(depth, residual=True, shortcut="identity").count_params() == _expected_plain_params(depth)
    projection = nets.build_net(depth, residual=True, shortcut="projection")
    assert projection.count_params() == _expected_plain_params(depth) + PROJECTIONS


def test_depth_counts_weighted_layers_and_only_residual_nets_add():
    for layers in (8, 20):
        plain, resnet = nets.build_net(layers, residual=False), nets.build_net(layers, residual=True)
        assert len(nets.conv_layers(plain)) + 1 == layers  # 3x3 convs + the dense layer
        assert not [layer for layer in plain.layers if layer.name.endswith("_add")]
        assert len([layer for layer in resnet.layers if layer.name.endswith("_add")]) == 3 * (layers - 2) // 6


def test_shortcut_parameters_zero_pad_none_projection_the_1x1_convs():
    assert shortcuts.shortcut_params(nets.build_net(8, True, "zero-pad")) == 0
    assert shortcuts.shortcut_params(nets.build_net(8, True, "projection")) == PROJECTIONS


def test_zero_pad_shortcut_subsamples_and_pads_channels_with_zeros():
    x = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    y = np.asarray(nets.ZeroPadShortcut(7, 2)(x))
    assert y.shape == (2, 2, 2, 7)
    np.testing.assert_array_equal(y[..., 2:5], x[:, ::2, ::2, :])
    assert not y[..., :2].any() and not y[..., 5:].any()


@pytest.mark.parametrize("depth", [0, 7, 9, 10, 2, True, "20"])
def test_bad_depth_is_a_one_line_error(depth):
    with pytest.raises(UsageError, match=r"^depth must be 6n \+ 2 with n >= 1 .*Received: depth="):
        nets.build_net(depth)


def test_bad_shortcut_is_a_one_line_error():
    with pytest.raises(UsageError, match=r"^shortcut must be one of zero-pad, projection, identity. Received"):
        nets.build_net(8, shortcut="none")


# --- gradients -------------------------------------------------------------------------------

@pytest.mark.parametrize("residual", [False, True])
def test_gradient_norms_one_finite_positive_norm_per_conv_layer(tiny_signs, residual):
    result = gradients.gradient_norms(8, residual, seed=1, data=tiny_signs)
    model = nets.build_net(8, residual)
    assert result.layers == [layer.name for layer in nets.conv_layers(model)]
    assert len(result.norms) == 7
    assert all(np.isfinite(result.norms)) and min(result.norms) > 0
    assert (result.depth, result.residual, result.seed, result.step) == (8, residual, 1, 0)


def test_gradient_norms_after_steps_differ_from_those_at_init(tiny_signs):
    at_init = gradients.gradient_norms(8, True, data=tiny_signs)
    again = gradients.gradient_norms(8, True, data=tiny_signs)
    trained = gradients.gradient_norms(8, True, steps=2, data=tiny_signs)
    assert at_init.norms == again.norms  # seeded: reproducible
    assert trained.step == 2 and trained.norms != at_init.norms


def test_negative_steps_is_a_one_line_error(tiny_signs):
    with pytest.raises(UsageError, match=r"^steps must be >= 0. Received: steps=-1$"):
        gradients.gradient_norms(8, True, steps=-1, data=tiny_signs)


# --- data and settings -----------------------------------------------------------------------

def test_prepare_averages_2x2_patches_and_flattens_labels():
    x = np.zeros((1, 64, 64, 3), np.uint8)
    x[0, 0, 0], x[0, 1, 1] = 255, 255  # two of the top-left patch's four pixels
    data = signs.prepare(x, np.array([[4]]), x, np.eye(6)[[2]], size=32)
    assert data.x_train.shape == (1, 32, 32, 3) and data.x_train.dtype == np.float32
    assert data.x_train[0, 0, 0, 0] == pytest.approx(0.5) and data.x_train[0, 0, 1, 0] == 0
    assert data.y_train.tolist() == [4] and data.y_test.tolist() == [2]


def test_bad_settings_are_one_line_errors():
    with pytest.raises(UsageError, match=r"^seeds must be at least 1. Received: seeds=0$"):
        settings.settings_for("depth", "quick", seeds=0)
    with pytest.raises(UsageError, match=r"^unknown experiment setting\(s\): colour"):
        settings.settings_for("depth", "quick", colour="red")
    with pytest.raises(UsageError, match=r"^budget must be one of full, quick, smoke. Received: budget='huge'$"):
        settings.settings_for("depth", "huge")


def test_budget_is_smoke_under_nbgrader(monkeypatch):
    monkeypatch.delenv("RESNET_SIGNS_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert settings.default_budget() == "quick"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert settings.default_budget() == "smoke"


def test_budget_reads_the_quick_switch_as_the_main_notebook_does(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("RESNET_SIGNS_QUICK", "1")
    assert settings.default_budget() == "smoke"
    monkeypatch.setenv("RESNET_SIGNS_QUICK", "yes")
    with pytest.raises(UsageError, match=r"^RESNET_SIGNS_QUICK must be 0 or 1"):
        settings.default_budget()


def test_the_lab_budget_variable_overrides_the_notebooks_pick_but_not_the_smoke_switches(monkeypatch):
    for name in ("RESNET_SIGNS_QUICK", "NBGRADER_EXECUTION", "RESNET_SIGNS_LAB_BUDGET"):
        monkeypatch.delenv(name, raising=False)
    assert settings.budget_choice() == ("quick", "the default")
    try:
        settings.use_budget("quick")
        monkeypatch.setenv("RESNET_SIGNS_LAB_BUDGET", "full")
        assert settings.budget_choice() == ("full", "RESNET_SIGNS_LAB_BUDGET=full")
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
        assert settings.default_budget() == "smoke"
        monkeypatch.delenv("NBGRADER_EXECUTION")
        monkeypatch.setenv("RESNET_SIGNS_LAB_BUDGET", "hour")
        with pytest.raises(UsageError, match=r"^RESNET_SIGNS_LAB_BUDGET must be one of full, quick, smoke, or several "
                                             "of them separated by commas. Received: RESNET_SIGNS_LAB_BUDGET='hour'$"):
            settings.default_budget()
        monkeypatch.setenv("RESNET_SIGNS_LAB_BUDGET", "full,full")
        with pytest.raises(UsageError, match=r"Received: RESNET_SIGNS_LAB_BUDGET='full,full'$"):
            settings.shown_budgets()
    finally:
        settings.use_budget(None)


def test_the_release_shows_the_students_budget_beside_the_full_one(monkeypatch):
    for name in ("RESNET_SIGNS_QUICK", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RESNET_SIGNS_LAB_BUDGET", "full, quick")
    chosen = "RESNET_SIGNS_LAB_BUDGET=full, quick"
    assert settings.shown_budgets() == [("full", chosen), ("quick", chosen)]
    assert settings.budget_choice() == ("full", chosen) and settings.default_budget() == "full"
    monkeypatch.setenv("RESNET_SIGNS_QUICK", "1")
    assert settings.shown_budgets() == [("smoke", "RESNET_SIGNS_QUICK=1")]  # checking a notebook stays seconds


def test_the_notebook_picks_the_budget_but_the_environment_can_ask_for_smoke(monkeypatch):
    monkeypatch.delenv("RESNET_SIGNS_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    try:
        settings.use_budget("full")
        assert settings.default_budget() == "full"
        monkeypatch.setenv("RESNET_SIGNS_QUICK", "1")
        assert settings.default_budget() == "smoke"
    finally:
        settings.use_budget(None)
    with pytest.raises(UsageError, match=r"^budget must be one of full, quick, smoke. Received: budget='long'$"):
        settings.use_budget("long")


def test_every_budget_trains_each_configuration_with_three_seeds_and_the_depth_one_reaches_56_layers():
    for name in ("depth", "gradients", "extra-block", "shortcuts"):
        for budget in ("full", "quick"):
            assert settings.settings_for(name, budget).seeds >= 3, (name, budget)
    assert max(settings.settings_for("depth", "quick").depths) >= 56
    assert max(settings.settings_for("depth", "full").depths) >= 56


def test_learning_rate_warms_up_then_decays_to_zero():
    schedule = fit.schedule(fit.Recipe(epochs=4, learning_rate=0.05, warmup_epochs=1), steps_per_epoch=10)
    assert float(schedule(0)) == 0.0 and float(schedule(10)) == pytest.approx(0.05)
    assert float(schedule(25)) < 0.05 and float(schedule(40)) == pytest.approx(0.0, abs=1e-7)


def test_training_error_is_measured_in_inference_mode_after_bn_reestimation(tiny_signs):
    model = nets.build_net(8, True, seed=0)
    result = fit.train(model, tiny_signs, fit.Recipe(epochs=1, batch_size=16), seed=0)
    assert result.train_error == fit.error_rate(model, tiny_signs.x_train, tiny_signs.y_train)
    assert len(result.train_errors) == 1


# --- verdicts: computed from the results -----------------------------------------------------

def _depth_results(plain_56, resnet_56):
    runs = []
    for seed in range(3):
        for residual, deep in ((False, plain_56), (True, resnet_56)):
            runs.append(depth.DepthRun(20, residual, seed, 1, 0.10, 0.5, [0.2, 0.1]))
            runs.append(depth.DepthRun(56, residual, seed, 1, deep[seed], 0.5, [0.3, deep[seed]]))
    return depth.DepthResults(runs)


def test_depth_summary_has_per_seed_errors_and_verdicts_counted_seed_by_seed():
    data = verdicts.summary("depth", _depth_results([0.30, 0.20, 0.05], [0.10, 0.02, 0.12]))
    assert data["experiment"] == "depth"
    assert data["train_error"]["plain"] == {"20": [0.10, 0.10, 0.10], "56": [0.30, 0.20, 0.05]}
    assert data["train_error"]["resnet"]["56"] == [0.10, 0.02, 0.12]
    plain, resnet = data["verdicts"]
    assert (plain["holds_in"], plain["seeds"]) == (2, 3)  # 0.05 at 56 is not above 0.10 at 20
    assert (resnet["holds_in"], resnet["seeds"]) == (2, 3)  # 0.12 at 56 is above 0.10
    assert plain["text"] == ("plain: training error at depth 56 above depth 20 in 2/3 seeds "
                             "(per seed 0.1000, 0.1000, 0.1000 at 20; 0.3000, 0.2000, 0.0500 at 56)")
    assert data["notes"] == []  # two-epoch curves: too short to compare the end with 3 epochs before
    json.dumps(data)  # JSON-ready


def test_depth_notes_give_each_nets_running_error_at_the_end_against_three_epochs_before():
    runs = [depth.DepthRun(56, False, seed, 1, 0.1, 0.2, [0.9, 0.5, 0.4, 0.3, 0.2 + seed / 10]) for seed in range(2)]
    runs += [depth.DepthRun(56, True, 0, 1, 0.0, 0.1, [0.5, 0.1, 0.0, 0.0, 0.0])]
    (note,) = verdicts.summary("depth", depth.DepthResults(runs))["notes"]
    assert note["text"] == ("running training error (training mode), mean over seeds, 3 epochs before the end -> "
                            "last epoch: plain-56 0.500 -> 0.250; ResNet-56 0.100 -> 0.000")


@pytest.mark.parametrize("language", ["zh_CN", "zh_TW"])
def test_verdicts_and_notes_are_printed_in_the_notebooks_language_with_the_same_numbers(language):
    runs = [depth.DepthRun(d, residual, seed, 1, error, 0.2, [0.9, 0.5, 0.4, 0.3, error])
            for seed in range(2) for d, residual, error in ((20, False, 0.05), (56, False, 0.1), (20, True, 0.0),
                                                             (56, True, 0.0))]
    data = verdicts.summary("depth", depth.DepthResults(runs))
    english = verdicts.printed_lines(data, "en")
    assert english[0] == f"verdict: {data['verdicts'][0]['text']}"
    assert english[-1] == f"note: {data['notes'][0]['text']}"
    translated = verdicts.printed_lines(data, language)
    assert len(translated) == len(english)
    for zh, en in zip(translated, english, strict=True):
        assert zh != en and re.search("[\u4e00-\u9fff]", zh), zh
        assert re.findall(r"\d+\.\d+", zh) == re.findall(r"\d+\.\d+", en)  # the same numbers, in the same order


def test_extra_block_verdicts_compare_each_extension_with_its_own_base():
    runs = []
    for seed, (base, res, plain) in enumerate([(0.1, 0.1, 0.3), (0.2, 0.1, 0.1), (0.1, 0.2, 0.4)]):
        runs += [identity.ExtraBlockRun(seed, "base", base, 0.5, 0, 0, 0, 0),
                 identity.ExtraBlockRun(seed, "residual", res, 0.5, 3.0, 0.3, 1.0, 0.2),
                 identity.ExtraBlockRun(seed, "plain", plain, 0.5, 1.0, 1.0, 1.0, 0.2)]
    data = verdicts.summary("extra-block", identity.ExtraBlockResults(20, 3, 5e-3, runs))
    residual, plain = data["verdicts"]
    assert residual["holds_in"] == 2 and plain["holds_in"] == 2  # seed 2's residual and seed 1's plain fail
    assert data["train_error"]["plain"] == [0.3, 0.1, 0.4]


def test_gradient_verdicts_say_whether_the_deep_plain_net_explodes_or_vanishes(tiny_signs):
    norms = [gradients.GradientNorms(56, residual, seed, 0, ["a", "b", "c"], values, 1.0)
             for seed in range(2)
             for residual, values in ((False, [900.0, 3.0, 1.0]), (True, [2.0, 1.0, 0.5]))]
    data = verdicts.summary("gradients", gradients.GradientResults(norms))
    assert data["first_over_last"]["plain-56"]["0"] == [900.0, 900.0]
    (verdict,) = data["verdicts"]
    assert verdict["holds_in"] == 2 and "larger toward the input" in verdict["text"]


def test_show_prints_settings_and_verdicts_and_displays_the_summary_as_json(tmp_path, monkeypatch, capsys,
                                                                            tiny_signs):
    import IPython.display

    from resnet_signs.experiments import display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    display.show("depth", "smoke", out=tmp_path, data=tiny_signs, depths=(8, 14))
    out = capsys.readouterr().out
    assert "smoke settings: depths=(8, 14), seeds=1, epochs=1" in out
    assert "  depth [1/4] plain-8 seed 0: train error " in out and "  depth [4/4] ResNet-14 seed 0: " in out
    assert "verdict: plain: training error at depth 14 above depth 8 in" in out
    (obj,) = shown
    data = obj["application/json"]
    assert data["experiment"] == "depth" and data["budget"] == "smoke" and data["device"].startswith("tensorflow")
    assert set(data["train_error"]["plain"]) == {"8", "14"}
    assert obj["text/plain"] == "summary of depth at the smoke budget, as JSON (application/json)"


def test_show_puts_the_other_budgets_beside_the_first_which_the_figures_get(tmp_path, monkeypatch, capsys, tiny_signs):
    import IPython.display

    from resnet_signs.experiments import display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setattr(display, "shown_budgets", lambda: [("smoke", "first"), ("quick", "beside")])
    loaded = []
    real = display.run_or_load

    def run_or_load(name, budget, **overrides):  # the quick budget as tiny as the smoke one
        loaded.append(budget)
        return real(name, budget, out=tmp_path, data=tiny_signs, depths=(8,), seeds=1, epochs=1, train_limit=24)

    monkeypatch.setattr(display, "run_or_load", run_or_load)
    results = display.show("depth")
    out = capsys.readouterr().out
    assert loaded == ["smoke", "quick"] and [d["application/json"]["budget"] for d in shown] == ["smoke", "quick"]
    assert out.index("smoke settings (first)") < out.index("— the same experiment at the quick budget —") \
        < out.index("quick settings (beside)")
    assert {r.depth for r in results.runs} == {8}  # the first budget's results go to the figures


# --- the CLI and the cache -------------------------------------------------------------------

def test_cli_writes_json_and_png_then_hits_the_cache(tmp_path, monkeypatch, capsys, tiny_signs):
    monkeypatch.setattr(signs, "load", lambda size=32: tiny_signs)
    command = ["experiment", "depth", "--smoke", "--depths", "8", "--out", str(tmp_path)]
    assert cli.main(command) == 0
    first = capsys.readouterr().out
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".png")
    record = json.loads((tmp_path / files[0]).read_text())
    assert record["experiment"] == "depth" and record["settings"]["depths"] == [8]
    assert {(r["depth"], r["residual"]) for r in record["results"]["runs"]} == {(8, False), (8, True)}
    assert "depth (smoke): ran" in first

    def must_not_run(*_):
        raise AssertionError("the cached results should have been used")

    monkeypatch.setitem(runner.EXPERIMENTS, "depth", dataclasses.replace(runner.EXPERIMENTS["depth"], run=must_not_run))
    (tmp_path / files[1]).unlink()  # a missing plot is redrawn from the JSON
    assert cli.main(command) == 0
    second = capsys.readouterr().out
    assert "depth (smoke): loaded cached results" in second
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    progress = [line for line in first.splitlines() if line.startswith("  depth [")]
    assert [line.split(":")[0] for line in progress] == ["  depth [1/2] plain-8 seed 0",
                                                         "  depth [2/2] ResNet-8 seed 0"]
    table = [line for line in first.splitlines() if line not in progress]
    assert table[1:] == second.splitlines()[1:]  # same table from the JSON


def test_cli_unknown_experiment_is_a_one_line_error(capsys):
    assert cli.main(["experiment", "bogus"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("resnet-signs experiment: error: unknown experiment 'bogus': "
                   "choose one of depth, gradients, extra-block, shortcuts")


def test_cli_bad_depth_is_a_one_line_error(capsys, tmp_path):
    assert cli.main(["experiment", "depth", "--smoke", "--depths", "8,9", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("resnet-signs experiment: error: depth must be 6n + 2 with n >= 1")
    assert err[-1].endswith("Received: depth=9")
    assert not list(tmp_path.iterdir())


def test_labels_that_do_not_match_the_images_are_a_one_line_error():
    x = np.zeros((3, 64, 64, 3), np.uint8)
    with pytest.raises(UsageError,
                       match=r"^labels must be \(m,\), \(1, m\) or one-hot .* for 3 images. Received: \(2,\)$"):
        signs.prepare(x, np.array([1, 2]), x, np.array([1, 2, 3]))


# --- the README's lab numbers ------------------------------------------------------------------

def _cache(folder, name, results, elapsed_s):
    import dataclasses as dc

    chosen = settings.settings_for(name, "quick")
    record = {"format": runner.FORMAT, "experiment": name, "budget": "quick", "settings": dc.asdict(chosen),
              "elapsed_s": elapsed_s, "device": "tensorflow, CPU (x86_64, 2 cores)", "results": results.to_dict()}
    (folder / f"{runner.cache_stem(name, 'quick', chosen)}.json").write_text(json.dumps(record))


def test_the_readme_lab_numbers_come_from_the_cache_and_name_what_is_missing(tmp_path, capsys):
    from resnet_signs.experiments import report

    assert report.main(["--budget", "quick", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "no cached quick results of depth, gradients, extra-block, shortcuts: run resnet-signs experiment depth "
        "--quick; resnet-signs experiment gradients --quick; resnet-signs experiment extra-block --quick; "
        "resnet-signs experiment shortcuts --quick")
    _cache(tmp_path, "depth", _depth_results([0.30, 0.20, 0.05], [0.10, 0.02, 0.12]), 300)
    norms = [gradients.GradientNorms(56, r, seed, 0, ["a", "b"], [9.0, 1.0], 1.0) for seed in range(3) for r in (0, 1)]
    _cache(tmp_path, "gradients", gradients.GradientResults(norms), 120)
    assert report.main(["--budget", "quick", "--out", str(tmp_path)]) == 2
    assert "no cached quick results of extra-block, shortcuts:" in capsys.readouterr().err
    extra = [identity.ExtraBlockRun(s, kind, 0.1, 0.2, 1, 0.5, 1, 0.5) for s in range(3)
             for kind in ("base", "residual", "plain")]
    _cache(tmp_path, "extra-block", identity.ExtraBlockResults(20, 3, 5e-3, extra), 60)
    short = [shortcuts.ShortcutRun(20, kind, s, 100, 0, 0.01, 0.1) for s in range(3) for kind in shortcuts.COMPARED]
    _cache(tmp_path, "shortcuts", shortcuts.ShortcutResults(short), 60)
    assert report.main(["--budget", "quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("**Measured, `quick` settings** (16x16 images, 3 seeds, 8 epochs; depths 20, 56; "
                             "tensorflow, CPU (x86_64, 2 cores)). Compute time: depth 5.0 min, gradients 2.0 min, "
                             "extra-block 1.0 min, shortcuts 1.0 min; 9 min in all.")
    assert "| 56 | 0.183 [0.050, 0.300] | 0.080 [0.020, 0.120] |" in out
    assert ("- `depth`: plain: training error at depth 56 above depth 20 in 2/3 seeds "
            "(per seed 0.1000, 0.1000, 0.1000 at 20; 0.3000, 0.2000, 0.0500 at 56)") in out
    assert sum(line.startswith("- `") for line in out) >= 4


def _square_plus(data, x):
    return x * x + data


def test_parallel_workers_return_results_in_job_order_and_report_each_as_it_finishes():
    from resnet_signs.experiments import pool
    from resnet_signs.experiments.progress import Progress

    lines = []
    progress = Progress("squares", lines.append)
    assert pool.run_jobs(_square_plus, [(3,), (1,), (2,)], 10, workers=2, progress=progress,
                         describe=lambda r: (f"got {r}", {"value": r})) == [19, 11, 14]
    assert [line.split("] ")[0] for line in lines] == ["  squares [1/3", "  squares [2/3", "  squares [3/3"]
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines) == ["got 11", "got 14", "got 19"]
    assert pool.run_jobs(_square_plus, [(3,)], 1, workers=2) == [10]  # one job: no processes
    with pytest.raises(UsageError, match=r"^workers must be a whole number >= 1. Received: workers=0$"):
        pool.run_jobs(_square_plus, [], 0, workers=0)
    assert pool.default_workers("tensorflow, 1 GPU") == 1 and pool.default_workers("jax") == 1
    assert 1 <= pool.default_workers("tensorflow, CPU (x86_64, 2 cores)") <= pool.MAX_WORKERS
