"""When a worker's leased request is done with, and who says so.

Each request a worker takes from the shared frontier carries its lease token
in ``request.meta["fraudwall_lease"]`` (:mod:`fraudwall.crawler.redis_scheduler`
puts it there). The lease is acknowledged when nothing of the request's work
can be lost any more:

- a page: when its callback has yielded everything (the links it found are
  in the shared queue then: scheduling is synchronous) *and* every item it
  yielded has left the item pipelines: handed to the outbox, or dropped
  (rejected, over a cap). :class:`LeaseMiddleware` counts both, per token, and
  the ``item_scraped``/``item_dropped``/``item_error`` signals, which carry the
  response, count the items down;
- a failed fetch: when the spider's errback has counted it (the worker spider
  calls :meth:`LeaseTracker.settle`);
- a retry or a redirect: when the new request is in the shared queue (the
  scheduler settles the old token as it enqueues).

An item whose pipeline failed on Redis itself keeps its lease: the request
is queued again (at the worker's next idle moment, or by whoever reaps the
worker) rather than lost. Any other pipeline error acknowledges it, so a page
that breaks a pipeline is not fetched over and over by every worker in turn;
for the same reason a lease still held when the worker has nothing in
progress (a path this module missed) is acknowledged, not queued again
(:mod:`fraudwall.crawler.worker_lifecycle`).

:func:`worker_state` is what the scheduler, the middleware, the lifecycle
extension and the spider share within one worker: the frontier and the
tracker, made once per crawler from the Scrapy setting ``FRAUDWALL_FRONTIER``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.python.failure import Failure

from fraudwall.crawler.redis_frontier import FrontierConfig, RedisFrontier, connect

log = logging.getLogger(__name__)

#: The request meta key holding the lease token of a request taken from the shared frontier.
LEASE_META = "fraudwall_lease"
#: The Scrapy setting holding the worker's :class:`FrontierConfig`.
FRONTIER_SETTING = "FRAUDWALL_FRONTIER"


class LeaseTracker:
    """The work still open on each leased request of this worker; the lease is acknowledged when none is."""

    def __init__(self, frontier: RedisFrontier) -> None:
        self.frontier = frontier
        self._open: dict[str, int] = {}
        #: Leases whose work was lost after the fetch: to be queued again, never acknowledged.
        self.retry: set[str] = set()
        self.acknowledged = 0

    def hold(self, token: str) -> None:
        if token not in self.retry:  # to be fetched again: nothing may acknowledge it now
            self._open[token] = self._open.get(token, 0) + 1

    def release(self, token: str) -> None:
        """One piece of the request's work is done; the last one acknowledges the lease."""
        count = self._open.get(token)
        if count is None:
            return  # settled already (an errback after a callback, a token released twice)
        if count > 1:
            self._open[token] = count - 1
        else:
            self.settle(token)

    def settle(self, token: str) -> None:
        """The request is done with, whatever was still counted: acknowledge its lease."""
        self._open.pop(token, None)
        self.frontier.ack(token)
        self.acknowledged += 1

    def keep_for_retry(self, token: str) -> None:
        """Never acknowledge ``token``: its work was lost on the way (the outbox failed), so its request must be
        fetched again. It stays leased until this worker gives it back when idle, or dies and is reaped."""
        self._open.pop(token, None)
        self.retry.add(token)

    def forget(self, token: str) -> None:
        """Stop tracking ``token``: its request went back to the queue, so a late release must not acknowledge it."""
        self._open.pop(token, None)
        self.retry.discard(token)


@dataclass
class WorkerState:
    """A worker's frontier and lease tracker, shared by its Scrapy components."""

    config: FrontierConfig
    frontier: RedisFrontier
    tracker: LeaseTracker
    #: Set once the worker has given its leases back: it must not register itself again.
    left: bool = False


_STATES: weakref.WeakKeyDictionary[Crawler, WorkerState] = weakref.WeakKeyDictionary()


def worker_state(crawler: Crawler) -> WorkerState:
    """This crawler's :class:`WorkerState`; ``NotConfigured`` when it is no distributed worker."""
    state = _STATES.get(crawler)
    if state is None:
        config = crawler.settings.get(FRONTIER_SETTING)
        if not isinstance(config, FrontierConfig):
            raise NotConfigured(f"{FRONTIER_SETTING} is not set: not a distributed crawl")
        frontier = RedisFrontier(connect(config.redis_url), config)
        state = _STATES[crawler] = WorkerState(config, frontier, LeaseTracker(frontier))
    return state


def lease_of(request: Request | None) -> str | None:
    """The lease token a request carries, if it came from the shared frontier."""
    return None if request is None else request.meta.get(LEASE_META)


class LeaseMiddleware:
    """Spider middleware: counts, per lease, the callback's output still open and the items in the pipelines.

    It sits next to the engine (order 10) so it sees what the scraper is
    actually handed, after every other middleware has filtered it.
    """

    def __init__(self, tracker: LeaseTracker) -> None:
        self.tracker = tracker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseMiddleware:
        middleware = cls(worker_state(crawler).tracker)
        crawler.signals.connect(middleware.item_done, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_done, signal=signals.item_dropped)
        crawler.signals.connect(middleware.item_failed, signal=signals.item_error)
        return middleware

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        token = lease_of(response.request)
        if token is None:
            yield from result
            return
        self.tracker.hold(token)  # the output itself, until it is exhausted
        try:
            for output in result:
                if not isinstance(output, Request):
                    self.tracker.hold(token)  # released by the item's signal
                yield output
        finally:
            self.tracker.release(token)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        token = lease_of(response.request)
        if token is None:
            async for output in result:
                yield output
            return
        self.tracker.hold(token)
        try:
            async for output in result:
                if not isinstance(output, Request):
                    self.tracker.hold(token)
                yield output
        finally:
            self.tracker.release(token)

    def item_done(self, item: Any, response: Response | Failure | None, **kwargs: Any) -> None:
        token = lease_of(response.request) if isinstance(response, Response) else None
        if token is not None:
            self.tracker.release(token)

    def item_failed(self, item: Any, response: Response | Failure | None, failure: Failure, **kwargs: Any) -> None:
        if not isinstance(response, Response) or (token := lease_of(response.request)) is None:
            return
        if failure.check(redis.RedisError):
            # The page did not reach the outbox: keep the lease, so the request is queued again, not lost.
            log.warning("outbox unreachable; %s will be fetched again: %s", response.url, failure.getErrorMessage())
            self.tracker.keep_for_retry(token)
        else:
            self.tracker.release(token)
