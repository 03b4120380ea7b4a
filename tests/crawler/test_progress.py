"""Crawl progress: the live panel, the plain lines, the final stats table.

The extension is driven by hand over a real Scrapy ``MemoryStatsCollector``,
with a fake clock and fake engine counts, into a recording rich console; one
test runs it inside a real (offline) Scrapy crawl in a subprocess, where
Scrapy's signals and looping call drive it.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap

import pytest
import scrapy
from rich.console import Console
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from fraudwall.crawler.progress import (
    CrawlProgress, Progress, log_line, namespace_of, read_progress, resolve_mode, stats_table,
)
from fraudwall.exceptions import ConfigError


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def collector(settings: dict[str, object] | None = None) -> MemoryStatsCollector:
    """A real stats collector, as a crawl has it, filled with keys of every component."""
    stats = MemoryStatsCollector(get_crawler(scrapy.Spider, settings or {}))
    values = {
        "fraudwall/fetch/pages": 1200,
        "fraudwall/apk/downloaded": 7,
        "fraudwall/apk/verdicts/malicious": 2,
        "fraudwall/apk/verdicts/benign": 3,
        "fraudwall/render/failed/timeout": 2,
        "fraudwall/render/refused/network-policy": 1,
        "fraudwall/judge/findings": 321,
        "fraudwall/cloaking/compared": 80,
        "fraudwall/cloaking/found": 6,
        "fraudwall/judge/verdicts/benign": 1100,
        "fraudwall/judge/verdicts/malicious": 60,
        "fraudwall/judge/verdicts/suspicious": 40,
        "fraudwall/fetch/failed/TimeoutError": 9,
        "fraudwall/fetch/failed/DNSLookupError": 4,
        "fraudwall/fetch/refused/network-policy": 2,
        "fraudwall/judge/abandoned": 1,
        "fraudwall/judge/plugins/yara/error": 3,
        "fraudwall/judge/plugins/yara/ok": 1197,
        "downloader/request_count": 1400,
    }
    for key, value in values.items():
        stats.set_value(key, value)
    return stats


def terminal() -> Console:
    """A console that records what it prints and believes it is a terminal."""
    return Console(record=True, force_terminal=True, width=140, file=io.StringIO())


def test_live_panel_shows_the_counts_and_the_rate() -> None:
    """On a terminal the panel shows pages with pages/s, requests, APKs, findings, verdicts, errors and refusals."""
    stats, clock, console = collector(), FakeClock(), terminal()
    progress = CrawlProgress(stats, console=console, clock=clock, engine=lambda: (16, 230, 3))
    assert progress.mode == "live"
    progress.start()
    clock.now += 2
    stats.inc_value("fraudwall/fetch/pages", 34)
    progress.tick()
    clock.now += 1
    progress.stop()
    text = console.export_text()
    assert "fraudwall crawl" in text
    assert "1,234  (17.0/s)" in text  # 34 pages in the 2 seconds since the first reading
    assert "16 in flight · 230 queued · 3 in the pipelines" in text
    assert "7 captured · 5 judged · 2 malicious" in text
    assert "6 of 80 seeds" in text
    assert "321" in text
    assert "malicious 60 · suspicious 40 · benign 1,100" in text  # most severe first, old and new keys alike
    assert "TimeoutError 9 · DNSLookupError 4 · plugin error 3 · render timeout 2 · judging abandoned 1" in text
    assert "network-policy 3" in text  # the downloader's and the browser's refusals together
    assert "elapsed 0:00:03" in text
    assert progress.live is None  # the terminal is let go


def test_plain_lines_when_not_on_a_terminal() -> None:
    """Off a terminal: no panel, no escape codes, one line every log_seconds, none at the close (the summary is)."""
    stats, clock = collector(), FakeClock()
    out = io.StringIO()
    progress = CrawlProgress(stats, console=Console(file=out, width=400), clock=clock, log_seconds=10,
                             engine=lambda: (2, 5, 0))
    assert progress.mode == "log"
    progress.start()
    for _ in range(9):
        clock.now += 1
        progress.tick()
    assert out.getvalue() == ""  # nine seconds: not yet
    clock.now += 1
    progress.tick()
    clock.now += 3
    stats.inc_value("fraudwall/fetch/pages", 3)
    progress.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "\x1b" not in out.getvalue()
    assert lines[0].startswith("crawl progress: pages 1200 (")
    assert "requests 2 in flight, 5 queued, 0 in the pipelines" in lines[0]
    assert "verdicts malicious 60, suspicious 40, benign 1100" in lines[0]
    assert "cloaking 6 of 80 seeds; APKs 7 captured, 5 judged, 2 malicious" in lines[0]
    assert "errors TimeoutError 9, DNSLookupError 4, plugin error 3, render timeout 2, judging abandoned 1" in lines[0]
    assert "refused network-policy 3" in lines[0] and lines[0].endswith("elapsed 0:00:10")


def test_log_records_go_above_the_panel_and_the_handler_is_given_back() -> None:
    """A log handler writing to stderr prints through the live display while it runs, and to stderr after."""
    handler = logging.StreamHandler(sys.stderr)
    original = handler.stream
    logging.getLogger().addHandler(handler)
    try:
        console = terminal()
        progress = CrawlProgress(collector(), console=console, clock=FakeClock())
        progress.start()
        assert handler.stream is not original
        logging.getLogger("fraudwall.test").warning("a fetch went wrong")
        progress.stop()
        assert handler.stream is original
        assert "a fetch went wrong" in console.export_text()
    finally:
        logging.getLogger().removeHandler(handler)


def test_settings_choose_the_mode() -> None:
    """FRAUDWALL_PROGRESS=off leaves the extension out; an unknown mode is refused; auto follows the console."""
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(get_crawler(scrapy.Spider, {"FRAUDWALL_PROGRESS": "off"}))
    extension = CrawlProgress.from_crawler(get_crawler(
        scrapy.Spider, {"FRAUDWALL_PROGRESS": "log", "FRAUDWALL_PROGRESS_LOG_SECONDS": 30}))
    assert (extension.mode, extension.log_seconds) == ("log", 30.0)
    assert extension.engine() == (0, 0, 0)  # the engine does not exist before the crawl starts
    with pytest.raises(ConfigError, match="FRAUDWALL_PROGRESS must be one of auto, live, log, off"):
        resolve_mode("fancy", terminal())
    assert resolve_mode("auto", terminal()) == "live"
    assert resolve_mode("auto", Console(file=io.StringIO())) == "log"
    assert resolve_mode("LIVE", Console(file=io.StringIO())) == "live"


def test_read_progress_reads_families_and_refusals_of_both_fetchers() -> None:
    """Verdicts are read by status, and a refusal counts once whether the downloader or the browser met it."""
    progress = read_progress({"fraudwall/fetch/pages": 5, "fraudwall/judge/verdicts/odd": 1,
                              "fraudwall/judge/verdicts/benign": 4, "fraudwall/fetch/refused/not-in-host-map": 1,
                              "fraudwall/render/refused/not-in-host-map": 2, "fraudwall/verdicts/benign": 9},
                             engine=(1, 2, 3))
    assert progress == Progress(pages=5, verdicts={"benign": 4, "odd": 1}, refusals={"not-in-host-map": 3},
                                in_flight=1, queued=2, judging=3)
    assert "verdicts benign 4, odd 1" in log_line(progress)


def test_stats_table_groups_keys_by_namespace() -> None:
    """The final table has one section per component, in pipeline order."""
    assert namespace_of("fraudwall/fetch/pages") == ("fetch", "pages")
    assert namespace_of("fraudwall/fetch/failed/TimeoutError") == ("fetch", "failed/TimeoutError")
    assert namespace_of("fraudwall/fetch/rejected/not-html") == ("fetch", "rejected/not-html")
    assert namespace_of("fraudwall/judge/rejected/invalid-url") == ("judge", "rejected/invalid-url")
    assert namespace_of("fraudwall/judge/abandoned") == ("judge", "abandoned")
    assert namespace_of("fraudwall/crawl/interrupted") == ("crawl", "interrupted")
    assert namespace_of("fraudwall/cloaking/found") == ("cloaking", "found")
    assert namespace_of("log_count/INFO") == ("scrapy", "log_count/INFO")

    stats = collector().get_stats()
    stats["fraudwall/crawl/interrupted"] = "SIGTERM"
    stats["elapsed_time_seconds"] = 12.5
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(stats_table(stats))
    text = console.export_text()
    headers = [line.strip("│ ").split()[0] for line in text.splitlines()
               if line.strip("│ ") in {"crawl", "fetch", "render", "cloaking", "apk", "judge", "scrapy"}]
    assert headers == ["crawl", "fetch", "render", "cloaking", "apk", "judge", "scrapy"]
    fetch, judge = text.index("│ fetch"), text.index("│ judge")
    # Within a section by name: both spellings of a failed fetch side by side.
    assert fetch < text.index("failed/DNSLookupError") < text.index("failed/TimeoutError") < text.index("│ apk")
    assert judge < text.index("verdicts/suspicious") and judge < text.index("plugins/yara/error")
    assert "1,400" in text and "12.50" in text and "SIGTERM" in text

    console = Console(record=True, width=100, file=io.StringIO())
    console.print(stats_table(stats, scrapy=False))
    assert "downloader/request_count" not in console.export_text()


# Scrapy's reactor runs once per process: the crawl runs in a subprocess. data: URLs need no network.
CRAWL = textwrap.dedent("""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Pages(scrapy.Spider):
        name = "pages"

        async def start(self):
            for index in range(5):
                yield scrapy.Request(f"data:text/html,<title>{index}</title>", dont_filter=True)

        def parse(self, response):
            self.crawler.stats.inc_value("fraudwall/fetch/pages")

    process = CrawlerProcess({
        "EXTENSIONS": {"fraudwall.crawler.progress.CrawlProgress": 500},
        "FRAUDWALL_PROGRESS": "auto",
        "FRAUDWALL_PROGRESS_LOG_SECONDS": 1,
        # Spread over about two seconds, so the looping call shows some lines before the last one.
        "DOWNLOAD_DELAY": 0.4,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "LOG_LEVEL": "ERROR",
    })
    process.crawl(Pages)
    process.start()
""")


def test_the_extension_runs_in_a_real_crawl() -> None:
    """Enabled through EXTENSIONS, it reads the stats each second while the spider runs, off a terminal as plain
    lines, and stops with the spider."""
    result = subprocess.run([sys.executable, "-c", CRAWL], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("crawl progress:")]
    assert lines, result.stderr
    pages = [int(line.removeprefix("crawl progress: pages ").split()[0]) for line in lines]
    assert pages == sorted(pages) and pages[0] < 5  # read while the crawl ran
    assert all("errors none" in line for line in lines)
