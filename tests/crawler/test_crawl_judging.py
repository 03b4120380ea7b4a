"""Judging off the reactor: a slow detector delays verdicts, never downloads.

Each crawl is a ``fraudwall crawl`` subprocess against a loopback site started
here, with a scratch plugin (``--plugin``) that takes its time on every page.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store

CHAIN = 5
SLOW_PLUGIN = """
import time
from fraudwall import Finding, hookimpl
name = "slow_detector"
version = "1"
@hookimpl
def analyze_page(page):
    time.sleep({seconds})
    return [Finding(page.final_url, name, version, "loan", 0.9, "slow but sure")]
"""


class _ChainSite:
    """/c1 links /c2, which links /c3 ...: each page is found only once the one before is parsed."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}

        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.arrivals[self.path] = time.monotonic()
                number = int(self.path.lstrip("/c") or 1)
                link = f'<a href="/c{number + 1}">next</a>' if number < CHAIN else ""
                body = f"<html><head><title>page {number}</title></head><body>{link}</body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/c1"


@pytest.fixture
def chain_site() -> Iterator[_ChainSite]:
    """The chain served on a free loopback port for the test's duration."""
    site = _ChainSite()
    site.thread.start()
    yield site
    site.httpd.shutdown()
    site.httpd.server_close()


def test_slow_detector_does_not_stall_downloads(tmp_path: Path, chain_site: _ChainSite) -> None:
    """With a detector taking 1.5 s a page, a five-page link chain is still fetched within a second:
    judging runs in worker processes, and every page is judged and stored all the same."""
    plugin = tmp_path / "slow.py"
    plugin.write_text(SLOW_PLUGIN.format(seconds=1.5))
    db = tmp_path / "f.db"
    result = subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", "--plugin", str(plugin), "crawl", "--db", str(db),
         "--allow-net", "127.0.0.0/8", "--depth", str(CHAIN), chain_site.url],
        capture_output=True, text=True, timeout=120, env={**__import__("os").environ, "FRAUDWALL_JUDGE_WORKERS": "2"},
    )
    assert result.returncode == 0, result.stderr
    times = [chain_site.arrivals[f"/c{i}"] for i in range(1, CHAIN + 1)]
    # Judged on the reactor, each link would wait for its page's 1.5 s judgement: 6 s or more in all.
    assert times[-1] - times[0] < 1.0, [round(t - times[0], 2) for t in times]
    with Store.open(db) as store:
        stored = {row["subject"] for row in store.db.query(
            "SELECT subject FROM findings WHERE detector = 'slow_detector'")}
    assert len(stored) == CHAIN


def test_hanging_detector_is_abandoned_at_its_budget(tmp_path: Path, chain_site: _ChainSite) -> None:
    """A detector that never returns is stopped at PLUGIN_TIMEOUT; the page is still judged by the others and stored."""
    plugin = tmp_path / "hang.py"
    plugin.write_text(SLOW_PLUGIN.format(seconds=3600))
    db = tmp_path / "f.db"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", "--plugin", str(plugin), "crawl", "--db", str(db),
         "--allow-net", "127.0.0.0/8", "--depth", "0", chain_site.url],
        capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "FRAUDWALL_PLUGIN_TIMEOUT": "1", "FRAUDWALL_JUDGE_WORKERS": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 60
    assert "plugin problem: slow_detector/timeout x1" in result.stderr
    with Store.open(db) as store:
        assert store.db["observations"].count == 1
        assert store.db.execute("SELECT COUNT(*) FROM findings WHERE detector = 'slow_detector'").fetchone()[0] == 0
