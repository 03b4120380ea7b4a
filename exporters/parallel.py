"""An export folder's formats rendered side by side, one worker process per CPU.

Once their entries are prepared (and held to the collapse guard: every format
of a folder is, in this process, before any is rendered) the formats of a
folder are independent, and each is CPU-bound Python, so on a machine with
several cores they render in forked worker processes (one per CPU, up to
:data:`DEFAULT_MAX_WORKERS` unless asked). Forking lets every worker read what
the parent holds (the entries, each format's preparation:
:class:`~fraudwall.exporters.run.CheckedExport`) copy-on-write instead of
receiving millions of names through a pipe: only a format's place in the list
goes to a worker, and only its small
:class:`~fraudwall.exporters.run.StagedExport` comes back: the worker renders and
verifies its format beside the published file, and the parent publishes every
format only once all of them are staged.

Where ``fork`` is not available (Windows), where the process runs other
threads, or where one worker is asked for, the formats are exported one after
the other in this process, with the same results.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TypeVar

from fraudwall.exceptions import ExportError
from fraudwall.exporters.publish import remove_staged_leftovers
from fraudwall.exporters.run import CheckedExport, StagedExport

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SharedInput:
    """What the workers of one folder render; a forked worker inherits it, nothing is copied."""

    exports: Sequence[CheckedExport]
    verify: bool


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: Workers when none are asked for, at most: past a few, the longest format and the reading of the
#: list bound the time, while every worker adds its own copy of each page it touches (about 0.2 GB
#: per worker for 2 million names), which a resolver host with many cores should not pay unasked.
DEFAULT_MAX_WORKERS = 4


def worker_count(requested: int | None, formats: int) -> int:
    """How many processes export ``formats`` formats: ``requested``, or one per CPU up to
    :data:`DEFAULT_MAX_WORKERS`; never more than formats.

    One, whatever was asked, where this process cannot fork safely (see the module docstring).
    """
    if requested is not None and requested < 1:
        raise ExportError(f"workers must be 1 or more, not {requested}")
    # Forking a process that runs other threads could copy a lock one of them holds into a worker.
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    wanted = min(available_cpus(), DEFAULT_MAX_WORKERS) if requested is None else requested
    return max(1, min(wanted, formats))


def stage_formats(
    exports: Sequence[CheckedExport],
    *,
    verify: bool,
    workers: int,
    meanwhile: Callable[[], T],
) -> tuple[list[StagedExport], T]:
    """Render and verify every export beside its path, and run ``meanwhile`` in this process meanwhile.

    Nothing is published: the caller commits the staged outputs, which come in
    the order of ``exports``. The first failing export (in that order) raises,
    after every one already started has ended and every staged output is
    discarded; those not yet started are cancelled.
    """
    if workers <= 1:
        staged: list[StagedExport] = []
        try:
            for checked in exports:
                staged.append(checked.stage(verify=verify))
            return staged, meanwhile()
        except BaseException:
            for output in staged:
                output.discard()
            raise
    # The costliest formats first, so no worker is left with a long one at the end.
    costliest_first = sorted(range(len(exports)), key=lambda i: exports[i].exporter.render_cost, reverse=True)
    # Objects that exist at the fork are left out of garbage collection meanwhile: a collection in a
    # worker would otherwise write to every one of them and copy the pages they share with this process.
    gc.freeze()
    try:
        return _stage_in_workers(SharedInput(exports, verify), costliest_first, workers, meanwhile)
    finally:
        gc.unfreeze()


def _stage_in_workers(
    shared: SharedInput, order: Sequence[int], workers: int, meanwhile: Callable[[], T],
) -> tuple[list[StagedExport], T]:
    exports = shared.exports
    submitted: dict[int, Future[StagedExport]] = {}
    try:
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=_adopt, initargs=(shared,)
        ) as pool:
            for i in order:
                submitted[i] = pool.submit(_stage_in_worker, i)
            futures = [submitted[i] for i in range(len(exports))]  # in the order of the exports
            try:
                extra = meanwhile()
                wait(futures, return_when=FIRST_EXCEPTION)
            finally:
                # After a failure the jobs not yet started are cancelled; the pool then waits for those running.
                if any(not future.done() or future.exception() is not None for future in futures):
                    pool.shutdown(cancel_futures=True)
        _raise_first_failure(exports, futures)
    except BaseException:
        for future in submitted.values():  # a generation is published whole or not at all
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().discard()
        # A worker killed mid-way (or one whose result never came back) leaves hidden files only it knew.
        for checked in exports:
            remove_staged_leftovers(checked.path)
        raise
    return [future.result() for future in futures], extra


def _raise_first_failure(exports: Sequence[CheckedExport], futures: Sequence[Future[StagedExport]]) -> None:
    """The first export's own error, in order; else, if a worker died, which formats got no result."""
    failures = [(checked, future.exception()) for checked, future in zip(exports, futures)
                if not future.cancelled() and future.exception() is not None]
    for _, exc in failures:
        if not isinstance(exc, BrokenProcessPool):
            raise exc  # type: ignore[misc]
    if failures:
        # A worker killed (out of memory, a signal) breaks the pool: every unfinished job fails alike.
        missing = ", ".join(checked.exporter.name for checked, _ in failures)
        raise ExportError(f"an export worker ended without a result (killed, or out of memory?); "
                          f"no result for: {missing}") from failures[0][1]


#: A worker's copy of the folder's input, set once when the worker starts (inherited through fork).
_WORKER_INPUT: SharedInput | None = None


def _adopt(shared: SharedInput) -> None:
    global _WORKER_INPUT
    _WORKER_INPUT = shared


def _stage_in_worker(index: int) -> StagedExport:
    if _WORKER_INPUT is None:
        raise ExportError("export worker started without its input")
    return _WORKER_INPUT.exports[index].stage(verify=_WORKER_INPUT.verify)
