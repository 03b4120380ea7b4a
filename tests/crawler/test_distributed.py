"""Distributed crawls against a real ``redis-server`` and a real loopback site, through the CLI.

Every crawl worker and ingest writer is its own ``fraudwall`` process (Scrapy's
reactor runs once per process), as on separate machines; the site counts
every request it serves, so "fetched once" is measured where it happens.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store
from fraudwall.demo.server import SiteServer
from fraudwall.judgement_codec import decode, encode_judgements, encode_targets
from fraudwall.judging import judge
from fraudwall.models import Target
from fraudwall.outbox import Outbox
from fraudwall.pages import parse_page
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings
from tests.crawler.redis_server import RedisServer

FRAUDWALL = [sys.executable, "-m", "fraudwall.cli"]
HOST = "task-rebate.top"
NET = ["--allow-net", "127.0.0.0/8", "--resolve", f"{HOST}:127.0.0.1"]
SECTIONS, PER_SECTION = 7, 8  # 1 + 7 + 56 = 64 pages, two links deep
#: Two fetches at a time and one judging process per worker: the machine has two cores.
pytestmark = pytest.mark.timeout(90)

# One client profile: each page is fetched once, which the tests count (four would fetch seeds four times).
ENV = {**os.environ, "FRAUDWALL_CRAWL_CONCURRENCY": "2", "FRAUDWALL_JUDGE_WORKERS": "1", "FRAUDWALL_CRAWL_PROFILES": "android"}


#: The fraudwall processes of a test (the ``started`` fixture).
Started = list[subprocess.Popen[str]]


def _page(title: str, links: list[str]) -> str:
    anchors = " ".join(f'<a href="{link}">{link}</a>' for link in links)
    return f"<html><head><title>{title}</title></head><body>刷单返利 日结 佣金 {anchors}</body></html>"


def site_paths() -> list[str]:
    """Every page of the test site, as the path the server sees."""
    return ["/", *(f"/s{i}.html" for i in range(SECTIONS)),
            *(f"/p{i}-{j}.html" for i in range(SECTIONS) for j in range(PER_SECTION))]


class CountingSite(SiteServer):
    """The loopback site, counting the requests for each path, and by user agent, taking ``delay`` s per page."""

    def __init__(self, root: Path, delay: float) -> None:
        super().__init__(root)
        self.delay = delay
        self.hits: Counter[str] = Counter()
        self.agents: Counter[str] = Counter()
        self.lock = threading.Lock()
        site = self
        base: Any = self.httpd.RequestHandlerClass

        class Counting(base):  # type: ignore[misc]
            def do_GET(self) -> None:
                with site.lock:
                    site.hits[self.path] += 1
                    site.agents[self.headers.get("User-Agent", "")] += 1
                time.sleep(site.delay)
                super().do_GET()

        self.httpd.RequestHandlerClass = Counting  # type: ignore[assignment]
        # A killed worker's connections break mid-answer; that is the test, not an error to print.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def __enter__(self) -> CountingSite:
        super().__enter__()
        return self


@pytest.fixture
def started() -> Iterator[Started]:
    """The fraudwall processes a test starts; whatever is left of their process groups is killed after it."""
    processes: Started = []
    yield processes
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, stopped after the test."""
    with RedisServer() as server:
        yield server


def _site(tmp_path: Path, delay: float) -> CountingSite:
    root = tmp_path / "site"
    folder = root / HOST
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(_page("任务大厅", [f"/s{i}.html" for i in range(SECTIONS)]), encoding="utf-8")
    for i in range(SECTIONS):
        (folder / f"s{i}.html").write_text(_page(f"section {i}", [f"/p{i}-{j}.html" for j in range(PER_SECTION)]), encoding="utf-8")
        for j in range(PER_SECTION):
            (folder / f"p{i}-{j}.html").write_text(_page(f"page {i}-{j}", ["/"]), encoding="utf-8")
    return CountingSite(root, delay)


def _start(started: Started, *args: str, agent: str | None = None, **settings: str) -> subprocess.Popen[str]:
    """A fraudwall process in a process group of its own (with its judging processes), as on its own machine;
    ``settings`` are more ``FRAUDWALL_*`` variables."""
    env = {**ENV, **{f"FRAUDWALL_{name}": value for name, value in settings.items()}}
    if agent is not None:
        env["FRAUDWALL_CRAWL_USER_AGENT"] = agent
    process = subprocess.Popen([*FRAUDWALL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)
    started.append(process)
    return process


def _finish(process: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"{process.args!r:.200} still running after {timeout}s: {err[-2000:]}")
    return process.returncode, out, err


def _wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _pages_fetched(output: str) -> int:
    match = re.search(r"(\d+) pages fetched", output)
    assert match, output
    return int(match.group(1))


def _stored(db: Path) -> list[str]:
    with Store.open(db, create=False) as store:
        return [row["final_url"] for row in store.db.query("SELECT final_url FROM observations")]


def test_two_workers_share_a_crawl_and_fetch_each_page_once(tmp_path: Path, redis_server: RedisServer, started: Started) -> None:
    """`crawl --redis` seeds the job and works on it, `worker` joins: each of the 64 pages is served exactly once,
    both workers fetch some, the one ingest writer stores every page, and the finished job leaves no key behind."""
    client = redis_server.client()
    with _site(tmp_path, delay=0.25) as site:
        common = ["--redis", redis_server.url, "--job", "shared", *NET, "--idle-exit", "2", "--lease", "10"]
        crawl = _start(started, "crawl", site.url(HOST), *common)
        _wait_for(lambda: client.exists("fraudwall:shared:seen") or crawl.poll() is not None, 20, "the seed in Redis")
        worker = _start(started, "worker", *common)
        _wait_for(lambda: client.zcard("fraudwall:shared:workers") >= 2 or worker.poll() is not None, 20,
                  "both workers registered")
        ingest = _start(started, "ingest", "--redis", redis_server.url, "--job", "shared", "--db", str(tmp_path / "f.db"),
                        "--until-idle", "1")
        crawl_code, crawl_out, crawl_err = _finish(crawl, 45)
        worker_code, worker_out, worker_err = _finish(worker, 15)
        ingest_code, ingest_out, ingest_err = _finish(ingest, 15)
        hits = dict(site.hits)
    assert (crawl_code, worker_code, ingest_code) == (0, 0, 0), (crawl_err[-2000:], worker_err[-2000:], ingest_err[-2000:])
    assert hits == {path: 1 for path in site_paths()}
    by_crawl, by_worker = _pages_fetched(crawl_out), _pages_fetched(worker_out)
    assert by_crawl > 0 and by_worker > 0 and by_crawl + by_worker == len(site_paths()), (crawl_out, worker_out)
    stored = _stored(tmp_path / "f.db")
    assert sorted(stored) == sorted(site.url(HOST, path) for path in site_paths())
    assert "ingested 64 judgements and 1 targets" in ingest_out
    assert sorted(client.keys("fraudwall:shared:*")) == []


def test_the_per_domain_page_cap_holds_for_the_whole_job(tmp_path: Path, redis_server: RedisServer,
                                                          started: Started) -> None:
    """CRAWL_MAX_PAGES_PER_DOMAIN 20 with two workers: the job keeps 20 pages of the site, not 20 per worker.
    Each worker counts its pages into the job's total in Redis; one that fetched a page after the other had
    filled the domain does not keep it."""
    client = redis_server.client()
    with _site(tmp_path, delay=0.25) as site:
        common = ["--redis", redis_server.url, "--job", "capped", *NET, "--lease", "10"]
        # The worker waits for work first, so that both take pages from the start; its idle exit outlasts the
        # crawl's start-up (a few seconds on a loaded machine), or it would leave before the seed is queued.
        worker = _start(started, "worker", *common, "--idle-exit", "10", CRAWL_MAX_PAGES_PER_DOMAIN="20")
        _wait_for(lambda: client.zcard("fraudwall:capped:workers") >= 1 or worker.poll() is not None, 20,
                  "the worker registered")
        crawl = _start(started, "crawl", site.url(HOST), *common, "--idle-exit", "2", CRAWL_MAX_PAGES_PER_DOMAIN="20")
        ingest = _start(started, "ingest", "--redis", redis_server.url, "--job", "capped", "--db", str(tmp_path / "f.db"),
                        "--until-idle", "1")
        crawl_code, crawl_out, crawl_err = _finish(crawl, 45)
        worker_code, worker_out, worker_err = _finish(worker, 25)
        ingest_code, ingest_out, ingest_err = _finish(ingest, 15)
        served = sum(site.hits.values())
    assert (crawl_code, worker_code, ingest_code) == (0, 0, 0), (crawl_err[-2000:], worker_err[-2000:], ingest_err[-2000:])
    assert _pages_fetched(crawl_out) + _pages_fetched(worker_out) == 20, (crawl_out, worker_out)
    assert len(_stored(tmp_path / "f.db")) == 20
    # Fetched and left: what each worker had in flight, and sent before it parsed the page that told it the
    # domain was full (two at a time, a few each). The other queued links of the 64-page site never are.
    assert served <= 20 + 2 * 4, served
    assert sorted(client.keys("fraudwall:capped:*")) == []


def test_max_pages_holds_for_the_whole_job(tmp_path: Path, redis_server: RedisServer, started: Started) -> None:
    """--max-pages counts the job's pages, all workers together: `crawl --redis --max-pages 10` keeps 10 pages
    and stops; a worker joining with --max-pages 20 then keeps the 10 the job has left, not 20, and the rest
    of the frontier stays in Redis for a larger cap."""
    client = redis_server.client()
    with _site(tmp_path, delay=0.0) as site:
        common = ["--redis", redis_server.url, "--job", "maxed", *NET, "--idle-exit", "2", "--lease", "10"]
        crawl_code, crawl_out, crawl_err = _finish(_start(started, "crawl", site.url(HOST), *common, "--max-pages", "10"), 45)
        worker_code, worker_out, worker_err = _finish(_start(started, "worker", *common, "--max-pages", "20"), 45)
        ingest = _start(started, "ingest", "--redis", redis_server.url, "--job", "maxed", "--db", str(tmp_path / "f.db"),
                        "--until-idle", "1")
        ingest_code, ingest_out, ingest_err = _finish(ingest, 15)
    assert (crawl_code, worker_code, ingest_code) == (0, 0, 0), (crawl_err[-2000:], worker_err[-2000:], ingest_err[-2000:])
    assert (_pages_fetched(crawl_out), _pages_fetched(worker_out)) == (10, 10), (crawl_out, worker_out)
    assert len(_stored(tmp_path / "f.db")) == 20
    assert int(client.get("fraudwall:maxed:pages")) >= 20 and client.zcard("fraudwall:maxed:requests") > 0


def test_killed_worker_requests_go_to_the_other(tmp_path: Path, redis_server: RedisServer, started: Started) -> None:
    """A worker SIGKILLed while it holds requests loses none: once its lease runs out the other worker fetches
    them, and every page is stored. Only the requests it held can have been fetched (or stored) twice."""
    client = redis_server.client()
    with _site(tmp_path, delay=0.4) as site:
        common = ["--redis", redis_server.url, "--job", "kill", *NET, "--idle-exit", "2", "--lease", "3"]
        crawl = _start(started, "crawl", site.url(HOST), *common)
        _wait_for(lambda: client.exists("fraudwall:kill:seen") or crawl.poll() is not None, 20, "the seed in Redis")
        victim = _start(started, "worker", *common, agent="victim")
        ingest = _start(started, "ingest", "--redis", redis_server.url, "--job", "kill", "--db", str(tmp_path / "f.db"),
                        "--until-idle", "1")
        leases = f"fraudwall:kill:leases:*:{victim.pid}:*"
        # Killed once it has done some pages (they must be kept) and while it holds others (they must come back).
        _wait_for(lambda: site.agents["victim"] >= 4 and any(client.hlen(key) for key in client.keys(leases))
                  or victim.poll() is not None, 30, "the victim working")
        assert victim.poll() is None, "the victim worker ended before it held any request"
        os.killpg(victim.pid, signal.SIGSTOP)  # frozen, so what it holds is what it dies with
        held_urls = {decode_request_url(entry) for key in client.keys(leases) for entry in client.hvals(key)}
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its judging processes: a machine lost
        victim.communicate(timeout=10)
        served_at_kill = sum(site.hits.values())
        crawl_code, crawl_out, crawl_err = _finish(crawl, 50)
        ingest_code, ingest_out, ingest_err = _finish(ingest, 15)
        hits = dict(site.hits)
    assert held_urls, "the victim held no request when it was killed"
    assert served_at_kill < len(site_paths()), "the crawl was over before the kill"
    assert (crawl_code, ingest_code) == (0, 0), (crawl_err[-2000:], ingest_err[-2000:])
    assert set(hits) == set(site_paths())
    twice = {site.url(HOST, path) for path, count in hits.items() if count > 1}
    assert twice <= held_urls
    stored = _stored(tmp_path / "f.db")
    assert set(stored) == {site.url(HOST, path) for path in site_paths()}
    assert {url for url, count in Counter(stored).items() if count > 1} <= held_urls
    assert client.keys("fraudwall:kill:*") == []


def decode_request_url(entry: Any) -> str:
    """The URL of a lease entry (``score\\n`` + a request as JSON)."""
    from fraudwall.crawler import request_codec

    return str(request_codec.loads(entry.split(b"\n", 1)[1])["url"])


# The writer of the kill test: an ingest whose every commit waits, so a kill lands inside a batch.
SLOW_INGEST = """
import sys, time
from fraudwall.blocklists.store import Store
from fraudwall.ingest import run_ingest
from fraudwall.settings import Settings
record = Store.record
def slow_record(self, *args, **kwargs):
    time.sleep(2)
    return record(self, *args, **kwargs)
Store.record = slow_record
run_ingest(Settings(), redis_url=sys.argv[1], job="ingest", db_path=sys.argv[2], batch_size=10, lease_seconds=2)
"""


def test_ingest_killed_mid_batch_loses_nothing(tmp_path: Path, redis_server: RedisServer, started: Started) -> None:
    """An ingest writer SIGKILLed inside a batch leaves that batch taken, not lost: the next writer (once the dead
    one's lock lapses) records it first, then the rest; every judgement is stored exactly once."""
    client = redis_server.client()
    outbox = Outbox(client, "ingest")
    host = PluginHost.from_settings(Settings())
    urls = [f"http://{HOST}/p{i}.html" for i in range(40)]
    outbox.push(encode_targets([Target(f"http://{HOST}/")]))
    for url in urls:
        page = parse_page(url, _page(url, ["/"]).encode())
        outbox.push(encode_judgements([judge(host, page)]))
    db = tmp_path / "f.db"
    slow = subprocess.Popen([sys.executable, "-c", SLOW_INGEST, redis_server.url, str(db)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    started.append(slow)
    try:
        _wait_for(lambda: client.llen("fraudwall:ingest:outbox:taken") > 0 or slow.poll() is not None, 20,
                  "the writer taking a batch")
        time.sleep(0.5)  # inside its two-second commit
    finally:
        slow.kill()
        _, slow_err = slow.communicate(timeout=10)
    assert client.llen("fraudwall:ingest:outbox:taken") == 10, slow_err[-2000:]
    assert _stored(db) == [], "the writer was killed after its first commit, not inside it"
    result = subprocess.run([*FRAUDWALL, "ingest", "--redis", redis_server.url, "--job", "ingest", "--db", str(db),
                             "--until-idle", "0.5", "--batch", "10", "--lease", "2"],
                            capture_output=True, text=True, timeout=30, env=ENV)
    assert result.returncode == 0, result.stderr
    assert "10 of them left by a writer that stopped mid-batch" in result.stdout
    assert sorted(_stored(db)) == sorted(urls)
    assert client.llen("fraudwall:ingest:outbox") == client.llen("fraudwall:ingest:outbox:taken") == 0
    with Store.open(db, create=False) as store:
        assert store.db["targets"].count == 1


def test_ingest_until_idle_waits_for_the_job_to_start(tmp_path: Path, redis_server: RedisServer,
                                                       started: Started) -> None:
    """`ingest --until-idle` started before the crawl (as a script starts them) waits for the job's first worker or
    judgement, however long the crawl takes to start; then it records what comes and exits once the job is idle."""
    client = redis_server.client()
    db = tmp_path / "f.db"
    ingest = _start(started, "ingest", "--redis", redis_server.url, "--job", "late", "--db", str(db), "--until-idle", "0.5")
    time.sleep(4)  # the writer's start-up, its first empty wait and several idle periods
    assert ingest.poll() is None, ingest.communicate()
    page = parse_page(f"http://{HOST}/", _page("任务大厅", ["/a.html"]).encode())
    Outbox(client, "late").push(encode_judgements([judge(PluginHost.from_settings(Settings()), page)]))
    code, out, err = _finish(ingest, 15)
    assert code == 0, err
    assert "ingested 1 judgements" in out
    assert _stored(db) == [f"http://{HOST}/"]


def test_judgement_messages_round_trip_and_refuse_strangers() -> None:
    """A judgement read back from its message equals it, enums included; bytes that are no message are refused
    with a reason, never unpickled."""
    host = PluginHost.from_settings(Settings())
    judgement = judge(host, parse_page(f"http://{HOST}/", _page("任务大厅", ["/a.html"]).encode()))
    assert decode(encode_judgements([judgement, judgement])).judgements == (judgement, judgement)
    import pickle

    from fraudwall.judgement_codec import MessageError

    with pytest.raises(MessageError) as caught:
        decode(pickle.dumps(judgement))
    assert caught.value.reason == "bad-version"
