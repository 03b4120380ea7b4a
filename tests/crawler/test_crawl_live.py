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
from fraudwall.crawler.sites import registered_domain
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
    """Links inside rebate-tasks.top (subdomains included) are fetched; other domains are not (the APK link,
    a 404 here, is tried as a download and stores nothing)."""
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
    """Without --allow-net, a seed resolving to 127.0.0.1 is refused, and the one error line says why; nothing is fetched."""
    result = _crawl(tmp_path, site.url("rebate-tasks.top"), "--resolve", "rebate-tasks.top:127.0.0.1")
    assert result.returncode == ExitCode.NOTHING_FETCHED, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: nothing fetched from 1 seeds (refused: network-policy x1); first: "
        f"refused {site.url('rebate-tasks.top')}: rebate-tasks.top resolves to 127.0.0.1: "
        "127.0.0.1 is not a public address (network policy; --allow-net 127.0.0.0/8 opens it)"]
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


def test_summary_lists_only_what_an_export_publishes(tmp_path: Path) -> None:
    """A crawl of a fraud site served on http://127.0.0.1/ blocks no name (an address is not a name) and no URL
    (formats refuse URLs on non-public addresses): the summary says so, counting each refusal by reason."""
    root = tmp_path / "site"
    (root / "127.0.0.1").mkdir(parents=True)
    (root / "127.0.0.1" / "index.html").write_text(
        "<html><head><title>公安局 通缉令 安全账户</title></head><body>您涉嫌洗钱，请将资金转入安全账户配合调查，"
        "否则将被逮捕。检察院 刑事拘留 冻结</body></html>", encoding="utf-8")
    with SiteServer(root) as server:
        result = _crawl(tmp_path, f"http://127.0.0.1:{server.port}/", "--allow-net", "127.0.0.0/8")
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.stdout.splitlines()
            if line.count("│") == 3}
    assert rows["pages analysed"] == "1" and rows["pages malicious"] == "1", result.stdout
    assert rows["names blocked (every format)"] == "0" and rows["URLs blocked (URL-matching formats only)"] == "0"
    assert rows["not published: ip-literal"] == "1" and rows["not published: non-public-address"] == "1"
    assert "blocked names" not in result.stdout and "127.0.0.1" not in result.stdout.split("observations stored")[1]


def test_crawl_takes_a_urlhaus_csv_as_its_seed_file(tmp_path: Path, site: SiteServer) -> None:
    """A URLhaus CSV dump given as the seed file: each URL row is a seed, fetched from the loopback site with
    the feed as its source; rows that are no http(s) URL are counted and named by file and line on stderr."""
    feed = tmp_path / "urlhaus.csv"
    feed.write_text(
        "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)\n#\n"
        "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
        f'"1","2025-11-20 06:02:21","{site.url("rebate-tasks.top", "/task.html")}","online","",'
        '"malware_download","apk","https://urlhaus.abuse.ch/url/1/","anonymous"\n'
        f'"2","2025-11-20 06:02:19","{site.url("www.rebate-tasks.top", "/vip.html")}","online","",'
        '"malware_download","","https://urlhaus.abuse.ch/url/2/","anonymous"\n'
        '"3","2025-11-20 06:00:19","ftp://rebate-tasks.top/kefu.apk","online","","malware_download","",'
        '"https://urlhaus.abuse.ch/url/3/","anonymous"\n',
        encoding="utf-8")
    hosts = ["rebate-tasks.top", "www.rebate-tasks.top"]
    resolve = [arg for host in hosts for arg in ("--resolve", f"{host}:127.0.0.1")]
    result = _crawl(tmp_path, str(feed), "--depth", "0", "--allow-net", "127.0.0.0/8", *resolve)
    assert result.returncode == 0, result.stderr
    with Store.open(tmp_path / "f.db") as store:
        fetched = sorted(row["final_url"] for row in store.db.query("SELECT final_url FROM observations"))
        assert fetched == [site.url("rebate-tasks.top", "/task.html"), site.url("www.rebate-tasks.top", "/vip.html")]
        assert {row["source"] for row in store.db.query("SELECT source FROM targets")} == {"file:urlhaus.csv"}
    assert "seed rejected (unsupported-scheme): urlhaus.csv:6: " in result.stderr


@pytest.mark.parametrize(("url", "site"), [
    ("http://www.rebate-tasks.top/x", "rebate-tasks.top"),
    ("http://a.b.example.com.cn/", "example.com.cn"),
    ("http://a.hostile-seed.test:8080/", "hostile-seed.test"),  # no rule for .test: the default rule "*"
    ("http://cdn.shop.newtldxyz/", "shop.newtldxyz"),  # a TLD newer than the bundled list
    ("http://user@10.1.2.3:81/", "10.1.2.3"),
])
def test_links_are_followed_within_the_registered_domain_by_the_list_or_its_default_rule(url: str, site: str) -> None:
    """The site a link belongs to is its registered domain; under a suffix the list does not know, the list's
    default rule makes the last label the suffix, so a seed's own subdomains stay in its crawl."""
    assert registered_domain(url) == site
