"""scrapy-redis's scheduler, taking requests from the shared frontier under lease.

scrapy-redis (0.9.1) works with this Scrapy (2.19): its scheduler passes
Scrapy's scheduler interface check, and its priority queue, duplicate filter
(a Redis set of request fingerprints) and request encoding are used as they
are. Its ``enqueue_request`` passes ``spider=`` to the stats collector, which
Scrapy 2.19 deprecates; the override here does the same without it. Two
things change, in these subclasses:

- :class:`LeasedQueue` pops through :meth:`RedisFrontier.pop`, which moves
  the request into this worker's lease hash instead of deleting it, and marks
  the request with its lease token (see :mod:`fraudwall.crawler.leases`);
- :class:`LeasedScheduler` never flushes the shared queue or the duplicate
  filter when this worker closes (other workers share them; scrapy-redis
  does unless ``SCHEDULER_PERSIST``), gives back this worker's leases instead
  (:meth:`RedisFrontier.leave`), and acknowledges the lease of a request that
  comes back as a retry or a redirect once the new request is queued.

Requests travel as JSON (:mod:`fraudwall.crawler.request_codec`), never pickled.
Keys are per job (:class:`fraudwall.redis_keys.JobKeys`).
"""

from __future__ import annotations

import logging

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from fraudwall import stats_keys
from fraudwall.crawler import request_codec
from fraudwall.crawler.leases import LEASE_META, WorkerState, worker_state
from fraudwall.crawler.redis_frontier import RedisFrontier

log = logging.getLogger(__name__)


class LeasedQueue(PriorityQueue):
    """The job's request queue; a pop leases the request to this worker."""

    def __init__(self, frontier: RedisFrontier, spider: Spider) -> None:
        super().__init__(frontier.client, spider, frontier.keys.requests, serializer=request_codec)
        self.frontier = frontier
        self.undecodable = 0

    def pop(self, timeout: float = 0) -> Request | None:
        """The next request, leased to this worker; ``None`` when the queue is empty."""
        while (taken := self.frontier.pop()) is not None:
            token, data = taken
            try:
                request = self._decode_request(data)
            except Exception as exc:  # anything a foreign or stale entry breaks; it must not stop the worker
                log.error("dropped a request the frontier cannot decode (%s: %s): %.120r", type(exc).__name__, exc, data)
                self.frontier.ack(token)
                self.undecodable += 1
                continue
            request.meta[LEASE_META] = token
            return request
        return None


class LeasedScheduler(Scheduler):
    """A scrapy-redis scheduler over the job's shared, leased frontier."""

    state: WorkerState
    queue: LeasedQueue
    redis_down = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedScheduler:
        state = worker_state(crawler)
        keys = state.frontier.keys
        scheduler = cls(server=state.frontier.client, persist=True, queue_key=keys.requests,
                        dupefilter_key=keys.seen, serializer=request_codec)
        scheduler.state = state
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        frontier = self.state.frontier
        self.queue = LeasedQueue(frontier, spider)
        self.df = RFPDupeFilter(self.server, key=frontier.keys.seen, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        frontier.heartbeat()
        frontier.reap()  # a crawl left behind by stopped workers goes on from where they were
        state = frontier.state()
        log.info("worker %s joined job %r: %d requests queued, %d in flight, %d workers", frontier.worker,
                 frontier.config.job, state.queued, state.in_flight, state.live_workers)

    def enqueue_request(self, request: Request) -> bool:
        # A retry or redirect of a leased request: the new one goes into the queue (filtered or not),
        # then the old lease is done. The token never travels with the new request.
        token = request.meta.pop(LEASE_META, None)
        # scrapy-redis's own enqueue_request, less its stats call that Scrapy 2.19 deprecates (spider=).
        queued = request.dont_filter or not self.df.request_seen(request)
        if queued:
            if self.stats:
                self.stats.inc_value("scheduler/enqueued/redis")
            self.queue.push(request)
        else:
            self.df.log(request, self.spider)
        if token is not None:
            self.state.tracker.settle(token)
        return queued

    def has_pending_requests(self) -> bool:
        try:
            return len(self.queue) > 0
        except redis.RedisError:
            return False  # so the engine goes idle, where the lifecycle extension waits for Redis or gives up

    def next_request(self) -> Request | None:
        try:
            request = self.queue.pop()
        except redis.RedisError as exc:
            # Said once per outage: the engine asks many times a second.
            log.log(logging.DEBUG if self.redis_down else logging.WARNING,
                    "cannot take a request from the shared frontier (Redis: %s)", exc)
            self.redis_down = True
            return None
        self.redis_down = False
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def close(self, reason: str) -> None:
        # Everything this worker fetched has been through the pipelines by now (the engine closes the
        # scraper first); what it still holds was never done, and goes back for the other workers.
        self.state.left = True
        frontier = self.state.frontier
        try:
            requeued, cleared = frontier.leave()
        except redis.RedisError as exc:
            # Nothing is lost: its leases expire and another worker reaps them.
            log.error("worker %s could not give its leases back (Redis: %s); they return when they expire",
                      frontier.worker, exc)
            return
        if self.stats:
            self.stats.set_value(stats_keys.FRONTIER + "given_back", requeued)
            self.stats.set_value(stats_keys.FRONTIER + "acknowledged", self.state.tracker.acknowledged)
            if self.queue.undecodable:
                self.stats.set_value(stats_keys.FRONTIER + "undecodable", self.queue.undecodable)
        log.info("worker %s left job %r (%s): %d requests given back%s", frontier.worker, frontier.config.job, reason,
                 requeued, "; the crawl is finished and its duplicate filter cleared" if cleared else "")

    def flush(self) -> None:
        raise RuntimeError("one worker never flushes the shared frontier")
