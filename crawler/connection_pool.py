"""The crawl's keep-alive connections: few, short-lived, closed cleanly.

Twisted's ``HTTPConnectionPool``, which Scrapy's HTTP handler uses, keeps an
idle connection open for 240 seconds after its last response and has no cap
on how many it keeps in all, only per host. A crawl of thousands of seed
domains leaves one open socket behind for each host it has finished with: on a
machine with the usual limit of 1,024 open files, a crawl of 2,000 seeds
fetched 337 of them and failed the rest (``Couldn't bind: Too many open
files``); where the limit is higher, the loopback's ephemeral ports ran out
instead. A browser keeps few idle sockets for a short time (Chromium closes an
unused one after 10 seconds and holds 256 sockets in all).

:class:`BoundedConnectionPool` keeps at most ``CRAWL_IDLE_CONNECTIONS`` idle
connections, closing the one idle longest to make room, and closes each after
``CRAWL_IDLE_CONNECTION_TIMEOUT`` seconds. A crawl goes breadth first over its
domains, so a host's next request comes soon or not for a long time: a short
timeout costs a reconnection now and then, a long one a socket per host.

Closing the pool at the end of a crawl is made safe too: Scrapy's handler gives
the pool one second to close its connections and then fires the pool's
deferred itself; with thousands of connections to close, both happened in the
same turn and the crawl ended with ``AlreadyCalledError``. The pool's deferred
here fires once, whichever comes first.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.settings import BaseSettings
from twisted.internet.defer import Deferred
from twisted.web.client import HTTPConnectionPool

from fraudwall import default_settings
from fraudwall.crawler.tls import accept_any_server
from fraudwall.crawler.url_credentials import without_credentials

#: Scrapy settings, from fraudwall's CRAWL_IDLE_CONNECTIONS and CRAWL_IDLE_CONNECTION_TIMEOUT.
MAX_IDLE_SETTING = "FRAUDWALL_IDLE_CONNECTIONS"
IDLE_TIMEOUT_SETTING = "FRAUDWALL_IDLE_CONNECTION_TIMEOUT"


class _FiresOnce(Deferred):
    """A deferred whose second ``callback`` is ignored, for a result two parties race to give."""

    def callback(self, result: Any) -> None:
        if not self.called:
            super().callback(result)


class BoundedConnectionPool(HTTPConnectionPool):
    """An ``HTTPConnectionPool`` holding at most ``max_idle`` idle connections over all hosts."""

    def __init__(self, reactor: Any, *, max_idle: int, idle_timeout: float, max_per_host: int) -> None:
        super().__init__(reactor, persistent=max_idle > 0)
        self.max_idle = max_idle
        self.cachedConnectionTimeout = idle_timeout
        self.maxPersistentPerHost = max(1, max_per_host)
        #: Each connection put in the pool with its key, in the order they went idle. Twisted's pool knows
        #: the idle ones (its ``_timeouts``) but not their keys; an entry here whose connection has since
        #: been taken out again is stale, skipped when it comes first and swept when they pile up.
        self._idle_keys: dict[Any, Hashable] = {}

    def _putConnection(self, key: Hashable, connection: Any) -> None:
        super()._putConnection(key, connection)
        self._idle_keys.pop(connection, None)
        self._idle_keys[connection] = key
        while len(self._timeouts) > self.max_idle:
            oldest, oldest_key = next(iter(self._idle_keys.items()))
            del self._idle_keys[oldest]
            if oldest in self._timeouts:  # still idle: closed to make room
                self._timeouts[oldest].cancel()
                self._removeConnection(oldest_key, oldest)
        if len(self._idle_keys) > 2 * self.max_idle + 64:
            self._idle_keys = {idle: key for idle, key in self._idle_keys.items() if idle in self._timeouts}

    def _removeConnection(self, key: Hashable, connection: Any) -> None:
        super()._removeConnection(key, connection)
        if not self._connections[key]:
            del self._connections[key]  # one empty list per host ever fetched, otherwise

    def closeCachedConnections(self) -> Deferred:
        self._idle_keys = {}
        closed = _FiresOnce()
        super().closeCachedConnections().addBoth(lambda _: closed.callback(None))
        return closed


def bound_connections(handler: HTTP11DownloadHandler, settings: BaseSettings) -> None:
    """Give an HTTP/1.1 download handler (Scrapy's, or one built on it) a :class:`BoundedConnectionPool`."""
    from twisted.internet import reactor

    pool = BoundedConnectionPool(
        reactor,
        max_idle=settings.getint(MAX_IDLE_SETTING, default_settings.CRAWL_IDLE_CONNECTIONS),
        idle_timeout=settings.getfloat(IDLE_TIMEOUT_SETTING, default_settings.CRAWL_IDLE_CONNECTION_TIMEOUT),
        max_per_host=handler._pool.maxPersistentPerHost,
    )
    pool._factory = handler._pool._factory  # Scrapy's lenient client factory
    handler._pool = pool


class BoundedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler on a :class:`BoundedConnectionPool`, speaking TLS as
    :mod:`fraudwall.crawler.tls` does, fetching links with credentials without them
    (:mod:`fraudwall.crawler.url_credentials`)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        bound_connections(self, crawler.settings)
        accept_any_server(self)

    async def download_request(self, request: Request) -> Response:
        return await super().download_request(without_credentials(request))
