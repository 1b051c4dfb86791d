"""The gettext catalogues: complete, compiled, faithful to the glossary; hints translated line by line."""

from __future__ import annotations

import re

import pytest

from resnet_signs import i18n
from resnet_signs.i18n_compile import CatalogueError, catalogue_paths, compile_catalogues, mo_bytes, read_po

TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
_FIELDS = re.compile(r"\{(\w*)\}")


def _entries(language):
    (po,) = [p for p in catalogue_paths() if p.parts[-3] == language]
    return [e for e in read_po(po) if e.msgid]


def test_every_language_has_a_catalogue_and_its_mo_is_compiled_from_it():
    assert sorted(p.parts[-3] for p in catalogue_paths()) == sorted(TRANSLATED)
    assert compile_catalogues(check=True) == [], "run `resnet-signs release` to compile the .po files"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(language):
    entries = _entries(language)
    assert len(entries) > 100
    for entry in entries:
        assert entry.msgstr.strip() and not entry.fuzzy, f"untranslated: {entry.msgid!r}"
        assert sorted(_FIELDS.findall(entry.msgid)) == sorted(_FIELDS.findall(entry.msgstr)), entry.msgid
    assert {e.msgid for e in entries} == {e.msgid for e in _entries(TRANSLATED[0])}, "the languages differ in msgids"


@pytest.mark.parametrize("language", TRANSLATED)
def test_messages_use_the_glossary_terms(language):
    problems = [f"{e.msgid!r}: {p}"
                for e in _entries(language) for p in i18n.terminology_problems(e.msgid, e.msgstr, language)]
    assert problems == []


def test_the_terminology_check_fails_on_another_word():
    assert i18n.terminology_problems("add the shortcut", "加上捷径", "zh_CN") == ["'shortcut' must be '快捷路径'"]
    assert i18n.terminology_problems("the skip connections", "跳过连接",
                                     "zh_CN") == ["'skip connection' must be '跳跃连接'"]
    assert i18n.terminology_problems("keep `X_shortcut`", "保留 `X_shortcut`", "zh_TW") == []  # code is not prose


def test_a_hint_made_in_english_reads_in_each_language():
    hint = ("✗ the stride belongs on the first 1x1 conv and on the shortcut\n"
            "  expected shortcut: Conv2D(6, 1x1, s=2) → BN\n  your shortcut:     (nothing)")
    assert i18n.translate_message(hint, "zh_CN").splitlines() == [
        "✗ 步长应放在第一个 1x1 卷积和快捷路径上", "  应有的快捷路径：Conv2D(6, 1x1, s=2) → BN",
        "  你的快捷路径：  （无）"]
    assert "捷徑" in i18n.translate_message(hint, "zh_TW")
    assert i18n.translate_message(hint, "en") == hint
    # the grader's prefix for hidden tests wraps a whole hint, which is translated inside it
    hidden = "✗ with input_shape=(32, 32, 3), classes=4: use AveragePooling2D(pool_size=2) after stage 5"
    assert i18n.translate_message(hidden, "zh_CN") == ("✗ 当 input_shape=(32, 32, 3)、classes=4 时："
                                                       "在第 5 阶段之后使用 AveragePooling2D(pool_size=2)")
    assert i18n.untranslated_lines("a line no template knows", "zh_CN") == ["a line no template knows"]


def test_a_wrapped_hint_is_read_by_its_most_specific_template():
    # "stage {k}" (a label) matches the inner hint too, with k = "3 should downsample ..."; the hint wins
    hidden = ("✗ with input_shape=(48, 48, 3), classes=10: stage 3 should downsample with s=2 "
              "(output (6, 6, 512), got (11, 11, 512))")
    assert i18n.translate_message(hidden, "zh_CN") == ("✗ 当 input_shape=(48, 48, 3)、classes=10 时：第 3 阶段应以 s=2 "
                                                       "下采样（输出应为 (6, 6, 512)，实际为 (11, 11, 512)）")


def test_the_current_language_comes_from_use_then_the_environment_then_english(monkeypatch):
    monkeypatch.delenv("RESNET_SIGNS_LANG", raising=False)
    try:
        assert i18n.use(None) == "en"
        monkeypatch.setenv("RESNET_SIGNS_LANG", "zh-TW")
        assert i18n.current() == "zh_TW" and i18n.gettext("shortcut") == "捷徑"
        monkeypatch.setenv("RESNET_SIGNS_LANG", "klingon")
        assert i18n.current() == "en"  # a stray setting falls back to English, never breaks a check
        assert i18n.use("zh_cn") == "zh_CN"
    finally:
        i18n.use(None)
    with pytest.raises(ValueError, match="unknown language 'fr': choose from en, zh_CN, zh_TW"):
        i18n.use("fr")


def test_a_malformed_po_file_is_named_with_its_line(tmp_path):
    po = tmp_path / "bad.po"
    po.write_text('msgid "a"\nmsgstr "b"\n\nmsgid "c"\nnonsense\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"bad.po:5: cannot read 'nonsense'"):
        read_po(po)
    po.write_text('msgid "a"\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match="msgid without msgstr"):
        read_po(po)


def test_the_mo_file_is_what_gettext_reads(tmp_path):
    import gettext

    folder = tmp_path / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po = folder / "d.po"
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "shortcut"\nmsgstr "捷徑"\n\n'
                  '#, fuzzy\nmsgid "main path"\nmsgstr "主路"\n', encoding="utf-8")
    (folder / "d.mo").write_bytes(mo_bytes(read_po(po)))
    t = gettext.translation("d", localedir=tmp_path, languages=["xx"])
    assert t.gettext("shortcut") == "捷徑" and t.gettext("main path") == "main path"  # fuzzy: left out


@pytest.mark.parametrize("language", TRANSLATED)
def test_figures_are_labelled_in_the_language_with_a_font_that_has_its_glyphs(language):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from resnet_signs import plots

    saved = dict(matplotlib.rcParams)
    try:
        i18n.use(language)
        if plots.configure_fonts() is None:
            pytest.skip("no Noto CJK font installed: run `make fonts-deps` (apt-get install fonts-noto-cjk)")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" for a tofu box
            fig = plots.draw_identity_block()
            fig.canvas.draw()
        texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        assert i18n.gettext("main path") in texts and i18n.gettext("main path") != "main path"
        plt.close(fig)
    finally:
        i18n.use(None)
        matplotlib.rcParams.update(saved)


def test_a_stale_or_missing_mo_is_reported_and_rebuilt(tmp_path):
    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "resnet_signs.po").write_text('msgid "shortcut"\nmsgstr "快捷路径"\n', encoding="utf-8")
    assert compile_catalogues(check=True, locale_dir=tmp_path) == [f"{folder / 'resnet_signs.mo'} (missing)"]
    compile_catalogues(locale_dir=tmp_path)
    assert compile_catalogues(check=True, locale_dir=tmp_path) == []
    (folder / "resnet_signs.po").write_text('msgid "shortcut"\nmsgstr "捷径"\n', encoding="utf-8")
    assert compile_catalogues(check=True, locale_dir=tmp_path)[0].endswith("(out of date with resnet_signs.po)")


def test_the_language_cell_prints_one_line_and_switches_the_hints(capsys):
    from resnet_signs.notebook import use_language

    try:
        assert use_language("zh_TW") is None
        out = capsys.readouterr().out
        assert (out.startswith("✓ 語言：zh_TW — 圖表使用 ")
                or (out.startswith("✗ 語言：zh_TW") and "fonts-noto-cjk" in out)), out
        assert i18n.current() == "zh_TW"
        use_language("klingon")
        assert "✗ language 'klingon' — unknown language 'klingon'" in capsys.readouterr().out
    finally:
        i18n.use(None)


# --- Taiwan usage, one quotation style -------------------------------------------------------------


def test_the_glossary_gives_each_term_both_forms_and_where_it_comes_from():
    terms = i18n.glossary()
    assert len({t["en"] for t in terms}) == len(terms), "a term listed twice"
    for term in terms:
        assert term["zh_CN"] and term["zh_TW"] and term["from"], term
        assert set(term) <= {"en", "zh_CN", "zh_TW", "from", "mainland_zh_TW", "required"}, term
        for form in term.get("mainland_zh_TW", ()):
            assert form != term["zh_TW"] and not i18n.mainland_forms(term["zh_TW"]), term
    # the words the issue found a converter left in the Traditional edition, each with its Taiwan form
    listed = {form for t in terms for form in t.get("mainland_zh_TW", ())}
    assert {"步長", "均值", "方差", "推理", "歸一化", "滑動", "噪聲", "跟蹤", "復現", "搭建", "選做", "實現", "怎樣",
            "擴充套件", "開銷", "全連線層"} <= listed


def test_a_mainland_word_in_a_taiwan_text_is_found_but_a_taiwan_word_holding_it_is_not():
    assert i18n.mainland_forms("卷積的步長為 2，均值和方差") == [
        "步長 (Taiwan: 步幅)", "均值 (Taiwan: 平均值)", "方差 (Taiwan: 變異數)"]
    assert i18n.mainland_forms("卷積的步幅為 2，平均值和變異數，最佳化演算法") == []
    assert i18n.mainland_forms("資料增強") == ["資料增強 (Taiwan: 資料擴增)"]  # 資料 alone is Taiwan's word


def test_the_taiwan_catalogue_uses_no_mainland_words():
    problems = [f"{e.msgid!r}: {form}" for e in _entries("zh_TW") for form in i18n.mainland_forms(e.msgstr)]
    assert problems == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_language_quotes_in_one_style(language):
    problems = [f"{e.msgid!r}: {p}" for e in _entries(language)
                for p in i18n.quotation_problems(e.msgstr, language, ascii_quotes=False)]
    assert problems == []
    assert i18n.quotation_problems("這裡的「可行」", "zh_TW") == []
    assert i18n.quotation_problems("這裡的“可行”和 \"same\"", "zh_TW") == [
        "“ (zh_TW quotes with 「」『』)", "” (zh_TW quotes with 「」『』)", '" (zh_TW quotes with 「」『』)']
    assert i18n.quotation_problems('`"same"` 卷积', "zh_CN") == []  # code keeps its own quotes


# --- every text the package and the notebooks print is in every catalogue ------------------------


def _literal_msgids():
    """``{msgid: where}`` of every literal text the package and the notebooks' code cells pass to
    ``i18n.gettext`` / ``i18n.format`` / ``say`` / ``_``."""
    import ast

    import jupytext

    from resnet_signs import paths

    found = {}

    def visit(source, where):
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            on_i18n = isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "i18n"
            if name in ("say", "_", "gettext") or (name == "format" and on_i18n):
                found.setdefault(node.args[0].value, where)

    for path in sorted(i18n.LOCALE_DIR.parent.rglob("*.py")):
        visit(path.read_text(encoding="utf-8"), path.name)
    for md in sorted((paths.PROJECT_ROOT / "autograder" / "source").glob("*/*.md")):
        for cell in jupytext.read(md).cells:
            if cell.cell_type == "code" and "%" not in cell.source:
                visit(cell.source, md.name)
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_the_code_prints_has_a_translation(language):
    msgids = {e.msgid for e in _entries(language)}
    found = _literal_msgids()
    assert "test accuracy {accuracy:.3f} on the {count} test photos with no copy in the training set" in found
    assert [f"{where}: {msgid!r}" for msgid, where in found.items() if msgid not in msgids] == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_with_words_is_translated_into_words_of_the_language(language):
    english = [e.msgid for e in _entries(language) if i18n.looks_english(e.msgstr)]
    assert english == []


def test_a_line_of_english_is_told_from_code_and_numbers():
    assert i18n.looks_english("test accuracy 0.975 on all 120 test photos")
    assert not i18n.looks_english("AveragePooling2D             (None, 1, 1, 2048)")
    assert not i18n.looks_english("   20  plain       3  0.000 ± 0.000 [0.000, 0.001]")
    assert not i18n.looks_english("全部 120 張測試照片：test accuracy 0.975")


# --- what the notebooks print, executed under each language ---------------------------------------


def _stub(X, f, filters, training=True, initializer=None):
    # YOUR CODE HERE
    raise NotImplementedError()


class _History:
    """What train() returns, as far as the notebook's report reads it."""

    history = {"loss": [1.2, 0.6], "accuracy": [0.4, 0.8], "val_loss": [1.0, 0.5], "val_accuracy": [0.5, 0.9]}
    epoch_time_s = [80.0, 33.0]


def _print_everything_a_notebook_prints(tmp_path):
    """Call, in the current language, every function whose lines the two notebooks print."""
    import numpy as np

    from resnet_signs import notebook
    from resnet_signs.experiments import depth, display, progress, tables, verdicts
    from resnet_signs.experiments.runner import Outcome
    from resnet_signs.experiments.settings import settings_for
    from resnet_signs.release import notebooks as nbs
    from resnet_signs.training import loop, pretrained

    notebook.setup(seed=1)
    notebook.setup(seed=1, quick=True)
    notebook.use_quick(False)
    notebook.check_shape(_stub, np.zeros((3, 4, 4, 6)), f=2, filters=[4, 4, 6], expected=(3, 4, 4, 6))
    notebook.check_shape(lambda X, **kw: X[:, :2], np.zeros((3, 4, 4, 6)), expected=(3, 4, 4, 6))
    notebook.build_model(lambda **kw: _stub(None, 3, []), input_shape=(64, 64, 3), classes=6)
    notebook.print_stage_summary(_tiny_resnet())
    notebook.report_training(_History())
    print(loop._epoch_line(2, 20, 33.4, {"loss": 0.6, "accuracy": 0.8, "val_loss": 0.5, "val_accuracy": 0.9}))
    print(loop._epoch_line(1, 1, 3.0, {"loss": 0.6, "accuracy": 0.8}))
    print(pretrained.missing_model_line(tmp_path / "resnet50_signs.keras"))
    runs = [depth.DepthRun(d, r, seed, 1, e, 0.2, [0.9, 0.5, 0.4, 0.3, e]) for seed in range(3)
            for d, r, e in ((20, False, 0.0), (56, False, 0.1), (20, True, 0.0), (56, True, 0.001))]
    results = depth.DepthResults(runs)
    for chosen_by in ("the default", "RESNET_SIGNS_LAB_BUDGET=full,quick", None):
        outcome = Outcome("depth", "full", settings_for("depth", "full"), results, tmp_path, tmp_path,
                          chosen_by is None, 1454.0, "tensorflow, CPU (x86_64, 2 cores)")
        print(display.state_line(outcome))
        print(display.settings_line(outcome, chosen_by))
    print("\n".join(tables.summary_lines("depth", results)))
    print("\n".join(verdicts.printed_lines(verdicts.summary("depth", results))))
    tracker = progress.Progress("depth")
    tracker.total = 2
    tracker.done("plain-56 seed 1", train_error=0.031)
    tracker.done("seed 0", base_train_error=0.0, residual_train_error=0.0, plain_train_error=0.01)
    figure = {"data": {"image/png": "iVBOR"}, "output_type": "display_data", "metadata": {}}
    cell = {"cell_type": "code", "metadata": {"tags": ["dataset-images"]}, "outputs": [figure], "source": "",
            "execution_count": 1, "id": "c"}
    import nbformat

    nb = nbformat.from_dict({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    print(nbs.replace_dataset_images(nb, language=i18n.current()).cells[0].outputs[0].text, end="")


def _tiny_resnet():
    from keras import Input, Model, layers

    x_in = Input((16, 16, 3))
    x = layers.MaxPooling2D(2)(layers.Conv2D(8, 3, strides=2, padding="same")(x_in))
    x = layers.Activation("relu")(layers.Add()([layers.Conv2D(8, 3, padding="same")(x), x]))
    return Model(x_in, layers.Dense(6, activation="softmax")(layers.GlobalAveragePooling2D()(x)))


@pytest.mark.parametrize("language", TRANSLATED)
def test_what_the_notebooks_print_is_in_their_language(language, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("RESNET_SIGNS_QUICK", raising=False)
    try:
        i18n.use(language)
        _print_everything_a_notebook_prints(tmp_path)
    finally:
        i18n.use(None)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) > 40
    assert [line for line in lines if i18n.looks_english(line)] == []
    assert any("NotImplementedError" in line and "identity_block" not in line for line in lines)  # the stub's own name
    _print_everything_a_notebook_prints(tmp_path)  # and in English, the same functions say it in English
    english = capsys.readouterr().out
    assert "implement the function first" in english and "verdict: plain: training error at depth 56" in english


#: Words a figure may show untranslated: code and model names.
_FIGURE_CODE = {"ResNet", "Conv2D", "BatchNorm", "ReLU", "Add", "X", "F1", "F2", "F3", "dLoss", "dW", "L2", "axis",
                "same", "f", "s", "a", "l", "mathdefault"}


def _figures():
    """Every figure the two notebooks draw, on small made-up results (the figure, what it is)."""
    import numpy as np

    from resnet_signs import plots
    from resnet_signs.experiments import depth, gradients, identity, shortcuts
    from resnet_signs.experiments import plots as lab_plots

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    y = np.arange(8) % 6
    history = {"loss": [1.2, 0.6], "accuracy": [0.4, 0.8], "val_loss": [1.0, 0.5], "val_accuracy": [0.5, 0.9]}
    runs = [depth.DepthRun(d, r, s, 1, 0.1, 0.2, [0.5, 0.2, 0.1]) for s in range(2) for d in (20, 56) for r in (0, 1)]
    norms = [gradients.GradientNorms(56, r, s, step, ["a", "b"], [9.0, 1.0], 1.0)
             for s in range(2) for r in (False, True) for step in (0, 30)]
    extra = identity.ExtraBlockResults(20, 3, 5e-3, [identity.ExtraBlockRun(s, kind, 0.0, 0.1, 1.0, 0.5, 1.0, 0.9)
                                                     for s in range(2) for kind in ("base", "residual", "plain")])
    short = shortcuts.ShortcutResults([shortcuts.ShortcutRun(20, kind, s, 1000, 0, 0.0, 0.1)
                                       for s in range(2) for kind in shortcuts.COMPARED])
    yield plots.plot_history(history), "plot_history"
    yield plots.plot_confusion_matrix(y, y[::-1]), "plot_confusion_matrix"
    yield plots.show_examples(x, y), "show_examples"
    yield plots.show_misclassified(x, y, y[::-1]), "show_misclassified"
    yield plots.show_misclassified(x, y, y), "show_misclassified (none wrong)"
    yield plots.show_prediction(x[0], np.full(6, 1 / 6), title=i18n.format("Validation photo {index}", index=60)), \
        "show_prediction"
    yield plots.draw_identity_block(), "draw_identity_block"
    yield plots.draw_convolutional_block(), "draw_convolutional_block"
    for draw, results in ((lab_plots.plot_depth, depth.DepthResults(runs)),
                          (lab_plots.plot_training_curves, depth.DepthResults(runs)),
                          (lab_plots.plot_gradient_norms, norms), (lab_plots.plot_extra_block, extra),
                          (lab_plots.plot_shortcuts, short)):
        yield draw(results).figure, draw.__name__
    title = "Gradient norm per layer at initialisation: plain vs residual networks"
    yield lab_plots.plot_gradient_norms(norms, title=title).figure, "plot_gradient_norms (the assignment's)"


def _figure_texts(fig) -> list[str]:
    texts = [fig._suptitle.get_text()] if fig._suptitle else []
    for ax in fig.axes:
        texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        texts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        texts += [t.get_text() for t in legend.get_texts()] if legend else []
    return [t for t in texts if t.strip()]


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_figure_has_an_english_title_label_or_legend(language):
    import re

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def english_texts():
        found = []
        for fig, what in _figures():
            for text in _figure_texts(fig):
                words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", text) if w not in _FIGURE_CODE]
                if words and not re.search("[\u4e00-\u9fff]", text):
                    found.append(f"{what}: {text!r}")
            plt.close(fig)
        return found

    try:
        i18n.use(language)
        assert english_texts() == []
    finally:
        i18n.use(None)
    assert len(english_texts()) > 30  # the English edition's, which the check would catch untranslated
