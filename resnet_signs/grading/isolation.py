"""What the sandbox child can see and how many processes it may start.

Every backend builds the same view (:func:`layout`), chosen once per process
(``RESNET_SIGNS_ISOLATION`` forces one: ``bwrap``, ``unshare`` or ``none``):

- an empty root holding only the system (``/usr``, ``/etc``, ``/sys``), the Python installation and
  the grader's environment, the installed ``resnet_signs`` package and the data, all read-only; a
  fresh ``/proc`` of its own PID namespace (``/proc/sys`` read-only), a ``/dev`` with only the
  harmless devices, small private ``/tmp`` and ``/dev/shm``, and its own sandbox folder writable.
  Nothing else exists in there: not the course directory, the checkout, home directories, other
  sandbox or grading folders, nor any submission but the child's own;
- new user, network, PID, IPC, UTS and cgroup namespaces; no capabilities; it dies with the grader.

``bwrap`` (bubblewrap) builds it from its command line; ``unshare`` (util-linux), the fallback,
builds it with a small shell script (:data:`_UNSHARE_SCRIPT`) inside new namespaces and
``pivot_root``\\ s into it. ``none`` (no namespaces available) leaves the whole machine readable and
says so; ``resnet-signs grade --require-isolation`` refuses to grade there.

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
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from resnet_signs import paths
from resnet_signs.grading import devices

BACKENDS = ("bwrap", "unshare", "none")
#: Processes (threads count too: TensorFlow starts ~40) one submission may have at once.
MAX_PIDS = 512
#: Processes and threads at which a child is stopped (by the runner), so that the step that left
#: them running pays (its function gets ``error``), not the next one whose thread creation fails.
PROCESS_KILL = int(MAX_PIDS * 0.9)
#: Size of each private tmpfs the child may write (``/tmp``, ``/dev/shm``): files there hold memory
#: that no process's resident size shows, so they are small.
TMPFS_BYTES = 64 << 20
#: Entries of ``/proc`` that reach the whole machine: read-only in there (the child runs as the
#: grader's user, root on many servers, and ``/proc/sys/kernel/core_pattern`` would run a program as root).
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")
#: The devices of the child's ``/dev`` (besides the GPUs', when grading may use them).
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


@dataclass(frozen=True)
class Mount:
    """One step of the child's view, applied in order by every backend.

    Attributes:
        kind: ``ro`` (bound read-only, recursively), ``link`` (a symlink to ``target``), ``sys`` (sysfs,
            read-only: bubblewrap binds the machine's, unshare mounts its network namespace's own), ``proc``
            (the PID namespace's own, :data:`PROC_COVERED` read-only), ``dev`` (a tmpfs holding
            :data:`DEVICES`), ``tmpfs`` (empty, private, :data:`TMPFS_BYTES`, writable), ``hide`` (an empty
            read-only tmpfs over a folder),
            ``device`` (one device file bound) or ``rw`` (bound writable: the sandbox folder).
        path: where it appears in the child (the same path as outside).
        target: a link's target.
    """

    kind: str
    path: str
    target: str = ""


def visible_folders() -> list[Path]:
    """What the child must read: the Python installation and environment, the package, the data."""
    import resnet_signs

    folders = [Path(sys.base_prefix), Path(sys.prefix), Path(resnet_signs.__file__).parent, paths.data_dir()]
    folders += [Path(p) for p in site.getsitepackages()]
    return _outermost(f.resolve() for f in folders if f.exists())


def hidden_folders(extra=()) -> list[Path]:
    """What the child must not see even where a visible folder holds it: the course directory
    (``extra``: the one being graded, when it is not the default) and the checkout."""
    folders = (paths.course_dir(), paths.checkout_root(), *extra)
    return _outermost(Path(f).resolve() for f in folders if f and Path(f).exists())


def _outermost(folders) -> list[Path]:
    kept: list[Path] = []
    for folder in sorted(set(folders), key=lambda p: len(p.parts)):
        if not any(folder.is_relative_to(k) for k in kept):
            kept.append(folder)
    return kept


def layout(sandbox: Path, hide=()) -> list[Mount]:
    """The child's whole filesystem, in the order it is built (later steps cover earlier ones).

    Order matters: ``/tmp`` before the visible folders (an environment may live under ``/tmp``),
    the visible folders before the hidden ones they hold, the sandbox folder last (it may lie
    inside a visible one, where it must stay writable).
    """
    system = [Path("/usr"), Path("/etc")]
    mounts = [Mount("ro", str(folder)) for folder in system]
    for name in ("bin", "lib", "lib64", "sbin", "lib32"):  # merged /usr: these are symlinks
        link = Path("/") / name
        if link.is_symlink():
            mounts.append(Mount("link", str(link), os.readlink(link)))
        elif link.is_dir():
            system.append(link)
            mounts.append(Mount("ro", str(link)))
    mounts += [Mount("sys", "/sys"), Mount("proc", "/proc"), Mount("dev", "/dev"), Mount("tmpfs", "/tmp"),
               Mount("tmpfs", "/dev/shm")]
    visible = [v for v in visible_folders() if not any(v.is_relative_to(s) for s in system)]
    mounts += [Mount("ro", str(folder)) for folder in visible]
    mounts += [Mount("hide", str(folder)) for folder in hidden_folders(hide)
               if any(folder.is_relative_to(v) for v in visible)]  # elsewhere they do not exist in there
    if devices.allowed():  # otherwise the GPUs' device files do not exist in there
        mounts += [Mount("device", str(device)) for device in gpu_devices()]
    return [*mounts, Mount("rw", str(sandbox.resolve()))]


def _bwrap(argv: list[str], sandbox: Path, hide=()) -> list[str]:
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    for mount in layout(sandbox, hide):
        cmd += _BWRAP[mount.kind](mount)
    # The empty root and /dev are tmpfs too: read-only, or files there would hold unaccounted memory.
    cmd += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(sandbox.resolve() / "work"), "--"]
    return cmd + argv


_BWRAP = {
    "ro": lambda m: ["--ro-bind", m.path, m.path],
    "sys": lambda m: ["--ro-bind-try", m.path, m.path],
    "link": lambda m: ["--symlink", m.target, m.path],
    "proc": lambda m: ["--proc", m.path] + [arg for name in PROC_COVERED  # bubblewrap covers only some
                                            for arg in ("--ro-bind-try", f"/proc/{name}", f"{m.path}/{name}")],
    "dev": lambda m: ["--dev", m.path],
    "tmpfs": lambda m: ["--size", str(TMPFS_BYTES), "--tmpfs", m.path],  # --size applies to the next tmpfs
    "hide": lambda m: ["--size", "4096", "--tmpfs", m.path, "--remount-ro", m.path],
    "device": lambda m: ["--dev-bind", m.path, m.path],
    "rw": lambda m: ["--bind", m.path, m.path],
}


def gpu_devices() -> list[Path]:
    """The NVIDIA device files of this machine (a GPU server's ``/dev/nvidia0``, ``/dev/nvidiactl``...)."""
    return sorted(Path("/dev").glob("nvidia*"))


# The unshare fallback: run as root of new user, mount, PID... namespaces (``unshare --mount-proc``
# gave it a /proc of its own). It builds the layout on a tmpfs inside the sandbox folder, makes every
# mount read-only but the writable ones, and pivots into it: the old root is detached, so nothing of
# the machine is left but what was bound. Arguments: SANDBOX, the layout as "KIND PATH [TARGET]"
# words up to "--", then the command.
_UNSHARE_SCRIPT = r"""
set -eu
SANDBOX="$1"; shift
WORK="$PWD"; CALLER_PATH="$PATH"; PATH="/usr/sbin:/usr/bin:/sbin:/bin:$PATH"
NEW="$SANDBOX/.root"; NL='
'; RW="$NL"
rm -rf "$NEW"; mkdir "$NEW"  # never a link an earlier child of this sandbox left there
mount -t tmpfs -o size=1m,mode=755 tmpfs "$NEW"
while [ "$1" != "--" ]; do
  kind="$1"; p="$2"; d="$NEW$2"; shift 2
  case "$kind" in
    ro) mkdir -p "$d"; mount --rbind -o ro "$p" "$d";;
    sys) mkdir -p "$d"; mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$d";;
    link) ln -s "$1" "$d"; shift;;
    proc) mkdir -p "$d"; mount --rbind /proc "$d"; RW="$RW$d$NL"
      for name in __PROC_COVERED__; do [ ! -e "$d/$name" ] || mount --bind -o ro "$d/$name" "$d/$name"; done;;
    dev) mkdir -p "$d"; mount -t tmpfs -o size=64k,mode=755,nosuid tmpfs "$d"; cd "$d"; touch __DEVICES__
      for name in __DEVICES__; do mount --bind -o ro "/dev/$name" "$name"; done
      ln -s /proc/self/fd fd; ln -s /proc/self/fd/0 stdin; ln -s /proc/self/fd/1 stdout; ln -s /proc/self/fd/2 stderr
      cd /;;
    tmpfs) mkdir -p "$d"; mount -t tmpfs -o size=__TMPFS_BYTES__,mode=1777,nosuid,nodev tmpfs "$d"; RW="$RW$d$NL";;
    hide) mount -t tmpfs -o ro,size=4k,mode=755 tmpfs "$d";;
    device) touch "$d"; mount --bind -o ro "$p" "$d";;
    rw) mkdir -p "$d"; mount --bind "$p" "$d"; RW="$RW$d$NL";;
    *) echo "isolate: unknown mount kind $kind" >&2; exit 1;;
  esac
done
shift
# Every mount of the new root read-only but the writable ones (a failure stops here: fails closed).
awk '$6 ~ /^rw/ {print $5}' /proc/self/mountinfo | while IFS= read -r m; do
  case "$m" in *\\*) m=$(printf '%b' "$m");; esac  # mountinfo escapes a space as \040
  case "$m" in "$NEW"|"$NEW"/*) ;; *) continue;; esac
  case "$RW" in *"$NL$m$NL"*) continue;; esac
  mount -o remount,bind,ro "$m"
done
cd "$NEW"
pivot_root . .  # the old root now lies over the new one: detach it
umount -l .
cd "$WORK"  # the working folder, through the sandbox's bind mount
rmdir "$SANDBOX/.root"
SETPRIV=$(command -v setpriv); PATH="$CALLER_PATH"
# Not exec'd: this shell stays PID 1 of the namespace, so the child is an ordinary process
# (signals such as SIGSEGV kill it) and its fate comes back as the shell's status (128 + signal).
"$SETPRIV" --bounding-set=-all --inh-caps=-all --no-new-privs "$@" && exit 0 || exit $?
""".replace("__PROC_COVERED__", " ".join(PROC_COVERED)).replace("__DEVICES__", " ".join(DEVICES)).replace(
    "__TMPFS_BYTES__", str(TMPFS_BYTES))

_UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
            "--mount-proc", "--ipc", "--uts", "--cgroup"]


def _unshare(argv: list[str], sandbox: Path, hide=()) -> list[str]:
    words = []
    for mount in layout(sandbox, hide):
        words += [mount.kind, mount.path, *([mount.target] if mount.kind == "link" else [])]
    return [*_UNSHARE, "sh", "-c", _UNSHARE_SCRIPT, "isolate", str(sandbox.resolve()), *words, "--", *argv]


_WRAPPERS = {"bwrap": _bwrap, "unshare": _unshare, "none": lambda argv, sandbox, hide=(): list(argv)}
_NEEDS = {"bwrap": ("bwrap",), "unshare": ("unshare", "setpriv", "pivot_root"), "none": ()}


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


@cache
def works(name: str) -> bool:
    """Whether backend ``name`` can run a command here (probed once per process)."""
    if name == "none":
        return True
    if not all(shutil.which(tool) for tool in _NEEDS[name]):
        return False
    try:
        with tempfile.TemporaryDirectory(prefix="resnet-signs-probe-") as folder:
            (Path(folder) / "work").mkdir()
            probe = subprocess.run(_WRAPPERS[name](["true"], Path(folder)), check=False, capture_output=True,
                                   timeout=30,
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
    if chosen in ("bwrap", "unshare"):
        tool = "bubblewrap" if chosen == "bwrap" else "unshare"
        found += [f"{tool}: only the Python environment, the package and the data visible (read-only)",
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
    return (f"isolation: {chosen} (only the environment, the package and the data visible; no network; "
            f"own PID namespace); {limit}; {devices.note()}")


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
    def create(cls) -> ProcessLimit | None:
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

    def kill_all(self, wait: float = 10.0) -> bool:
        """SIGKILL every process in the cgroup until it is empty (new forks included), then remove it.

        The wait is bounded (``wait`` seconds): hundreds of processes with a large address space take
        seconds to exit on a busy machine. Returns whether the cgroup emptied (else it is left behind).
        """
        deadline = time.monotonic() + wait
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            self.path.rmdir()
        except OSError:
            return False
        return True
