"""The worker spider of a distributed crawl: the seed spider, fed by the shared frontier.

It fetches and follows links exactly as :class:`SeedSpider` does (same
callbacks, same limits: ``FRAUDWALL_DEPTH`` holds across workers because a
request's depth travels in its meta). The page caps hold for the job: its
pages kept, and each domain's pages and bytes, are counted in Redis by every
worker together (:meth:`~fraudwall.crawler.redis_frontier.RedisFrontier.count_pages`,
:meth:`~fraudwall.crawler.redis_frontier.RedisFrontier.count_domain_pages`),
so ``--max-pages`` is the job's, and a link maze spread over many workers
still gives its share once. A worker that finds the job's ``--max-pages``
reached stops, as a single crawl does; what is left in the frontier stays
there for a larger cap. A worker learns that a domain is full from the
total its own count returns: a page
another worker's count has already filled the domain with is fetched, then
not kept, and its queued links into that domain are dropped from then on.
Redis out of reach, a worker counts alone until it answers again.
Its requests come from the job's Redis queue
(:mod:`fraudwall.crawler.redis_scheduler`), so it may start with no seed at
all: ``fraudwall worker`` joins a crawl that ``fraudwall crawl --redis``
seeded. Given seeds, it pushes them through the shared duplicate filter like
any other request.

The one addition: a fetch that failed for good acknowledges its lease once
the failure is counted (see :mod:`fraudwall.crawler.leases`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.python.failure import Failure

from fraudwall.crawler.spiders.seed_spider import SeedSpider
from fraudwall.models import Target

if TYPE_CHECKING:
    from fraudwall.crawler.redis_frontier import RedisFrontier

log = logging.getLogger(__name__)

# SeedSpider refuses to start without a target; a worker often has none. It is given this one and
# then none, so everything else SeedSpider sets up stays its own business.
_PLACEHOLDER = [Target("http://worker.invalid/", source="placeholder")]


class WorkerSpider(SeedSpider):
    """Crawl what the shared frontier hands out, following links as the seed spider does."""

    name = "fraudwall-worker"

    def __init__(self, seeds: str | list[str] | None = None, targets: list[Target] | None = None, **kwargs: Any) -> None:
        if targets is None and seeds:
            super().__init__(seeds=seeds, **kwargs)
        else:
            super().__init__(targets=targets or _PLACEHOLDER, **kwargs)
            self.targets = list(targets or [])

    def _count_bytes(self, domain: str, size: int) -> None:
        if not self.max_domain_bytes:
            return super()._count_bytes(domain, size)
        self.domain_bytes[domain] = self._shared_count(
            "domain bytes", lambda frontier: frontier.count_domain_bytes(domain, size), self.domain_bytes[domain] + size)

    def _count_kept(self, pages: int) -> int:
        if not self.max_pages:
            return super()._count_kept(pages)
        return self._shared_count("pages", lambda frontier: frontier.count_pages(pages), self.pages + pages)

    def _count_pages(self, domain: str, pages: int) -> int:
        if not self.max_domain_pages:
            return super()._count_pages(domain, pages)
        self.domain_pages[domain] = self._shared_count(
            "domain pages", lambda frontier: frontier.count_domain_pages(domain, pages), self.domain_pages[domain] + pages)
        return self.domain_pages[domain]

    def _shared_count(self, what: str, count: Callable[[RedisFrontier], int], alone: int) -> int:
        """The job's total after ``count`` adds to it in Redis, never below ``alone`` (this worker's own total);
        ``alone`` when Redis fails."""
        import redis  # here, as in on_error: Scrapy imports every spider module for every crawl

        from fraudwall.crawler.leases import worker_state

        try:
            return max(count(worker_state(self.crawler).frontier), alone)
        except redis.RedisError as exc:
            log.warning("%s counted by this worker alone (Redis: %s)", what, exc)
            return alone

    def on_error(self, failure: Failure) -> None:
        super().on_error(failure)
        # Imported here: Scrapy imports every spider module for every crawl, distributed or not.
        from fraudwall.crawler.leases import lease_of, worker_state

        token = lease_of(getattr(failure, "request", None))
        if token is not None:
            worker_state(self.crawler).tracker.settle(token)
