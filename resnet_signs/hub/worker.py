"""The feedback-on-submit service's grading process: warm once, then grade one submission per request.

Started by :mod:`.watch` (``python -m resnet_signs.hub.worker ...``), it imports TensorFlow, starts
the sandbox's zygote and loads the judge by grading the course's own source notebook once, says
:class:`~.records.Ready`, then for each :class:`~.records.GradeRequest` line on stdin grades the
collected submission with :func:`resnet_signs.grading.api.grade` (the sandbox, the judge, the
gradebook, nbgrader's ``autograded/`` notebook; an unchanged notebook's earlier grade is reused),
generates the student's nbgrader feedback and, when asked, releases it to the exchange, and answers
one :class:`~.records.GradeReply` line. The zygote and the judge stay warm between requests.

The messages go to the stdout this process was started with; everything else written to fd 1
(TensorFlow, nbgrader) goes to stderr, the service's worker log. The process dies with the
service: it asks the kernel for SIGTERM when its parent dies, and on SIGTERM it kills whatever it
started (the zygote, sandbox children) before exiting.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import time
from pathlib import Path

from resnet_signs.checks.records import one_line
from resnet_signs.hub.records import GradeReply, GradeRequest, Ready, RecordError

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """SIGTERM when the service dies, even by SIGKILL (Linux); the handler ends the whole tree."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # elsewhere the service's closing of our stdin ends us between requests
    if os.getppid() == 1:  # the parent died before prctl took effect
        _terminate(signal.SIGTERM, None)


def _terminate(signum, frame) -> None:
    """Kill every process this one started (the zygote and its sandbox children), then exit."""
    import psutil

    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    os._exit(128 + signum)


def _message_stream() -> io.TextIOBase:
    """The original stdout for messages; fd 1 itself now goes to stderr (library chatter)."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


class Worker:
    """Grades submissions of one course directory, kept warm between them."""

    def __init__(self, args: argparse.Namespace):
        from resnet_signs.grading import course as courses
        from resnet_signs.grading.jobs import threads_per_worker
        from resnet_signs.grading.model import Limits
        from resnet_signs.release.nbgrader_steps import load_config

        self.args = args
        self.course = courses.load(args.course, args.assignment)
        self.limits = Limits(function_timeout=args.timeout, memory_mb=args.memory_limit,
                             cell_timeout=min(Limits.cell_timeout, args.timeout))
        self.threads = threads_per_worker(1)
        config = load_config(self.course.root)
        config.Exchange.root = str(args.exchange)
        self.config = config

    def warm_up(self) -> Ready:
        """Grade the course's source notebook (the instructor's solution) once: TensorFlow, the zygote
        and the judge's reference observations are then ready for the first student."""
        from resnet_signs.grading import isolation
        from resnet_signs.grading.jobs import Job, run_job

        started = time.monotonic()
        job = Job("(warm-up)", self.course.source.read_bytes(), str(self.course.root), self.course.assignment,
                  self.limits, self.args.grader, threads=self.threads)
        grade = run_job(job)
        return Ready(round(time.monotonic() - started, 1), grade.score, grade.max_score, isolation.summary())

    def grade(self, request: GradeRequest) -> GradeReply:
        from resnet_signs.grading.api import grade

        started = time.monotonic()
        try:
            run = grade(self.course.root / "submitted", out=self.args.out, course=self.course.root,
                        assignment=self.course.assignment, student=request.student, timeout=self.args.timeout,
                        memory_mb=self.args.memory_limit, grader=self.args.grader, progress=io.StringIO())
        except Exception as exc:  # noqa: BLE001 - the service reports it and goes on with the next submission
            return self._reply(request, started, detail=one_line(exc))
        if request.student in run.failed or not run.grades:
            return self._reply(request, started, detail=run.failed.get(request.student, "no grade came back"))
        result, graded = run.grades[0], time.monotonic()
        feedback = self.feedback(request.student)
        done = time.monotonic()
        reused = " (reused)" if request.student in run.reused else ""
        print(f"{request.submission}: grade {graded - started:.1f} s{reused}"
              f", feedback {done - graded:.1f} s ({feedback})", file=sys.stderr, flush=True)
        return GradeReply(request.student, request.submission, True, float(result.score), float(result.max_score),
                          request.student in run.reused, feedback, round(done - started, 2), "")

    def feedback(self, student: str) -> str:
        """nbgrader's feedback for ``student`` from the autograded notebook; released when asked."""
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        api = NbGraderAPI(coursedir=CourseDirectory(config=self.config), config=self.config)
        steps = [("generate_feedback", api.generate_feedback)]
        if self.args.release_feedback:
            steps.append(("release_feedback", api.release_feedback))
        for name, step in steps:
            try:
                result = step(self.course.assignment, student)
            except Exception as exc:  # noqa: BLE001 - the grade stands; the line says what went wrong
                return f"{name} failed: {one_line(exc)}"
            if not result.get("success"):
                return f"{name} failed: {_last_line(result.get('error') or result.get('log') or '')}"
        return "released" if self.args.release_feedback else "generated"

    def _reply(self, request: GradeRequest, started: float, *, detail: str) -> GradeReply:
        return GradeReply(request.student, request.submission, False, 0.0, 0.0, False, "",
                          round(time.monotonic() - started, 2), detail[:500])


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "see the worker log"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m resnet_signs.hub.worker", description=__doc__.splitlines()[0])
    p.add_argument("--course", type=Path, required=True)
    p.add_argument("--assignment", default=None)
    p.add_argument("--exchange", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--memory-limit", type=int, required=True)
    p.add_argument("--grader", required=True)
    p.add_argument("--release-feedback", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _die_with_parent()
    messages = _message_stream()
    worker = Worker(args)
    messages.write(worker.warm_up().to_json() + "\n")
    for line in sys.stdin:
        try:
            request = GradeRequest.from_json(line)
        except RecordError as exc:
            print(f"ignored a malformed request: {exc}", file=sys.stderr)
            continue
        messages.write(worker.grade(request).to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
