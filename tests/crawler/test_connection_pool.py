"""A crawl of many domains keeps few idle connections: it neither runs out of open files nor of local ports.

Real crawls (the ``run_crawl`` driver of test_host_health, in a subprocess) of
hundreds of domains, all mapped to one keep-alive server on loopback that
counts the connections open at once. Twisted's pool kept one connection per
host for four minutes; a crawl of 600 domains under a limit of 400 open files
then failed most of them. Each crawl runs with Scrapy's handler (rendering
off) and with the render extra's (``shells``: real Chromium, started only for
a page to render; the pages here are not shells), which fetches the pages it
does not render through the same kind of pool.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from fraudwall.blocklists.store import Store
from fraudwall.crawler.connection_pool import BoundedConnectionPool
from fraudwall.crawler.failures import failure_reason
from tests.crawler.raw_server import RawServer, read_request_head
from tests.crawler.test_host_health import DRIVER


class KeepAliveSite:
    """Answers every request on a connection until the client hangs up; counts the connections open at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.most_open = 0
        self.answered = 0

    def __call__(self, connection: socket.socket, number: int) -> None:
        with self.lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        try:
            while True:
                path, host = read_request_head(connection)
                if not path:
                    return
                body = f"<title>{host}</title><p>店铺 {host} 的首页</p>".encode()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                with self.lock:
                    self.answered += 1
        finally:
            with self.lock:
                self.open -= 1
            connection.close()


def _domains(count: int) -> list[str]:
    return [f"shop{number:04d}-mall.top" for number in range(count)]


def _crawl(tmp_path: Path, port: int, domains: list[str], open_files: int | None = None,
           **settings: Any) -> dict[str, Any]:
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
              "CRAWL_DEPTH": 0, "CRAWL_MAX_PAGES": 0, "CRAWL_PROGRESS": "off", "HOST_MAP_ONLY": True,
              "HOST_MAP": {domain: "127.0.0.1" for domain in domains}, **settings}
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("".join(f"http://{domain}:{port}/\n" for domain in domains))

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), str(seeds)], capture_output=True,
                            text=True, timeout=240, preexec_fn=limit_open_files)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _stored(tmp_path: Path) -> int:
    with Store.open(tmp_path / "crawl.db") as store:
        return store.db.execute("SELECT count(*) FROM observations").fetchone()[0]


#: CRAWL_RENDER: Scrapy's HTTP handler, and the render extra's built on it.
HANDLERS = pytest.mark.parametrize("render", ["off", "shells"])


@HANDLERS
def test_a_crawl_of_600_domains_fits_in_400_open_files(tmp_path: Path, render: str) -> None:
    """Under a limit of 400 open files (Debian's default is 1,024), every one of 600 domains is fetched and
    stored: at most CRAWL_IDLE_CONNECTIONS (128) idle connections are kept, not one per domain."""
    domains = _domains(600)
    site = KeepAliveSite()
    with RawServer(site) as server:
        stats = _crawl(tmp_path, server.port, domains, open_files=400, CRAWL_RENDER=render)
    assert _stored(tmp_path) == 600, stats
    assert not [key for key in stats if key.startswith("fraudwall/fetch/failed/")], stats
    assert site.most_open <= 128 + 16 + 2  # the idle ones, the crawl's concurrency, and closes under way


@HANDLERS
def test_idle_connections_are_capped_over_all_hosts(tmp_path: Path, render: str) -> None:
    """CRAWL_IDLE_CONNECTIONS 10: across 200 domains the server never sees more connections open at once than
    the idle cap and the requests in flight; every page is still fetched."""
    domains = _domains(200)
    site = KeepAliveSite()
    with RawServer(site) as server:
        _crawl(tmp_path, server.port, domains, CRAWL_IDLE_CONNECTIONS=10, CRAWL_CONCURRENCY=4, CRAWL_RENDER=render)
    assert _stored(tmp_path) == 200
    assert site.most_open <= 10 + 4 + 2


def test_one_host_keeps_its_connection_alive(tmp_path: Path) -> None:
    """The cap is on idle connections over all hosts, not on keep-alive: 40 pages of one host, fetched one at a
    time, go over one connection, or two after a retry."""
    pages = [f"http://keep-alive.top:{{port}}/{number}" for number in range(40)]
    site = KeepAliveSite()
    with RawServer(site) as server:
        seeds = [page.format(port=server.port) for page in pages]
        config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"],
                  "CRAWL_PROFILES": ["android"], "CRAWL_DEPTH": 0, "CRAWL_PROGRESS": "off", "CRAWL_RENDER": "off",
                  "CRAWL_CONCURRENCY": 1, "HOST_MAP": {"keep-alive.top": "127.0.0.1"}}
        result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), *seeds], capture_output=True,
                                text=True, timeout=120)
        accepted = server.accepted
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored(tmp_path) == 40
    assert accepted <= 2


def test_closing_the_pool_fires_once_when_the_handler_fires_it_too() -> None:
    """Scrapy's handler fires the pool's closing deferred itself after a second; when the pool fired it first,
    that second call is ignored instead of raising AlreadyCalledError in the reactor."""
    from twisted.internet import reactor

    pool = BoundedConnectionPool(reactor, max_idle=4, idle_timeout=15.0, max_per_host=2)
    closed: Deferred = pool.closeCachedConnections()
    results: list[object] = []
    closed.addCallback(results.append)
    assert results == [None]  # no connection to close: fired at once
    closed.callback(())  # the handler's timeout, a turn later
    assert results == [None]


def test_a_socket_this_machine_cannot_open_is_named_as_such() -> None:
    """Out of open files or local ports, the connection fails on this side: counted as local-socket-error, which
    does not count against the host (fraudwall.crawler.host_health)."""
    from twisted.internet.error import ConnectBindError
    from twisted.python.failure import Failure

    from fraudwall.crawler.host_health import UNRESPONSIVE

    reason = failure_reason(Failure(ConnectBindError(24, "Too many open files")))
    assert reason == "local-socket-error"
    assert reason not in UNRESPONSIVE
