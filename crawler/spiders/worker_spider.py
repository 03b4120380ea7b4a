"""The worker spider of a distributed crawl: the seed spider, fed by the shared frontier.

It fetches and follows links exactly as :class:`SeedSpider` does (same
callbacks, same limits: ``FRAUDWALL_DEPTH`` holds across workers because a
request's depth travels in its meta, while ``FRAUDWALL_MAX_PAGES`` caps each
worker, not the job, and so do the per-domain page and byte caps and the
budget middleware that enforces them). Its requests come from the job's Redis queue
(:mod:`fraudwall.crawler.redis_scheduler`), so it may start with no seed at
all: ``fraudwall worker`` joins a crawl that ``fraudwall crawl --redis``
seeded. Given seeds, it pushes them through the shared duplicate filter like
any other request.

The one addition: a fetch that failed for good acknowledges its lease once
the failure is counted (see :mod:`fraudwall.crawler.leases`).
"""

from __future__ import annotations

from typing import Any

from twisted.python.failure import Failure

from fraudwall.crawler.spiders.seed_spider import SeedSpider
from fraudwall.models import Target

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

    def on_error(self, failure: Failure) -> None:
        super().on_error(failure)
        # Imported here: Scrapy imports every spider module for every crawl, distributed or not.
        from fraudwall.crawler.leases import lease_of, worker_state

        token = lease_of(getattr(failure, "request", None))
        if token is not None:
            worker_state(self.crawler).tracker.settle(token)
