"""Batches of APK files, each analysed in a worker process with a time and a memory limit.

:func:`observe_file` is the single-file path, in this process. For a batch,
:class:`ApkBatch` (and :func:`observe_files`, its list) runs :func:`observe_file` in a
``ProcessPoolExecutor`` whose workers are forked (from a ``forkserver``
preloaded with this package when other threads run) and whose address space
is capped with ``RLIMIT_AS``. Identical files (same sha256) are analysed once
per call.

Time is limited twice. Inside the worker, an interval timer interrupts the
analysis at ``timeout`` seconds, which turns into the rejection
``"analysis ran past N s"``. Should a worker not come back even then (stuck
in native code), the parent kills it a few seconds later and reports the same
rejection; the pool, which breaks when one of its processes is killed, is
rebuilt and the APKs that were running beside it are analysed again. When a
pool breaks by itself (a worker crashed), the APKs it was running are run
again one at a time, so the one that crashes is rejected as such and the
others are observed. Nothing in a batch can raise or hang the batch.

The full analysis (``full=True``: androguard's analysis of the code, see
``full_analysis.py``) runs in the same worker, after the fast path, under the
same timer and memory cap. When either stops it, the APK keeps the
observation the fast path made (``fully_analysed`` false, a note in
``tamper``) rather than becoming a rejection. It stops itself after
``ApkBudget.full_seconds``; for it to have that long, give the batch a
``timeout`` of the fast path's time plus ``full_seconds``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing.queues import SimpleQueue
from pathlib import Path
from types import FrameType

from fraudwall.apk_analysis.budget import MIB, AnalysisTimeout, ApkBudget
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.models import ApkObservation
from fraudwall.process_watch import exit_when_gone

#: Seconds the parent waits past ``timeout`` before it kills a worker that did not stop itself.
KILL_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class ApkResult:
    """What one file gave: observations (the APK's own first), or the reason it gave none."""

    path: str
    sha256: str = ""
    observations: tuple[ApkObservation, ...] = ()
    #: Why there is no observation ("" when there is one): ApkRejected's reason, a timeout, a crash.
    rejected: str = ""

    @property
    def ok(self) -> bool:
        """True when the file was observed."""
        return not self.rejected


def observe_file(path: str | Path, *, budget: ApkBudget | None = None, max_depth: int = 2,
                 full: bool = False) -> ApkResult:
    """Observe one APK file in this process (no timeout but the budget's own deadlines); ``full``: with the
    full analysis of its code (:func:`~.observe.observe_apk`; in the main thread it sets a timer of its own)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return ApkResult(str(path), rejected=f"cannot read file ({error.strerror or error})")
    sha256 = hashlib.sha256(data).hexdigest()
    # Imported here, in the worker: the process that starts a batch never needs androguard, and its
    # import (a fifth of a second) then runs in the workers, beside the detectors loading in the parent.
    from fraudwall.apk_analysis.observe import observe_apk

    try:
        observations = observe_apk(data, max_depth=max_depth, budget=budget, full=full)
    except ApkRejected as rejection:
        return ApkResult(str(path), sha256, rejected=rejection.reason)
    return ApkResult(str(path), sha256, tuple(observations))


def observe_files(paths: Sequence[str | Path], *, workers: int | None = None, timeout: float = 60.0,
                  memory_mb: int = 2048, budget: ApkBudget | None = None, max_depth: int = 2,
                  full: bool = False) -> list[ApkResult]:
    """Observe every file in ``paths`` in worker processes; one :class:`ApkResult` per path, in order.

    ``full`` adds the full analysis of each APK's code (see the module's docstring).
    """
    return list(ApkBatch(paths, workers=workers, timeout=timeout, memory_mb=memory_mb, budget=budget,
                         max_depth=max_depth, full=full))


_ENDED = object()  # what a finished batch's steps give


class ApkBatch:
    """Files being observed in worker processes, started when the batch is made.

    The workers start, and take their first files, before the constructor
    returns, so that whatever the caller does next (loading the detectors)
    runs beside them. Iterating gives one :class:`ApkResult` per path, in the
    order of the paths, each as soon as it and those before it are done.
    The largest files are given out first, so that no worker is left with
    a long one at the end while the others wait. ``full`` adds the full
    analysis of each APK's code, in the same worker under the same limits.
    """

    def __init__(self, paths: Sequence[str | Path], *, workers: int | None = None, timeout: float = 60.0,
                 memory_mb: int = 2048, budget: ApkBudget | None = None, max_depth: int = 2,
                 full: bool = False) -> None:
        self.names = [str(path) for path in paths]
        self._results: dict[int, ApkResult] = {}
        self._copies: dict[int, int] = {}
        first_of: dict[str, int] = {}
        sizes: dict[int, int] = {}
        for index, name in enumerate(self.names):
            try:
                if not Path(name).is_file():  # a FIFO or a device would block the read; a folder has no bytes
                    raise OSError(f"{name} is not a regular file")
                with open(name, "rb") as handle:
                    sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
                    sizes[index] = handle.tell()
            except OSError as error:
                self._results[index] = ApkResult(name, rejected=f"cannot read file ({error.strerror or error})")
                continue
            if sha256 in first_of:
                self._copies[index] = first_of[sha256]
            else:
                first_of[sha256] = index
        tasks = sorted(first_of.values(), key=lambda index: -sizes[index])
        batch = _Batch(self.names, workers or os.cpu_count() or 1, timeout, memory_mb, budget or ApkBudget(), max_depth,
                       full=full)
        self._steps = batch.steps(tasks, self._results)
        next(self._steps, None)  # forks the workers and hands out the first files

    def __iter__(self) -> Iterator[ApkResult]:
        """The results in the order of the paths (a copy of a file analysed once is reported under its own path)."""
        for index in range(len(self.names)):
            source = self._copies.get(index, index)
            while source not in self._results:
                if next(self._steps, _ENDED) is _ENDED and source not in self._results:
                    raise RuntimeError(f"the batch ended without a result for {self.names[source]}")
            result = self._results[source]
            yield result if source == index else replace(result, path=self.names[index])
        self.close()

    def close(self) -> None:
        """Stop the workers (files not yet observed are not)."""
        self._steps.close()


def _context() -> multiprocessing.context.BaseContext:
    """Fork when this process runs no other thread: workers start in a millisecond and share the loaded
    modules copy-on-write. Forking beside other threads (a crawl's reactor) can copy a lock held by one of
    them into the child, held forever: then workers come from a forkserver preloaded with this package."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["fraudwall.apk_analysis.observe"])
    return context


# -- the worker side ------------------------------------------------------------------

_started: SimpleQueue | None = None  # where a worker says which task it runs, so the parent can kill it


def _init_worker(memory_mb: int, started: SimpleQueue, owner_pid: int) -> None:
    global _started
    _started = started
    exit_when_gone(owner_pid)  # a batch whose process was killed with SIGKILL cannot stop its workers
    limit = memory_mb * MIB
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise AnalysisTimeout  # the worker's own timer ran out; a full analysis running now keeps the fast path's result


def _work(task: int, path: str, timeout: float, memory_mb: int, budget: ApkBudget, max_depth: int,
          full: bool = False) -> ApkResult:
    if _started is not None:
        _started.put((task, os.getpid()))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return observe_file(path, budget=budget, max_depth=max_depth, full=full)
    except AnalysisTimeout:
        return ApkResult(path, rejected=f"analysis ran past {timeout:g} s")
    except MemoryError:
        return ApkResult(path, rejected=f"analysis ran past its memory limit ({memory_mb} MB)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# -- the parent side --------------------------------------------------------------------


class _Batch:
    """Feeds tasks to a pool, never more than there are workers, and watches their deadlines."""

    def __init__(self, names: list[str], workers: int, timeout: float, memory_mb: int, budget: ApkBudget,
                 max_depth: int, *, work: Callable[..., ApkResult] = _work, kill_grace: float = KILL_GRACE,
                 full: bool = False) -> None:
        """``work`` runs one task in a worker (:func:`_work`); ``kill_grace`` is the wait past ``timeout``;
        ``full`` asks for the full analysis."""
        self.work = work
        self.kill_grace = kill_grace
        self.names = names
        self.workers = workers
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.budget = budget
        self.max_depth = max_depth
        self.full = full
        self.context = _context()
        self.started: SimpleQueue = self.context.SimpleQueue()
        self.pids: dict[int, int] = {}
        #: Tasks that were running when their pool broke by itself: each runs again, alone.
        self.suspects: set[int] = set()

    def run(self, tasks: list[int]) -> dict[int, ApkResult]:
        """The result of every task (an index into ``names``), pool after pool until none is left."""
        results: dict[int, ApkResult] = {}
        for _ in self.steps(tasks, results):
            pass
        return results

    def steps(self, tasks: list[int], results: dict[int, ApkResult]) -> Iterator[None]:
        """Run ``tasks``, filing each result in ``results``; pause after each hand-out of tasks to workers."""
        pending = deque(tasks)
        while pending:
            yield from self._generation(pending, results)

    def _generation(self, pending: deque[int], results: dict[int, ApkResult]) -> Iterator[None]:
        """Run tasks in one pool until all are done, or until a stuck worker had to be killed.

        Killing a worker breaks the pool: the tasks running beside it end with
        ``BrokenProcessPool`` and go back to ``pending`` for the next pool.
        Pauses (yields) each time it has handed out tasks, before it waits.
        """
        running: dict[Future[ApkResult], tuple[int, float]] = {}
        killed = broken = False
        executor = ProcessPoolExecutor(self.workers, mp_context=self.context, initializer=_init_worker,
                                       initargs=(self.memory_mb, self.started, os.getpid()))
        try:
            while (pending or running) and not killed and not broken:
                while pending and len(running) < self.workers and not self._suspect_running(running):
                    if pending[0] in self.suspects and running:
                        break  # a suspect runs alone, so that a crash names its culprit
                    task = pending.popleft()
                    try:
                        future = executor.submit(self.work, task, self.names[task], self.timeout, self.memory_mb,
                                                 self.budget, self.max_depth, self.full)
                    except BrokenProcessPool:  # a worker died since the last look: this pool is done
                        pending.appendleft(task)
                        broken = True
                        break
                    running[future] = (task, time.monotonic() + self.timeout + self.kill_grace)
                if not running:
                    continue
                yield
                nearest = min(deadline for _, deadline in running.values())
                done, _ = wait(running, timeout=max(0.0, nearest - time.monotonic()), return_when=FIRST_COMPLETED)
                self._drain_started()  # read as we go: a full pipe would block the workers' put
                for future in done:
                    self._collect(running.pop(future)[0], future, pending, results, killed=False)
                for future, (task, deadline) in list(running.items()):
                    if deadline <= time.monotonic():
                        running.pop(future)
                        results[task] = ApkResult(self.names[task], rejected=f"analysis ran past {self.timeout:g} s")
                        killed = self._kill(task) or killed
            if killed or broken:
                wait(running, timeout=self.kill_grace)
                for future, (task, _) in running.items():
                    self._collect(task, future, pending, results, killed=killed)
        finally:
            executor.shutdown(wait=not killed, cancel_futures=True)

    def _collect(self, task: int, future: Future[ApkResult], pending: deque[int], results: dict[int, ApkResult],
                 *, killed: bool) -> None:
        """File ``future``'s result under ``task``; a task its pool broke under runs again (``killed``: by us)."""
        if not future.done():
            pending.appendleft(task)
            return
        error = future.exception()
        if error is None:
            results[task] = future.result()
        elif not isinstance(error, BrokenProcessPool):
            # A bug in analysis (or a timer firing at the last instant) must not end the batch; the reason shows it.
            results[task] = ApkResult(self.names[task], rejected=f"analysis failed ({type(error).__name__}: {error})")
        elif killed:
            pending.appendleft(task)  # it only ran beside the worker we killed
        elif task in self.suspects:  # it ran alone: it is the one that crashes
            results[task] = ApkResult(self.names[task], rejected="analysis crashed its worker process")
        else:
            self.suspects.add(task)
            pending.appendleft(task)

    def _suspect_running(self, running: dict[Future[ApkResult], tuple[int, float]]) -> bool:
        return any(task in self.suspects for task, _ in running.values())

    def _drain_started(self) -> None:
        while not self.started.empty():
            task, pid = self.started.get()
            self.pids[task] = pid

    def _kill(self, task: int) -> bool:
        """Kill the worker running ``task``; True when the pool is now broken (killed, or already gone)."""
        self._drain_started()
        pid = self.pids.get(task)
        if pid is None:
            return False  # it never said it started: leave the pool be, the worker's own timer will end it
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return True
