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
refusal.

In a distributed crawl the count is the job's: every worker adds its failed
attempts to one count per host in Redis, any answer starts it again for all,
and a host given up is given up by every worker
(:meth:`~fraudwall.crawler.redis_frontier.RedisFrontier.host_failed`). Each
worker reads which hosts are failing or given up at most every
:data:`SHARED_REFRESH_SECONDS`, so a worker may send a request or two to a host
another has just given up; it writes its own failures at once. A tar pit
costs the job ``CRAWL_MAX_HOST_FAILURES`` attempts, not that many for each
worker. With Redis out of reach, a worker counts alone until it answers again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from fraudwall import stats_keys
from fraudwall.crawler.failures import failure_reason
from fraudwall.crawler.refusals import Refused

if TYPE_CHECKING:
    from fraudwall.crawler.redis_frontier import RedisFrontier

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: The stat token of a request dropped here.
REASON = "host-unresponsive"
#: Failures that say nothing answers at the host (fraudwall.crawler.failures' reasons).
UNRESPONSIVE = frozenset({"timeout", "connection-refused", "connection-lost", "connection-closed",
                          "connection-failed", "dns-failed"})


def _host(request: Request) -> str:
    return urlparse_cached(request).netloc.lower()


#: Seconds between a worker's reads of the job's failing and given-up hosts.
SHARED_REFRESH_SECONDS = 2.0


class UnresponsiveHostMiddleware:
    """Counts each host's failed attempts in a row; past ``FRAUDWALL_MAX_HOST_FAILURES``, drops its requests.

    ``shared`` is the job's frontier in a distributed crawl (the counts are the job's), None in a crawl of one.
    """

    def __init__(self, crawler: Any, limit: int, shared: RedisFrontier | None = None,
                 refresh_seconds: float = SHARED_REFRESH_SECONDS) -> None:
        self.crawler = crawler
        self.limit = limit
        self.failures: Counter[str] = Counter()
        self.given_up: set[str] = set()
        self.shared = shared
        self.refresh_seconds = refresh_seconds
        self._failing_elsewhere: set[str] = set()
        self._read_at = float("-inf")

    @classmethod
    def from_crawler(cls, crawler: Any) -> UnresponsiveHostMiddleware:
        shared = None
        if crawler.settings.get("FRAUDWALL_FRONTIER") is not None:  # a distributed crawl: Redis is imported then
            from fraudwall.crawler.leases import worker_state

            shared = worker_state(crawler).frontier
        return cls(crawler, crawler.settings.getint("FRAUDWALL_MAX_HOST_FAILURES"), shared)

    def process_request(self, request: Request) -> None:
        if not self.limit:
            return
        self._read_shared()
        if _host(request) not in self.given_up:
            return
        self.crawler.stats.inc_value(stats_keys.FETCH_SKIPPED + REASON)
        raise Refused(REASON, f"not fetched, its host stopped answering: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        host = _host(request)
        failed_here = self.failures.pop(host, None)
        if self.shared is not None and (failed_here or host in self._failing_elsewhere):
            self._failing_elsewhere.discard(host)
            self._tell_shared(lambda shared: shared.host_answered(host))
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
        # The job's count decides; this worker's own only when there is no job's count to be had.
        given_up = self._tell_shared(lambda shared: shared.host_failed(host, self.limit)) if self.shared else None
        if given_up is None:
            given_up = self.failures[host] >= self.limit
        if given_up and host not in self.given_up:
            self.given_up.add(host)
            log.info("host %s given up after %d failed attempts in a row (the last: %s); its other requests "
                     "are not sent", host, max(self.failures[host], self.limit), reason)

    def _read_shared(self) -> None:
        """The job's failing and given-up hosts, read again when the last read is older than refresh_seconds."""
        if self.shared is None or time.monotonic() - self._read_at < self.refresh_seconds:
            return
        self._read_at = time.monotonic()
        health = self._tell_shared(lambda shared: shared.host_health())
        if health:
            self._failing_elsewhere, given_up = health
            self.given_up |= given_up

    def _tell_shared(self, call: Callable[[RedisFrontier], _T]) -> _T | None:
        """``call`` on the job's frontier; None, and this worker's own count stands, when Redis fails."""
        import redis

        try:
            return call(self.shared)  # type: ignore[arg-type]
        except redis.RedisError as exc:
            log.warning("host failures counted by this worker alone (Redis: %s)", exc)
            return None
