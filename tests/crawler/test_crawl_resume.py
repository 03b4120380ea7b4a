"""A crawl job killed with SIGKILL resumes: nothing stored is lost, no finished page is fetched again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PAGES = 60
#: Each page takes this long to serve, so the crawl is still running when it is killed.
DELAY = 0.15


class _SlowSite(BaseHTTPRequestHandler):
    """Pages /p/0 ... /p/59, each linking to the next three; every request counted."""

    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.counts[self.path] += 1
        number = int(self.path.rsplit("/", 1)[-1]) if self.path.startswith("/p/") else -1
        if not 0 <= number < PAGES:
            self.send_error(404)
            return
        time.sleep(DELAY)
        links = "".join(f'<a href="/p/{n}">page {n}</a> ' for n in range(number + 1, min(number + 4, PAGES)))
        body = f"<html><head><title>page {number}</title></head><body>{links}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[tuple[int, Counter[str]]]:
    """The slow site on a free loopback port, and its request counts."""
    handler = type("SlowSite", (_SlowSite,), {"counts": Counter()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler.counts
    server.shutdown()
    server.server_close()


def _stored(db: Path) -> set[str]:
    if not db.exists():
        return set()
    with sqlite3.connect(db) as connection:
        try:
            return {row[0] for row in connection.execute("SELECT final_url FROM observations WHERE kind = 'page'")}
        except sqlite3.OperationalError:
            return set()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_stopped_job_resumes_without_loss_or_refetch(tmp_path: Path, slow_site: tuple[int, Counter[str]],
                                                     signum: int) -> None:
    """SIGKILL mid-crawl (no chance to clean up), or SIGINT (a clean stop), then the same command: every page ends
    up stored, and none stored before the stop is requested again."""
    port, counts = slow_site
    db = tmp_path / "f.db"
    command = [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(db), "--job", "slow", "--depth", "100",
               "--max-pages", "0", "--allow-net", "127.0.0.0/8", "--resolve", "slow-site.top:127.0.0.1",
               f"http://slow-site.top:{port}/p/0"]
    env = {**os.environ, "FRAUDWALL_CRAWL_CONCURRENCY": "2", "FRAUDWALL_CRAWL_JOBS_DIR": str(tmp_path / "jobs"),
           "FRAUDWALL_CRAWL_PROFILES": "android"}  # one client: the seed is fetched once, as the test counts
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 90
    while len(_stored(db)) < 12 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    assert first.poll() is None, "the crawl ended before it could be stopped"
    if signum == signal.SIGKILL:
        os.killpg(first.pid, signal.SIGKILL)  # the crawl and its judging workers, with no chance to clean up
    else:
        first.send_signal(signal.SIGINT)
    first.wait(timeout=60)
    before = _stored(db)
    assert 12 <= len(before) < PAGES
    requested_before = Counter(counts)

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = _stored(db)
    assert {url.rsplit("/", 1)[-1] for url in after} == {str(n) for n in range(PAGES)}, "a page was lost"
    for url in before:
        path = "/p/" + url.rsplit("/", 1)[-1]
        assert counts[path] == requested_before[path] == 1, f"{path} was fetched again after it was stored"


def test_a_job_of_2000_domains_keeps_its_queue_in_memory(tmp_path: Path, slow_site: tuple[int, Counter[str]]) -> None:
    """A job's queue is not kept on disk per domain: Scrapy's disk queue held files open for every domain and a
    job of 2,000 seed domains stopped with "Too many open files" under a limit of 1,024. Here the seeds are
    refused at once (--max-pages 1 after the first page), so the test measures the queue, not 2,000 fetches."""
    import resource

    port, counts = slow_site
    names = [f"shop{number:04d}-mall.top" for number in range(2000)]
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("".join(f"http://{name}:{port}/p/0\n" for name in names))
    config = tmp_path / "config.toml"
    config.write_text("[host_map]\n" + "".join(f'"{name}" = "127.0.0.1"\n' for name in names))
    command = [sys.executable, "-m", "fraudwall.cli", "--config", str(config), "crawl", "--db", str(tmp_path / "f.db"),
               "--job", "many", "--depth", "0", "--max-pages", "1", "--allow-net", "127.0.0.0/8", str(seeds)]
    env = {**os.environ, "FRAUDWALL_CRAWL_JOBS_DIR": str(tmp_path / "jobs"), "FRAUDWALL_CRAWL_PROFILES": "android",
           "FRAUDWALL_CRAWL_PROGRESS": "off", "FRAUDWALL_CRAWL_RENDER": "off"}

    def limit_open_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, preexec_fn=limit_open_files)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Too many open files" not in result.stderr
    assert len(_stored(tmp_path / "f.db")) == 1
    assert not (tmp_path / "jobs" / "many" / "requests.queue").exists()
    scheduled = (tmp_path / "jobs" / "many" / "fraudwall" / "scheduled.jsonl").read_text().splitlines()
    assert len(scheduled) == 2000  # the journal, the job's frontier on disk, holds every seed


#: Runs the CLI with Scrapy's scheduler made to raise on its fifth enqueue: the fault the crawl must not hide.
_FAULTY_SCHEDULER = """
import sys
from scrapy.core.scheduler import Scheduler
from fraudwall.cli import main
calls = [0]
original = Scheduler.enqueue_request
def enqueue_request(self, request):
    calls[0] += 1
    if calls[0] == 5:
        raise OSError("disk queue write failed")
    return original(self, request)
Scheduler.enqueue_request = enqueue_request
sys.argv = ["fraudwall", *sys.argv[1:]]
main()
"""


def test_a_crawl_whose_scheduler_raised_fails_with_the_error_and_keeps_its_pages(
        tmp_path: Path, slow_site: tuple[int, Counter[str]]) -> None:
    """Scrapy logs an error raised inside its scheduler and carries on to a "finished" crawl; fraudwall stores what
    it fetched, then exits 1 naming the first error, so a cron job sees the crawl was broken."""
    port, _ = slow_site
    db = tmp_path / "f.db"
    command = [sys.executable, "-c", _FAULTY_SCHEDULER, "crawl", "--db", str(db), "--depth", "3", "--max-pages", "0",
               "--allow-net", "127.0.0.0/8", "--resolve", "slow-site.top:127.0.0.1", f"http://slow-site.top:{port}/p/0"]
    env = {**os.environ, "FRAUDWALL_CRAWL_CONCURRENCY": "4", "FRAUDWALL_CRAWL_PROFILES": "android"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 1, run.stderr[-2000:]
    assert "machinery raised" in run.stderr and "disk queue write failed" in run.stderr
    assert _stored(db), "the pages fetched before and after the error are stored"


def test_a_resumed_job_asks_again_with_each_requests_kind(tmp_path: Path) -> None:
    """A request the killed run had scheduled is asked again as what it was: an APK download within the APK cap
    (a setting, not journalled), an outbound page still one hop, a page from its seed."""
    import asyncio
    import json as json_module

    from scrapy.utils.test import get_crawler

    from fraudwall.crawler.spiders.seed_spider import SeedSpider

    job = tmp_path / "job"
    (job / "fraudwall").mkdir(parents=True)
    seed = "http://apps-hall.top/"
    lines = [{"url": "http://cdn-files.top/get?id=3", "meta": {"seed": seed, "apk": True, "outbound": "download"}},
             {"url": "http://apps-hall.top/p1.html", "meta": {"seed": seed, "depth": 1}}]
    (job / "fraudwall" / "scheduled.jsonl").write_text("".join(json_module.dumps(line) + "\n" for line in lines))
    crawler = get_crawler(SeedSpider, {"JOBDIR": str(job), "FRAUDWALL_MAX_APK_BYTES": 12345})
    crawler.spider = spider = SeedSpider.from_crawler(crawler, seeds=seed)
    crawler.stats.open_spider()

    async def requests() -> list:
        return [request async for request in spider.start()]

    asked = {request.url: request.meta for request in asyncio.run(requests())}
    spider.journal.close()
    download = asked["http://cdn-files.top/get?id=3"]
    assert download["download_maxsize"] == 12345 and download["outbound"] == "download"
    assert "download_maxsize" not in asked["http://apps-hall.top/p1.html"]
    assert asked[seed]["seed"] == seed


def test_a_resumed_job_still_follows_an_entry_to_a_landing_page_stored_before(tmp_path: Path) -> None:
    """After a stop, a request for a stored page is not sent again, but a redirect to it from an entry domain not
    fetched before the stop is: the page is stored under the URL its chain started at, and the entry's chain is
    what is missing. A hop of a chain that was stored is still not sent."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from fraudwall.crawler.journal import AlreadyDone, FinishedRequestFilter, FrontierJournal
    from fraudwall.crawler.spiders.seed_spider import SeedSpider

    landing, stored_entry = "http://landing-usdt.top/", "http://entry-1.top/"
    folder = tmp_path / "job" / "fraudwall"
    folder.mkdir(parents=True)
    (folder / "scheduled.jsonl").write_text("")  # a journal there: this run resumes
    crawler = get_crawler(SeedSpider)
    crawler.spider = spider = SeedSpider.from_crawler(crawler, seeds=stored_entry)
    crawler.stats.open_spider()
    spider.journal = FrontierJournal(folder)
    spider.journal.open([stored_entry, landing])
    try:
        guard = FinishedRequestFilter(crawler)
        with pytest.raises(AlreadyDone):
            guard.process_request(Request(landing))
        with pytest.raises(AlreadyDone):
            guard.process_request(Request(landing, meta={"redirect_urls": [stored_entry]}))
        assert guard.process_request(Request(landing, meta={"redirect_urls": ["http://entry-2.top/"]})) is None
    finally:
        spider.journal.close()
