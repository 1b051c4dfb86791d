"""The language of what students read: hints, check results, feedback, figure labels.

One gettext catalogue per language (``resnet_signs/locale/<lang>/LC_MESSAGES/resnet_signs.mo``,
compiled from the ``.po`` beside it by :mod:`resnet_signs.i18n_compile`). Its msgids are the
English texts, with ``{name}`` placeholders where a text carries values (a shape, a layer).

Two ways in:

- :func:`gettext` / :func:`format` translate a text the code is about to show (figure labels,
  report headings) into the current language.
- :func:`translate_message` translates a message that was produced in English elsewhere: the
  hints the checks and the grader's judge compute (both run without knowing the student's
  language), line by line, by matching each line against the catalogue's templates. The
  grader keeps English in its records and renders the feedback in the notebook's language.

The current language is the one :func:`use` set (the notebook's setup cell does), else
``RESNET_SIGNS_LANG`` (:func:`resnet_signs.paths.language`), else English. Standard library
only: this module runs beside student code.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import re
from pathlib import Path
from string import Formatter

from resnet_signs import paths

#: Every language the course is published in; ``en`` is the source language (no catalogue).
LANGUAGES = ("en", "zh_CN", "zh_TW")
DEFAULT = "en"
DOMAIN = "resnet_signs"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: HTML ``lang`` attribute per language (BCP 47).
HTML_LANG = {"en": "en", "zh_CN": "zh-Hans", "zh_TW": "zh-Hant"}

_chosen: str | None = None
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def normalise(language: str) -> str:
    """``language`` as one of :data:`LANGUAGES` (``zh-CN`` and ``zh_cn`` are accepted too).

    Raises:
        ValueError: a language the course is not published in.
    """
    wanted = str(language).strip().replace("-", "_").lower()
    for known in LANGUAGES:
        if known.lower() == wanted:
            return known
    raise ValueError(f"unknown language {language!r}: choose from {', '.join(LANGUAGES)}")


def use(language: str | None) -> str:
    """Make ``language`` the current one (``None``: back to the environment's or English)."""
    global _chosen
    _chosen = normalise(language) if language is not None else None
    return current()


def current() -> str:
    """The language hints and figures are shown in now."""
    if _chosen is not None:
        return _chosen
    from_env = paths.language()
    if from_env:
        try:
            return normalise(from_env)
        except ValueError:
            return DEFAULT  # a stray setting must not break the checks; English is always right
    return DEFAULT


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``language`` (English: the identity)."""
    language = normalise(language)
    if language == DEFAULT:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)


def gettext(message: str, language: str | None = None) -> str:
    """``message`` in ``language`` (default: the current one); itself when untranslated."""
    return translations(language or current()).gettext(message)


def format(template: str, language: str | None = None, **values) -> str:  # noqa: A001 - the verb
    """``gettext(template)`` with its ``{name}`` placeholders filled in (format specs such as
    ``{accuracy:.3f}`` included)."""
    return gettext(template, language).format(**values)


def say(template: str, **values) -> None:
    """Print ``template`` in the current language with ``values`` filled in.

    What a notebook cell prints goes through here, so that a translated edition prints its own
    language while the cell's code stays the English source's: the template is the msgid, e.g.
    ``say("test accuracy {accuracy:.3f} on all {n} test photos", accuracy=acc, n=120)``.
    """
    print(format(template, **values))


# --------------------------------------------------------------------------- English messages
@functools.cache
def _templates(language: str) -> tuple[tuple[int, re.Pattern, str, tuple[str, ...]], ...]:
    """The catalogue's msgids as patterns with their length of literal text, most literal text first
    (the most specific wins)."""
    catalogue = getattr(translations(language), "_catalog", {})  # GNUTranslations' msgid -> msgstr
    compiled = []
    for msgid, msgstr in catalogue.items():
        if not isinstance(msgid, str) or not msgid or "\n" in msgid:
            continue
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(msgid) if name]
        names = tuple(name for name, _, _ in fields)
        if len(set(names)) != len(names) or any(spec or conversion for _, spec, conversion in fields):
            continue  # a verdict naming a value twice, a line with "{accuracy:.3f}": formatted, never matched
        pattern = "".join(
            re.escape(literal) + (f"(?P<{name}>.+?)" if name else "")
            for literal, name, _, _ in Formatter().parse(msgid)
        )
        literal_length = len(_PLACEHOLDER.sub("", msgid).strip())
        if names and literal_length < 2:
            continue  # "{a} {b}" would match any line: only texts with words of their own are templates
        compiled.append((literal_length, re.compile(pattern + r"\Z", re.DOTALL), msgstr, names))
    compiled.sort(key=lambda item: -item[0])
    return tuple(compiled)


def _translated(text: str, language: str) -> tuple[int, str] | None:
    """``text`` in ``language`` by the most specific template that matches it, and that template's
    length of literal text; None when none matches."""
    for literal_length, pattern, msgstr, names in _templates(language):
        match = pattern.match(text)
        if match:
            values = {name: _translate_value(match.group(name), language) for name in names}
            return literal_length, msgstr.format(**values)
    return None


def translate_line(line: str, language: str) -> str:
    """One line of an English message in ``language``; the line itself when no template fits.

    Values matched by a template's placeholders are translated too when they are catalogue
    texts themselves ("main path", "raised ..."), so composed messages translate whole.
    """
    if language == DEFAULT or not line.strip():
        return line
    indent = line[: len(line) - len(line.lstrip())]
    found = _translated(line.strip(), language)
    return line if found is None else indent + found[1]


def _translate_value(value: str, language: str) -> str:
    """A value inside a message: a catalogue text itself, a hint whose "✗ " a prefix replaced
    (the grader's "✗ with input_shape=...: <hint>"), or data kept as it is.

    Both readings are tried and the more specific template wins: "stage 3 should downsample ..." is
    the hint "✗ stage {k} should downsample ...", not the label "stage {k}" with a long k.
    """
    plain = _translated(value, language) if value.strip() else None
    marked = None
    if not value.startswith(("✗", "✓")):
        found = _translated("✗ " + value, language)
        if found is not None and found[1].startswith("✗ "):
            marked = (found[0] - 1, found[1][2:])  # the "✗" is not the value's own text
    best = max((t for t in (plain, marked) if t is not None), key=lambda t: t[0], default=None)
    return value if best is None else best[1]


def translate_message(text: str, language: str | None = None) -> str:
    """A message (hint, verdict) produced in English, in ``language`` (default: the current one)."""
    language = normalise(language or current())
    if language == DEFAULT:
        return text
    return "\n".join(translate_line(line, language) for line in text.split("\n"))


def untranslated_lines(text: str, language: str) -> list[str]:
    """The lines of ``text`` no template of ``language`` translates (for tests and reviews)."""
    return [line for line in text.split("\n") if line.strip() and translate_line(line, language) == line]


_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_']*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def looks_english(line: str) -> bool:
    """Whether a printed line is English to a reader of a Chinese edition: three or more Latin words
    and no Chinese character (``AveragePooling2D (None, 1, 1, 2048)`` is code and numbers; for tests and reviews)."""
    return len(_LATIN_WORD.findall(line)) >= 3 and not _CJK.search(line)


# --------------------------------------------------------------------------- terminology
GLOSSARY = LOCALE_DIR / "glossary.json"
#: What is not prose in a text: code spans, maths, ``{placeholders}``.
_CODE = re.compile(r"`[^`]*`|\$[^$]*\$|\{[\w.]*(?::[^{}]*)?\}")


def glossary() -> list[dict]:
    """The course's terms: ``{"en": ..., "zh_CN": ..., "zh_TW": ...}`` (``locale/glossary.json``)."""
    import json

    return json.loads(GLOSSARY.read_text(encoding="utf-8"))["terms"]


def terminology_problems(english: str, translation: str, language: str) -> list[str]:
    """Glossary terms ``english`` uses (outside code and maths) whose ``language`` word ``translation`` lacks.

    Terms marked ``"required": false`` are left out: their English word has other senses ("mean"),
    so only :func:`mainland_forms` checks them.
    """
    prose = _CODE.sub(" ", english)
    found = []
    for term in glossary():
        if not term.get("required", True):
            continue
        # Not inside code either: a keyword argument (strides=2) or a call is no prose word.
        pattern = rf"(?<![\w`]){re.escape(term['en'])}(?:s|es)?(?![\w`=(])"
        if re.search(pattern, prose, re.IGNORECASE) and term[language] not in translation:
            found.append(f"{term['en']!r} must be {term[language]!r}")
    return found


def mainland_forms(text: str) -> list[str]:
    """The mainland words a Taiwan reader would not write that ``text`` (a zh_TW text) uses.

    Each glossary term may list the forms a character converter leaves in a Traditional text
    (``"mainland_zh_TW": ["步長"]``: Taiwan writes 步幅). A Taiwan word of the glossary that holds
    a mainland one (平均值 holds 均值, 演算法 holds 算法) is not mistaken for it.

    Returns:
        One ``"步長 (Taiwan: 步幅)"`` per mainland form found, in glossary order.
    """
    terms = glossary()
    allowed = sorted({t["zh_TW"] for t in terms}, key=len, reverse=True)
    found = []
    for term in terms:
        for form in term.get("mainland_zh_TW", ()):
            rest = text
            for word in allowed:
                if form in word and form != word:
                    rest = rest.replace(word, "\0")
            if form in rest:
                found.append(f"{form} (Taiwan: {term['zh_TW']})")
    return found


#: Quotation marks each language's prose uses, and the ones it must not (one style per language):
#: mainland texts “ ” and ‘ ’; Taiwan texts 「 」 and 『 』 (as its lecture writes 『加入』).
QUOTES = {"zh_CN": ("“”‘’", "「」『』"), "zh_TW": ("「」『』", "“”‘’")}


def quotation_problems(text: str, language: str, *, ascii_quotes: bool = True) -> list[str]:
    """Quotation marks of the other style in ``text`` (outside code and maths), and, with
    ``ascii_quotes``, ASCII double quotes used as quotation marks in prose:
    ``["“ (zh_TW quotes with 「」『』)"]``. (Hints quote code with ASCII quotes: ``padding='same'``.)"""
    if language not in QUOTES:
        return []
    prose = _CODE.sub(" ", text)
    wanted, foreign = QUOTES[language]
    found = [f"{mark} ({language} quotes with {wanted})" for mark in dict.fromkeys(prose) if mark in foreign]
    if ascii_quotes and '"' in prose:
        found.append(f'" ({language} quotes with {wanted})')
    return found
