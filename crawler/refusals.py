"""Downloader middleware: a request the resolver gave no address on purpose ends as a refusal.

The resolver (:mod:`fraudwall.crawler.resolver`) can only withhold addresses;
the download handler then fails the request as a DNS lookup failure, which
RetryMiddleware would try again and the log would call a DNS problem. This
middleware sits between the two (``process_exception`` runs from the download
handler outwards, so its order number is above RetryMiddleware's 550): when
the resolver refused the request's host, it logs why once, counts it as
``fraudwall/fetch/refused/<reason>`` and raises :class:`Refused`, which ends the
request without a retry. Redirect hops are new requests and pass here too.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.statscollectors import StatsCollector
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from fraudwall import stats_keys
from fraudwall.crawler.resolver import GuardedResolver

log = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A request fraudwall refused to send; ``reason`` is the stat token (``network-policy``...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _is_lookup_failure(exception: BaseException) -> bool:
    # Scrapy's download handlers wrap Twisted's DNSLookupError in their own
    # CannotResolveHostError, keeping it as the cause.
    return isinstance(exception, DNSLookupError) or isinstance(exception.__cause__, DNSLookupError)


def _installed_resolver() -> GuardedResolver | None:
    # Scrapy installs the resolver on the reactor when the process starts, after the
    # middlewares are built, so it is looked up when needed rather than kept.
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    return resolver if isinstance(resolver, GuardedResolver) else None


#: The stat holding the first refusal's message, such as
#: ``refused http://127.0.0.1/: 127.0.0.1 is not a public address (network policy; --allow-net 127.0.0.0/8 opens it)``.
FIRST_REFUSAL_STAT = stats_keys.FETCH_FIRST_REFUSAL


class RefusalMiddleware:
    """Turns the failed download of a host the resolver refused into a counted, unretried :class:`Refused`."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RefusalMiddleware:
        return cls(crawler.stats)

    def process_exception(self, request: Request, exception: Exception) -> None:
        resolver = _installed_resolver()
        host = urlparse_cached(request).hostname
        refusal = resolver.refusal(host) if resolver is not None and host and _is_lookup_failure(exception) else None
        if refusal is None:
            return  # a real failure: the next middlewares (RetryMiddleware) handle it
        message = f"refused {request.url}: {refusal.detail}"
        # Each refusal is counted; the first is kept whole for the summary, the others are logged at INFO (-v).
        log.info("%s", message)
        self.stats.inc_value(stats_keys.FETCH_REFUSED + refusal.reason)
        if self.stats.get_value(FIRST_REFUSAL_STAT) is None:
            self.stats.set_value(FIRST_REFUSAL_STAT, message)
        raise Refused(refusal.reason, message) from exception
