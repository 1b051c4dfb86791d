"""Run the sandbox child under limits: isolation, output cap, memory and time watch, restarts.

The parent never runs student code. It starts ``resnet_signs.grading.sandbox`` in its own
process group, drains its stdout/stderr through a pipe (keeping at most ``output_bytes``:
the head and the tail), watches the resident memory of the whole process tree (psutil) and
the progress file, and kills the group on a memory, per-cell or total time overrun. When a
child dies in a step, a new child runs the plan again without that step (and without the
tests already observed), at most ``MAX_RESTARTS`` times and within the total time limit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import psutil

from resnet_signs.grading.model import Limits

MAX_RESTARTS = 3
#: The parent's own kill comes this long after the child's per-cell interrupt should have fired.
CELL_GRACE = 5.0
#: Largest file the child may write (RLIMIT_FSIZE, set by the child itself before any student
#: code: no ``preexec_fn``, which is unsafe in a threaded parent such as a Dask worker).
MAX_FILE_BYTES = 512 * 1024 * 1024
POLL = 0.1

# Inside user + network + mount + PID namespaces: everything read-only but the sandbox folder,
# then no capabilities left, so student code cannot remount. Fallback: plain process group.
_ISOLATE = r"""
set -e
SANDBOX="$1"; shift
mount --bind "$SANDBOX" "$SANDBOX"
for m in $(awk '{print $2}' /proc/self/mounts | sort -u); do
  case "$m" in "$SANDBOX"|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue;; esac
  mount -o remount,bind,ro "$m" 2>/dev/null || true
done
cd "$PWD"  # re-enter the working folder through the writable bind mount
# A private, small /dev/shm: files there would hold memory that no process's RSS shows.
mount -t tmpfs -o size=64m,nosuid,nodev tmpfs /dev/shm 2>/dev/null || true
# Not exec'd: this shell stays PID 1 of the namespace, so the child is an ordinary process
# (signals such as SIGSEGV kill it) and its fate comes back as the shell's status (128 + signal).
setpriv --bounding-set=-all --inh-caps=-all --no-new-privs "$@" && exit 0 || exit $?
"""


#: absl/glog lines TensorFlow prints before it reads TF_CPP_MIN_LOG_LEVEL ("I0000 00:00:... port.cc:153] ...").
_TF_LOG = re.compile(r"^(?:[IWE]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] .*|WARNING: All log messages before "
                     r"absl::InitializeLog\(\) is called are written to STDERR)\n?", re.MULTILINE)


@dataclass
class Output:
    """Captured output, capped: the first and last ``limit // 2`` bytes are kept."""

    limit: int
    head: bytearray = field(default_factory=bytearray)
    tail: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit // 2 - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        excess = len(self.tail) - (self.limit - self.limit // 2)
        if excess > 0:
            self.dropped += excess
            del self.tail[:excess]

    def text(self) -> str:
        """The kept output, TensorFlow's start-up log lines removed (they carry timestamps and pids)."""
        middle = f"\n[... {self.dropped} bytes of output discarded ...]\n" if self.dropped else ""
        text = bytes(self.head).decode("utf-8", "replace") + middle + bytes(self.tail).decode("utf-8", "replace")
        return _TF_LOG.sub("", text)


@dataclass
class Attempt:
    """One child's run: how it ended and what its progress file said."""

    returncode: int | None
    killed: str | None  # "memory", "cell-timeout", "total-timeout" or None
    events: list[dict]
    peak_rss: int = 0

    @property
    def finished(self) -> bool:
        return any(e.get("event") == "done" for e in self.events)

    @property
    def running(self) -> int | None:
        """The step that started and never ended (the one the child died in)."""
        ended = {e["step"] for e in self.events if e.get("event") == "end"}
        started = [e["step"] for e in self.events if e.get("event") == "start" and e["step"] not in ended]
        return started[-1] if started else None


#: user (root mapped to us), network, mount and PID namespaces; the PID namespace hides every
#: process outside the sandbox and dies with it.
_UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
            "--mount-proc"]


@lru_cache(maxsize=1)
def isolation_available() -> bool:
    """Whether the namespaces and the read-only remount work here (probed once per process)."""
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    try:
        with tempfile.TemporaryDirectory(prefix="resnet-signs-probe-") as folder:
            probe = subprocess.run([*_UNSHARE, "sh", "-c", _ISOLATE, "isolate", str(Path(folder).resolve()), "true"],
                                   capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def isolation_notes() -> list[str]:
    """What isolation :func:`command` applies, for the record."""
    notes = ["own process group", "private working and temporary folders", f"files up to {MAX_FILE_BYTES >> 20} MiB"]
    if isolation_available():
        notes += ["no network (unshare --net)", "read-only filesystem outside the sandbox folder",
                  "own PID namespace", "no capabilities"]
    else:
        notes += ["network and filesystem not isolated (unprivileged namespaces unavailable)"]
    return notes


def command(plan: Path, sandbox: Path) -> list[str]:
    """The sandbox child's command line, isolated where the OS allows."""
    return isolated([sys.executable, "-m", "resnet_signs.grading.sandbox", str(plan)], sandbox)


def isolated(argv: list[str], sandbox: Path) -> list[str]:
    """``argv`` wrapped in namespaces (writable: ``sandbox`` only), or unchanged where they are unavailable."""
    if not isolation_available():
        return list(argv)
    # Resolved: the mount table lists real paths, and the script compares against it.
    return [*_UNSHARE, "sh", "-c", _ISOLATE, "isolate", str(sandbox.resolve()), *argv]


def signal_of(returncode: int | None) -> int | None:
    """The signal that killed the child, from its status (negative, or 128 + n through the shell)."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if isolation_available() and 128 < returncode < 128 + 65:
        return returncode - 128
    return None


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        for p in [process, *process.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def _kill_tree(proc: subprocess.Popen) -> None:
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for p in descendants:  # those that left the group with setsid()
        try:
            p.kill()
        except psutil.Error:
            pass


class _ProgressReader:
    def __init__(self, path: Path):
        self.path, self.offset, self.events, self._partial = path, 0, [], b""

    def poll(self) -> list[dict]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        new = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # written by student code, not by the sandbox
            if isinstance(event, dict) and event.get("event") in ("ready", "start", "end", "done"):
                new.append(event)
        self.events += new
        return new


def run_child(plan: Path, progress: Path, *, sandbox: Path, env: dict, limits: Limits, deadline: float,
              output: Output) -> Attempt:
    """Run one child until it exits or is killed; ``deadline`` is a ``time.monotonic()`` value."""
    proc = subprocess.Popen(
        command(plan, sandbox), cwd=sandbox / "work", env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    drain = threading.Thread(target=_drain, args=(proc.stdout, output), daemon=True)
    drain.start()
    reader, watched = _ProgressReader(progress), psutil.Process(proc.pid)
    killed, running_since, peak = None, None, 0
    memory_limit = limits.memory_mb * 1024 * 1024
    while proc.poll() is None:
        time.sleep(POLL)
        for event in reader.poll():
            running_since = time.monotonic() if event["event"] == "start" else None
        rss = _tree_rss(watched)
        peak = max(peak, rss)
        if rss > memory_limit:
            killed = "memory"
        elif time.monotonic() > deadline:
            killed = "total-timeout"
        elif running_since is not None and time.monotonic() - running_since > limits.cell_timeout + CELL_GRACE:
            killed = "cell-timeout"
        if killed:
            _kill_tree(proc)
            break
    proc.wait()
    _kill_tree(proc)  # leftovers of a finished child (background processes it started)
    drain.join(timeout=5)
    proc.stdout.close()
    reader.poll()
    return Attempt(returncode=proc.returncode, killed=killed, events=reader.events, peak_rss=peak)


def _drain(pipe, output: Output) -> None:
    try:
        while chunk := pipe.read1(65536):
            output.add(chunk)
    except (OSError, ValueError):
        pass
