"""``.po`` -> ``.mo``: the gettext catalogues of :mod:`resnet_signs.i18n`, compiled like ``msgfmt``.

The ``.po`` files are the reviewed source; the ``.mo`` files beside them are generated, committed
and shipped as package data (so an installed wheel needs no build step), and
``compile_catalogues(check=True)`` (run by the tests and ``resnet-signs release --check``) reports
those out of date. Standard library only.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass
from pathlib import Path

from resnet_signs.errors import CourseError
from resnet_signs.i18n import DOMAIN, LOCALE_DIR

_MO_MAGIC = 0x950412DE


class CatalogueError(CourseError):
    """A ``.po`` file that cannot be read (one-line message naming the file and line)."""


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    fuzzy: bool
    line: int


def read_po(path: Path) -> list[Entry]:
    """The entries of a ``.po`` file (the header entry, msgid "", included)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    current, fuzzy, start = None, False, 0

    def flush():
        nonlocal fields, current, fuzzy
        if "msgid" in fields:
            if "msgstr" not in fields:
                raise CatalogueError(f"{path}:{start}: msgid without msgstr")
            entries.append(Entry(fields["msgid"], fields["msgstr"], fuzzy, start))
        fields, current, fuzzy = {}, None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ")):
            keyword, _, rest = line.partition(" ")
            if keyword == "msgid" and "msgid" in fields:
                flush()
            if keyword == "msgid":
                start = number
            current = keyword
            fields[keyword] = _string(rest, path, number)
        elif line.startswith('"') and current:
            fields[current] += _string(line, path, number)
        else:
            raise CatalogueError(f"{path}:{number}: cannot read {raw!r} (expected msgid, msgstr or a quoted string)")
    flush()
    return entries


def _string(token: str, path: Path, number: int) -> str:
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError) as exc:
        raise CatalogueError(f"{path}:{number}: not a quoted string: {token!r}") from exc
    if not isinstance(value, str):
        raise CatalogueError(f"{path}:{number}: not a quoted string: {token!r}")
    return value


def mo_bytes(entries: list[Entry]) -> bytes:
    """The ``.mo`` file of ``entries`` (fuzzy and untranslated entries left out, as msgfmt does)."""
    kept = {e.msgid: e.msgstr for e in entries if e.msgstr and (not e.fuzzy or e.msgid == "")}
    keys = sorted(kept)
    ids = [k.encode("utf-8") for k in keys]
    strs = [kept[k].encode("utf-8") for k in keys]
    header_size = 7 * 4
    tables = header_size + 2 * 8 * len(keys)
    offsets, data = [], b""
    for blob in ids + strs:
        offsets.append((len(blob), tables + len(data)))
        data += blob + b"\0"
    out = struct.pack("Iiiiiii", _MO_MAGIC, 0, len(keys), header_size, header_size + 8 * len(keys), 0, 0)
    for length, offset in offsets:
        out += struct.pack("ii", length, offset)
    return out + data


def catalogue_paths(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every ``.po`` file of the package, sorted."""
    return sorted(locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogues(*, check: bool = False, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """Write each ``.mo`` from its ``.po``; with ``check``, write nothing and list the stale ones.

    Returns:
        The ``.mo`` files written, or with ``check`` one ``"PATH (why)"`` per stale file.
    """
    report = []
    for po in catalogue_paths(locale_dir):
        mo = po.with_suffix(".mo")
        label = (f"resnet_signs/{mo.relative_to(LOCALE_DIR.parent).as_posix()}"
                 if mo.is_relative_to(LOCALE_DIR.parent) else str(mo))
        data = mo_bytes(read_po(po))
        if check:
            if not mo.is_file():
                report.append(f"{label} (missing)")
            elif mo.read_bytes() != data:
                report.append(f"{label} (out of date with {po.name})")
            continue
        if not mo.is_file() or mo.read_bytes() != data:
            mo.write_bytes(data)
        report.append(label)
    return report
