"""Redirects as a browser follows them: every entry domain of a campaign is recorded and blocked, gates pass.

A real crawl (the ``run_crawl`` driver of test_host_health, in a subprocess)
of a site on loopback that answers by host name: three throw-away entry
domains that each redirect to one scam landing page, a gate that redirects a
visitor to its own URL with a cookie, a redirect to itself with no end, a
page whose ``Refresh`` header sends it on, three install links that redirect to iOS sideloading
files, two pages of one site that both
redirect to its login page, and two of its links that both redirect to one
page on another site. Scrapy's duplicate filter dropped the second and
third entry's redirect, the gate and the loop without a word, and Scrapy does
not read the ``Refresh`` header.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from fraudwall.blocklists.store import Store
from tests.crawler.test_host_health import DRIVER

LANDING = ("<html><head><title>USDT 理财 高收益</title></head><body><p>USDT 投资理财，日收益 10%，"
           "刷单返利，充值后联系客服提现。</p></body></html>")
ENTRIES = ["entry-1.top", "entry-2.top", "entry-3.top"]


class _Site(BaseHTTPRequestHandler):
    """Answers by host and path (see the module's docstring); counts each (host, path) asked for."""

    asked: Counter[tuple[str, str]] = Counter()

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``asked``."""

    def _send(self, status: int, body: str = "", headers: tuple[tuple[str, str], ...] = ()) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                            *headers):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        host = self.headers.get("Host", "").split(":")[0]
        port = self.server.server_address[1]
        self.asked[(host, self.path)] += 1
        if host in ENTRIES:
            self._send(302, headers=(("Location", f"http://landing-usdt.top:{port}/"),))
        elif host == "landing-usdt.top":
            self._send(200, LANDING)
        elif self.path == "/":
            links = ["/gate", "/loop", "/refresh", "/a", "/b", "/out1", "/out2", "/ios/install", "/ios/enterprise",
                     "/ios/refresh"]
            self._send(200, "<title>门户</title>" + "".join(f'<a href="{link}">{link}</a>' for link in links))
        elif self.path == "/gate":
            if "passed=1" in (self.headers.get("Cookie") or ""):
                self._send(200, "<title>通过验证</title><p>欢迎</p>")
            else:
                self._send(302, headers=(("Location", "/gate"), ("Set-Cookie", "passed=1; Path=/")))
        elif self.path == "/loop":
            self._send(302, headers=(("Location", "/loop"),))
        elif self.path == "/refresh":
            self._send(200, headers=(("Refresh", "0; url=/refreshed"),))
        elif self.path in ("/a", "/b"):
            self._send(302, headers=(("Location", "/login"),))
        elif self.path == "/ios/install":
            self._send(302, headers=(("Location", "/profile/vip.mobileconfig"),))
        elif self.path == "/ios/enterprise":
            self._send(302, headers=(("Location", "itms-services://?action=download-manifest&url=https://x.top/m.plist"),))
        elif self.path == "/ios/refresh":
            self._send(200, headers=(("Refresh", "0; url=/profile/app.ipa"),))
        elif self.path in ("/out1", "/out2"):
            self._send(302, headers=(("Location", f"http://partner-shop.top:{port}/"),))
        else:
            self._send(200, f"<title>{self.path}</title><p>{self.path}</p>")


@pytest.fixture
def site() -> Iterator[ThreadingHTTPServer]:
    _Site.asked = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_redirects_keep_every_entry_pass_gates_and_end_loops(tmp_path: Path, site: ThreadingHTTPServer) -> None:
    """Each entry domain is stored with its redirect to the landing page and judged malicious with it (so its
    name is blocked); the gate is passed with its cookie; the loop ends as too-many-redirects; the Refresh header
    is followed; a redirect to an iOS install is counted as a lure and not followed; two pages of one site
    redirecting to its login page, or two of its links redirecting to one page elsewhere, still fetch that page
    once."""
    port = site.server_address[1]
    names = [*ENTRIES, "landing-usdt.top", "portal.top", "partner-shop.top"]
    config: dict[str, Any] = {
        "DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
        "CRAWL_DEPTH": 1, "CRAWL_PROGRESS": "off", "CRAWL_RENDER": "off", "CRAWL_MAX_REDIRECTS": 5,
        "HOST_MAP": {name: "127.0.0.1" for name in names}, "HOST_MAP_ONLY": True,
    }
    seeds = [f"http://{name}:{port}/" for name in [*ENTRIES, "portal.top"]]
    result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), *seeds], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads(result.stdout)
    assert "spider_exceptions/count" not in stats, result.stderr[-3000:]
    with Store.open(tmp_path / "crawl.db") as store:
        pages = {row["url"].split(f":{port}")[0].split("//")[1] + row["url"].split(f":{port}")[1]:
                 row["final_url"].split(f":{port}")[1] + " " + row["title"]
                 for row in store.db.query("SELECT url, final_url, title FROM observations")}
        verdicts = {row["host"]: row["status"] for row in store.db.query("SELECT host, status FROM verdicts")}
    for entry in ENTRIES:
        assert pages[f"{entry}/"] == "/ USDT 理财 高收益"
        assert verdicts[entry] == "malicious"
    assert verdicts["landing-usdt.top"] == "malicious"
    assert _Site.asked[("landing-usdt.top", "/")] == 3
    assert pages["portal.top/gate"] == "/gate 通过验证"
    assert pages["portal.top/refresh"] == "/refreshed /refreshed"
    assert stats["fraudwall/fetch/failed/too-many-redirects"] == 1
    assert _Site.asked[("portal.top", "/loop")] == 6  # the first ask and five redirects
    assert _Site.asked[("portal.top", "/login")] == 1
    assert _Site.asked[("partner-shop.top", "/")] == 1
    # Extensionless install links that redirect to an iOS profile, an enterprise install or an .ipa: lures,
    # counted like links to them, never fetched, and no failed fetch.
    assert stats["fraudwall/apk/ios-lures"] == 3
    assert not [path for host, path in _Site.asked if path.startswith("/profile/")]
    assert "fraudwall/fetch/failed/redirect-not-followed" not in stats
    assert [url for url, final in pages.items() if final.startswith("/login ")] in (["portal.top/a"],
                                                                                 ["portal.top/b"])
