"""A fork server for sandbox children: TensorFlow is imported once per grading process, not per child.

The zygote is started like a sandbox child (inside the same isolation, :mod:`.isolation`, with
the same environment) and imports TensorFlow, Keras, IPython and the sandbox's own modules —
nothing that holds an answer, and before any student code exists. For each child the runner sends
it three file descriptors over a Unix socket (the plan's pipe, the output pipe, the report pipe)
and the child's folder and environment; the zygote forks, and the fork becomes an ordinary sandbox
child (:func:`resnet_signs.grading.sandbox.main`) in its own session. The zygote reports the
child's pid, waits for it and reports its exit status. It never runs student code, so every child
starts from the same clean state; a child cannot read or trace it (it is not dumpable), only kill
it, which costs that child its run and the next one a new zygote.

TensorFlow survives the fork because its runtime (thread pools, devices) starts on first use, which
happens in the child (measured: a forked child trains and evaluates like a fresh process).
Where forking is unwanted, ``RESNET_SIGNS_ZYGOTE=0`` starts every child from scratch.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

#: Variables that differ between children; any other difference needs a new zygote, since modules
#: read their environment when they are imported.
PER_CHILD = ("HOME", "TMPDIR", "MPLCONFIGDIR", "RESNET_SIGNS_MODELS")
PR_SET_DUMPABLE = 4


def _preload() -> None:
    """Everything a sandbox child imports before student code runs (no answers among them)."""
    from resnet_signs.quiet import import_tensorflow

    import_tensorflow()
    import IPython.core.interactiveshell  # noqa: F401 - preloaded: every fork starts with it
    import keras  # noqa: F401 - preloaded
    import matplotlib  # noqa: F401 - preloaded
    import numpy  # noqa: F401 - preloaded

    import resnet_signs.checks.capture
    import resnet_signs.checks.cases
    import resnet_signs.checks.standins
    import resnet_signs.grading.channel
    import resnet_signs.grading.model
    import resnet_signs.grading.sandbox
    import resnet_signs.grading.strays  # noqa: F401 - preloaded, as the ones above


def _dumpable(flag: int) -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _child(fds: list[int], request: dict) -> None:
    """In the fork: become a fresh sandbox child on the given pipes. Never returns."""
    code = 1
    try:
        os.setsid()
        plan_fd, out_fd, channel_fd = fds
        os.dup2(plan_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(plan_fd)
        os.close(out_fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        import tempfile

        tempfile.tempdir = None  # re-read TMPDIR: the zygote's answer was its own folder
        _dumpable(1)
        from resnet_signs.grading import sandbox

        code = sandbox.main(["sandbox", "--channel", str(channel_fd)])
    except BaseException:  # noqa: BLE001 - a broken fork must end, never return into the server loop
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code if isinstance(code, int) else 1)


def serve(sock: socket.socket) -> None:
    """Fork one child per request until the runner closes the socket."""
    _preload()
    _dumpable(0)  # children (and student code in them) cannot trace this process or read its memory
    sock.send(b'{"ready": true}')
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
        if not message:
            return
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            sock.close()
            _child(fds, request)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())
        _, status = os.waitpid(pid, 0)
        sock.send(json.dumps({"status": status}).encode())


class ZygoteError(RuntimeError):
    """The zygote did not start or stopped answering (the runner then starts children directly)."""


class ZygoteExited(ZygoteError):
    """The zygote's process is gone (and the children in its namespace with it)."""


class Zygote:
    """The runner's handle on one zygote: its folder (children's sandboxes live under it), its
    process and its socket. One child at a time."""

    def __init__(self, env: dict, hide: tuple = (), *, start_timeout: float = 180.0):
        from resnet_signs.grading import isolation

        self.key = _key(env, hide)
        self.root = Path(tempfile.mkdtemp(prefix="resnet-signs-zygote-")).resolve()
        own = self.root / "zygote"
        for sub in ("home", "tmp"):
            (own / sub).mkdir(parents=True)
        (self.root / "work").mkdir()
        zygote_env = {**env, "HOME": str(own / "home"), "TMPDIR": str(own / "tmp"), "MPLCONFIGDIR": str(own / "tmp"),
                      "RESNET_SIGNS_MODELS": str(own / "tmp" / "models")}
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [sys.executable, "-m", "resnet_signs.grading.zygote", "--socket", str(theirs.fileno())]
        with open(self.root / "zygote.log", "wb") as log:
            self.proc = subprocess.Popen(isolation.wrap(argv, self.root, hide), cwd=self.root / "work", env=zygote_env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         pass_fds=(theirs.fileno(),), start_new_session=True)
        theirs.close()
        atexit.register(self.close)
        self._start_timeout, self._ready = start_timeout, False  # it imports TensorFlow meanwhile

    def wait_ready(self) -> None:
        if not self._ready:
            try:
                self._receive(self._start_timeout, "ready")
            except ZygoteError:
                self.close()
                raise
            self._ready = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def sandbox(self) -> Path:
        """A new, empty folder for one child (inside the zygote's only writable folder)."""
        return self.root / f"s-{uuid.uuid4().hex[:12]}"

    def spawn(self, cwd: Path, env: dict, fds: list[int]) -> ForkedChild:
        """Fork a sandbox child on ``fds`` (plan pipe, output pipe, report pipe)."""
        self.wait_ready()
        try:
            socket.send_fds(self._sock, [json.dumps({"cwd": str(cwd), "env": env}).encode()], fds)
        except OSError as exc:
            raise ZygoteError(f"the zygote is gone: {exc}") from None
        ns_pid = self._receive(30, "pid")
        return ForkedChild(self, _global_pid(self.proc.pid, ns_pid))

    def _receive(self, timeout: float | None, field: str):
        self._sock.settimeout(timeout)
        try:
            message = self._sock.recv(4096)
        except (OSError, TimeoutError) as exc:
            raise ZygoteError(f"no answer from the zygote: {exc}") from None
        if not message:
            raise ZygoteExited(f"the zygote exited (see {self.root / 'zygote.log'})")
        return json.loads(message)[field]

    def close(self) -> None:
        try:
            self._sock.close()
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class ForkedChild:
    """What the runner needs of a ``Popen`` for a child the zygote forked."""

    def __init__(self, zygote: Zygote, pid: int | None):
        self.zygote, self.pid, self.returncode = zygote, pid, None
        self.stdin = self.stdout = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                self._set(self.zygote._receive(0, "status"))
            except ZygoteExited:  # the zygote died, and the child with it (same namespace)
                self.returncode = -signal.SIGKILL
            except ZygoteError:
                pass  # no status yet
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            try:
                self._set(self.zygote._receive(None, "status"))
            except ZygoteError:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def _set(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)


def _key(env: dict, hide: tuple) -> tuple:
    return (tuple(sorted((k, v) for k, v in env.items() if k not in PER_CHILD)),
            tuple(str(Path(h).resolve()) for h in hide))


def _global_pid(zygote_pid: int, ns_pid: int) -> int | None:
    """The pid outside the namespace of the zygote's child whose pid inside is ``ns_pid``."""
    import psutil

    try:
        candidates = psutil.Process(zygote_pid).children(recursive=True)
    except psutil.Error:
        return None
    for process in candidates:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("NSpid:") and int(line.split()[-1]) == ns_pid:
                        return process.pid
        except (OSError, ValueError):
            continue
    return None


_current: Zygote | None = None


def shared(env: dict, hide: tuple = ()) -> Zygote:
    """This process's zygote for children with ``env`` and ``hide``, (re)started when needed."""
    global _current
    if _current is not None and (not _current.alive() or _current.key != _key(env, hide)):
        _current.close()
        _current = None
    if _current is None:
        _current = Zygote(env, hide)
    return _current


def _importable_for_every_child(entry: str) -> bool:
    """Whether ``entry`` may stay on the import path the children inherit.

    Every child can write what the zygote can (its folder; inside the isolation, its ``/tmp``): a
    module one student planted on the import path would run in the next one's notebook. ``python -m``
    put the working folder (``<zygote folder>/work``) first; inside the isolation an entry may also be
    missing (creatable) or writable where the view did not bind it read-only.
    """
    from resnet_signs import paths

    if not entry or not os.path.exists(entry) or Path(entry).resolve().is_relative_to(Path.cwd().resolve().parent):
        return False
    return not (paths.sandbox_owns_pid_namespace() and os.access(entry, os.W_OK))  # without one, all is writable


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="resnet_signs.grading.zygote")
    parser.add_argument("--socket", type=int, required=True, help="file descriptor of the runner's Unix socket")
    args = parser.parse_args(argv[1:])
    sys.path[:] = [entry for entry in sys.path if _importable_for_every_child(entry)]
    serve(socket.socket(fileno=args.socket))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
