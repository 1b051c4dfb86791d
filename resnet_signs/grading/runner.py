"""Run one sandbox child under limits: isolation, report channel, output cap, memory and time watch.

The parent never runs student code. It starts ``resnet_signs.grading.sandbox`` in its own
process group with the plan on stdin and the write end of a report pipe
(:mod:`resnet_signs.grading.channel`), drains its stdout/stderr (keeping at most
``output_bytes``: the head and the tail), watches the resident memory of the whole process tree
(psutil) and the step events, and kills the tree when a step outlives its limit (the child's own
interrupt should have fired), when a function outlives its budget, on a memory overrun or at the
submission's deadline. Which function pays for a memory overrun is decided by retained growth:
the section whose steps grew the tree's memory most. Why a child was stopped is a :class:`Kill`, which
maps to the one outcome vocabulary (:class:`~.model.Status`). Restarts are :mod:`.core`'s business.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import psutil

from resnet_signs import paths
from resnet_signs.grading import channel, devices, isolation, zygote
from resnet_signs.grading.channel import Event, EventKind
from resnet_signs.grading.model import Limits, SectionClock, Status
from resnet_signs.grading.plan import ChildPlan

#: The parent's own kill comes this long after the child's per-cell interrupt should have fired.
CELL_GRACE = 5.0
#: Largest file the child may write (RLIMIT_FSIZE, set by the child itself before any student
#: code: no ``preexec_fn``, which is unsafe in a threaded parent such as a Dask worker).
MAX_FILE_BYTES = 512 * 1024 * 1024
POLL = 0.1
#: Processes and threads in the child's cgroup at which it is stopped (the child itself kills what a
#: step left before the next one starts, :mod:`.strays`; this catches what it cannot: threads).
PROCESS_KILL = isolation.PROCESS_KILL

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


def command(channel_fd: int, sandbox: Path, hide=()) -> list[str]:
    """The sandbox child's command line, inside the isolation backend (``hide``: the course)."""
    argv = [sys.executable, "-m", "resnet_signs.grading.sandbox", "--channel", str(channel_fd)]
    return isolation.wrap(argv, sandbox, hide)


def tree_rss(process: psutil.Process | None) -> int:
    """The resident memory of ``process`` and all its descendants, in bytes (0 for None; gone ones count 0)."""
    if process is None:
        return 0
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


def _tree_pss(process: psutil.Process | None) -> int:
    """Proportional set size of the tree: forked children's shared pages are counted once, not per
    process as RSS counts them (slower to read: only checked when the RSS sum is over the limit)."""
    total = 0
    if process is None:
        return 0
    try:
        for p in [process, *process.children(recursive=True)]:
            try:
                total += p.memory_full_info().pss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def _kill_tree(proc) -> None:
    if proc.pid is None:
        return
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


class Kill(Enum):
    """Why the runner stopped a child, and the status the step it charges gets."""

    MEMORY = "memory"  # the tree went over the memory limit
    PROCESSES = "processes"  # too many processes or threads in its cgroup
    CELL_TIME = "cell-timeout"  # a step ran past its limit and ignored the interrupt
    FUNCTION_TIME = "function-timeout"  # ... and past its function's budget
    TOTAL_TIME = "total-timeout"  # the whole submission's time is up
    CHANNEL = "channel"  # it flooded the report channel (a line over MAX_LINE or a total over MAX_TOTAL)

    @property
    def status(self) -> Status:
        return {Kill.MEMORY: Status.MEMORY, Kill.PROCESSES: Status.ERROR, Kill.CHANNEL: Status.ERROR}.get(
            self, Status.TIMEOUT)


@dataclass
class Attempt:
    """One child's run: how it ended, its events, and where memory grew.

    Attributes:
        returncode: the child's exit status.
        killed: why the runner stopped it, or ``None`` when it ended by itself.
        events: the validated channel events, in order.
        running: the step that started and never ended (the one the child died in), if any.
        growth: step -> resident memory the tree gained while it ran (bytes; the running step's so far).
        proc_growth: step -> processes and threads it left running (where a pids cgroup counts them).
        dropped: lines on the channel that were not well-formed events.
    """

    returncode: int | None
    killed: Kill | None
    events: list[Event]
    running: int | None
    growth: dict[int, int] = field(default_factory=dict)
    proc_growth: dict[int, int] = field(default_factory=dict)
    dropped: int = 0

    @property
    def finished(self) -> bool:
        return any(e.kind is EventKind.DONE for e in self.events)

    @property
    def status(self) -> Status:
        """The status of the step it died in: the kill's, or ``error`` for a crash."""
        return self.killed.status if self.killed is not None else Status.ERROR


class _Watch:
    """The running step, its start and limit, and each section's time in this child (a
    :class:`~.model.SectionClock` kept from the events: the runner trusts no time the child reports)."""

    def __init__(self, sections: list, limits: Limits):
        self.sections, self.clock = sections, SectionClock(limits)
        self.running, self.since, self.limit = None, 0.0, 0.0
        self.rss_at_start, self.growth = 0, {}
        self.procs_at_start, self.proc_growth = 0, {}

    def update(self, event: Event, now: float, rss: int, procs: int = 0) -> None:
        if event.kind is EventKind.START and event.step < len(self.sections):
            self.running, self.since, self.rss_at_start, self.procs_at_start = event.step, now, rss, procs
            self.limit = self.clock.limit(self.sections[event.step])
        elif event.kind is EventKind.END and event.step == self.running:
            self.clock.charge(self.sections[event.step], now - self.since)
            self.growth[event.step] = rss - self.rss_at_start
            self.proc_growth[event.step] = procs - self.procs_at_start
            self.running = None

    def overrun(self, now: float) -> Kill | None:
        if self.running is None:
            return None
        elapsed = now - self.since
        if elapsed > self.limit + CELL_GRACE:
            over = self.clock.over_budget(self.sections[self.running], elapsed)
            return Kill.FUNCTION_TIME if over else Kill.CELL_TIME
        return None


def run_child(plan: ChildPlan, *, sandbox: Path, env: dict, limits: Limits, deadline: float, output: Output,
              hide=()) -> Attempt:
    """Run one child on ``plan`` until it exits or is killed; ``deadline`` is a ``time.monotonic()`` value.

    Whatever the child started is dead when this returns: its pids cgroup is emptied where there
    is one, else its PID namespace died with it, else its process group and known descendants
    are killed (a grandchild that called ``setsid`` and was orphaned is found as a child of this
    process, which is a subreaper).
    """
    _become_subreaper()
    limit = isolation.ProcessLimit.create()
    read_end, write_end = os.pipe()
    try:
        proc = _start(sandbox, env, hide, write_end, limit)
    finally:
        os.close(write_end)
    reader = channel.Reader(read_end).start()
    feeder = threading.Thread(target=_feed, args=(proc.stdin, json.dumps(plan.to_json()).encode()), daemon=True)
    feeder.start()
    drain = threading.Thread(target=_drain, args=(proc.stdout, output), daemon=True)
    drain.start()
    watched, watch = _process(proc.pid), _Watch([s.function for s in plan.steps], limits)
    killed, peak, seen = None, 0, 0
    memory_limit = limits.memory_mb * 1024 * 1024
    while proc.poll() is None:
        time.sleep(POLL)
        rss, now = tree_rss(watched), time.monotonic()
        procs = limit.count() if limit is not None else 0
        peak = max(peak, rss)
        new = reader.snapshot(seen)
        seen += len(new)
        for event in new:
            watch.update(event, now, rss, procs)
        if procs >= PROCESS_KILL:  # the next thread or fork fails: whoever runs next would pay
            killed = Kill.PROCESSES
        elif reader.overflow:  # it would block on a full pipe, or die of a broken one: the flooder pays
            killed = Kill.CHANNEL
        elif rss > memory_limit and _tree_pss(watched) > memory_limit:
            killed = Kill.MEMORY
        elif now > deadline:
            killed = Kill.TOTAL_TIME
        else:
            killed = watch.overrun(now)
        if killed:
            _kill_tree(proc)
            break
    procs_at_end = limit.count() if limit is not None else 0
    proc.wait()
    _kill_tree(proc)  # leftovers of a finished child (background processes it started)
    if limit is not None:
        limit.kill_all()
    _reap_orphans(sandbox)
    drain.join(timeout=5)
    reader.join(timeout=5)
    proc.stdout.close()
    now = time.monotonic()
    if killed is None and reader.overflow:  # the child died of the broken pipe before the watch saw it
        killed = Kill.CHANNEL
    for event in reader.snapshot(seen):
        watch.update(event, now, tree_rss(watched), procs_at_end)
    if watch.running is not None:
        watch.growth[watch.running] = peak - watch.rss_at_start
        watch.proc_growth[watch.running] = procs_at_end - watch.procs_at_start
    return Attempt(returncode=proc.returncode, killed=killed, events=reader.snapshot(), running=watch.running,
                   growth=watch.growth, proc_growth=watch.proc_growth, dropped=reader.dropped)


_subreaper = False


def _become_subreaper() -> None:
    """Orphaned descendants of our children re-parent to this process instead of init (Linux)."""
    global _subreaper
    if _subreaper or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap_orphans(sandbox: Path) -> None:
    """Kill the sandbox's processes that were re-parented to us (they left the process group and
    there is neither a PID namespace nor a cgroup to catch them); they carry the sandbox's HOME."""
    if not _subreaper:
        return
    home = str(sandbox / "home")
    for child in psutil.Process().children():
        try:
            if child.environ().get("HOME") == home:
                child.kill()
                child.wait(timeout=5)
        except psutil.Error:
            pass


def child_env(sandbox: Path, threads: int = 0) -> dict:
    """The child's whole environment: no course path, no secret of the grader's.

    ``threads``: TensorFlow threads for the child (0: TensorFlow's default, every core), so that
    several workers' children share the cores without oversubscribing them.
    """
    env = {
        "PATH": paths.executable_path(),
        "HOME": str(sandbox / "home"),
        "TMPDIR": str(sandbox / "tmp"),
        "MPLCONFIGDIR": str(sandbox / "tmp"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "NBGRADER_EXECUTION": "autograde",  # training cells run their smoke budget
        "RESNET_SIGNS_DATA": str(paths.data_dir()),
        "RESNET_SIGNS_MODELS": str(sandbox / "tmp" / "models"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_DETERMINISTIC_OPS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # The child imports the package the grader runs (a checkout on PYTHONPATH, a --target install),
        # not whatever the environment's own finder points at, which the sandbox may not show.
        "PYTHONPATH": str(paths.PROJECT_ROOT),
    }
    if threads:  # read by TensorFlow and oneDNN when their thread pools start
        env.update({"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(min(threads, 2)),
                    "OMP_NUM_THREADS": str(threads)})
    if isolation.backend() != "none":  # every process in its namespace is the submission's (strays.py)
        env[paths.SANDBOX_PID_NAMESPACE_ENV] = "1"
    env.update(paths.passed_to_sandbox())
    env.update(devices.for_children())
    return env


def prestart(course_root: Path, threads: int = 0) -> None:
    """Start this process's zygote now (it imports TensorFlow while the caller does its own work)."""
    if paths.use_zygote():
        try:
            zygote.shared(child_env(Path(course_root) / "unused", threads), (course_root,))
        except (zygote.ZygoteError, OSError):
            pass  # children will start from scratch


def sandbox_folder(workdir: Path, env: dict, hide=()) -> Path:
    """Where the next child's folder goes: under the zygote's writable folder when children are
    forked (``env``/``hide``: what the child will get, which decides the zygote), else in ``workdir``."""
    if paths.use_zygote():
        try:
            return zygote.shared(env, tuple(hide)).sandbox()
        except zygote.ZygoteError:
            pass  # children start from scratch
    return Path(workdir) / "sandbox"


def _start(sandbox: Path, env: dict, hide: tuple, channel_fd: int, limit):
    """The child, forked by this process's zygote when its folder is under the zygote's, else a new process."""
    hide = tuple(hide)
    if paths.use_zygote():
        try:
            server = zygote.shared(env, hide)
            if sandbox.resolve().is_relative_to(server.root):
                return _fork(server, sandbox, env, channel_fd, limit)
        except zygote.ZygoteError:
            pass  # started directly below
    # A zygote replaced since this folder was chosen (killed by the previous child) took the folder
    # with it: the child started directly gets it back, empty.
    for sub in ("work", "home", "tmp"):
        (sandbox / sub).mkdir(parents=True, exist_ok=True)
    argv = command(channel_fd, sandbox, hide)
    if limit is not None:
        argv = limit.enter(argv)
    return subprocess.Popen(argv, cwd=sandbox / "work", env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(channel_fd,))


def _fork(server, sandbox: Path, env: dict, channel_fd: int, limit):
    plan_r, plan_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        child = server.spawn(sandbox / "work", env, [plan_r, out_w, channel_fd])
    except zygote.ZygoteError:
        for fd in (plan_r, plan_w, out_r, out_w):
            os.close(fd)
        raise
    finally:
        for fd in (plan_r, out_w):
            try:
                os.close(fd)
            except OSError:
                pass
    if limit is not None and child.pid is not None:
        limit.add(child.pid)  # before it reads its plan: no student code has run yet
    child.stdin, child.stdout = os.fdopen(plan_w, "wb"), os.fdopen(out_r, "rb")
    return child


def _process(pid: int | None):
    try:
        return psutil.Process(pid) if pid is not None else None
    except psutil.Error:
        return None


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (OSError, ValueError):
        pass  # the child died before reading its plan: its exit status tells why


def _drain(pipe, output: Output) -> None:
    try:
        while chunk := pipe.read1(65536):
            output.add(chunk)
    except (OSError, ValueError):
        pass
