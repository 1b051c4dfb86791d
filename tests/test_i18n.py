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
    problems = [f"{e.msgid!r}: {p}" for e in _entries(language) for p in i18n.terminology_problems(e.msgid, e.msgstr, language)]
    assert problems == []


def test_the_terminology_check_fails_on_another_word():
    assert i18n.terminology_problems("add the shortcut", "加上捷径", "zh_CN") == ["'shortcut' must be '快捷路径'"]
    assert i18n.terminology_problems("the skip connections", "跳过连接", "zh_CN") == ["'skip connection' must be '跳跃连接'"]
    assert i18n.terminology_problems("keep `X_shortcut`", "保留 `X_shortcut`", "zh_TW") == []  # code is not prose


def test_a_hint_made_in_english_reads_in_each_language():
    hint = ("✗ the stride belongs on the first 1x1 conv and on the shortcut\n"
            "  expected shortcut: Conv2D(6, 1x1, s=2) → BN\n  your shortcut:     (nothing)")
    assert i18n.translate_message(hint, "zh_CN").splitlines() == [
        "✗ 步长应放在第一个 1x1 卷积和快捷路径上", "  应有的快捷路径：Conv2D(6, 1x1, s=2) → BN", "  你的快捷路径：  （无）"]
    assert "捷徑" in i18n.translate_message(hint, "zh_TW")
    assert i18n.translate_message(hint, "en") == hint
    # the grader's prefix for hidden tests wraps a whole hint, which is translated inside it
    hidden = "✗ with input_shape=(32, 32, 3), classes=4: use AveragePooling2D(pool_size=2) after stage 5"
    assert i18n.translate_message(hidden, "zh_CN") == ("✗ 当 input_shape=(32, 32, 3)、classes=4 时："
                                                       "在第 5 阶段之后使用 AveragePooling2D(pool_size=2)")
    assert i18n.untranslated_lines("a line no template knows", "zh_CN") == ["a line no template knows"]


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
        assert out.startswith("✓ language: zh_TW") or "fonts-noto-cjk" in out, out
        assert i18n.current() == "zh_TW"
        use_language("klingon")
        assert "✗ language 'klingon' — unknown language 'klingon'" in capsys.readouterr().out
    finally:
        i18n.use(None)
