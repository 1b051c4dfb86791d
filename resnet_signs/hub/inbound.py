"""Submissions in nbgrader's inbound folder, and when one is complete enough to read.

``nbgrader submit`` (its default exchange) copies the student's folder to
``<exchange>/<course>/inbound/<student>+<assignment>+<timestamp>+<random>/``, then writes
``timestamp.txt``, then ``submission_secret.txt`` (64 random bytes in hex), then sets the modes.
Nothing marks the end, so a folder counts as complete (:class:`Settler`) only when both files are
there, the secret is whole, and two looks at least ``settle`` seconds apart saw the same files with
the same sizes and modification times. A folder still being written is simply looked at again.

Everything in the folder is the student's: names are parsed as nbgrader parses them, and
:func:`collect` copies only regular files (no symbolic links, nothing over nbgrader's size limit).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

#: The secret nbgrader writes last: ``secrets.token_hex(64)``.
_SECRET = re.compile(r"^[0-9a-f]{128}$")
#: nbgrader's default ``CourseDirectory.max_file_size`` (100000 kB): larger files are not collected.
MAX_FILE_BYTES = 100_000 * 1024


@dataclass(frozen=True)
class InboundSubmission:
    """One folder of the inbound folder.

    Attributes:
        folder: its path.
        student: the student's id (the name before the first ``+`` nbgrader put there).
        assignment: the assignment's id.
        timestamp: the submission time as nbgrader wrote it in the name (UTC).
        when: the same, parsed (naive UTC, as nbgrader compares them).
    """

    folder: Path
    student: str
    assignment: str
    timestamp: str
    when: datetime

    @property
    def name(self) -> str:
        return self.folder.name


def parse(folder: Path) -> InboundSubmission | None:
    """The submission a folder name describes, as nbgrader's ``collect`` reads it; ``None`` if it is
    not one (a name nbgrader would not write, an unreadable time)."""
    from nbgrader.utils import parse_utc

    parts = folder.name.rsplit("+", 3)
    if len(parts) < 3 or not parts[0] or not parts[1] or parts[0].startswith("."):
        return None  # a student id is a folder name under submitted/: never "..", never hidden
    try:
        when = parse_utc(parts[2])
    except (ValueError, OverflowError, TypeError):
        return None
    return InboundSubmission(folder, parts[0], parts[1], parts[2], when.replace(tzinfo=None))


def scan(inbound: Path, assignment: str) -> list[InboundSubmission]:
    """The submissions of ``assignment`` in ``inbound``, oldest first (empty when it does not exist yet)."""
    try:
        entries = list(os.scandir(inbound))
    except FileNotFoundError:
        return []
    found = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            sub = parse(Path(entry.path))
            if sub is not None and sub.assignment == assignment:
                found.append(sub)
    return sorted(found, key=lambda s: (s.when, s.name))


def fingerprint(folder: Path) -> tuple | None:
    """What :class:`Settler` compares between two looks: every entry's relative path, type, size and
    modification time; ``None`` while nbgrader's two closing files are missing or the secret is partial."""
    try:
        secret = (folder / "submission_secret.txt").read_text(encoding="ascii").strip()
        if not (folder / "timestamp.txt").is_file() or not _SECRET.match(secret):
            return None
        seen = []
        for root, dirs, files in os.walk(folder):
            for name in sorted(dirs + files):
                info = os.lstat(os.path.join(root, name))
                seen.append((os.path.relpath(os.path.join(root, name), folder), stat.S_IFMT(info.st_mode),
                             info.st_size, info.st_mtime_ns))
        return tuple(sorted(seen))
    except (OSError, UnicodeDecodeError):
        return None


@dataclass
class Settler:
    """Decides when a submission's folder has stopped changing.

    Attributes:
        settle: seconds a complete-looking folder must stay unchanged.
        clock: the time source (tests pass their own).
    """

    settle: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, tuple[tuple, float]] = field(default_factory=dict)

    def ready(self, sub: InboundSubmission) -> bool:
        """Whether ``sub`` looked complete and identical for at least ``settle`` seconds."""
        now, current = self.clock(), fingerprint(sub.folder)
        if current is None:
            self._seen.pop(sub.name, None)
            return False
        previous = self._seen.get(sub.name)
        if previous is None or previous[0] != current:
            self._seen[sub.name] = (current, now)
            return False
        return now - previous[1] >= self.settle

    def forget(self, sub: InboundSubmission) -> None:
        self._seen.pop(sub.name, None)


def owner(sub: InboundSubmission) -> str:
    """The Unix user owning the folder (``submit`` creates it as the student)."""
    import pwd

    uid = sub.folder.stat().st_uid
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def collect(sub: InboundSubmission, dest: Path) -> list[str]:
    """Copy the submission to ``dest`` (nbgrader's ``submitted/<student>/<assignment>/``), replacing
    what is there; returns what was left out (symbolic links, special or oversized files).

    The copy is built beside ``dest`` and renamed into place, so a reader (or a crash) never sees
    half of it.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    building = dest.parent / f".{dest.name}.collecting-{uuid.uuid4().hex[:8]}"
    skipped = []
    try:
        for root, dirs, files in os.walk(sub.folder):
            relative = Path(root).relative_to(sub.folder)
            (building / relative).mkdir(parents=True, exist_ok=True)
            for name in dirs:
                if os.path.islink(os.path.join(root, name)):
                    skipped.append(str(relative / name))
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
            for name in files:
                source = Path(root) / name
                info = os.lstat(source)
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                    skipped.append(str(relative / name))
                    continue
                shutil.copyfile(source, building / relative / name, follow_symlinks=False)
        old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
        if dest.exists():
            dest.rename(old)
        building.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return skipped


def collected_time(dest: Path) -> datetime | None:
    """When the submission already collected at ``dest`` was made (its ``timestamp.txt``), if any."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc((Path(dest) / "timestamp.txt").read_text(encoding="utf-8").strip()).replace(tzinfo=None)
    except (OSError, ValueError, OverflowError, TypeError):
        return None
