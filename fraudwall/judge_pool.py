"""Judging in worker processes, so that a crawl's downloads never wait on detectors.

Pages are judged as they are; a downloaded APK (:class:`~fraudwall.models.ApkDownload`)
is first observed by :mod:`fraudwall.apk_analysis` in the worker, then each APK
in it is judged (:func:`fraudwall.apk_intake.judge_apk`).

Detectors are CPU-bound Python: threads would share one core with the
reactor, so :class:`JudgePool` adds cores instead, as worker processes, each
with its own :class:`~fraudwall.plugin_host.PluginHost` built once from the
crawl's settings. An observation goes out, a :class:`WorkerResult` (the
:class:`~fraudwall.models.Judgement`, or the reason it was rejected, and how
each plugin fared) comes back; both are plain frozen values, so they pickle.

Inside a worker each plugin call has its ``PLUGIN_TIMEOUT`` budget (the
worker is its process's main thread, where the host's alarm works). A worker
stuck where no alarm reaches (inside a C extension) is abandoned once the
whole observation's budget has passed: the item is counted as abandoned, the
pool is replaced, and the crawl goes on.

Workers start with ``forkserver``: the crawl's process runs the reactor's
threads, and forking a process with threads can copy a lock held by one of
them. Workers ignore SIGINT: a Ctrl-C reaches the whole process group, and
the crawl's graceful stop needs them to finish the observations in flight.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import multiprocessing
import os
import signal
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace

from fraudwall.apk_analysis import ApkRejected, observe_apk
from fraudwall.apk_intake import judge_apk
from fraudwall.exceptions import InputError
from fraudwall.judging import judge
from fraudwall.models import ApkDownload, Finding, Judgement, Observation, PageObservation
from fraudwall.page_view import PageView
from fraudwall.plugin_host import ENTRY_POINT_GROUP, PluginHost
from fraudwall.process_watch import exit_when_gone
from fraudwall.settings import Settings

log = logging.getLogger(__name__)

#: Time for a worker to start and load its plugins, on top of an observation's plugin budgets.
STARTUP_SECONDS = 60.0
#: Workers when ``JUDGE_WORKERS`` is 0: one per CPU, up to this many.
MAX_DEFAULT_WORKERS = 8

_worker_host: PluginHost | None = None


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """What a worker sends back for one observation: a judgement, or why it was rejected.

    For a downloaded APK, ``judgement`` is the APK's own and ``nested`` those
    of the APKs found inside it.
    """

    judgement: Judgement | None
    #: The rejection's reason token (``empty-label``...) when there is no judgement.
    rejected: str = ""
    #: (plugin, outcome) -> count for this observation: ok, error, timeout, bad-result.
    plugin_stats: tuple[tuple[tuple[str, str], int], ...] = ()
    nested: tuple[Judgement, ...] = ()
    #: For a page: the APK files it offers as judging read it (its view's install paths), for the crawl to
    #: fetch those its own scan of the page missed.
    apps: tuple[str, ...] = ()


def worker_count(settings: Settings) -> int:
    """``JUDGE_WORKERS``, or one per CPU (at most :data:`MAX_DEFAULT_WORKERS`) when it is 0."""
    configured = settings.getint("JUDGE_WORKERS")
    return configured or max(1, min(MAX_DEFAULT_WORKERS, len(os.sched_getaffinity(0))))


def _start_worker(settings: Settings, crawl_pid: int) -> None:
    global _worker_host
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_when_gone(crawl_pid)  # a crawl killed with SIGKILL cannot stop its pool
    # Below the reactor: on two cores, three busy processes made it wait for one (the crawl benchmark
    # ran about a tenth faster with the workers at 19 than at 0).
    os.nice(max(0, min(19, settings.getint("JUDGE_NICE"))))
    _worker_host = PluginHost.from_settings(settings)


def _ready() -> None:
    """Nothing: submitted once per worker when a pool starts, so that every worker boots at once."""


def _judge_in_worker(observation: Observation | ApkDownload, extra: tuple[Finding, ...] = ()) -> WorkerResult:
    host = _worker_host
    assert host is not None, "the pool's initializer builds the host"
    before = Counter(host.stats)
    nested: list[Judgement] = []
    apps: tuple[str, ...] = ()
    try:
        if isinstance(observation, ApkDownload):
            # Bounded by the APK budget (decompressed bytes, members, strings), and by the pool's
            # deadline: a worker stuck past it is killed and the download counted as abandoned.
            judgement, *nested = judge_apk(observe_apk(observation.body, download_url=observation.final_url,
                                                       referrer=observation.referrer), host, observation.body)
        elif isinstance(observation, PageObservation):
            view = PageView(observation)
            judgement = judge(host, observation, extra=extra, view=view)
            # The sender has the page: send back the verdict without it (its HTML, text and links would
            # cross the pipe twice). JudgePool.judge puts it back.
            judgement = replace(judgement, observation=None)  # type: ignore[arg-type]
            apps = tuple(path.url for path in view.install_paths if path.kind == "apk")
        else:
            judgement = judge(host, observation, extra=extra)
        rejected = ""
    except ApkRejected as exc:
        judgement, rejected = None, f"apk: {exc.reason}"
    except InputError as exc:
        judgement, rejected = None, exc.reason
    counts = Counter(host.stats)
    counts.subtract(before)
    return WorkerResult(judgement, rejected, tuple((key, n) for key, n in counts.items() if n), tuple(nested), apps)


def _worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver``, its server importing the judging code and the bundled plugins once: each worker
    forked from it has them already, where it would import them again (about half a second of CPU each)."""
    try:
        own = importlib.metadata.distribution("fraudwall").entry_points.select(group=ENTRY_POINT_GROUP)
    except importlib.metadata.PackageNotFoundError:  # run from a source tree: the workers import them
        own = importlib.metadata.EntryPoints()
    context = multiprocessing.get_context("forkserver")
    # Only fraudwall's own plugins: an import error in the server is ignored, any other exception kills it.
    context.set_forkserver_preload([__name__, *sorted({entry_point.module for entry_point in own})])
    return context


class JudgePool:
    """A pool of judging worker processes; :meth:`judge` awaits one observation's result."""

    def __init__(self, settings: Settings, workers: int, hook_count: int = 1) -> None:
        self.settings = settings
        self.workers = workers
        #: Hook implementations per observation, which size its :attr:`budget` (the caller may learn it later).
        self.hook_count = hook_count
        self.abandoned = 0
        self._executor = self._new_executor()

    @property
    def budget(self) -> float:
        """Seconds an observation may take: every hook implementation may use its whole budget."""
        return self.settings.getfloat("PLUGIN_TIMEOUT") * max(1, self.hook_count) + STARTUP_SECONDS

    def _new_executor(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.workers, mp_context=_worker_context(),
            initializer=_start_worker, initargs=(self.settings, os.getpid()),
        )
        # The executor starts a worker per call it cannot hand to an idle one: one call each starts them all
        # now, loading their plugins (most of a second) while the crawl starts, not when its first page waits.
        for _ in range(self.workers):
            executor.submit(_ready)
        return executor

    async def judge(self, observation: Observation | ApkDownload, extra: tuple[Finding, ...] = ()) -> WorkerResult | None:
        """The worker's result for ``observation``; ``None`` when it was abandoned past its budget.

        An observation whose worker was killed because another one got stuck
        is judged again, once, by the new workers.
        """
        for attempt in range(2):
            executor = self._executor
            future = executor.submit(_judge_in_worker, observation, extra)
            try:
                result = await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.budget)
                if result.judgement is not None and result.judgement.observation is None:
                    result = replace(result, judgement=replace(result.judgement, observation=observation))
                return result
            except BrokenProcessPool:
                if executor is not self._executor and attempt == 0:
                    continue  # killed with a stuck neighbour: the new pool judges it
                reason = "a judging worker died"
            except TimeoutError:
                reason = f"no result within {self.budget:.0f}s"
            self.abandoned += 1
            log.error("judging abandoned (%s); the judging workers are restarted", reason)
            if executor is self._executor:
                self._restart()
            return None
        return None

    def _restart(self) -> None:
        """Replace the pool: a worker stuck past every budget is killed, not waited for."""
        stuck = self._executor
        self._executor = self._new_executor()
        # ProcessPoolExecutor has no public way to kill its workers before Python 3.14.
        processes = getattr(stuck, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        stuck.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Wait for the observations in flight, then stop the workers."""
        self._executor.shutdown(wait=True)
