"""Independent training runs of an experiment, in parallel worker processes on a CPU.

The lab's nets are small (16 to 64 filters on 16x16 or 32x32 images): one TensorFlow process
leaves much of a multi-core CPU idle while it traces graphs and steps through small convs, so
two single-threaded processes finish two runs in little more than the time of one. Every run is
seeded by its own (depth, seed, ...) arguments, so the results do not depend on which worker
ran it or in what order; they are returned in the order of the jobs.

With one worker (a GPU, whose memory the processes would share, or a one-core machine) the
runs happen in this process, one after another.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from resnet_signs.errors import UsageError
from resnet_signs.experiments.progress import Progress

#: More processes than this stop paying on the machines the course targets (each holds ~1 GB).
MAX_WORKERS = 4

#: The worker's copy of the data, sent once per process instead of once per job.
_data = None


def default_workers(device: str) -> int:
    """Processes to use: 1 on an accelerator (``device`` as ``runner`` describes it), else one per
    core up to :data:`MAX_WORKERS`."""
    if "GPU" in device or not device.startswith("tensorflow"):
        return 1  # a GPU is shared by the processes; other backends are not tuned here
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def check_workers(workers: int) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsageError(f"workers must be a whole number >= 1. Received: workers={workers!r}")
    return workers


def run_jobs(fn: Callable, jobs: Sequence[tuple], data, *, workers: int = 1, progress: Progress | None = None,
             describe: Callable[[object], tuple[str, dict]] = lambda result: ("done", {})) -> list:
    """``[fn(data, *job) for job in jobs]``, on ``workers`` processes.

    As each finishes, ``progress`` (if any) reports it as ``describe(result)``: a label and the
    numbers to show. ``fn`` must be a module-level function (workers import it by name).
    """
    check_workers(workers)
    if progress is not None:
        progress.total = len(jobs)

    def done(result) -> None:
        if progress is not None:
            what, numbers = describe(result)
            progress.done(what, **numbers)

    if workers == 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(fn(data, *job))
            done(results[-1])
        return results
    workers = min(workers, len(jobs))
    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawn, not fork: the parent has TensorFlow loaded with its threads running.
    context = multiprocessing.get_context("spawn")
    results: list = [None] * len(jobs)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(data, threads)) as pool:
        futures = {pool.submit(_call, fn, job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done(results[futures[future]])
    return results


def _start_worker(data, threads: int) -> None:
    global _data
    _data = data
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _call(fn: Callable, job: tuple):
    return fn(_data, *job)
