"""``resnet-signs watch``: feedback seconds after a student submits (a JupyterHub managed service).

The service watches the exchange's inbound folder of one course. For each new submission that is
complete (:mod:`.inbound`: never a half-written one) it

1. checks that the folder belongs to the student it names (else ``rejected``) and that no later
   submission of the same student is complete or already collected (else ``superseded``);
2. collects it into the course's ``submitted/<student>/<assignment>/``, as ``nbgrader collect`` would;
3. has its grading worker (:mod:`.worker`, one long-lived process: TensorFlow, the sandbox's zygote
   and the judge stay warm) grade it with the project's grader, record it in the gradebook and
   write nbgrader's autograded notebook and feedback, and release the feedback when asked;
4. writes the submission's state file (:class:`~.records.Done`) and one log line.

Each submission is processed once: the state file is written last, so after a crash or a restart
the service takes up exactly the submissions that have none, and a grade finished before the crash
is reused, not computed again (the grader's own cache, keyed by the notebook's bytes). A submission
whose grading crashes the worker or outlives ``--submission-timeout`` is ``not-graded`` (its line
says so; the instructor grades it with ``resnet-signs grade --student``); the worker is replaced and
the next submission is graded.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from resnet_signs import paths
from resnet_signs.errors import CourseError, UsageError
from resnet_signs.grading.jobs import DEFAULT_GRADER
from resnet_signs.grading.model import Limits, exit_text
from resnet_signs.hub import inbound
from resnet_signs.hub.records import Done, GradeReply, GradeRequest, Outcome, Ready, RecordError

#: Seconds on top of the grader's own cap on one submission (judging, gradebook, feedback).
MARGIN = 120.0
#: Seconds between two tries to start a grading worker that failed to start.
RETRY = 60.0


class WatchError(CourseError):
    """The service cannot work (its grading worker does not start, the course is broken)."""


@dataclass(frozen=True)
class Settings:
    """What one watch service does; the CLI's options (defaults: :func:`settings`).

    Attributes:
        course: the nbgrader course directory.
        exchange: nbgrader's exchange root.
        assignment: the assignment (default: the course's only graded one).
        out: ``resnet-signs grade``'s output folder (default ``<course>/grades``: the instructor's
            own ``resnet-signs grade submitted --out grades`` then reuses every grade).
        state: the service's folder (default ``<course>/.watch``): a state file per submission, the worker's log.
        release_feedback: release each student's feedback to the exchange at once.
        poll: seconds between looks at the inbound folder.
        settle: seconds a submission must stay unchanged before it is read.
        submission_timeout: seconds one submission may take in the worker (default: the grader's cap
            for the course plus :data:`MARGIN`).
        timeout: the grader's per-function budget (``resnet-signs grade --timeout``).
        memory_mb: the grader's memory limit per submission.
        grader: ``module:function`` grading one notebook (tests substitute their own).
        check_owner: refuse a folder that is not owned by the student it names.
        once: process every complete submission, then stop (instead of watching).
    """

    course: Path
    exchange: Path
    assignment: str | None = None
    out: Path | None = None
    state: Path | None = None
    release_feedback: bool = False
    poll: float = 0.5
    settle: float = 1.0
    submission_timeout: float | None = None
    timeout: float = Limits.function_timeout
    memory_mb: int = Limits.memory_mb
    grader: str = DEFAULT_GRADER
    check_owner: bool = True
    once: bool = False


def _grade_default(name: str):
    from resnet_signs.grading.api import grade

    return inspect.signature(grade).parameters[name].default


# --- The grading worker -----------------------------------------------------------------------


class Worker:
    """The service's handle on its grading process (:mod:`.worker`): start, ask, replace, stop."""

    def __init__(self, argv: list[str], log: Path):
        self.argv, self.log = argv, log
        self.proc: subprocess.Popen | None = None
        self._buffer = b""

    def start(self, timeout: float) -> Ready:
        """Start a fresh worker and wait until it is warm."""
        self.stop()
        if self.log.exists():
            self.log.replace(self.log.with_name(self.log.name + ".previous"))
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         start_new_session=True)
        self._buffer = b""
        line = self._line(time.monotonic() + timeout)
        if not line:
            why = "did not get warm in time" if line is None else f"exited ({self._exit()})"
            self.stop()
            raise WatchError(f"the grading worker {why}; see {self.log}")
        try:
            return Ready.from_json(line)
        except RecordError as exc:
            self.stop()
            raise WatchError(f"the grading worker said something unexpected ({exc}); see {self.log}") from None

    def grade(self, request: GradeRequest, timeout: float) -> GradeReply | str:
        """The worker's reply, or why there is none (it timed out or died: it is then stopped)."""
        try:
            self.proc.stdin.write((request.to_json() + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it died: the read below says how
        line = self._line(time.monotonic() + timeout)
        if line:
            try:
                return GradeReply.from_json(line)
            except RecordError as exc:
                why = f"the grading worker answered something unexpected ({exc})"
        elif line is None:
            why = f"grading took longer than {timeout:g} s"
        else:
            why = f"the grading worker died ({self._exit()})"
        self.stop()
        return why

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """End the worker and everything it started: SIGTERM (its handler kills its children), then
        SIGKILL to every process of the tree, each by its pid."""
        if self.proc is None:
            return
        import psutil

        try:
            tree = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            tree = []
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for process in [*tree]:
            try:
                process.kill()
            except psutil.Error:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    def _exit(self) -> str:
        return exit_text(self.proc.wait() if self.proc else None)

    def _line(self, deadline: float) -> str | None:
        """The worker's next line: ``None`` at the deadline, ``""`` when it closed its output."""
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 65536)
                if not chunk:
                    return ""
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", "replace")


# --- The service ------------------------------------------------------------------------------


class Service:
    """Watches one course's inbound folder; see the module's docstring."""

    def __init__(self, settings: Settings, log: TextIO):
        from resnet_signs.grading import course as courses
        from resnet_signs.hub.config import course_id_of

        self.settings, self.log = settings, log
        self.course = courses.load(settings.course, settings.assignment)
        self.course_id = course_id_of(self.course.root)
        self.inbound = settings.exchange / self.course_id / "inbound"
        self.out = settings.out or self.course.root / "grades"
        self.state = settings.state or self.course.root / ".watch"
        (self.state / "done").mkdir(parents=True, exist_ok=True)
        limits = Limits(function_timeout=settings.timeout)
        cap = limits.total(len(self.course.functions)) + MARGIN
        self.timeout = settings.submission_timeout or cap
        self.start_timeout = cap + MARGIN  # the worker's start: imports, then grading the solution once
        self.settler = inbound.Settler(settings.settle)
        argv = [sys.executable, "-m", "resnet_signs.hub.worker", "--course", str(self.course.root),
                "--assignment", self.course.assignment, "--exchange", str(settings.exchange), "--out", str(self.out),
                "--timeout", str(settings.timeout), "--memory-limit", str(settings.memory_mb),
                "--grader", settings.grader]
        if settings.release_feedback:
            argv.append("--release-feedback")
        self.worker = Worker(argv, self.state / "worker.log")
        self._stop = lambda: False
        self._next_start = 0.0
        self._finished: set[str] = set()  # submissions whose state file was seen: never read again

    def say(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", file=self.log, flush=True)

    def start_worker(self) -> bool:
        """Start (or replace) the grading worker and say how warm it is; False when it failed (said
        too; the next try comes after :data:`RETRY` seconds, or at once with ``once``: an error)."""
        if time.monotonic() < self._next_start:
            return False
        try:
            ready = self.worker.start(self.start_timeout)
        except WatchError as exc:
            if self.settings.once:
                raise
            self.say(f"{exc}; trying again in {RETRY:g} s")
            self._next_start = time.monotonic() + RETRY
            return False
        warm = f"grader warm in {ready.seconds:g} s (the course's solution: {_score(ready.score, ready.max_score)})"
        if ready.score < ready.max_score:
            warm += " — below full marks: check the course's source notebook and hidden tests"
        self.say(f"{warm}; {ready.isolation}")
        return True

    def run(self, stop=lambda: False) -> None:
        """Watch until ``stop()`` is true (or, with ``once``, until nothing complete is left)."""
        what = "grading and releasing feedback" if self.settings.release_feedback else "grading"
        self.say(f"watching {self.inbound} for {self.course.assignment} ({what}; state in {self.state})")
        self._stop = stop
        try:
            while not stop():
                # Warm before the first submission arrives; a worker that died is replaced while idle.
                # `once` starts one only when there is something to grade.
                if self.settings.once or self.worker.alive or self.start_worker():
                    waiting = self.step()
                    if self.settings.once and not waiting:
                        return
                time.sleep(self.settings.poll)
        finally:
            self.worker.stop()

    def step(self) -> int:
        """One look at the inbound folder: process every submission that is ready. Returns how many
        others look complete but are still settling (``once`` waits for them)."""
        pending = [s for s in inbound.scan(self.inbound, self.course.assignment) if not self._is_finished(s)]
        ready = [s for s in pending if self.settler.ready(s)]
        latest = {s.student: s for s in ready}  # oldest first: the last one of a student wins
        for sub in ready:
            if self._stop():
                break
            self.process(sub, superseded=latest[sub.student] is not sub)
            self.settler.forget(sub)
        return sum(1 for s in pending if s not in ready and inbound.fingerprint(s.folder) is not None)

    def _is_finished(self, sub: inbound.InboundSubmission) -> bool:
        if sub.name not in self._finished and self.done(sub) is not None:
            self._finished.add(sub.name)
        return sub.name in self._finished

    def done(self, sub: inbound.InboundSubmission) -> Done | None:
        """The submission's state file, if it was processed (a malformed file counts as not processed)."""
        try:
            return Done.from_json(self._done_path(sub).read_text(encoding="utf-8"))
        except (OSError, RecordError):
            return None

    def _done_path(self, sub: inbound.InboundSubmission) -> Path:
        digest = hashlib.sha256(sub.name.encode("utf-8", "surrogateescape")).hexdigest()
        return self.state / "done" / f"{digest[:32]}.json"

    def process(self, sub: inbound.InboundSubmission, *, superseded: bool = False) -> Done:
        """Collect, grade and record one submission; write its state file and its log line."""
        started = time.monotonic()
        dest = self.course.root / "submitted" / sub.student / self.course.assignment
        record = dict(submission=sub.name, student=sub.student, timestamp=sub.timestamp, score=0.0, max_score=0.0,
                      feedback="", detail="", notebook_sha256="")
        try:
            owner = inbound.owner(sub) if self.settings.check_owner else sub.student
            collected = inbound.collected_time(dest)
            if owner != sub.student:
                record.update(outcome=Outcome.REJECTED, detail=f"the folder belongs to {owner}, not {sub.student}")
            elif superseded or (collected is not None and collected > sub.when):
                record.update(outcome=Outcome.SUPERSEDED, detail="a later submission of the same student is graded")
            else:
                record.update(self._grade(sub, dest))
        except Exception as exc:  # noqa: BLE001 - one bad submission must not stop the service
            record.update(outcome=Outcome.NOT_GRADED, detail=f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
        done = Done(**record, seconds=round(time.monotonic() - started, 2))
        _write_atomic(self._done_path(sub), done.to_json() + "\n")
        self._finished.add(sub.name)
        self.say(self._line(sub, done))
        return done

    def _grade(self, sub: inbound.InboundSubmission, dest: Path) -> dict:
        skipped = inbound.collect(sub, dest)
        notebook = dest / self.course.notebook_name
        sha = hashlib.sha256(notebook.read_bytes()).hexdigest() if notebook.is_file() else ""
        if not self.worker.alive and not self.start_worker():
            raise WatchError("the grading worker is not running")
        reply = self.worker.grade(GradeRequest(sub.student, sub.name), self.timeout)
        note = f"; left out {len(skipped)} link(s) or oversized file(s): {', '.join(skipped)[:200]}" if skipped else ""
        if isinstance(reply, str):  # the worker is gone: the next look replaces it
            return dict(outcome=Outcome.NOT_GRADED, detail=reply + note, notebook_sha256=sha)
        if not reply.graded:
            return dict(outcome=Outcome.NOT_GRADED, detail=reply.detail + note, notebook_sha256=sha)
        detail = ("an identical earlier grade reused" if reply.reused else "") + note
        return dict(outcome=Outcome.GRADED, score=reply.score, max_score=reply.max_score, feedback=reply.feedback,
                    detail=detail.lstrip("; "), notebook_sha256=sha)

    def _line(self, sub: inbound.InboundSubmission, done: Done) -> str:
        who = f"{sub.student} (submitted {sub.timestamp})"
        if done.outcome is Outcome.GRADED:
            after = (datetime.now(UTC).replace(tzinfo=None) - sub.when).total_seconds()
            text = f"graded {_score(done.score, done.max_score)} in {done.seconds:g} s"
            text += f", feedback {done.feedback}" if done.feedback else ""
            text += f", {after:.1f} s after submitting" + (f" ({done.detail})" if done.detail else "")
        elif done.outcome is Outcome.NOT_GRADED:
            text = (f"NOT GRADED: {done.detail} — grade it with `resnet-signs grade {self.course.root / 'submitted'} "
                    f"--out {self.out} --student {sub.student}`")
        else:
            text = f"{done.outcome.value}: {done.detail}"
        return f"{who}: {text}"


def _score(score: float, max_score: float) -> str:
    from resnet_signs.grading.reports import as_number

    return f"{as_number(score)}/{as_number(max_score)}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


_stop = False


def stop_requested() -> bool:
    return _stop


def _request_stop(signum, frame) -> None:
    global _stop
    _stop = True


def watch(settings: Settings, *, log: TextIO | None = None) -> None:
    """Run the service until SIGTERM or SIGINT (JupyterHub stops services so), or with
    ``settings.once`` until every complete submission is processed.

    Raises:
        UsageError: a bad setting; WatchError: the grading worker cannot start.
    """
    _check(settings)
    service = Service(settings, log or sys.stdout)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _request_stop)
    service.run(stop=stop_requested)


def _check(settings: Settings) -> None:
    if not (settings.course / "source").is_dir():
        raise UsageError(f"{settings.course} is not a course directory (no source/ folder): pass --course")
    if not settings.exchange.is_dir():
        raise UsageError(f"no exchange folder {settings.exchange}: pass nbgrader's Exchange.root as --exchange")
    for name in ("poll", "settle", "timeout"):
        value = getattr(settings, name)
        if not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive number of seconds, got {value!r}")
    if settings.submission_timeout is not None and not settings.submission_timeout > 0:
        raise UsageError("--submission-timeout must be a positive number of seconds, "
                         f"got {settings.submission_timeout!r}")
    if not settings.memory_mb >= 256:
        raise UsageError(f"--memory-limit must be at least 256 (MB), got {settings.memory_mb!r}")


# --- Command line -----------------------------------------------------------------------------


def _number(kind):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None

    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="the nbgrader course directory (default: autograder/, or RESNET_SIGNS_COURSE)")
    parser.add_argument("--exchange", type=Path, required=True, metavar="DIR", help="nbgrader's exchange root")
    parser.add_argument("--assignment", default=None, metavar="NAME",
                        help="the assignment under COURSE/source/ (default: the only one with graded cells)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="resnet-signs grade's output folder (default: COURSE/grades)")
    parser.add_argument("--state", type=Path, default=None, metavar="DIR",
                        help="the service's state files and worker log (default: COURSE/.watch)")
    parser.add_argument("--release-feedback", action="store_true",
                        help="release each student's feedback to the exchange as soon as it is graded")
    parser.add_argument("--poll", type=_number(float), default=Settings.poll, metavar="S",
                        help="seconds between looks at the inbound folder (default: %(default)s)")
    parser.add_argument("--settle", type=_number(float), default=Settings.settle, metavar="S",
                        help="seconds a submission must stay unchanged before it is read (default: %(default)s)")
    parser.add_argument("--submission-timeout", type=_number(float), default=None, metavar="S",
                        help="seconds one submission may take before its grading is stopped and it is reported "
                             f"NOT GRADED (default: the grader's cap for the course plus {MARGIN:g})")
    parser.add_argument("--timeout", type=_number(float), default=_grade_default("timeout"), metavar="S",
                        help="seconds each graded function may run, as resnet-signs grade --timeout "
                             "(default: %(default)s)")
    parser.add_argument("--memory-limit", type=_number(int), default=_grade_default("memory_mb"), metavar="MB",
                        help="memory limit of one submission's sandbox in MB (default: %(default)s)")
    parser.add_argument("--no-owner-check", action="store_true",
                        help="grade folders whose owner is not the student they name (nbgrader only warns)")
    parser.add_argument("--once", action="store_true",
                        help="process every complete submission, then exit (instead of watching)")


def run(args: argparse.Namespace) -> int:
    settings = Settings(
        course=(args.course or paths.course_dir()).expanduser().resolve(),
        exchange=args.exchange.expanduser().resolve(),
        assignment=args.assignment, out=args.out.resolve() if args.out else None,
        state=args.state.resolve() if args.state else None, release_feedback=args.release_feedback, poll=args.poll,
        settle=args.settle, submission_timeout=args.submission_timeout, timeout=args.timeout,
        memory_mb=args.memory_limit, check_owner=not args.no_owner_check, once=args.once,
    )
    watch(settings)
    return 0
