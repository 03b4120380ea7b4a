"""Downloader middleware: a registered domain that has given its share is fetched no more.

The spider stops following a domain's links once it has kept
``CRAWL_MAX_PAGES_PER_DOMAIN`` pages or downloaded ``CRAWL_MAX_BYTES_PER_DOMAIN``
bytes of it. By then a link maze has queued thousands of requests into the
same domain, which would still be fetched, one after another, until the run's
own page cap: a hostile site would spend the whole run. This middleware drops
them as they come up for download, counted as
``fraudwall/fetch/skipped/domain-limit``.

A seed, its client variants (compared for cloaking) and a page's rendering
were asked for as such, not found as links: they always pass.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request

from fraudwall import stats_keys
from fraudwall.crawler.refusals import Refused
from fraudwall.crawler.render import RENDER_DEPTH
from fraudwall.crawler.variants import VARIANT_META

#: The stat token of a request dropped here.
REASON = "domain-limit"


def asked_for(request: Request) -> bool:
    """A seed (or one of its client variants) or a rendering: not a link the budget limits."""
    meta = request.meta
    is_seed = meta.get("seed") == request.url and not meta.get("referrer")
    return is_seed or VARIANT_META in meta or RENDER_DEPTH in meta


class DomainBudgetMiddleware:
    """Drops a request into a domain the spider reports full (``domain_full``) before it is sent."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> DomainBudgetMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        spider = self.crawler.spider
        full = getattr(spider, "domain_full", None)
        if full is None or asked_for(request) or not full(request.url):
            return
        self.crawler.stats.inc_value(stats_keys.FETCH_SKIPPED + REASON)
        raise Refused(REASON, f"not fetched, its domain has given its share of pages or bytes: {request.url}")
