"""Running grading jobs: in this process, in local worker processes, or on a Dask cluster.

A job carries the notebook's bytes (not its path), so a worker needs no access to the
submissions folder and never writes next to it: it grades a private copy in its own
temporary directory and returns the core's :class:`~.model.SubmissionGrade` as it is (pickled
across processes). Only the parent writes outputs.
"""

from __future__ import annotations

import importlib
import multiprocessing
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from resnet_signs.errors import UsageError
from resnet_signs.grading.model import Limits, SubmissionGrade

#: The function that grades one notebook (``module:function``), see docs/CONTRACTS.md.
DEFAULT_GRADER = "resnet_signs.grading.core:grade_submission"
_DASK_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to grade one submission.

    Attributes:
        student: the real name.
        notebook: the submitted file's bytes; ``None`` when the student handed in nothing.
        course: the course directory (a path valid on the worker).
        assignment: the assignment's id in that course.
        limits: resource limits for the sandbox.
        grader: ``module:function`` that grades one notebook.
        threads: TensorFlow threads for the sandbox child and the judging (0: TensorFlow's default,
            all cores); set from the number of workers so they do not oversubscribe the cores.
    """

    student: str
    notebook: bytes | None
    course: str
    assignment: str
    limits: Limits
    grader: str = DEFAULT_GRADER
    threads: int = 0


def run_job(job: Job) -> SubmissionGrade:
    """Grade one submission in a fresh temporary directory."""
    if job.grader == DEFAULT_GRADER:
        from resnet_signs.grading import devices, runner

        devices.keep_off_gpu()  # before the zygote and the judging process start TensorFlow
        runner.prestart(Path(job.course), job.threads)  # the sandbox's zygote imports TensorFlow while the core starts

    module_name, _, name = job.grader.partition(":")
    grade_submission = getattr(importlib.import_module(module_name), name)
    with tempfile.TemporaryDirectory(prefix="resnet-signs-grade-") as tmp:
        notebook = Path(tmp) / "submission" / "submission.ipynb"
        notebook.parent.mkdir()
        if job.notebook is not None:  # else the core finds no file: a student who handed in nothing
            notebook.write_bytes(job.notebook)
        workdir = Path(tmp) / "work"
        workdir.mkdir()
        return grade_submission(notebook, student=job.student, course=Path(job.course), assignment=job.assignment,
                                limits=job.limits, workdir=workdir, threads=job.threads)


#: Memory one worker needs at its peak: its judging process (~1 GB), the zygote and one sandbox
#: child (~1.5 GB), measured on the samples; ``auto`` keeps this much free per worker.
WORKER_MEMORY_MB = 2500


def auto_workers(cores: int | None = None, available_mb: int | None = None) -> int:
    """Workers for this machine: one per core, as many as the available memory holds, at least one."""
    import psutil

    cores = cores or _cores()
    available_mb = available_mb if available_mb is not None else psutil.virtual_memory().available >> 20
    return max(1, min(cores, available_mb // WORKER_MEMORY_MB))


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """TensorFlow threads per worker so that ``workers`` children share the cores without oversubscribing."""
    return max(1, (cores or _cores()) // workers)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_scheduler(address: str) -> str:
    """``address`` if it looks like a Dask scheduler address, else a UsageError."""
    if not _DASK_ADDRESS.match(address):
        raise UsageError(f"--scheduler must look like tcp://HOST:PORT, got {address!r}")
    return address


def execute(jobs: list[Job], *, workers: int = 1,
            scheduler: str | None = None) -> Iterator[tuple[Job, SubmissionGrade | Exception]]:
    """Run ``jobs`` and yield ``(job, the grade or the exception)`` as each one finishes.

    Args:
        jobs: the submissions to grade.
        workers: local worker processes (1: grade in this process, one after the other).
        scheduler: a Dask scheduler address; when given, ``workers`` is ignored and the cluster's
            workers run the jobs.
    """
    if not jobs:
        return
    if scheduler:
        yield from _on_dask(jobs, scheduler)
    elif workers == 1:
        for job in jobs:
            try:
                yield job, run_job(job)
            except Exception as exc:  # noqa: BLE001 - a grader bug: reported, never cached as a grade
                yield job, exc
    else:
        yield from _in_processes(jobs, workers)


def _in_processes(jobs: list[Job], workers: int) -> Iterator[tuple[Job, SubmissionGrade | Exception]]:
    # "spawn": workers must not inherit a forked copy of this process's TensorFlow runtime.
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(run_job, job): job for job in jobs}
        for future in as_completed(futures):
            exc = future.exception()
            yield futures[future], (exc if exc is not None else future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(jobs: list[Job], address: str) -> Iterator[tuple[Job, SubmissionGrade | Exception]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    try:
        client = Client(address, timeout=5)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        # pure=False: two students with the same bytes are still two jobs.
        futures = {client.submit(run_job, job, pure=False): job for job in jobs}
        for future in dask_completed(list(futures)):
            exc = future.exception()
            yield futures[future], (exc if exc is not None else future.result())
    finally:
        client.close()
