"""The processes a step left running are gone before the next step starts.

Runs in the sandbox child after each step, before it reports the step's end (no student code runs
meanwhile). Whatever the step started and left behind — a fork bomb's sleepers, a detached server —
is killed and waited for, so it never counts against the process cap (:mod:`.isolation`) while the
next step runs: that step's own threads and forks would fail, and a function that did nothing
wrong would pay for the one that did. The wait is bounded and part of the step, so the step that
left the processes pays for its time, and for the processes that would not die.

Which processes are the step's: in the sandbox's own PID namespace, every process but this one
and its ancestors (the namespace's init, the zygote); without one (isolation ``none``), this
process's descendants only (orphans are the runner's business: it is a subreaper).
"""

from __future__ import annotations

import os
import signal
import time

#: The shortest wait for a step's processes to die (SIGKILL): hundreds of forks of a process that
#: holds TensorFlow take seconds to exit on a busy machine (each unmaps a large address space).
WAIT = 5.0
_POLL = 0.005


def _parents() -> dict[int, int]:
    """Every process this process can see in ``/proc``: pid -> parent pid."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                    parents[int(name)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return parents


def left(own_namespace: bool) -> list[int]:
    """The processes that are not this one, its ancestors or (without a namespace) someone else's."""
    parents, me = _parents(), os.getpid()
    ancestors, pid = {me}, me
    while pid in parents and parents[pid] not in ancestors and parents[pid] > 0:
        pid = parents[pid]
        ancestors.add(pid)
    if own_namespace:
        return sorted(p for p in parents if p not in ancestors)
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(me, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return sorted(found)


def _reap() -> None:
    """Collect this process's dead children: a zombie still counts against the cap."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def threads() -> int:
    """This process's threads (a cap counts them as processes)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def hold_while_crowded(crowded: int, wait: float = WAIT) -> int:
    """Wait (at most ``wait`` seconds) while this process has ``crowded`` threads or more: the runner
    stops a child that crowded, charging the step still running, which is this one, not the next.

    Returns:
        the threads left after the wait.
    """
    deadline = time.monotonic() + wait
    while (count := threads()) >= crowded and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def end(own_namespace: bool, wait: float = WAIT) -> tuple[int, int]:
    """Kill every process the step left and wait until none is left (at most ``wait`` seconds).

    Returns:
        ``(killed, remaining)``: how many processes were killed, how many still exist after the wait.
    """
    deadline, killed = time.monotonic() + wait, set()
    while True:
        _reap()
        remaining = left(own_namespace)
        if not remaining or time.monotonic() > deadline:
            return len(killed), len(remaining)
        for pid in remaining:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError:
                pass  # gone meanwhile
        time.sleep(_POLL)
