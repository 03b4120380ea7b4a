"""A distributed worker's life: heartbeat, reaping the dead, noticing new work, and when to exit.

A Scrapy extension, enabled only in distributed workers (``NotConfigured``
otherwise). While the worker runs it:

- renews the worker's lease deadline three times per lease period, and
  re-queues the requests of workers past theirs (:meth:`RedisFrontier.reap`);
  both run on the reactor, so a worker whose reactor is stuck stops renewing
  and its requests go to the others;
- asks the engine for requests every :data:`POLL_SECONDS`: other workers
  fill the shared queue, and Scrapy by itself looks only every five seconds
  once its own scheduler was found empty (it pokes the engine's private
  ``_slot.nextcall``; without it the worker still works, only slower);
- on ``spider_idle`` keeps the spider open while anything is queued or in
  flight anywhere in the job (a worker in flight may still find links, a
  dead one's leases will come back), settles leases it still holds with
  nothing in progress (queued again when their page never reached the
  outbox, acknowledged otherwise), and lets the worker exit once the whole
  job has been idle for ``idle_seconds`` (0: wait for work forever). A
  worker that cannot reach Redis for a whole lease period stops, with the
  stat ``fraudwall/frontier/unreachable``: its leases are other workers' by then.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider
from twisted.internet.task import LoopingCall

from fraudwall import stats_keys
from fraudwall.crawler.leases import WorkerState, worker_state

log = logging.getLogger(__name__)

#: Seconds between looks at the shared queue when this worker has nothing to do.
POLL_SECONDS = 0.5
#: The stat naming the Redis error that made the worker give up, when one did.
UNREACHABLE_STAT = stats_keys.FRONTIER_UNREACHABLE


class WorkerLifecycle:
    """Heartbeat, reaping, polling and idle exit of one distributed worker."""

    def __init__(self, crawler: Crawler, state: WorkerState) -> None:
        self.crawler = crawler
        self.state = state
        self.idle_since: float | None = None
        #: Since when Redis has failed every idle check: past a lease period the worker gives up.
        self.unreachable_since: float | None = None
        #: Leases held at the last idle check: held at two in a row with nothing in progress, they are given back.
        self.suspects: set[str] = set()
        self.beat = LoopingCall(self._beat)
        self.poll = LoopingCall(self._poll)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerLifecycle:
        extension = cls(crawler, worker_state(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        self.beat.start(self.state.config.lease_seconds / 3, now=False)
        self.poll.start(POLL_SECONDS, now=False)

    def spider_closed(self, spider: Any, reason: str) -> None:
        for loop in (self.beat, self.poll):
            if loop.running:
                loop.stop()

    def _beat(self) -> None:
        if self.state.left:
            return  # gave its leases back: registering again would leave a ghost worker behind
        try:
            self.state.frontier.heartbeat()
            if moved := self.state.frontier.reap():
                self.crawler.stats.inc_value(stats_keys.FRONTIER + "reaped", moved)
        except redis.RedisError as exc:
            # A LoopingCall stops at its first exception; a Redis hiccup must not end the heartbeat.
            log.log(logging.DEBUG if self.unreachable_since else logging.WARNING, "heartbeat failed (Redis: %s)", exc)

    def _poll(self) -> None:
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def spider_idle(self, spider: Any) -> None:
        frontier = self.state.frontier
        try:
            self._give_back_leaked()
            if moved := frontier.reap():
                self.crawler.stats.inc_value(stats_keys.FRONTIER + "reaped", moved)
            job = frontier.state()
        except redis.RedisError as exc:
            self._unreachable(exc)
            raise DontCloseSpider from exc
        self.unreachable_since = None
        if not job.finished:
            self.idle_since = None
            raise DontCloseSpider
        idle_seconds = self.state.config.idle_seconds
        if idle_seconds <= 0:
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < idle_seconds:
            raise DontCloseSpider
        log.info("job %r has had nothing queued or in flight for %.0fs: worker %s exits",
                 frontier.config.job, idle_seconds, frontier.worker)

    def _unreachable(self, exc: redis.RedisError) -> None:
        """Wait for Redis a lease period; then stop (its leases are the others' by then), saying why in the stats."""
        now = time.monotonic()
        if self.unreachable_since is None:
            self.unreachable_since = now
            log.warning("cannot read the shared frontier (Redis: %s); waiting up to %.0fs", exc,
                        self.state.config.lease_seconds)
        if now - self.unreachable_since < self.state.config.lease_seconds:
            return
        self.crawler.stats.set_value(UNREACHABLE_STAT, str(exc))
        log.error("Redis unreachable for %.0fs (%s): worker %s stops", now - self.unreachable_since, exc,
                  self.state.frontier.worker)
        raise CloseSpider("redis-unreachable")

    def _give_back_leaked(self) -> None:
        """Settle the leases this idle worker still holds: queue again those whose work was lost, acknowledge the rest."""
        tracker = self.state.tracker
        held = set(self.state.frontier.held())
        leaked = held & self.suspects
        self.suspects = held - leaked
        retry = leaked & tracker.retry
        if retry:
            for token in retry:
                tracker.forget(token)
            moved = self.state.frontier.requeue(retry)
            self.crawler.stats.inc_value(stats_keys.FRONTIER + "requeued_after_failure", moved)
            log.warning("queued again %d requests whose pages did not reach the outbox", moved)
        if stray := leaked - retry:
            # Nothing is in progress here, so their work ended on a path that never said so. Fetching them
            # again could repeat forever; acknowledging them is what the work's end would have done.
            for token in stray:
                tracker.settle(token)
            self.crawler.stats.inc_value(stats_keys.FRONTIER + "settled_idle", len(stray))
            log.warning("acknowledged %d leases that nothing in this worker was working on", len(stray))
