"""Downloader middleware: a host that keeps failing to answer is given up on.

A tar pit (a server that accepts connections and never answers), a host that
went down mid-crawl or a name that stopped resolving costs every request to it
``CRAWL_TIMEOUT`` seconds, twice with the retry, while it holds a slot of the
crawl's concurrency. A site with hundreds of links into such a host would hold
the crawl for an hour. After ``CRAWL_MAX_HOST_FAILURES`` failed attempts in a
row against one host (``host:port``), this middleware drops its remaining
requests as they come up for download, retries included, counted as
``fraudwall/fetch/skipped/host-unresponsive``; the host is named in the log once.
The requests the downloader already holds (at most ``CRAWL_CONCURRENCY``: they
passed here and wait for a slot of their host) are still sent.

Only failures that say the host does not serve count: a timeout, a refused,
lost or failed connection, a failed lookup. An answer of any kind (an HTTP
error, a body over its cap, garbage that is no HTTP) shows the host is there
and starts the count again; so does a success between failures, so a flaky
host that answers now and then is kept. A request refused by fraudwall itself
(the network policy, a full domain) never reaches a host and is not counted.

It sits between RetryMiddleware (550) and RefusalMiddleware (560): it sees a
failure before the retry is scheduled and after a refused lookup has become a
refusal. A worker of a distributed crawl judges its hosts by its own fetches.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from fraudwall import stats_keys
from fraudwall.crawler.failures import failure_reason
from fraudwall.crawler.refusals import Refused

log = logging.getLogger(__name__)

#: The stat token of a request dropped here.
REASON = "host-unresponsive"
#: Failures that say nothing answers at the host (fraudwall.crawler.failures' reasons).
UNRESPONSIVE = frozenset({"timeout", "connection-refused", "connection-lost", "connection-closed",
                          "connection-failed", "dns-failed"})


def _host(request: Request) -> str:
    return urlparse_cached(request).netloc.lower()


class UnresponsiveHostMiddleware:
    """Counts each host's failed attempts in a row; past ``FRAUDWALL_MAX_HOST_FAILURES``, drops its requests."""

    def __init__(self, crawler: Any, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.failures: Counter[str] = Counter()
        self.given_up: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> UnresponsiveHostMiddleware:
        return cls(crawler, crawler.settings.getint("FRAUDWALL_MAX_HOST_FAILURES"))

    def process_request(self, request: Request) -> None:
        if not self.limit or _host(request) not in self.given_up:
            return
        self.crawler.stats.inc_value(stats_keys.FETCH_SKIPPED + REASON)
        raise Refused(REASON, f"not fetched, its host stopped answering: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        self.failures.pop(_host(request), None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not self.limit or isinstance(exception, Refused):
            return
        reason = failure_reason(Failure(exception))
        # An answer no client accepts (invalid-response...) still comes from a host that answers; process_response
        # never sees it, so the count neither grows nor starts again.
        if reason not in UNRESPONSIVE:
            return
        host = _host(request)
        self.failures[host] += 1
        if self.failures[host] >= self.limit and host not in self.given_up:
            self.given_up.add(host)
            log.info("host %s given up after %d failed attempts in a row (the last: %s); its other requests "
                     "are not sent", host, self.failures[host], reason)
