"""A host that stops answering is given up after CRAWL_MAX_HOST_FAILURES failed attempts in a row.

Real crawls (a ``run_crawl`` driver in a subprocess, as in test_crawl_limits) of
servers on loopback: a tar pit that accepts connections and never answers, and
a flaky server that hangs up on every other request. Each server counts the
connections it accepted, which is what the crawl cost the host.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store
from tests.crawler.raw_server import RawServer, read_request

DOMAIN = "host-health.top"
TIMEOUT = 0.5  # CRAWL_TIMEOUT of these crawls: the tar pit costs each attempt this long

DRIVER = """
import json, logging, sys
from fraudwall.crawl import run_crawl
from fraudwall.crawler.seeds import read_seeds
from fraudwall.settings import Settings

logging.basicConfig(level="INFO", format="%(levelname)s %(name)s: %(message)s")
settings = Settings(json.loads(sys.argv[1]))
settings.check()
print(json.dumps(dict(run_crawl(settings, read_seeds(sys.argv[2:]).targets).stats), default=str))
"""


def _answer(connection: socket.socket, html: str) -> None:
    body = html.encode()
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    connection.close()


def _tar_pit(connection: socket.socket, number: int) -> None:
    """Accepts, reads nothing, answers nothing: the connection stays open until the server stops."""


def _index(links: list[str]) -> Callable[[socket.socket, int], None]:
    def handle(connection: socket.socket, number: int) -> None:
        if read_request(connection):
            _answer(connection, "<title>任务大厅</title>" + "".join(f'<a href="{link}">{link}</a>' for link in links))
    return handle


class Flaky:
    """A server that hangs up on the first request for each odd-numbered page and answers everything else."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __call__(self, connection: socket.socket, number: int) -> None:
        path = read_request(connection)
        first = path not in self.asked
        self.asked.add(path)
        if path and first and int(path.strip("/")) % 2:
            connection.close()
        elif path:
            _answer(connection, f"<title>{path}</title><p>{path}</p>")


def _crawl(tmp_path: Path, seed: str, **settings: Any) -> tuple[dict[str, Any], str]:
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
              "CRAWL_DEPTH": 1, "CRAWL_TIMEOUT": TIMEOUT, "CRAWL_PROGRESS": "off",
              "HOST_MAP": {DOMAIN: "127.0.0.1", f"pit.{DOMAIN}": "127.0.0.1", f"flaky.{DOMAIN}": "127.0.0.1"},
              **settings}
    result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), seed],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def _stored(tmp_path: Path) -> list[str]:
    with Store.open(tmp_path / "crawl.db") as store:
        return sorted(row["final_url"] for row in store.db.query("SELECT final_url FROM observations"))


@pytest.fixture
def tar_pit() -> Iterator[RawServer]:
    with RawServer(_tar_pit) as server:
        yield server


PIT_LINKS = 24


def _pit_site(pit: RawServer) -> RawServer:
    return RawServer(_index([f"http://pit.{DOMAIN}:{pit.port}/{n}" for n in range(PIT_LINKS)]))


def test_a_tar_pit_is_given_up_after_its_failures_in_a_row(tmp_path: Path, tar_pit: RawServer) -> None:
    """CRAWL_MAX_HOST_FAILURES 3: the tar pit gets the attempts already handed to the downloader when the third
    timed out, not two attempts for each of its 24 links; the rest are counted as skipped and the host is named
    once."""
    concurrency = 4  # the requests the downloader holds at once: sent whatever happens meanwhile
    with _pit_site(tar_pit) as site:
        stats, log = _crawl(tmp_path, f"http://{DOMAIN}:{site.port}/", CRAWL_MAX_HOST_FAILURES=3,
                            CRAWL_CONCURRENCY=concurrency)
    assert 3 <= tar_pit.accepted <= 3 + concurrency, log
    # Every link is accounted for: failed for good, or not sent (a link, or the retry of one that timed out).
    failed = stats.get("fraudwall/fetch/failed/timeout", 0)
    assert failed <= 3 + concurrency
    assert stats["fraudwall/fetch/skipped/host-unresponsive"] + failed >= PIT_LINKS
    assert log.count(f"host pit.{DOMAIN}:{tar_pit.port} given up after") == 1, log
    assert _stored(tmp_path) == [f"http://{DOMAIN}:{site.port}/"]


def test_a_limit_of_zero_never_gives_a_host_up(tmp_path: Path, tar_pit: RawServer) -> None:
    """CRAWL_MAX_HOST_FAILURES 0: every link into the tar pit is tried, and tried again."""
    with _pit_site(tar_pit) as site:
        stats, log = _crawl(tmp_path, f"http://{DOMAIN}:{site.port}/", CRAWL_MAX_HOST_FAILURES=0, CRAWL_CONCURRENCY=4)
    assert tar_pit.accepted == 2 * PIT_LINKS, log
    assert stats["fraudwall/fetch/failed/timeout"] == PIT_LINKS
    assert "fraudwall/fetch/skipped/host-unresponsive" not in stats


def test_a_host_that_answers_between_failures_is_kept(tmp_path: Path) -> None:
    """A server that answers between its failures never fails twice in a row: with a limit of 2 and one request
    at a time, its ten pages are stored (five of them at their retry), although it failed five times in all."""
    with RawServer(Flaky()) as flaky:
        links = [f"http://flaky.{DOMAIN}:{flaky.port}/{n}" for n in range(10)]
        with RawServer(_index(links)) as site:
            stats, log = _crawl(tmp_path, f"http://{DOMAIN}:{site.port}/", CRAWL_MAX_HOST_FAILURES=2,
                                CRAWL_CONCURRENCY=1)
    assert _stored(tmp_path) == sorted([f"http://{DOMAIN}:{site.port}/", *links]), log
    assert stats["retry/count"] == 5
    assert "fraudwall/fetch/skipped/host-unresponsive" not in stats


def test_the_workers_of_a_distributed_crawl_count_a_hosts_failures_together() -> None:
    """Two workers' middlewares on one job in a real redis-server, CRAWL_MAX_HOST_FAILURES 3: two timeouts at one
    worker and one at the other give the host up for both; an answer at either starts every worker's count again;
    the last worker to leave the finished job clears the counts."""
    from scrapy import Request
    from scrapy.exceptions import DownloadTimeoutError
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from fraudwall.crawler.host_health import UnresponsiveHostMiddleware
    from fraudwall.crawler.redis_frontier import FrontierConfig, RedisFrontier, connect
    from fraudwall.crawler.refusals import Refused
    from tests.crawler.redis_server import RedisServer

    pit, flaky = Request("http://pit.task-hall.top/1"), Request("http://flaky.task-hall.top/1")
    with RedisServer() as server:
        frontiers = [RedisFrontier(connect(server.url), FrontierConfig(server.url, "pits", worker))
                     for worker in ("w1", "w2")]
        first, second = (UnresponsiveHostMiddleware(get_crawler(), 3, frontier, refresh_seconds=0)
                         for frontier in frontiers)
        first.process_exception(pit, DownloadTimeoutError())
        first.process_exception(pit, DownloadTimeoutError())
        first.process_request(pit)  # two failures in a row: still asked
        second.process_exception(pit, DownloadTimeoutError())
        for worker in (first, second):
            with pytest.raises(Refused):
                worker.process_request(pit)

        for _ in range(2):
            first.process_exception(flaky, DownloadTimeoutError())
        second.process_request(flaky)  # reads that the flaky host is failing
        second.process_response(flaky, Response(flaky.url))
        first.process_exception(flaky, DownloadTimeoutError())
        for worker in (first, second):
            worker.process_request(flaky)  # one failure since the answer: kept

        keys = frontiers[0].keys
        assert server.client().exists(keys.host_failures, keys.hosts_given_up) == 2
        for frontier in frontiers:
            frontier.leave()
        assert server.client().exists(keys.host_failures, keys.hosts_given_up) == 0
