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

Protocol: JSON lines on its stdin (requests) and on a pipe it inherits (replies); its own output
goes nowhere. ``{"do": "observe", "test": ..., "captures": [...], "budget": {...}}`` and ``{"do":
"reference", "course": DIR, "assignment": NAME, "test": ID}`` get ``{"observation": ...}`` or
``{"error": "one line"}``; it first says ``{"ready": true, "versions": "keras X backend"}``.
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
from pathlib import Path

from resnet_signs.checks import observations
from resnet_signs.checks.cases import case_from_json
from resnet_signs.checks.cost import Budget
from resnet_signs.checks.observations import Cost
from resnet_signs.checks.records import Capture, RecordError, one_line
from resnet_signs.grading import devices
from resnet_signs.grading.course import Course, TestCell
from resnet_signs.grading.judge import InProcess, JudgingFailed

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
        request = {"do": "observe", "test": _test_json(test), "captures": [c.to_json() for c in captures],
                   "budget": _budget_json(budget)}
        return self._observation(request, self.seconds)

    def reference(self, course: Course, test: TestCell) -> observations.Observation:
        """The reference's observation of ``test`` (computed once per grading code version: the judge caches it)."""
        request = {"do": "reference", "course": str(course.root), "assignment": course.assignment,
                   "test": test.test_id}
        return self._observation(request, START_SECONDS)

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
            if proc.stdin:
                proc.stdin.close()
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
            hello = self._read(time.monotonic() + START_SECONDS, None)
            if not hello.get("ready") or not isinstance(hello.get("versions"), str):
                self.close()
                raise RuntimeError("the judging process did not start properly")
            self._versions = hello["versions"][:200]
            self._baseline = self._rss()

    def _observation(self, request: dict, seconds: float) -> observations.Observation:
        with self._lock:
            try:
                self._start()
            except JudgingFailed as exc:
                raise RuntimeError(f"the judging process did not start ({exc.kind} {exc.how})") from None
            try:
                self._proc.stdin.write((json.dumps(request) + "\n").encode())
                self._proc.stdin.flush()
            except OSError:
                self.close()
                raise JudgingFailed("crash", how="it exited before reading the request") from None
            reply = self._read(time.monotonic() + seconds, seconds)
            if self._rss() - self._baseline > RETAINED_MB << 20:
                self.close()  # what the last graph left behind must not count against the next student
        if "error" in reply:  # a ValueError: the verdict says the graph could not be judged, and why
            raise ValueError(f"the judging process failed: {str(reply['error'])[:300]}")
        try:
            return observations.from_json(reply.get("observation"))
        except RecordError as exc:
            raise RuntimeError(f"the judging process sent a malformed observation ({exc})") from None

    def _read(self, deadline: float, seconds: float | None) -> dict:
        """The next reply, watching the process's memory, the deadline and its life meanwhile."""
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
                how = _ended(self._proc.returncode)
                self.close()
                raise JudgingFailed("crash", how=how)
            if self._rss() > limit:
                self.close()
                raise JudgingFailed("memory", self.memory_mb)
            if time.monotonic() > deadline:
                self.close()
                raise JudgingFailed("time", seconds if seconds is not None else START_SECONDS)
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self.close()
            raise RuntimeError("the judging process sent something that is not a reply")
        return reply

    def _rss(self) -> int:
        import psutil

        if self._proc is None:
            return 0
        total = 0
        try:
            root = psutil.Process(self._proc.pid)
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        return total


def _ended(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _test_json(test: TestCell) -> dict:
    return {"test_id": test.test_id, "function": test.function, "kind": test.kind,
            "cases": [case.to_json() for case in test.cases]}


def _budget_json(budget: Budget | None) -> dict | None:
    if budget is None:
        return None
    return {"factor": budget.factor, "reference": {case: cost.to_json() for case, cost in budget.reference.items()}}


def _budget_from_json(data) -> Budget | None:
    if data is None:
        return None
    return Budget({str(case): Cost.from_json(cost) for case, cost in data["reference"].items()}, int(data["factor"]))


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
def _handle(request: dict, observer: InProcess) -> dict:
    if request.get("do") == "observe":
        test = request["test"]
        cases = tuple(case_from_json(c) for c in test["cases"])
        cell = TestCell(str(test["test_id"]), str(test["function"]), 0.0, False, frozenset(), str(test["kind"]), cases)
        captures = [Capture.from_json(c) for c in request["captures"]]
        return observer.observe(cell, captures, _budget_from_json(request.get("budget"))).to_json()
    if request.get("do") == "reference":
        from resnet_signs.grading import course as courses

        course = courses.load(Path(request["course"]), request.get("assignment"))
        return observer.reference(course, course.test(request["test"])).to_json()
    raise ValueError(f"unknown request {str(request.get('do'))[:40]!r}")


def serve(replies: int) -> None:
    """Answer requests from stdin until it closes."""
    from resnet_signs.quiet import import_tensorflow

    import_tensorflow()
    import resnet_signs.checks.graph  # noqa: F401 - imported before the first request is timed
    import resnet_signs.checks.observe  # noqa: F401

    out = os.fdopen(replies, "wb")

    def send(message: dict) -> None:
        out.write((json.dumps(message) + "\n").encode())
        out.flush()

    observer = InProcess()
    send({"ready": True, "versions": observer.versions()})
    for line in sys.stdin.buffer:
        try:
            reply = {"observation": _handle(json.loads(line), observer)}
        except Exception as exc:  # noqa: BLE001 - the grading process decides what a failed request means
            reply = {"error": one_line(exc)}
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
