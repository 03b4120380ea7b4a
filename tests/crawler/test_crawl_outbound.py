"""Outbound links in a real crawl: a store, a distribution service, a short link and a download host one hop off
the seed's domain, and nothing further; every host is a name answered with a loopback address."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store
from fraudwall.crawler.outbound import APK_FILE, APP_STORE, DISTRIBUTION, DOWNLOAD, SHORTENER, outbound_kind
from tests.conftest import REPO
from tests.crawler.test_crawl_limits import _run_crawl

APK = (REPO / "tests" / "data" / "apks" / "demo_bank_fake.apk").read_bytes()
HOSTS = ["task-hall.top", "t.cn", "landing-task.top", "apps.apple.com", "fir.im", "files-cdn.xyz", "news-portal.com"]


def _html(title: str, links: dict[str, str]) -> bytes:
    anchors = " ".join(f'<a href="{href}">{text}</a>' for href, text in links.items())
    return f"<html><head><title>{title}</title></head><body>刷单返利 {anchors}</body></html>".encode()


class HostSite:
    """One loopback server answering for several host names (by the Host header); records (host, path) asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def answer(self, host: str, path: str) -> tuple[int, dict[str, str], bytes]:
        url = self.url
        pages = {
            ("task-hall.top", "/"): _html("任务大厅", {
                "/about.html": "关于",
                url("t.cn", "/A1b2"): "点击进入",
                url("apps.apple.com", "/app/id1"): "App Store",
                url("fir.im", "/hall"): "iOS 内测版",
                url("files-cdn.xyz", "/get?id=3"): "立即下载",
                url("files-cdn.xyz", "/get?id=4"): "备用下载",
                url("files-cdn.xyz", "/app-a.apk"): "安卓",
                url("files-cdn.xyz", "/app-b.apk"): "安卓备用",
                url("news-portal.com", "/story.html"): "新闻",
            }),
            ("task-hall.top", "/about.html"): _html("关于", {}),
            ("landing-task.top", "/"): _html("做任务 日结", {"/deeper.html": "更多任务", "/app.apk": "安卓版"}),
            ("apps.apple.com", "/app/id1"): _html("任务大厅 - App Store", {}),
            ("fir.im", "/hall"): _html("任务大厅 内测", {}),
        }
        if (host, path) == ("t.cn", "/A1b2"):
            return 302, {"Location": url("landing-task.top", "/")}, b""
        if (host, path) in (("files-cdn.xyz", "/get?id=3"), ("landing-task.top", "/app.apk")):
            return 200, {"Content-Type": "application/octet-stream"}, APK
        if (host, path) in pages:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, pages[host, path]
        return 404, {"Content-Type": "text/html"}, b"<html>not here</html>"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                site.asked.append((host, self.path))
                status, headers, body = site.answer(host, self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _settings(**more: Any) -> dict[str, Any]:
    """A crawl of the site's names, each answered with the loopback address, no other name looked up."""
    return {"ALLOW_NETS": ["127.0.0.0/8"], "HOST_MAP": {host: "127.0.0.1" for host in HOSTS}, "HOST_MAP_ONLY": True,
            "CRAWL_PROFILES": ["android"], **more}


@pytest.fixture
def site() -> Iterator[HostSite]:
    with HostSite() as server:
        yield server


def test_links_that_matter_are_followed_one_hop_off_the_seed(tmp_path: Path, site: HostSite) -> None:
    """The seed's short link (through its redirect), store listing, distribution page and download link are
    fetched and stored, the download analysed as an APK; the page the short link lands on gives its APK but
    not its other links, and an ordinary outbound link (a news story) is never asked for."""
    db = tmp_path / "f.db"
    stats, log = _run_crawl(db, _settings(CRAWL_DEPTH=3), site.url("task-hall.top"))
    asked = set(site.asked)
    assert {("t.cn", "/A1b2"), ("landing-task.top", "/"), ("apps.apple.com", "/app/id1"), ("fir.im", "/hall"),
            ("files-cdn.xyz", "/get?id=3"), ("landing-task.top", "/app.apk")} <= asked, log
    assert ("news-portal.com", "/story.html") not in asked
    assert ("landing-task.top", "/deeper.html") not in asked  # the landing page is the hop: its links are not
    for kind, links in ((SHORTENER, 1), (APP_STORE, 1), (DISTRIBUTION, 1), (DOWNLOAD, 2), (APK_FILE, 3)):
        assert stats[f"fraudwall/fetch/outbound/{kind}"] == links, stats
    with Store.open(db) as store:
        pages = {row["final_url"]: json.loads(row["redirect_chain"] or "[]")
                 for row in store.db.query("SELECT final_url, redirect_chain FROM observations WHERE kind = 'page'")}
        apks = store.db.execute("SELECT count(DISTINCT sha256) FROM observations WHERE kind = 'apk'").fetchone()[0]
    assert pages[site.url("landing-task.top")] == [site.url("t.cn", "/A1b2")]  # the short link, as evidence
    assert {site.url("apps.apple.com", "/app/id1"), site.url("fir.im", "/hall")} <= set(pages)
    assert apks == 1  # one file, from the download host and the landing page both


def test_a_seed_that_redirects_is_crawled_where_it_lands(tmp_path: Path, site: HostSite) -> None:
    """A short link given as the seed: the landing page's own links are followed (its domain is the seed's
    domain now), and the redirect is kept with the page."""
    db = tmp_path / "f.db"
    stats, log = _run_crawl(db, _settings(CRAWL_DEPTH=2), site.url("t.cn", "/A1b2"))
    assert {("t.cn", "/A1b2"), ("landing-task.top", "/"), ("landing-task.top", "/deeper.html"),
            ("landing-task.top", "/app.apk")} <= set(site.asked), log
    with Store.open(db) as store:
        (chain,) = [row["redirect_chain"] for row in store.db.query(
            "SELECT redirect_chain FROM observations WHERE final_url = ?", [site.url("landing-task.top")])]
    assert json.loads(chain) == [site.url("t.cn", "/A1b2")]


def test_outbound_links_of_one_page_are_capped(tmp_path: Path, site: HostSite) -> None:
    """CRAWL_MAX_OUTBOUND_PER_PAGE 1: one outbound link of each kind is followed, the second download link and
    the second APK file on another host are counted, not fetched: a page offering a thousand download hosts
    would otherwise send the crawl to each, and a cap of all kinds together would let them hide the store
    listing after them."""
    db = tmp_path / "f.db"
    stats, log = _run_crawl(db, _settings(CRAWL_DEPTH=1, CRAWL_MAX_OUTBOUND_PER_PAGE=1), site.url("task-hall.top"))
    asked = {host for host, _ in site.asked}
    assert asked == {"task-hall.top", "t.cn", "landing-task.top", "apps.apple.com", "fir.im", "files-cdn.xyz"}, log
    assert ("files-cdn.xyz", "/app-a.apk") in site.asked and ("files-cdn.xyz", "/get?id=3") in site.asked
    assert not {("files-cdn.xyz", "/app-b.apk"), ("files-cdn.xyz", "/get?id=4")} & set(site.asked)
    assert stats["fraudwall/fetch/skipped/outbound-per-page"] == 2


@pytest.mark.parametrize(("url", "text", "kind"), [
    ("https://apps.apple.com/cn/app/id123", "", APP_STORE),
    ("https://play.google.com/store/apps/details?id=x", "", APP_STORE),
    ("https://d.pgyer.com/abcd", "", DISTRIBUTION),
    ("https://w.url.cn/s/abc", "", SHORTENER),
    ("https://bit.ly/3xyz", "more", SHORTENER),
    ("https://cdn.example-files.net/pkg/7", "点击下载", DOWNLOAD),
    ("https://cdn.example-files.net/xiazai/7", "", DOWNLOAD),
    ("https://cdn.example-files.net/app/7", "", DOWNLOAD),
    ("https://download.example-news.com/world/story.html", "", None),
    ("https://www.example-news.com/world/story.html", "read more", None),
    ("https://www.example-news.com/apps-review.html", "", None),
    ("http://[not-a-host/", "", None),
])
def test_outbound_kinds(url: str, text: str, kind: str | None) -> None:
    """Each kind of outbound link by its host (a subdomain of a listed one counts), or by what it offers."""
    assert outbound_kind(url, text) == kind
