"""The judging process: where the grader builds and runs the graphs students' functions built, under limits.

A captured graph is hostile input. Its cost is estimated from its config before anything is built
(:mod:`resnet_signs.checks.cost`: a graph over a generous multiple of the reference's cost is refused
unbuilt), but the judge also runs where a limit applies to it, as the sandbox child does: in a
process of its own, started once per grading process (it imports TensorFlow while the first
submission runs in its sandbox) and reused for every test. The grading process sends it one
request per test (the cases, the captures — validated records, never code —, the budget) and
watches it meanwhile, as :mod:`resnet_signs.grading.runner` watches a sandbox child: the resident
memory of its process tree (polled every :data:`POLL` seconds) against the submission's memory limit,
and the request's time against :data:`TEST_SECONDS`. Over either, it is killed: the test fails with
a verdict naming the limit (:class:`~resnet_signs.grading.judge.JudgingFailed`), and the next test
gets a fresh process. A crash of the process is a verdict too, never a crash of the grader.

The process never runs student code: it rebuilds graphs from validated configs only
(:mod:`resnet_signs.checks.rebuild`), and observes the course's reference for the judge's cache.
What it sends back is a typed observation, validated again by ``from_json`` on arrival
(:mod:`resnet_signs.checks.observations`).

Protocol: typed records as JSON lines, on its stdin (:class:`Observe` and :class:`Reference` requests) and
on a pipe it inherits (a :class:`Ready` first, then one :class:`Reply` per request); its own output goes
nowhere. Each side reads the other's lines with the records' validating ``from_json``.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from resnet_signs.checks import observations
from resnet_signs.checks.cost import Budget
from resnet_signs.checks.records import MAX_CAPTURES, Capture, RecordError, one_line
from resnet_signs.grading import devices, wire
from resnet_signs.grading.course import Course, TestCell
from resnet_signs.grading.hidden import KINDS
from resnet_signs.grading.judge import InProcess, JudgingFailed
from resnet_signs.grading.model import exit_text
from resnet_signs.grading.plan import TestRequest

#: Time one test's judging may take (a correct submission's takes well under a second each).
TEST_SECONDS = 60.0
#: Time the process may take to start (it imports TensorFlow) and to observe the reference once.
START_SECONDS = 300.0
#: How often memory, time and the process are checked while it works.
POLL = 0.05
#: A reply larger than this is not an observation (a block's outputs are a few kB).
MAX_REPLY = 64 << 20
#: Memory a request may leave the process holding before it is replaced (so that it never counts against
#: the next student's graphs).
RETAINED_MB = 512
#: Variables of the grading process's environment that set TensorFlow's threads.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


# --------------------------------------------------------------------------- the protocol
@dataclass(frozen=True)
class Observe:
    """Request: observe one test's captures on its cases within a budget (``None``: no budget)."""

    test_id: str
    kind: str
    test: TestRequest
    captures: tuple[Capture, ...]
    budget: Budget | None

    @classmethod
    def of(cls, test: TestCell, captures, budget: Budget | None) -> Observe:
        return cls(test.test_id, test.kind, test.request(), tuple(captures), budget)

    def cell(self) -> TestCell:
        """The test as the observer takes it (no points, texts or hidden flag: they do not decide an observation)."""
        return TestCell(self.test_id, self.test.function, 0.0, False, frozenset(), self.kind, self.test.cases)

    def to_json(self) -> dict:
        return {"do": "observe", "test_id": self.test_id, "kind": self.kind, "test": self.test.to_json(),
                "captures": [c.to_json() for c in self.captures],
                "budget": None if self.budget is None else self.budget.to_json()}

    @classmethod
    def from_json(cls, data) -> Observe:
        data = wire.fields(data, "an observe request", ("do", "test_id", "kind", "test", "captures", "budget"))
        kind = wire.text(data["kind"], "a test's kind", 32)
        if kind not in KINDS:
            raise RecordError(f"a test's kind must be one of {', '.join(KINDS)}")
        captures = wire.items(data["captures"], "captures", MAX_CAPTURES)
        budget = data["budget"]
        return cls(wire.text(data["test_id"], "a test id", 128), kind, TestRequest.from_json(data["test"]),
                   tuple(Capture.from_json(c) for c in captures), None if budget is None else Budget.from_json(budget))


@dataclass(frozen=True)
class Reference:
    """Request: observe the course's reference on one test (for the judge's cache)."""

    course: str
    assignment: str
    test_id: str

    def to_json(self) -> dict:
        return {"do": "reference", "course": self.course, "assignment": self.assignment, "test_id": self.test_id}

    @classmethod
    def from_json(cls, data) -> Reference:
        data = wire.fields(data, "a reference request", ("do", "course", "assignment", "test_id"))
        return cls(wire.text(data["course"], "a course folder"), wire.text(data["assignment"], "an assignment", 256),
                   wire.text(data["test_id"], "a test id", 128))


def request_from_json(data) -> Observe | Reference:
    kind = data.get("do") if isinstance(data, dict) else None
    if kind == "observe":
        return Observe.from_json(data)
    if kind == "reference":
        return Reference.from_json(data)
    raise RecordError("a request must be an object whose do is observe or reference")


@dataclass(frozen=True)
class Ready:
    """The process's first line: it imported TensorFlow; ``versions`` says which Keras and backend it runs."""

    versions: str

    def to_json(self) -> dict:
        return {"ready": True, "versions": self.versions}

    @classmethod
    def from_json(cls, data) -> Ready:
        data = wire.fields(data, "a ready message", ("ready", "versions"))
        if data["ready"] is not True:
            raise RecordError("a ready message says ready: true")
        return cls(wire.text(data["versions"], "versions", 200))


@dataclass(frozen=True, eq=False)
class Reply:
    """The answer to one request: an observation, or the one-line error that stopped it."""

    observation: observations.Observation | None = None
    error: str | None = None

    def to_json(self) -> dict:
        return {"observation": None if self.observation is None else self.observation.to_json(), "error": self.error}

    @classmethod
    def from_json(cls, data) -> Reply:
        data = wire.fields(data, "a reply", ("observation", "error"))
        if (data["observation"] is None) == (data["error"] is None):
            raise RecordError("a reply holds either an observation or an error")
        if data["error"] is not None:
            return cls(error=wire.text(data["error"], "an error", 500))
        return cls(observations.from_json(data["observation"]))


class JudgingProcess:
    """The grading process's handle on its judging process (one request at a time).

    Args:
        memory_mb: the most resident memory the judging process's tree may hold.
        seconds: the most one test's judging may take.
        env: extra environment variables for the process (TensorFlow's threads).
    """

    def __init__(self, memory_mb: int, seconds: float = TEST_SECONDS, env: dict | None = None):
        self.memory_mb, self.seconds, self.env = int(memory_mb), float(seconds), dict(env or {})
        self._proc: subprocess.Popen | None = None
        self._replies: int | None = None
        self._buffer = b""
        self._versions: str | None = None
        self._baseline = 0
        self._lock = threading.Lock()
        atexit.register(self.close)

    # ------------------------------------------------------------------ the observer interface
    def versions(self) -> str:
        """Keras' version and backend in the judging process (they key the reference's cache)."""
        with self._lock:
            self._start()
            return self._versions

    def observe(self, test: TestCell, captures: list[Capture], budget: Budget | None) -> observations.Observation:
        """The observation of ``captures``, made in the judging process within ``budget``.

        Raises:
            JudgingFailed: the process went over a limit or died; it is replaced for the next test.
        """
        return self._observation(Observe.of(test, captures, budget), self.seconds)

    def reference(self, course: Course, test: TestCell) -> observations.Observation:
        """The reference's observation of ``test`` (computed once per grading code version: the judge caches it)."""
        return self._observation(Reference(str(course.root), course.assignment, test.test_id), START_SECONDS)

    def prepare(self) -> None:
        """Start the process now (it imports TensorFlow while the caller does other work)."""
        with self._lock:
            self._spawn()

    def close(self) -> None:
        """Stop the process (the next request starts a new one)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            try:
                proc.stdin.close()
            except OSError:
                pass  # what was left unsent goes with the process
        if self._replies is not None:
            os.close(self._replies)
            self._replies = None
        self._buffer, self._versions = b"", None

    # ------------------------------------------------------------------ the process
    def _spawn(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.close()
        read_end, write_end = os.pipe()
        env = {**os.environ, **devices.for_children(), **self.env, "PYTHONUNBUFFERED": "1"}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "resnet_signs.grading.judging", "--replies", str(write_end)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                pass_fds=(write_end,), start_new_session=True)
        finally:
            os.close(write_end)
        self._replies = read_end

    def _start(self) -> None:
        """A running, ready process (started and waited for when there is none)."""
        self._spawn()
        if self._versions is None:
            self._versions = self._read(Ready, time.monotonic() + START_SECONDS, START_SECONDS).versions
            self._baseline = self._rss()

    def _observation(self, request: Observe | Reference, seconds: float) -> observations.Observation:
        with self._lock:
            try:
                self._start()
            except JudgingFailed as exc:  # not the student's doing: the grader fails on this submission
                why = {"memory": f"{exc.limit} MB of memory were not enough",
                       "time": f"it took more than {exc.limit:g} s"}.get(exc.kind, exc.how)
                raise RuntimeError(f"the judging process did not start: {why}") from None
            try:
                self._proc.stdin.write((json.dumps(request.to_json()) + "\n").encode())
                self._proc.stdin.flush()
            except OSError:
                self.close()
                raise JudgingFailed("crash", how="it exited before reading the request") from None
            reply = self._read(Reply, time.monotonic() + seconds, seconds)
            if self._rss() - self._baseline > RETAINED_MB << 20:
                self.close()  # what the last graph left behind must not count against the next student
        if reply.error is not None:  # a ValueError: the verdict says the graph could not be judged, and why
            raise ValueError(f"the judging process failed: {reply.error[:300]}")
        return reply.observation

    def _read(self, record, deadline: float, seconds: float):
        """The next line as a ``record`` (:class:`Ready` or :class:`Reply`), watching the process's memory, the
        deadline and its life meanwhile."""
        limit = self.memory_mb * (1 << 20)
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._replies], [], [], POLL)
            if ready:
                chunk = os.read(self._replies, 1 << 20)
                if chunk:
                    self._buffer += chunk
                    if len(self._buffer) > MAX_REPLY:
                        self.close()
                        raise RuntimeError("the judging process sent an overlong reply")
                    continue
            if self._proc.poll() is not None:
                how = exit_text(self._proc.returncode)
                self.close()
                raise JudgingFailed("crash", how=how)
            if self._rss() > limit:
                self.close()
                raise JudgingFailed("memory", self.memory_mb)
            if time.monotonic() > deadline:
                self.close()
                raise JudgingFailed("time", seconds)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return record.from_json(json.loads(line))
        except (ValueError, RecordError) as exc:
            self.close()
            raise RuntimeError(f"the judging process sent a malformed {record.__name__.lower()} ({exc})") from None

    def _rss(self) -> int:
        import psutil

        from resnet_signs.grading.runner import tree_rss  # the sandbox child's accounting

        if self._proc is None:
            return 0
        try:
            return tree_rss(psutil.Process(self._proc.pid))
        except psutil.Error:
            return 0


_shared: JudgingProcess | None = None


def shared(memory_mb: int, env: dict | None = None) -> JudgingProcess:
    """This grading process's judging process, with the memory limit of the submission at hand."""
    global _shared
    if _shared is None or _shared.env != dict(env or {}):
        if _shared is not None:
            _shared.close()
        _shared = JudgingProcess(memory_mb, env=env)
    _shared.memory_mb = int(memory_mb)
    return _shared


def thread_settings(child_env: dict) -> dict:
    """The TensorFlow thread variables of a sandbox child's environment: the judging process takes the same."""
    return {k: v for k, v in child_env.items() if k in THREAD_VARIABLES}


# --------------------------------------------------------------------------- the process itself
def _handle(request: Observe | Reference, observer: InProcess) -> observations.Observation:
    if isinstance(request, Observe):
        return observer.observe(request.cell(), list(request.captures), request.budget)
    from resnet_signs.grading import course as courses

    course = courses.load(Path(request.course), request.assignment)
    return observer.reference(course, course.test(request.test_id))


def serve(replies: int) -> None:
    """Answer requests from stdin until it closes."""
    from resnet_signs.quiet import import_tensorflow

    import_tensorflow()
    import resnet_signs.checks.graph
    import resnet_signs.checks.observe  # noqa: F401 - imported before the first request is timed

    out = os.fdopen(replies, "wb")

    def send(message) -> None:
        out.write((json.dumps(message.to_json()) + "\n").encode())
        out.flush()

    observer = InProcess()
    send(Ready(observer.versions()))
    for line in sys.stdin.buffer:
        try:
            reply = Reply(_handle(request_from_json(json.loads(line)), observer))
        except Exception as exc:  # noqa: BLE001 - the grading process decides what a failed request means
            reply = Reply(error=one_line(exc))
        send(reply)


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="resnet_signs.grading.judging")
    parser.add_argument("--replies", type=int, required=True, help="file descriptor of the pipe for replies")
    args = parser.parse_args(argv[1:])
    serve(args.replies)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
