"""Executing a solution notebook top to bottom in a fresh Jupyter kernel (nbclient)."""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from pathlib import Path

from nbformat import NotebookNode

from resnet_signs import paths
from resnet_signs.release.assignments import ReleaseError

#: A training cell of the full solution may run for many minutes on a laptop CPU.
CELL_TIMEOUT_S = 3 * 3600
#: Variables that would make the notebooks train a smoke budget instead of the full one
#: (``resnet_signs.notebook.training_budget``); the committed solutions always show the full run.
#: Other variables pass through, e.g. ``RESNET_SIGNS_EXPERIMENTS`` (the lab's cached results).
_SMOKE_SWITCHES = (paths.NBGRADER_ENV, paths.QUICK_ENV)


def execute(
    nb: NotebookNode,
    *,
    workdir: Path,
    label: str,
    log: Callable[[str], None] | None = None,
    timeout: int = CELL_TIMEOUT_S,
    report_after_s: float = 10,
    extra_env: dict[str, str] | None = None,
) -> NotebookNode:
    """Run every code cell of ``nb`` in a new ``python3`` kernel; stop at the first error.

    Args:
        nb: the notebook (copied, not modified).
        workdir: the kernel's working directory (files the notebook writes land there).
        label: how messages name the notebook.
        log: receives one line per cell that took more than ``report_after_s`` seconds.
        timeout: seconds allowed per cell.
        report_after_s: how long a cell must run to be reported.
        extra_env: variables added to the kernel's environment (e.g. the lab's budget).

    Returns:
        The executed notebook, outputs included, without per-cell timing metadata.

    Raises:
        ReleaseError: a cell raised or timed out (names the cell).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    # The solution shows the full training run even when this is started from inside nbgrader.
    log = log or (lambda line: print(line, flush=True))
    env = {k: v for k, v in os.environ.items() if k not in _SMOKE_SWITCHES} | dict(extra_env or {})
    current = {"cell": None, "started": 0.0}

    def on_start(cell, cell_index):
        current.update(cell=cell, started=time.monotonic())

    def on_executed(cell, cell_index, execute_reply):
        seconds = time.monotonic() - current["started"]
        if seconds >= report_after_s:
            log(f"  {label}: cell {cell.get('id')} ({cell_index + 1}/{len(nb.cells)}) took {seconds:.0f} s")

    client = NotebookClient(
        copy.deepcopy(nb),
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,
        allow_errors=False,
        on_cell_start=on_start,
        on_cell_executed=on_executed,  # (on_cell_complete fires when the request is sent)
    )
    try:
        return client.execute(env=env)
    except CellTimeoutError as exc:
        raise ReleaseError(f"{label}: cell {_cell_id(current)} ran longer than {timeout} s") from exc
    except CellExecutionError as exc:
        raise ReleaseError(
            f"{label}: cell {_cell_id(current)} raised {exc.ename}: {exc.evalue.splitlines()[0] if exc.evalue else ''}"
        ) from exc


def _cell_id(current: dict) -> str:
    cell = current["cell"]
    return cell.get("id", "?") if cell is not None else "?"
