"""Cookies go back where a browser sends them: a cookie set without a Domain to its own host only, and no
more of them than a browser keeps.

A real crawl (the ``run_crawl`` driver of test_host_health, in a subprocess)
of a loopback site whose front page sets one cookie without a Domain and one
for the whole domain, and links a page of a subdomain that records the
cookies it is sent. Python's default policy sent both there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from scrapy.http import Request, Response
from scrapy.http.cookies import CookieJar

from fraudwall.crawler.cookie_policy import MAX_COOKIES_PER_SITE, BoundedCookieJar, browser_jar
from tests.crawler.test_host_health import DRIVER


class _Site(BaseHTTPRequestHandler):
    """``cookie-gate.top/`` sets the cookies and links ``sub.cookie-gate.top/``; each request's Cookie header kept."""

    sent: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``sent``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        host = self.headers.get("Host", "").split(":")[0]
        self.sent[host + self.path] = self.headers.get("Cookie", "")
        port = self.server.server_address[1]
        body = f'<title>{host}</title><a href="http://sub.cookie-gate.top:{port}/">sub</a>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if host == "cookie-gate.top":
            self.send_header("Set-Cookie", "host_only=1; Path=/")
            self.send_header("Set-Cookie", "whole_domain=1; Domain=cookie-gate.top; Path=/")
        self.end_headers()
        self.wfile.write(body)


def test_a_cookie_set_without_a_domain_goes_back_to_its_host_only(tmp_path: Path) -> None:
    """The subdomain is sent the cookie set for the whole domain, not the one its parent set for itself."""
    _Site.sent = {}
    _crawl(tmp_path, _Site, "cookie-gate.top", ["sub.cookie-gate.top"])
    assert _Site.sent["sub.cookie-gate.top/"] == "whole_domain=1"


def _crawl(tmp_path: Path, handler: type[BaseHTTPRequestHandler], seed_host: str, other_hosts: list[str]) -> None:
    """A real crawl (depth 1, one client) of ``seed_host`` on a loopback server answering with ``handler``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": ["127.0.0.0/8"], "CRAWL_PROFILES": ["android"],
              "CRAWL_DEPTH": 1, "CRAWL_PROGRESS": "off", "CRAWL_RENDER": "off", "HOST_MAP_ONLY": True,
              "HOST_MAP": {host: "127.0.0.1" for host in (seed_host, *other_hosts)}}
    try:
        result = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(config), f"http://{seed_host}:{port}/"],
                                capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]


class _Flood(BaseHTTPRequestHandler):
    """``cookie-flood.top/`` sets 1,500 cookies, the gate's own last, and links ``/next``, which records its Cookie."""

    sent: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``sent``."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.sent[self.path] = self.headers.get("Cookie", "")
        body = b'<title>flood</title><a href="/next">next</a>'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/":
            for number in range(1500):
                self.send_header("Set-Cookie", f"junk{number}=x; Path=/")
            self.send_header("Set-Cookie", "gate=passed; Path=/")
        self.end_headers()
        self.wfile.write(body)


def test_a_cookie_flood_is_kept_as_a_browser_keeps_it(tmp_path: Path) -> None:
    """A site that sets 1,501 cookies is sent back the last 180 it set, as Chromium keeps them, its gate cookie
    among them; Python's jar sent all of them with every request."""
    _Flood.sent = {}
    _crawl(tmp_path, _Flood, "cookie-flood.top", [])
    names = [pair.split("=")[0] for pair in _Flood.sent["/next"].split("; ")]
    assert len(names) == MAX_COOKIES_PER_SITE == 180
    assert "gate" in names and "junk1499" in names and "junk0" not in names


def _set(jar: CookieJar, url: str, *cookies: str) -> None:
    jar.extract_cookies(Response(url, headers={"Set-Cookie": list(cookies)}), Request(url))


def _sent(jar: CookieJar, url: str) -> list[str]:
    request = Request(url)
    jar.add_cookie_header(request)
    return sorted(pair.split("=")[0] for pair in request.headers.get("Cookie", b"").decode().split("; ") if pair)


def test_cookie_limits_count_the_cookies_held() -> None:
    """The limits count what the jar holds: a cookie a site deletes (Max-Age=0) frees its place, so a newer one
    does not push out an older; past a site's limit its oldest go, and other sites' cookies stay; the jar's total
    limit lets the oldest site's go first."""
    jar = browser_jar()
    bounded = jar.jar
    assert isinstance(bounded, BoundedCookieJar)
    bounded.per_site, bounded.total = 3, 5
    _set(jar, "http://a.scam.top/", "one=1; Path=/", "two=2; Path=/", "three=3; Path=/")
    _set(jar, "http://a.scam.top/", "two=; Max-Age=0; Path=/")
    _set(jar, "http://a.scam.top/", "four=4; Path=/")
    assert _sent(jar, "http://a.scam.top/") == ["four", "one", "three"]
    _set(jar, "http://b.scam.top/", "five=5; Path=/")  # the same registered domain, another host
    assert _sent(jar, "http://a.scam.top/") == ["four", "three"]
    assert _sent(jar, "http://b.scam.top/") == ["five"]
    _set(jar, "http://other.top/", "x=1; Path=/", "y=1; Path=/", "z=1; Path=/")
    assert _sent(jar, "http://other.top/") == ["x", "y", "z"]
    assert _sent(jar, "http://a.scam.top/") + _sent(jar, "http://b.scam.top/") == ["four", "five"]  # "three" went
    jar.jar.clear()
    assert _sent(jar, "http://other.top/") == [] and not bounded._held
