"""Crawls against a real HTTP site on loopback, through the CLI as a user runs them.

Scrapy's reactor cannot restart inside one process, so each crawl is a
``fraudwall crawl`` subprocess against a :class:`SiteServer` started here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraudwall.blocklists.store import Store
from fraudwall.demo.server import SiteServer
from fraudwall.exit_codes import ExitCode

PAGES = {
    "rebate-tasks.top/index.html": '<html><head><title>刷单返利 日结</title></head><body>'
    '<a href="/task.html">做任务</a> <a href="http://www.rebate-tasks.top:{port}/vip.html">VIP</a> '
    '<a href="http://other-site.xyz:{port}/">elsewhere</a> <a href="/app/vip.apk">下载</a></body></html>',
    "rebate-tasks.top/task.html": "<html><head><title>任务大厅</title></head><body>垫付 佣金</body></html>",
    "www.rebate-tasks.top/vip.html": "<html><head><title>VIP</title></head><body>充值升级</body></html>",
    "other-site.xyz/index.html": "<html><head><title>other</title></head><body>never fetched</body></html>",
}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    """A two-domain site: the crawl must stay inside the seed's registered domain."""
    root = tmp_path / "site"
    with SiteServer(root) as server:
        for relative, html in PAGES.items():
            file = root / relative
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(html.format(port=server.port), encoding="utf-8")
        yield server


def _crawl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fraudwall.cli", "crawl", "--db", str(tmp_path / "f.db"), *args],
        capture_output=True, text=True, timeout=120,
    )


def test_crawl_follows_links_within_registered_domain(tmp_path: Path, site: SiteServer) -> None:
    """Links inside rebate-tasks.top (subdomains included) are fetched; other domains and APKs are not."""
    hosts = ["rebate-tasks.top", "www.rebate-tasks.top", "other-site.xyz"]
    resolve = [arg for host in hosts for arg in ("--resolve", f"{host}:127.0.0.1")]
    result = _crawl(tmp_path, site.url("rebate-tasks.top"), "--allow-net", "127.0.0.0/8", *resolve)
    assert result.returncode == 0, result.stderr
    with Store.open(tmp_path / "f.db") as store:
        fetched = sorted(row["final_url"] for row in store.db.query("SELECT final_url FROM observations"))
        assert fetched == [site.url("rebate-tasks.top"), site.url("rebate-tasks.top", "/task.html"),
                           site.url("www.rebate-tasks.top", "/vip.html")]
        assert store.db["targets"].count == 1
    assert "pages analysed" in result.stdout


def test_ssrf_guard_refuses_loopback_by_default(tmp_path: Path, site: SiteServer) -> None:
    """Without --allow-net, a seed resolving to 127.0.0.1 is refused, with the reason, and nothing is fetched."""
    result = _crawl(tmp_path, site.url("rebate-tasks.top"), "--resolve", "rebate-tasks.top:127.0.0.1")
    assert result.returncode == ExitCode.NOTHING_FETCHED, result.stderr
    assert (
        f"refused {site.url('rebate-tasks.top')}: rebate-tasks.top resolves to 127.0.0.1: "
        "127.0.0.1 is not a public address (network policy; --allow-net 127.0.0.0/8 opens it)"
    ) in result.stderr
    with Store.open(tmp_path / "f.db") as store:
        assert store.db["observations"].count == 0


def test_bad_seeds_are_reported(tmp_path: Path) -> None:
    """Seeds that are not URLs or domains are rejected with a reason; none left is an input error (exit 3), in one line."""
    result = _crawl(tmp_path, "ftp://x.top/", "bad..name")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        "error: no valid seeds: give URLs, domains or seed files: rejected ftp://x.top/ (unsupported-scheme); "
        "bad..name (empty-label)"]
    assert not (tmp_path / "f.db").exists()
