"""Crawl benchmark: ``fraudwall crawl`` (every detector, the judging pool, the store) against a bare Scrapy spider.

Both crawl the same generated site of 3,000 pages (``crawl_site.py``: 3-15 KB
each, Chinese and English, fraud-like and ordinary, on ``bench-site.top`` and
five of its subdomains) from its index, to the depth at which every page is
reached, served over HTTP/1.1 with keep-alive by a server in a process of its
own on a free loopback port. The server is measured alone first, fetching the
whole site over as many connections as the crawlers use, to show it is not
what limits them.

fraudwall runs as a user runs it: one ``python -m fraudwall.cli crawl`` call,
with every plugin, the judging workers and the SQLite store, rendering off
(``FRAUDWALL_CRAWL_RENDER=off``: the render extra would render app shells in
Chromium) and no per-domain page cap (``FRAUDWALL_CRAWL_MAX_PAGES_PER_DOMAIN=0``:
the whole site is one registered domain). The peer is Scrapy alone
(``--peer``, a ``CrawlerProcess`` in its own process): the same concurrency,
all of it open to the one site (fraudwall's download slot is the registered
domain, Scrapy's the host name: both get their per-domain limit raised to it),
the same depth, the same links followed (``<a href>`` inside the registered
domain), each page parsed with Scrapy's selectors for its title and links,
nothing stored. Both map the site's host names to 127.0.0.1 in their resolver
(fraudwall with ``--resolve``, the peer with a resolver of its own), so both
fetch the same URLs with the same ``Host`` headers. Wall time and peak memory
are whole-process and taken the same way for both (``export.measure``);
fraudwall's pages are counted in its database, the peer's by the peer, and a
side that did not fetch every page is named.

Target (the crawl issue): fraudwall at least 0.8x bare Scrapy's pages per second.

Each side runs ``--repeat`` times (1 by default), the two alternating, and the
median of each is reported. ``--profile`` adds one more fraudwall run under
cProfile (not timed) and prints where the crawl process spends its time,
after the cost of each stage of fraudwall's per-page work measured alone.

    python benchmarks/crawl.py                 # one run of each side
    python benchmarks/crawl.py --repeat 3 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from apk import compile_project  # noqa: E402
from crawl_site import DEPTH, DOMAIN, HOSTS, PAGES, load_check, write_site  # noqa: E402
from export import CACHE, SAMPLE_SECONDS, Run, _tree, measure  # noqa: E402

TARGET = 0.8
#: fraudwall's own CRAWL_CONCURRENCY default; both sides get the same.
CONCURRENCY = 16
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) crawl-benchmark"
TICKS = os.sysconf("SC_CLK_TCK")


# -- the peer: bare Scrapy, in its own process ------------------------------------------


def peer_side(port: int, depth: int, concurrency: int, out: Path) -> None:
    """Crawl the site with Scrapy alone; write the pages fetched to ``out``."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from twisted.internet.address import IPv4Address
    from twisted.internet.interfaces import IHostnameResolver, IHostResolution
    from zope.interface import implementer

    @implementer(IHostResolution)
    class Resolution:
        def __init__(self, name: str) -> None:
            self.name = name

        def cancel(self) -> None:
            pass

    @implementer(IHostnameResolver)
    class SiteResolver:
        """The site's host names are 127.0.0.1; nothing else resolves (no DNS query leaves the machine)."""

        def __init__(self, reactor) -> None:
            self.reactor = reactor

        @classmethod
        def from_crawler(cls, crawler, reactor):
            return cls(reactor)

        def install_on_reactor(self) -> None:
            self.reactor.installNameResolver(self)

        def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None, transportSemantics="TCP"):
            resolution = Resolution(hostName)
            receiver.resolutionBegan(resolution)
            if hostName.lower() in HOSTS or hostName == "127.0.0.1":
                receiver.addressResolved(IPv4Address(transportSemantics, "127.0.0.1", portNumber))
            receiver.resolutionComplete()
            return resolution

    class BareSpider(scrapy.Spider):
        name = "bare"
        allowed_domains = [DOMAIN]
        pages = 0

        async def start(self):
            # Not start_urls: their requests skip the duplicate filter, and a link back to the index
            # would fetch it again. fraudwall's seed request goes through the filter too.
            yield scrapy.Request(f"http://{DOMAIN}:{port}/", callback=self.parse)

        def parse(self, response):
            self.pages += 1
            response.css("title::text").get()
            if response.meta.get("depth", 0) >= depth:
                return
            for href in response.css("a::attr(href)").getall():
                url = response.urljoin(href)
                if url.startswith(("http://", "https://")):
                    yield scrapy.Request(url, callback=self.parse)

    process = CrawlerProcess({
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "ROBOTSTXT_OBEY": False,
        "USER_AGENT": USER_AGENT,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TWISTED_DNS_RESOLVER": SiteResolver,
    })
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    out.write_text(json.dumps({"pages": crawler.spider.pages,
                               "responses": stats.get("response_received_count", 0)}))


# -- measuring ----------------------------------------------------------------------


class CpuTime(threading.Thread):
    """CPU seconds of this process's descendants (the server excepted) while a run lasts: the crawl process, the others.

    Sampled every :data:`SAMPLE_SECONDS` from /proc; a process's last fraction
    of a sample period before it exits is missed.
    """

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self.exclude = exclude
        self.seen: dict[int, tuple[str, float]] = {}
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            self._sample()
            self._stopped.wait(SAMPLE_SECONDS)

    def _sample(self) -> None:
        for pid in _tree(os.getpid())[1:]:
            if pid == self.exclude:
                continue
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            # A process that has exited and waits to be reaped has an empty command line: keep the last one.
            command = command or self.seen.get(pid, ("", 0.0))[0]
            self.seen[pid] = (command, (int(fields[11]) + int(fields[12])) / TICKS)

    def stop(self) -> tuple[float, float]:
        """(CPU seconds of the crawl process, of every other process: launcher, judging workers, forkserver)."""
        self._stopped.set()
        self.join()
        main = max((cpu for command, cpu in self.seen.values() if "launch.py" not in command
                    and (" -m fraudwall.cli " in command or " --peer " in command)), default=0.0)
        return main, sum(cpu for _, cpu in self.seen.values()) - main


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def fraudwall_command(db: Path, port: int, depth: int, concurrency: int, prefix: list[str] | None = None) -> list[str]:
    env = ["env", "FRAUDWALL_CRAWL_RENDER=off", "FRAUDWALL_CRAWL_MAX_PAGES_PER_DOMAIN=0",
           f"FRAUDWALL_CRAWL_CONCURRENCY={concurrency}", f"FRAUDWALL_CRAWL_CONCURRENCY_PER_DOMAIN={concurrency}",
           f"FRAUDWALL_CRAWL_USER_AGENT={USER_AGENT}"]
    resolve = [arg for host in HOSTS for arg in ("--resolve", f"{host}:127.0.0.1")]
    return [*env, sys.executable, *(prefix or []), "-m", "fraudwall.cli", "crawl", "--db", str(db),
            "--allow-net", "127.0.0.0/8", *resolve, "--depth", str(depth), "--max-pages", "0",
            f"http://{DOMAIN}:{port}/"]


def stored_pages(db: Path) -> dict[str, int]:
    """Pages (distinct URLs) and findings in a crawl's database."""
    if not db.exists():
        return {"pages": 0, "findings": 0, "malicious": 0}
    connection = sqlite3.connect(db)
    try:
        pages = connection.execute("SELECT count(DISTINCT url) FROM observations WHERE kind = 'page'").fetchone()[0]
        findings = connection.execute("SELECT count(*) FROM findings").fetchone()[0]
        malicious = connection.execute("SELECT count(*) FROM verdicts WHERE status = 'malicious'").fetchone()[0]
    finally:
        connection.close()
    return {"pages": pages, "findings": findings, "malicious": malicious}


@dataclass
class Crawl:
    """One measured crawl: the process's measure, the pages it fetched, CPU seconds, the server's CPU meanwhile."""

    run: Run
    pages: int
    cpu_main: float
    cpu_others: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.pages / max(self.run.seconds, 0.01)

    def __str__(self) -> str:
        return (f"{self.run.tool:9} {self.run.seconds:6.2f} s  {self.pages} pages  CPU {self.cpu_main:.1f} + "
                f"{self.cpu_others:.1f} s  server CPU {self.server_cpu:.1f} s")


def timed(command: list[str], tool: str, server: int, pages: Callable[[], int]) -> Crawl:
    """``measure(command)``, with the pages it fetched (``pages()`` after it), its CPU seconds and the server's."""
    sampler = CpuTime(exclude=server)
    server_before = cpu_seconds(server)
    sampler.start()
    run = measure(command, tool, "site-3000", "crawl")
    cpu_main, cpu_others = sampler.stop()
    return Crawl(run, pages(), cpu_main, cpu_others, cpu_seconds(server) - server_before)


#: Where a fraudwall crawl process spends its time, by function (file suffix, function name): the profile's summary.
PROFILED = [
    ("the spider's callback (parse_page, links followed)", "crawler/spiders/seed_spider.py", "parse"),
    ("  parse_page (decode, lxml, XPath for text, links, forms, scripts, meta)", "fraudwall/pages.py", "parse_page"),
    ("  registered_domain (of each link)", "crawler/sites.py", "registered_domain"),
    ("JudgePool.judge: a page to a judging worker and its judgement back", "fraudwall/judge_pool.py", "judge"),
    ("  ProcessPoolExecutor.submit (its wake-up write waits for the GIL)", "concurrent/futures/process.py", "submit"),
    ("StorePipeline: batches into SQLite", "fraudwall/pipelines.py", "_flush"),
    ("Scrapy: a callback's output handled (100 asyncio tasks a response)", "scrapy/utils/asyncio.py", "_parallel_asyncio"),
    ("Scrapy: HTTP download handler", "scrapy/core/downloader/handlers/http11.py", "download_request"),
]


def stage_costs(port: int, count: int = 500) -> None:
    """Each stage of fraudwall's per-page work alone, in this process, no profiler: CPU milliseconds a page."""
    import pickle

    from crawl_site import site_pages
    from fraudwall.blocklists.store import Store
    from fraudwall.crawler.sites import registered_domain
    from fraudwall.judging import judge
    from fraudwall.pages import parse_page
    from fraudwall.plugin_host import PluginHost
    from fraudwall.settings import load_settings
    from parsel import Selector

    pages = list(site_pages(port).items())[:count]
    settings = load_settings()
    host = PluginHost.from_settings(settings)
    headers = [("Content-Type", "text/html")]
    observations = [parse_page(url, body, headers=headers) for url, body in pages[:50]]
    for observation in observations:  # warm the detectors' caches
        judge(host, observation)
    rows: list[tuple[str, float, str]] = []

    def timed_stage(label: str, work, items: list, where: str) -> list:
        started = time.process_time()  # CPU time: on a shared machine, wall time counts the neighbours too
        results = [work(item) for item in items]
        rows.append((label, (time.process_time() - started) / len(items) * 1000, where))
        return results

    def peer_parse(page: tuple[str, bytes]) -> list[str]:
        selector = Selector(text=page[1].decode("utf-8", "replace"))
        selector.css("title::text").get()
        return selector.css("a::attr(href)").getall()

    timed_stage("the peer's parse: Scrapy selectors, title and hrefs", peer_parse, pages, "peer")
    observations = timed_stage("parse_page", lambda page: parse_page(page[0], page[1], headers=headers), pages,
                               "crawl process")
    timed_stage("registered_domain of every link of a page", lambda page: [registered_domain(link.url) for link in page.links],
                observations, "crawl process (pages above the last level)")
    blobs = timed_stage("pickle a page observation (to a worker)", pickle.dumps, observations, "crawl process")
    timed_stage("unpickle it", pickle.loads, blobs, "worker")
    judgements = timed_stage("judge: every plugin", lambda page: judge(host, page), observations, "worker")
    # A worker sends the judgement back without the page, which the crawl process has (judge_pool).
    sent = [replace(judgement, observation=None) for judgement in judgements]
    blobs = timed_stage("pickle the judgement (back, without the page)", pickle.dumps, sent, "worker")
    timed_stage("unpickle it", pickle.loads, blobs, "crawl process")
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(str(Path(folder) / "stages.db"))
        batches = [judgements[start:start + 256] for start in range(0, len(judgements), 256)]
        started = time.process_time()
        for batch in batches:
            store.record(batch, settings)
        rows.append(("Store.record, batches of 256", (time.process_time() - started) / len(judgements) * 1000,
                     "crawl process"))
        store.close()
    print(f"\nstages alone ({len(pages)} pages of the site, one process, no profiler, CPU time; the judgement sent "
          f"back pickles {sum(map(len, blobs)) / len(blobs) / 1024:.1f} KB: the verdict and the findings):")
    print("| stage | CPU ms a page | runs in |")
    print("|---|---:|---|")
    for label, ms, where in rows:
        print(f"| {label} | {ms:.2f} | {where} |")


def profile(db: Path, port: int, depth: int, concurrency: int, top: int = 15) -> None:
    """One more fraudwall crawl under cProfile (its crawl process, main thread only); where its time goes."""
    import pstats

    db.unlink(missing_ok=True)
    out = CACHE / "crawl.prof"
    started = time.perf_counter()
    subprocess.run(fraudwall_command(db, port, depth, concurrency, ["-m", "cProfile", "-o", str(out)]),
                   stdout=subprocess.DEVNULL, check=True)
    pages = stored_pages(db)["pages"] or 1
    stats = pstats.Stats(str(out))
    print(f"\nprofile ({out}): the crawl process under cProfile, {time.perf_counter() - started:.1f} s wall, "
          f"{stats.total_tt:.1f} s profiled, {pages} pages. cProfile slows Python code several times over; the "
          "judging workers are processes of their own, not in it")
    print("| where (cumulative, the main thread) | s | ms a page |")
    print("|---|---:|---:|")
    for label, suffix, name in PROFILED:
        cumulative = max((value[3] for (file, _, function), value in stats.stats.items()
                          if file.endswith(suffix) and function == name), default=0.0)
        print(f"| {label} | {cumulative:.2f} | {cumulative / pages * 1000:.2f} |")
    print(f"\ntop {top} functions by own time:")
    stats.stream = sys.stdout
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; the median is reported (default 1)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help=f"requests in flight, both sides (default {CONCURRENCY})")
    parser.add_argument("--depth", type=int, default=DEPTH, help=f"link depth, both sides (default {DEPTH}: every page)")
    parser.add_argument("--profile", action="store_true", help="then profile one more fraudwall crawl with cProfile")
    parser.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)  # the peer's own process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        peer_side(args.port, args.depth, args.concurrency, args.out)
        return
    CACHE.mkdir(exist_ok=True)
    compile_project()
    with tempfile.TemporaryDirectory(prefix="crawl-bench-", dir=CACHE) as folder:
        work = Path(folder)
        listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        port = listener.getsockname()[1]
        started = time.perf_counter()
        urls = write_site(work / "site", port)
        size = sum(path.stat().st_size for path in (work / "site").rglob("*.html"))
        print(f"site: {len(urls)} pages, {size / 1e6:.1f} MB, written in {time.perf_counter() - started:.1f} s; "
              f"served on 127.0.0.1:{port}", file=sys.stderr)
        server = subprocess.Popen([sys.executable, str(HERE / "crawl_site.py"), "serve", str(work / "site"),
                                   "--fd", str(listener.fileno())], pass_fds=(listener.fileno(),),
                                  stdout=subprocess.PIPE, text=True)
        listener.close()
        try:
            if server.stdout.readline().strip() != "ready":
                raise SystemExit("the site's server did not start")
            alone, served = load_check(port, urls, args.concurrency)
            print(f"server alone: {alone:,.0f} pages/s to one asyncio client over {args.concurrency} keep-alive "
                  f"connections ({served} of {len(urls)} pages answered 200)", file=sys.stderr)
            ours_runs: list[Crawl] = []
            peer_runs: list[Crawl] = []
            for _ in range(max(1, args.repeat)):
                out = work / "peer.json"
                out.unlink(missing_ok=True)
                peer = timed([sys.executable, str(HERE / "crawl.py"), "--peer", "--port", str(port), "--depth",
                              str(args.depth), "--concurrency", str(args.concurrency), "--out", str(out)],
                             "scrapy", server.pid, lambda: json.loads(out.read_text())["pages"] if out.exists() else 0)
                peer_runs.append(peer)
                print(f"  {peer}", file=sys.stderr)
                db = work / "fraudwall.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{db}{suffix}").unlink(missing_ok=True)
                counts: dict[str, int] = {}
                ours = timed(fraudwall_command(db, port, args.depth, args.concurrency), "fraudwall", server.pid,
                             lambda: counts.update(stored_pages(db)) or counts["pages"])
                ours_runs.append(ours)
                print(f"  {ours}  findings {counts['findings']}  malicious verdicts {counts['malicious']}",
                      file=sys.stderr)
            report(ours_runs, peer_runs, alone, args)
            if args.profile:
                stage_costs(port)
                profile(work / "profile.db", port, args.depth, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=10)


def report(ours_runs: list[Crawl], peer_runs: list[Crawl], alone: float, args: argparse.Namespace) -> None:
    ours, peer = (sorted(runs, key=lambda crawl: crawl.run.seconds)[len(runs) // 2] for runs in (ours_runs, peer_runs))
    print("runs (s): fraudwall " + " ".join(f"{crawl.run.seconds:.2f}" for crawl in ours_runs)
          + "; scrapy " + " ".join(f"{crawl.run.seconds:.2f}" for crawl in peer_runs))
    print(f"{PAGES} pages on {DOMAIN} and {len(HOSTS) - 1} subdomains, depth {args.depth}, concurrency "
          f"{args.concurrency}; the server alone serves {alone:,.0f} pages/s (the median of 5 passes over the "
          f"site), and used {ours.server_cpu:.1f} s of CPU during the fraudwall run, {peer.server_cpu:.1f} s "
          "during Scrapy's")
    print("| run | pages | seconds | pages/s | peak MB | CPU s: crawl process + others |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, crawl in (("`fraudwall crawl` (every plugin, judging pool, store)", ours),
                         ("bare Scrapy spider (selectors, nothing stored)", peer)):
        print(f"| {label} | {crawl.pages} | {crawl.run.seconds:.2f} | {crawl.rate:.0f} | {crawl.run.peak_mb:.0f} | "
              f"{crawl.cpu_main:.1f} + {crawl.cpu_others:.1f} |")
    ratio = ours.rate / max(peer.rate, 0.01)
    print(f"| ratio (fraudwall ÷ Scrapy pages/s; target ≥ {TARGET}) | | | **{ratio:.2f}x** | "
          f"{ours.run.peak_mb / max(peer.run.peak_mb, 1):.1f}x | |")
    print("(others: the judging workers and their forkserver, and the launcher)")
    for crawl in (*ours_runs, *peer_runs):
        if crawl.pages != PAGES or crawl.run.exit_code != 0:
            print(f"WARNING: {crawl.run.tool} fetched {crawl.pages} of {PAGES} pages (exit code {crawl.run.exit_code}) "
                  f"in its {crawl.run.seconds:.2f} s run")
    if ratio < TARGET:
        print(f"below the target: fraudwall at {ratio:.2f}x of bare Scrapy's pages per second, not {TARGET}x")


if __name__ == "__main__":
    main()
