"""What the sandbox child can see and how many processes it may start.

Two backends wrap the child's command line, chosen once per process (``RESNET_SIGNS_ISOLATION``
forces one: ``bwrap``, ``unshare`` or ``none``):

- ``bwrap`` (bubblewrap): a whitelist. The child's filesystem is an empty root holding only the
  system (``/usr``, ``/etc``), the Python installation and the grader's environment, the installed
  ``resnet_signs`` package and the data, all read-only, plus its own sandbox folder writable.
  New user, network, PID, IPC and UTS namespaces; no capabilities; it dies with the grader.
- ``unshare`` (util-linux), the fallback: the same namespaces, the whole filesystem remounted
  read-only, and the folders that must stay unseen (the course directory and the checkout) covered
  by an empty ``tmpfs`` with only the package, the environment and the data bound back.

Either way the child never sees the course directory: the reference, the hidden tests and the
gradebook are out of reach whatever it imports or opens. ``none`` (no namespaces available) leaves
them readable and says so; ``resnet-signs grade --require-isolation`` refuses to grade there.

Processes: where a ``pids`` cgroup can be created, each child gets its own with a process cap
(stops fork bombs) and everything in it is killed when the child ends, PID namespace or not.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import uuid
from functools import lru_cache
from pathlib import Path

from resnet_signs import paths
from resnet_signs.grading import devices

BACKENDS = ("bwrap", "unshare", "none")
#: Processes (threads count too: TensorFlow starts ~40) one submission may have at once.
MAX_PIDS = 512

# unshare fallback, run as root of new user + mount namespaces. Arguments: SANDBOX, then
# "hide" folders up to "--", then "keep" folders up to "--", then device files to mask up to "--",
# then the command.
_UNSHARE_SCRIPT = r"""
set -e
SANDBOX="$1"; shift
HIDE=""; while [ "$1" != "--" ]; do HIDE="$HIDE $1"; shift; done; shift
KEEP=""; while [ "$1" != "--" ]; do KEEP="$KEEP $1"; shift; done; shift
MASK=""; while [ "$1" != "--" ]; do MASK="$MASK $1"; shift; done; shift
STASH="$SANDBOX/.stash"; n=0
for h in $HIDE; do
  [ -d "$h" ] || continue
  kept=""
  for k in $KEEP; do  # folders under $h that must stay visible: parked, then bound back
    case "$k/" in "$h"/*) n=$((n+1)); mkdir -p "$STASH/$n"; mount --rbind "$k" "$STASH/$n"; kept="$kept $k:$n";; esac
  done
  mount -t tmpfs -o size=1m,mode=755 tmpfs "$h"
  for pair in $kept; do
    k="${pair%:*}"; i="${pair##*:}"; mkdir -p "$k"; mount --move "$STASH/$i" "$k"
  done
done
rm -rf "$STASH"
for d in $MASK; do mount --bind /dev/null "$d"; done  # the GPUs' device files, when grading may not use them
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

_UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
            "--mount-proc", "--ipc", "--uts"]


def visible_folders() -> list[Path]:
    """What the child must read: the Python installation and environment, the package, the data."""
    import resnet_signs

    folders = [Path(sys.base_prefix), Path(sys.prefix), Path(resnet_signs.__file__).parent, paths.data_dir()]
    folders += [Path(p) for p in site.getsitepackages()]
    return _outermost(f.resolve() for f in folders if f.exists())


def hidden_folders(extra=()) -> list[Path]:
    """What the child must not see: the course directory (``extra``: the one being graded, when it
    is not the default) and the checkout."""
    folders = (paths.course_dir(), paths.checkout_root(), *extra)
    return _outermost(Path(f).resolve() for f in folders if f and Path(f).exists())


def _outermost(folders) -> list[Path]:
    kept: list[Path] = []
    for folder in sorted(set(folders), key=lambda p: len(p.parts)):
        if not any(folder.is_relative_to(k) for k in kept):
            kept.append(folder)
    return kept


def _bwrap(argv: list[str], sandbox: Path, hide=()) -> list[str]:
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
           "--ro-bind-try", "/sys", "/sys", "--tmpfs", "/tmp", "--size", str(64 << 20), "--tmpfs", "/dev/shm"]
    for name in ("bin", "lib", "lib64", "sbin", "lib32"):  # merged /usr: these are symlinks
        link = Path("/") / name
        if link.is_symlink():
            cmd += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            cmd += ["--ro-bind", str(link), str(link)]
    for folder in visible_folders():
        cmd += ["--ro-bind", str(folder), str(folder)]
    for folder in hidden_folders(hide):  # a course kept inside a visible folder is covered again
        if any(folder.is_relative_to(v) for v in visible_folders()):
            cmd += ["--tmpfs", str(folder)]
    for device in gpu_devices() if devices.allowed() else ():  # otherwise they do not exist in there
        cmd += ["--dev-bind", str(device), str(device)]
    real = sandbox.resolve()
    cmd += ["--bind", str(real), str(real), "--chdir", str(real / "work"), "--"]
    return cmd + argv


def gpu_devices() -> list[Path]:
    """The NVIDIA device files of this machine (a GPU server's ``/dev/nvidia0``, ``/dev/nvidiactl``...)."""
    return sorted(Path("/dev").glob("nvidia*"))


def _unshare(argv: list[str], sandbox: Path, hide=()) -> list[str]:
    real = sandbox.resolve()
    hide = [str(h) for h in hidden_folders(hide)]
    keep = [str(k) for k in [*visible_folders(), real]]
    mask = [] if devices.allowed() else [str(d) for d in gpu_devices()]  # CUDA_VISIBLE_DEVICES can be unset
    return [*_UNSHARE, "sh", "-c", _UNSHARE_SCRIPT, "isolate", str(real), *hide, "--", *keep, "--", *mask, "--",
            *argv]


_WRAPPERS = {"bwrap": _bwrap, "unshare": _unshare, "none": lambda argv, sandbox, hide=(): list(argv)}
_NEEDS = {"bwrap": ("bwrap",), "unshare": ("unshare", "setpriv"), "none": ()}


def wrap(argv: list[str], sandbox: Path, hide=()) -> list[str]:
    """``argv`` inside the chosen backend; ``sandbox`` (holding ``work/``) is its only writable folder;
    ``hide``: folders to keep unseen besides the default course directory and the checkout."""
    return _WRAPPERS[backend()](argv, sandbox, hide)


@lru_cache(maxsize=1)
def backend() -> str:
    """The backend used in this process: the forced one, else the first that works here."""
    forced = paths.isolation_backend()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f"RESNET_SIGNS_ISOLATION must be one of {', '.join(BACKENDS)}. Received: {forced!r}")
        if not works(forced):
            raise RuntimeError(f"RESNET_SIGNS_ISOLATION={forced} does not work on this machine ({why_not(forced)})")
        return forced
    return next(b for b in BACKENDS if works(b))


@lru_cache(maxsize=None)
def works(name: str) -> bool:
    """Whether backend ``name`` can run a command here (probed once per process)."""
    if name == "none":
        return True
    if not all(shutil.which(tool) for tool in _NEEDS[name]):
        return False
    try:
        with tempfile.TemporaryDirectory(prefix="resnet-signs-probe-") as folder:
            (Path(folder) / "work").mkdir()
            probe = subprocess.run(_WRAPPERS[name](["true"], Path(folder)), capture_output=True, timeout=30,
                                   cwd=Path(folder) / "work")
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def why_not(name: str) -> str:
    missing = [tool for tool in _NEEDS[name] if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} not installed"
    return "unprivileged user namespaces are disabled or refused"


def notes() -> list[str]:
    """What the child gets, for the record and for the run's one-line summary."""
    chosen = backend()
    found = ["own process group", "private working and temporary folders"]
    if chosen == "bwrap":
        found += ["bubblewrap: only the Python environment, the package and the data visible (read-only)",
                  "no network", "own PID namespace", "no capabilities"]
    elif chosen == "unshare":
        found += ["unshare: filesystem read-only, course directory and checkout hidden",
                  "no network", "own PID namespace", "no capabilities"]
    else:
        found += ["NO namespaces: network, filesystem and course directory reachable "
                  f"(bwrap: {why_not('bwrap')}; unshare: {why_not('unshare')})"]
    limit = ProcessLimit.available()
    found.append(f"at most {MAX_PIDS} processes/threads (pids cgroup)" if limit
                 else "no process-count limit (no writable pids cgroup)")
    found.append(devices.note())
    return found


def summary() -> str:
    """One line for the instructor's terminal."""
    chosen = backend()
    limit = f"process cap {MAX_PIDS} (cgroup)" if ProcessLimit.available() else "no process cap"
    if chosen == "none":
        return (f"isolation: NONE ({why_not('bwrap')}); student code can read the course directory; {limit}; "
                f"{devices.note()}")
    return f"isolation: {chosen} (no network, course directory hidden, own PID namespace); {limit}; {devices.note()}"


def missing() -> str | None:
    """What ``--require-isolation`` lacks here, in one line; ``None`` when namespaces work."""
    if backend() != "none":
        return None
    return f"no namespaces for the sandbox: bwrap: {why_not('bwrap')}; unshare: {why_not('unshare')}"


def exit_signal(returncode: int | None) -> int | None:
    """The signal that killed the child: negative status, or 128 + n through the namespace's init."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    if backend() != "none" and 128 < returncode < 128 + 65:
        return returncode - 128
    return None


class ProcessLimit:
    """A pids cgroup for one child: a process cap, and a way to kill everything it ever started."""

    def __init__(self, root: Path):
        self.path = root / f"resnet-signs-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(MAX_PIDS))

    @staticmethod
    @lru_cache(maxsize=1)
    def root() -> Path | None:
        """A pids cgroup folder where we may create children (v1 hierarchy, or v2 root with pids)."""
        v1 = Path("/sys/fs/cgroup/pids")
        if (v1 / "cgroup.procs").exists() and os.access(v1, os.W_OK):
            return v1
        v2 = Path("/sys/fs/cgroup")
        controllers = v2 / "cgroup.subtree_control"
        if controllers.exists() and "pids" in controllers.read_text().split() and os.access(v2, os.W_OK):
            return v2
        return None

    @classmethod
    def available(cls) -> bool:
        return cls.root() is not None

    @classmethod
    def create(cls) -> "ProcessLimit | None":
        root = cls.root()
        if root is None:
            return None
        try:
            return cls(root)
        except OSError:
            return None

    def enter(self, argv: list[str]) -> list[str]:
        """``argv`` prefixed so the child joins this cgroup before it execs (its descendants follow)."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *argv]

    def add(self, pid: int) -> None:
        """Move a running process (not yet running student code) into the cgroup."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def count(self) -> int:
        """Processes and threads in the cgroup now."""
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return len(self.pids())

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup until it is empty (new forks included), then remove it."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            self.path.rmdir()
        except OSError:
            pass
