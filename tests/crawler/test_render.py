"""The ``render`` extra: shells detected, rendered in Debian's Chromium, every sub-request guarded.

The crawl tests run a real Scrapy crawl with real Chromium (``/usr/bin/chromium``,
driven by scrapy-playwright) in a subprocess, since Scrapy's reactor cannot
restart in one process. Everything listens on loopback: the site on 127.0.0.3
(the render proxy has 127.0.0.1), and a "canary" on 127.0.0.2 that the crawl's
network policy (``127.0.0.3/32`` only) does not allow, which proves a refused
request was never sent by counting every connection it accepts. Private and metadata addresses
(10.0.0.1, 169.254.169.254) are only ever checked, never connected to: the
unit tests ask the guard about them directly.

Without the extra or the browser the browser tests are skipped with the reason,
except in CI (``CI`` set), which installs both (``make test``) and so fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fraudwall.crawler.render import (
    DEFAULTS,
    HANDLER,
    RENDER_DEPTH,
    asks_for_render,
    fetched_as,
    is_shell,
    maybe_render,
    page_depth,
    render_mode,
    render_settings,
    render_when_asked,
    shell_reason,
    unavailable,
)
from fraudwall.exceptions import ConfigError
from fraudwall.models import Finding
from fraudwall.pages import parse_page
from fraudwall.settings import Settings
from tests.conftest import REPO

BROWSER = DEFAULTS["CRAWL_RENDER_BROWSER"]
MISSING = unavailable(BROWSER)
# Skipped on a developer's machine without the extra (or the browser); in CI (CI=true), which installs
# both, never skipped.
needs_browser = pytest.mark.skipif(MISSING is not None and not os.environ.get("CI"),
                                   reason=f"render extra unavailable: {MISSING}")
NO_EXTRA = unavailable(sys.executable)  # the Python packages only: any executable passes the browser check
needs_extra = pytest.mark.skipif(NO_EXTRA is not None and not os.environ.get("CI"),
                                 reason=f"render extra unavailable: {NO_EXTRA}")


def _page(html: str, status: int = 200) -> Any:
    return parse_page("http://shell.top/", html.encode("utf-8"), status=status)


# -- is_shell ---------------------------------------------------------------------------

SHELLS = {
    "vue": '<html><head><title>VIP</title><link href="/css/app.css" rel="stylesheet"></head><body>'
    '<noscript><strong>We\'re sorry but vip-task doesn\'t work properly without JavaScript enabled. '
    'Please enable it to continue.</strong></noscript>'
    '<div id="app"></div><script src="/js/chunk-vendors.3f2a.js"></script><script src="/js/app.9c1d.js"></script></body></html>',
    "react": '<html><body><noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>'
    '<script src="/static/js/main.8a7b.js"></script></body></html>',
    "next": '<html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">'
    '{"props":{}}</script></body></html>',
    "uni-app": '<html><head><script>var coverSupport = "CSS" in window</script></head><body>'
    '<div id="app"><!--app-html--></div><script type="module" src="/assets/index-4f1e2a.js"></script></body></html>',
    "loading": '<html><body><div id="root"><p>加载中…</p></div><script src="/umi.4d2c.js"></script>'
    '<footer>© 2024 某某科技有限公司 版权所有</footer></body></html>',
    "document-write": "<html><body><script>document.write(unescape('%3Ch1%3E%u5237%u5355%3C/h1%3E'))</script></body></html>",
}
NOT_SHELLS = {
    "text-page": "<html><body><div id=\"app\"><h1>刷单返利 日赚300</h1><p>" + "联系客服领取任务，垫付后返还本金和佣金。" * 6
    + "</p></div><script src=\"/js/app.js\"></script></body></html>",
    "no-scripts": '<html><body><div id="app"></div></body></html>',
    "static-short": "<html><body><p>This domain is for sale. Contact us today.</p><script>var a = 1</script></body></html>",
    "server-rendered-next": '<html><body><div id="__next"><article>' + "Quarterly results and outlook for investors. " * 5
    + '</article></div><script id="__NEXT_DATA__" type="application/json">{}</script></body></html>',
}


@pytest.mark.parametrize("name", sorted(SHELLS))
def test_shells_are_recognised(name: str) -> None:
    """SPA shells (Vue, React, Next, uni-app/Vite, a loading line with a footer, a document.write payload) are shells."""
    assert is_shell(_page(SHELLS[name])), name


@pytest.mark.parametrize("name", sorted(NOT_SHELLS))
def test_pages_with_content_or_without_scripts_are_not_shells(name: str) -> None:
    """A page with its own text, one with no script, and a short static page without an app marker are not shells."""
    assert not is_shell(_page(NOT_SHELLS[name])), shell_reason(_page(NOT_SHELLS[name]))


def test_shell_reason_names_the_sign_and_error_pages_are_not_shells() -> None:
    """The reason says which sign made the shell; a 404 shell is not worth a browser."""
    assert shell_reason(_page(SHELLS["vue"])) == "mount:#app"
    assert shell_reason(_page(SHELLS["document-write"])) == "empty"
    assert not is_shell(_page(SHELLS["vue"], status=404))


# -- settings and requests ----------------------------------------------------------------


def test_render_mode_resolves_auto_and_rejects_bad_values() -> None:
    """auto is shells where the extra runs and off elsewhere; an explicit mode without a browser is an error."""
    assert render_mode(Settings({"CRAWL_RENDER": "off"})) == "off"
    assert render_mode(Settings({"CRAWL_RENDER": "auto"})) == ("shells" if MISSING is None else "off")
    with pytest.raises(ConfigError, match="CRAWL_RENDER"):
        render_mode(Settings({"CRAWL_RENDER": "sometimes"}))
    with pytest.raises(ConfigError, match="no browser at /nonexistent/chromium"):
        render_mode(Settings({"CRAWL_RENDER": "always", "CRAWL_RENDER_BROWSER": "/nonexistent/chromium"}))
    assert render_settings(Settings({"CRAWL_RENDER": "off"})) == {"FRAUDWALL_RENDER_MODE": "off"}


@needs_browser
def test_render_settings_use_debian_chromium_behind_the_guard() -> None:
    """The handler replaces http/https, the reactor is asyncio, the browser is /usr/bin/chromium, timeouts are set."""
    values = render_settings(Settings({"CRAWL_RENDER": "shells", "CRAWL_TIMEOUT": 7.0}))
    assert values["DOWNLOAD_HANDLERS"] == {"http": HANDLER, "https": HANDLER,  # nothing else is fetched
                                           "file": None, "data": None, "ftp": None, "s3": None}
    assert values["TWISTED_REACTOR"] == "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
    assert values["PLAYWRIGHT_LAUNCH_OPTIONS"]["executable_path"] == "/usr/bin/chromium"
    assert values["PLAYWRIGHT_LAUNCH_OPTIONS"]["headless"] is True
    assert values["PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT"] == 7000
    assert values["FRAUDWALL_RENDER_TIMEOUT"] > 7.0
    assert values["DOWNLOAD_SLOTS"] == {"fraudwall-render": {"concurrency": 2, "delay": 0}}


def test_maybe_render_asks_only_for_shells_once() -> None:
    """A shell gets one render re-request (same callback, unfiltered, depth kept); a text page and a rendered one none."""
    from scrapy import Request
    from scrapy.http import HtmlResponse

    def callback(response: Any) -> None: ...

    request = Request("http://shell.top/", callback=callback, meta={"seed": "http://shell.top/", "depth": 1})
    shell = HtmlResponse("http://shell.top/", body=SHELLS["vue"].encode(), encoding="utf-8", request=request)
    settings = {"FRAUDWALL_RENDER_MODE": "shells", "FRAUDWALL_RENDER_WAIT": 0.5}
    render = maybe_render(shell, _page(SHELLS["vue"]), settings)
    assert render is not None and render.meta["playwright"] and render.dont_filter
    assert render.callback is callback and render.meta["seed"] == "http://shell.top/"
    assert render.meta[RENDER_DEPTH] == 1 and "depth" not in render.meta
    assert render.meta["download_slot"] == "fraudwall-render" and render.meta["fraudwall_render_wait"] == 0.5
    assert json.loads(json.dumps(render.meta)) == render.meta  # plain values: the distributed frontier is JSON
    assert maybe_render(shell, _page(NOT_SHELLS["text-page"]), settings) is None
    assert maybe_render(shell, _page(NOT_SHELLS["text-page"]), settings, asked=True) is not None
    assert maybe_render(shell, _page(SHELLS["vue"]), {"FRAUDWALL_RENDER_MODE": "off"}) is None
    again = render.replace(meta={**render.meta, "depth": 2})  # DepthMiddleware's +1
    rendered = HtmlResponse("http://shell.top/", body=b"<html></html>", request=again)
    assert maybe_render(rendered, _page(SHELLS["vue"]), settings) is None
    assert fetched_as(rendered) == "rendered" and fetched_as(shell) == "default"
    assert fetched_as(rendered, "wechat") == "wechat+rendered"
    assert page_depth(rendered) == 1


def test_cloaking_findings_ask_for_a_render() -> None:
    """A cloaking finding asks for a judged page to be rendered, once: not a shell (already rendered), not a
    rendered page, not with rendering off; a lexicon finding alone does not ask."""
    def finding(category: str) -> Finding:
        return Finding("http://x.top/", "d", "1", category, 0.3, "r")

    def callback(response: Any) -> None: ...

    assert asks_for_render([finding("task_rebate"), finding("cloaking")])
    assert not asks_for_render([finding("task_rebate")])
    on = {"FRAUDWALL_RENDER_MODE": "shells"}
    text_page, cloaking = _page(NOT_SHELLS["text-page"]), [finding("cloaking")]
    request = render_when_asked(text_page, cloaking, on, callback=callback, meta={"seed": "s"}, depth=2)
    assert request is not None and request.url == "http://shell.top/" and request.callback is callback
    assert request.meta["fraudwall_render_reason"] == "detector" and request.meta[RENDER_DEPTH] == 2
    assert request.meta["seed"] == "s"
    assert render_when_asked(text_page, [finding("task_rebate")], on, callback=callback) is None
    assert render_when_asked(_page(SHELLS["vue"]), cloaking, on, callback=callback) is None
    assert render_when_asked(text_page, cloaking, {"FRAUDWALL_RENDER_MODE": "off"}, callback=callback) is None


# -- the guard, without a browser -----------------------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value


def _guard(allow: list[str], host_map: dict[str, str]) -> Any:
    from fraudwall.crawler.network import NetworkPolicy
    from fraudwall.crawler.render_handler import SubrequestGuard
    from fraudwall.crawler.resolver import GuardedResolver

    # host-map-only: no name is ever sent to a real resolver, so nothing here touches the network.
    resolver = GuardedResolver(SimpleNamespace(nameResolver=None), NetworkPolicy(allow), host_map, host_map_only=True)
    crawler = SimpleNamespace(stats=_Stats(), settings=None)
    return SubrequestGuard(crawler, page_bytes=1000, page_requests=10, resolver=resolver)  # type: ignore[arg-type]


@needs_extra
def test_guard_refuses_private_addresses_names_and_schemes_without_connecting() -> None:
    """Metadata and private IPs, names mapped to them, unmapped names and non-http schemes are refused by reason."""
    guard = _guard(["127.0.0.1/32"], {"shop.top": "127.0.0.1", "rebind.top": "10.0.0.1"})

    async def check(url: str) -> Any:
        return await guard.check_url(url)

    def run(url: str) -> Any:
        return asyncio.run(check(url))

    assert run("http://shop.top:8080/app.js") is None
    assert run("data:text/plain,hi") is None
    assert run("http://169.254.169.254/latest/meta-data/")[0] == "network-policy"
    assert run("http://10.0.0.1/x.js")[0] == "network-policy"
    assert run("http://[::ffff:10.0.0.1]/x.js")[0] == "network-policy"
    assert run("https://127.0.0.2/")[0] == "network-policy"
    assert run("http://rebind.top/")[0] == "network-policy"
    assert run("http://elsewhere.top/")[0] == "not-in-host-map"
    assert run("ftp://shop.top/file")[0] == "scheme"
    assert run("file:///etc/passwd")[0] == "scheme"


@needs_extra
def test_the_browsers_own_services_are_refused_without_a_lookup() -> None:
    """Chromium's own services (its autofill queries about a page's forms, updates, safe browsing) are refused by
    name, before any lookup, even where every name resolves."""
    from fraudwall.crawler.render_proxy import ProxyRefusal

    guard = _guard(["0.0.0.0/0"], {"content-autofill.googleapis.com": "8.8.8.8", "shop.top": "8.8.4.4"})
    for host in ("content-autofill.googleapis.com", "Safebrowsing.Googleapis.com."):
        with pytest.raises(ProxyRefusal) as refused:
            asyncio.run(guard.resolve(host, 443))
        assert refused.value.reason == "browser-traffic"
    assert asyncio.run(guard.resolve("shop.top", 443)) == ["8.8.4.4"]


# -- the proxy, without a browser -------------------------------------------------------------


class _Site(BaseHTTPRequestHandler):
    """Serves the site of :data:`SITE` by path, and logs (host, path) of every request."""

    protocol_version = "HTTP/1.0"
    routes: dict[str, tuple[int, str, bytes]] = {}
    log: list[tuple[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        host = (self.headers.get("Host") or "").split(":")[0]
        self.log.append((host, self.path))
        status, kind, body = self.routes.get(f"{host}{self.path}") or self.routes.get(self.path) or (404, "text/plain", b"no")
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", body.decode())
            body = b""
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server:
    """A threaded HTTP server on ``address``, with its own route table and request log."""

    def __init__(self, address: str, routes: dict[str, tuple[int, str, bytes]]) -> None:
        handler = type("Handler", (_Site,), {"routes": routes, "log": []})
        self.httpd = ThreadingHTTPServer((address, 0), handler)
        self.handler = handler
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def log(self) -> list[tuple[str, str]]:
        return self.handler.log

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class _Listener:
    """A TCP listener on 127.0.0.2 that records every connection it accepts and answers nothing: the canary."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.2", 0))
        self.sock.settimeout(0.2)
        self.accepted = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _run(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def __enter__(self) -> _Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def _get(url: str) -> bytes:
    """A proxy request for ``url`` (absolute form), as a browser sends it."""
    return f"GET {url} HTTP/1.1\r\nHost: shop.top\r\n\r\n".encode()


async def _through_proxy(proxy_port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", proxy_port), 5)
    writer.write(raw)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(-1), 10)
    writer.close()
    return data


@needs_extra
def test_proxy_connects_only_to_allowed_addresses_and_cuts_big_responses() -> None:
    """Through the proxy, an allowed host is fetched, plainly and through a tunnel; a CONNECT to a disallowed
    loopback address is refused before any connection (the canary accepts none); a response over the cap is
    cut, and counted."""
    from fraudwall.crawler.render_proxy import GuardedProxy

    routes = {"/ok": (200, "text/plain", b"fine"), "/big": (200, "application/octet-stream", b"x" * 200_000)}
    with _Server("127.0.0.1", routes) as site, _Listener() as canary:
        guard = _guard(["127.0.0.1/32"], {"shop.top": "127.0.0.1"})

        async def scenario() -> tuple[bytes, bytes, bytes, bytes, bytes]:
            proxy = GuardedProxy(guard.resolve, max_response_bytes=50_000, idle_timeout=5, on_refusal=guard.refused)
            port = proxy.bind()
            await proxy.start()
            try:
                ok = await _through_proxy(port, _get(f"http://shop.top:{site.port}/ok"))
                tunnelled = await _through_proxy(port, f"CONNECT shop.top:{site.port} HTTP/1.1\r\n\r\n"
                                                 "GET /ok HTTP/1.0\r\nHost: shop.top\r\n\r\n".encode())
                tunnel = await _through_proxy(port, f"CONNECT 127.0.0.2:{canary.port} HTTP/1.1\r\n\r\n".encode())
                ftp = await _through_proxy(port, b"GET ftp://shop.top/x HTTP/1.1\r\n\r\n")
                big = await _through_proxy(port, _get(f"http://shop.top:{site.port}/big"))
            finally:
                await proxy.close()
            return ok, tunnelled, tunnel, ftp, big

        ok, tunnelled, tunnel, ftp, big = asyncio.run(scenario())
    assert ok.startswith(b"HTTP/1.0 200") and ok.endswith(b"fine")
    assert tunnelled.startswith(b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.0 200") and tunnelled.endswith(b"fine")
    assert tunnel.startswith(b"HTTP/1.1 403") and b"127.0.0.2 is not a public address" in tunnel
    assert ftp.startswith(b"HTTP/1.1 403")
    assert len(big) == 50_000  # the headers and the body up to the cap, then the cut
    assert canary.accepted == 0
    assert site.log == [("shop.top", "/ok"), ("shop.top", "/ok"), ("shop.top", "/big")]
    stats = guard.stats.values
    assert stats["fraudwall/render/refused/network-policy"] == 1
    assert stats["fraudwall/render/refused/scheme"] == 1
    assert stats["fraudwall/render/refused/response-bytes"] == 1


# -- a real crawl in Chromium ---------------------------------------------------------------------

#: Where the crawl tests' site listens: loopback, but neither the proxy's 127.0.0.1 nor the canary's 127.0.0.2.
SITE_ADDRESS = "127.0.0.3"

# A minimal spider over the render API, as the seed spider uses it: parse the static page, yield the
# render re-request for a shell, parse the rendered page with fetched_as="rendered". Prints JSON.
DRIVER = """
import json, logging, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from fraudwall.crawl import scrapy_settings_for
from fraudwall.crawler.render import fetched_as, maybe_render, render_request, render_settings
from fraudwall.pages import parse_page
from fraudwall.settings import Settings

config = json.loads(sys.argv[1])
settings = Settings(config["settings"])
settings.check()
scrapy_settings = {**scrapy_settings_for(settings), **render_settings(settings), **config["scrapy"]}
scrapy_settings.pop("ITEM_PIPELINES")  # observations are printed here, not judged and stored

class RenderSpider(scrapy.Spider):
    name = "render-test"
    observed = []
    failures = []

    async def start(self):
        for url in config["seeds"]:
            yield scrapy.Request(url, callback=self.parse, errback=self.on_error)
        for url in config.get("render_seeds", []):  # straight to the browser, no static fetch first
            yield render_request(url, callback=self.parse, errback=self.on_error, wait=0.5)

    def parse(self, response):
        page = parse_page(response.url, response.body, final_url=response.url, status=response.status,
                          text=response.text, encoding=response.encoding, fetched_as=fetched_as(response))
        self.observed.append({"url": page.final_url, "fetched_as": page.fetched_as, "text": page.text,
                              "ip": str(response.ip_address)})
        render = maybe_render(response, page, self.settings)
        if render is not None:
            yield render

    def on_error(self, failure):
        self.failures.append([failure.request.url, failure.type.__name__, getattr(failure.value, "reason", "")])

process = CrawlerProcess(scrapy_settings)
crawler = process.create_crawler(RenderSpider)
process.crawl(crawler)
process.start()
print(json.dumps({"observed": RenderSpider.observed, "failures": RenderSpider.failures,
                  "stats": {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}}))
"""

APP_JS = """
fetch('/api/tasks.json').then(function (r) { return r.json(); }).then(function (d) {
  document.getElementById('app').innerHTML = '<h1>' + d.title + '</h1><p>' + d.body + '</p>';
});
// Each of these must be refused, and never reach the canary on 127.0.0.2:
new Image().src = 'http://127.0.0.2:__CANARY__/beacon.gif';                 // route: network policy
fetch('http://metadata.internal:__PORT__/latest').catch(function () {});  // route: not in the host map
fetch('/redirect-out').catch(function () {});                          // allowed; its redirect hop: proxy
try { new WebSocket('ws://127.0.0.2:__CANARY__/ws'); } catch (e) {}    // no route for sockets: proxy
fetch('/big.bin').catch(function () {});                                // over the byte cap: cut by the proxy
"""
SHELL_HTML = (
    '<!doctype html><html><head><meta charset="utf-8"><title>VIP会员</title></head><body>'
    '<noscript>You need to enable JavaScript to run this app.</noscript><div id="app"></div>'
    '<script src="/static/js/app.js"></script></body></html>'
)
PLAIN_HTML = '<html><body><h1>刷单返利</h1><p>' + "日赚三百，联系客服领取任务。" * 10 + "</p></body></html>"
# Asks for one JSON file after another, 200 ms apart, then says how far it got.
BUDGET_JS = """
var got = 0;
function next(i) {
  if (i > 5) { document.getElementById('app').textContent = 'got ' + got; return; }
  fetch('/part' + i + '.json').then(function (r) { return r.text(); })
    .then(function () { got += 1; }, function () {})
    .then(function () { setTimeout(function () { next(i + 1); }, 200); });
}
next(1);
"""
# A kit that shows its scam to a Chinese phone only, by what a script can read: time zone, language, touch, screen.
PHONE_ONLY_HTML = """<html><body><div id="app"></div><script>
var china = Intl.DateTimeFormat().resolvedOptions().timeZone === 'Asia/Shanghai' && navigator.language === 'zh-CN';
var phone = navigator.maxTouchPoints > 0 && 'ontouchstart' in window && screen.width < 600;
document.getElementById('app').textContent = china && phone ? '刷单返利 日结佣金 下载APP' : 'Welcome ' +
  [Intl.DateTimeFormat().resolvedOptions().timeZone, navigator.language, navigator.maxTouchPoints, screen.width].join(' ');
</script></body></html>"""
#: Real APKs of the test data, served by the download pages.
APK_BYTES = {name: (REPO / "tests" / "data" / "apks" / file).read_bytes()
             for name, file in (("loan", "loan_app.apk"), ("weather", "benign_weather.apk"))}
# Rewrites its history and title every millisecond: the browser process, flooded with navigation events, no
# longer closes the page (nor itself), though the renderer still runs.
FLOOD_HTML = ('<html><body><div id="app"></div><script>setTimeout(function () { setInterval(function () {'
              ' history.replaceState(null, "", "/r" + Date.now()); document.title = "t" + Date.now(); }, 1);'
              ' for (var i = 0; i < 100000; i++) { history.pushState({i: i}, "", "/p" + i); } }, 100)</script>'
              '</body></html>')
# Runs a moment after load, then never yields the renderer again.
HANG_HTML = '<html><body><div id="root"></div><script>setTimeout(function () { for (;;) {} }, 50)</script></body></html>'


@pytest.fixture
def sites() -> Iterator[tuple[_Server, _Listener]]:
    """The site on 127.0.0.3 (hosts by Host header) and the canary on 127.0.0.2.

    Not 127.0.0.1, where the render proxy listens: the address reported for a rendered page must be the
    site's, not the proxy's."""
    routes: dict[str, tuple[int, str, bytes]] = {}
    with _Server(SITE_ADDRESS, routes) as site, _Listener() as canary:
        html = "text/html; charset=utf-8"
        routes.update({
            "spa-shell.top/": (200, html, SHELL_HTML.encode()),
            "spa-shell.top/plain.html": (200, html, PLAIN_HTML.encode()),
            "spa-shell.top/static/js/app.js": (200, "application/javascript",
                                               APP_JS.replace("__CANARY__", str(canary.port))
                                               .replace("__PORT__", str(site.port)).encode()),
            "spa-shell.top/api/tasks.json": (200, "application/json",
                                             json.dumps({"title": "刷单返利 日赚300", "body": "联系客服 领取任务"}).encode()),
            "spa-shell.top/redirect-out": (302, "text/plain", f"http://127.0.0.2:{canary.port}/redirected".encode()),
            "spa-shell.top/big.bin": (200, "application/octet-stream", b"0" * 300_000),
            "hang.top/": (200, html, HANG_HTML.encode()),
            "flood.top/": (200, html, FLOOD_HTML.encode()),
            "phone-only.top/": (200, html, PHONE_ONLY_HTML.encode()),
            "shadow.top/": (200, html, '<html><body><div id="app"></div><script>var root = document.getElementById('
                                       '"app").attachShadow({mode: "open"}); root.innerHTML = "<p>刷单返利 日结佣金</p>'
                                       '<a href=\\"/dl/shadow.apk\\">下载APP</a>";</script></body></html>'.encode()),
            "heap-bomb.top/": (200, html, b'<html><body><div id="app"></div><script>var kept = [];'
                                          b' for (;;) { kept.push(new Array(1000000).fill(7)); }</script></body></html>'),
            "nav-away.top/": (200, html, ('<html><body><div id="app"></div><script>document.getElementById("app")'
                                          '.textContent = "刷单返利 日结佣金"; setTimeout(function () { location.href ='
                                          f' "http://127.0.0.2:{canary.port}/away"; }}, 200);</script></body></html>').encode()),
            "popups.top/": (200, html, b'<html><body><div id="app"></div><script>for (var i = 0; i < 40; i++) {'
                                       b' window.open("/popup" + i); } document.getElementById("app").textContent ='
                                       b' "\xe5\x88\xb7\xe5\x8d\x95\xe8\xbf\x94\xe5\x88\xa9";</script></body></html>'),
            # Fake-app pages whose download only a browser starts: by script after a moment, by a hidden iframe.
            "dl-script.top/": (200, html, b'<html><body><div id="app"></div><script>setTimeout(function () {'
                                          b' location.href = "/dl/" + "loan" + ".apk"; }, 200)</script></body></html>'),
            "dl-script.top/dl/loan.apk": (200, "application/vnd.android.package-archive", APK_BYTES["loan"]),
            "dl-iframe.top/": (200, html, b'<html><body><div id="app"></div><script>window.ready = 1;</script>'
                                          b'<iframe src="/get?id=7" style="display:none"></iframe></body></html>'),
            "dl-iframe.top/get?id=7": (200, "application/octet-stream", APK_BYTES["weather"]),
            # An entry domain that sends its visitors to the scam by script, after one HTTP redirect of its own.
            "js-entry.top/": (302, "text/plain", f"http://js-entry.top:{site.port}/go".encode()),
            "js-entry.top/go": (200, html, f'<html><body><div id="app"></div><script>location.href = '
                                           f'"http://spa-shell.top:{site.port}/";</script></body></html>'.encode()),
            "budget.top/": (200, html, SHELL_HTML.replace("/static/js/app.js", "/budget.js").encode()),
            "budget.top/budget.js": (200, "application/javascript", BUDGET_JS.encode()),
            **{f"budget.top/part{i}.json": (200, "application/json", b'"' + b"x" * 1500 + b'"') for i in range(1, 6)},
        })
        yield site, canary


def _crawl(tmp_path: Path, seeds: list[str], settings: dict[str, Any], scrapy: dict[str, Any],
           render_seeds: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Run :data:`DRIVER` (from a file: Scrapy reads callbacks' source) and return what it printed."""
    driver = tmp_path / "render_driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    config = {"seeds": seeds, "settings": settings, "scrapy": scrapy, "render_seeds": list(render_seeds)}
    result = subprocess.run([sys.executable, str(driver), json.dumps(config)], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_browser
def test_shell_is_rendered_and_its_forbidden_subrequests_are_refused(
    tmp_path: Path, sites: tuple[_Server, _Listener]
) -> None:
    """A real crawl: the SPA shell's task-scam text appears only in its rendered observation; a text page is
    not rendered; the page's allowed sub-requests are fetched from the site; a loopback address outside the
    policy, an unmapped name, a redirect hop and a WebSocket to it are refused and counted, and the canary
    never sees a connection; an oversized response is cut; a page whose script hangs the renderer is
    abandoned at the render time limit and the crawl still ends."""
    site, canary = sites
    hosts = {"spa-shell.top": SITE_ADDRESS, "hang.top": SITE_ADDRESS}
    settings = {
        "ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": hosts, "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0,
        "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0, "CRAWL_TIMEOUT": 5.0, "CRAWL_MAX_BYTES": 100_000,
        "LOG_LEVEL": "INFO", "JUDGE_WORKERS": 1,
    }
    seeds = [f"http://spa-shell.top:{site.port}/", f"http://spa-shell.top:{site.port}/plain.html",
             f"http://hang.top:{site.port}/"]
    outcome = _crawl(tmp_path, seeds, settings, {"FRAUDWALL_RENDER_TIMEOUT": 4.0})

    observed = {(o["url"], o["fetched_as"]): o["text"] for o in outcome["observed"]}
    assert {o["ip"] for o in outcome["observed"]} == {SITE_ADDRESS}  # the site's address, also when rendered
    shell = f"http://spa-shell.top:{site.port}/"
    assert "刷单返利" not in observed[(shell, "default")]
    assert "刷单返利 日赚300" in observed[(shell, "rendered")] and "联系客服" in observed[(shell, "rendered")]
    assert (f"http://spa-shell.top:{site.port}/plain.html", "rendered") not in observed
    assert sorted(observed) == sorted([(shell, "default"), (shell, "rendered"),
                                       (f"http://spa-shell.top:{site.port}/plain.html", "default"),
                                       (f"http://hang.top:{site.port}/", "default")])

    fetched = [path for host, path in site.log if host == "spa-shell.top"]
    assert fetched.count("/") == 2 and "/static/js/app.js" in fetched and "/api/tasks.json" in fetched
    assert "/redirect-out" in fetched
    assert canary.accepted == 0, "a refused request reached 127.0.0.2"

    stats = outcome["stats"]
    assert stats["fraudwall/render/refused/network-policy"] >= 3  # beacon (route), redirect hop and socket (proxy)
    assert stats["fraudwall/render/refused/not-in-host-map"] == 1
    assert stats["fraudwall/render/refused/response-bytes"] == 1
    assert stats["fraudwall/render/started/shell"] == 2
    assert stats["fraudwall/render/pages"] == 1
    assert stats["fraudwall/render/failed/timeout"] == 1
    assert outcome["failures"] == [[f"http://hang.top:{site.port}/", "RenderFailed", "timeout"]]


@needs_browser
def test_page_budget_and_refused_documents(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page that keeps fetching is cut off once its responses pass the per-page byte budget (the rest
    refused as page-bytes, never requested); a render of a document the policy refuses ends as a counted
    Refused, not an error; a static request to the same address is still refused by the crawl's own guard
    (the render handler hands static requests to Scrapy's); the canary sees no connection."""
    site, canary = sites
    settings = {
        "ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"budget.top": SITE_ADDRESS}, "HOST_MAP_ONLY": True,
        "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 3.0, "CRAWL_TIMEOUT": 5.0,
        "CRAWL_RENDER_MAX_BYTES": 4000,
    }
    static_refused = f"http://127.0.0.2:{canary.port}/static"  # the static path keeps its own guard
    outcome = _crawl(tmp_path, [f"http://budget.top:{site.port}/", static_refused], settings, {},
                     render_seeds=[f"http://127.0.0.2:{canary.port}/"])

    rendered = [o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"]
    parts = sorted(path for host, path in site.log if host == "budget.top" and path.startswith("/part"))
    assert len(rendered) == 1 and rendered[0].endswith(f"got {len(parts)}")
    assert 1 <= len(parts) < 5, parts  # the document, the script and a part or two fit in 4000 bytes
    stats = outcome["stats"]
    assert stats["fraudwall/render/refused/page-bytes"] == 5 - len(parts)
    assert sorted(outcome["failures"]) == [[f"http://127.0.0.2:{canary.port}/", "Refused", "network-policy"],
                                           [static_refused, "Refused", "network-policy"]]
    assert stats["fraudwall/render/refused/network-policy"] == 1
    assert stats["fraudwall/fetch/refused/network-policy"] == 1  # RefusalMiddleware, as without the extra
    assert canary.accepted == 0


@needs_browser
def test_a_page_that_floods_the_browser_costs_the_browser_not_the_crawl(
        tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page rewriting its history every millisecond keeps the browser too busy to close it: past its render
    time the browser is killed (counted), the one render slot is free again, the next shell is rendered in a new
    browser, and the crawl ends by itself (it hung at its end, the browser at full CPU, until killed)."""
    site, _ = sites
    settings = {
        "ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"flood.top": SITE_ADDRESS, "spa-shell.top": SITE_ADDRESS},
        "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0,
        "CRAWL_RENDER_PAGES": 1, "CRAWL_CONCURRENCY": 1, "LOG_LEVEL": "INFO", "JUDGE_WORKERS": 1,
    }
    started = time.monotonic()
    outcome = _crawl(tmp_path, [f"http://flood.top:{site.port}/", f"http://spa-shell.top:{site.port}/"], settings,
                     {"FRAUDWALL_RENDER_TIMEOUT": 4.0})
    assert time.monotonic() - started < 80
    rendered = {o["url"]: o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"}
    assert "刷单返利 日赚300" in rendered[f"http://spa-shell.top:{site.port}/"]
    assert outcome["failures"] == [[f"http://flood.top:{site.port}/", "RenderFailed", "timeout"]]
    assert outcome["stats"]["fraudwall/render/browser_killed"] == 1
    assert outcome["stats"]["playwright/browser_count"] == 2


@needs_browser
def test_the_browser_looks_like_a_chinese_phone(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A kit that shows its scam only when the browser's time zone is China's, its language Chinese, its screen a
    phone's and its input touch (the crawl's user agent is Android Chrome's) shows it to the renderer."""
    site, _ = sites
    settings = {"ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"phone-only.top": SITE_ADDRESS},
                "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 0.5}
    outcome = _crawl(tmp_path, [f"http://phone-only.top:{site.port}/"], settings, {})
    rendered = [o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"]
    assert rendered == ["刷单返利 日结佣金 下载APP"]


@needs_browser
def test_a_refused_navigation_leaves_the_page_as_it_was(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page that shows its scam, then sends the browser to an address the policy refuses: the navigation is
    refused and counted, the canary sees nothing, and the rendered page is the scam at its own URL (the browser's
    error page took its place, and judging rejected it)."""
    site, canary = sites
    settings = {"ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"nav-away.top": SITE_ADDRESS},
                "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0}
    outcome = _crawl(tmp_path, [f"http://nav-away.top:{site.port}/"], settings, {})
    rendered = [(o["url"], o["text"]) for o in outcome["observed"] if o["fetched_as"] == "rendered"]
    assert rendered == [(f"http://nav-away.top:{site.port}/", "刷单返利 日结佣金")]
    assert outcome["stats"]["fraudwall/render/refused/network-policy"] >= 1
    assert canary.accepted == 0


class _PeakBrowserMemory:
    """The largest resident size of any browser process under this test's process while it is entered, in KB."""

    def __init__(self) -> None:
        self.kilobytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        from fraudwall.crawler.browser_processes import browser_processes

        while not self._stop.wait(0.05):
            for pid in browser_processes():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
                self.kilobytes = max(self.kilobytes, rss)

    def __enter__(self) -> _PeakBrowserMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@needs_browser
def test_a_page_that_allocates_without_end_dies_at_the_heap_cap(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page whose script allocates arrays forever: its renderer dies at the JavaScript heap cap (JS_HEAP_MB), no
    browser process passing 1.2 GB (without the cap the renderer grew to gigabytes), the render ends as a counted
    browser error, and the next page renders."""
    site, _ = sites
    settings = {"ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0,
                "HOST_MAP": {"heap-bomb.top": SITE_ADDRESS, "spa-shell.top": SITE_ADDRESS},
                "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0, "CRAWL_RENDER_PAGES": 1, "CRAWL_CONCURRENCY": 1}
    with _PeakBrowserMemory() as peak:
        outcome = _crawl(tmp_path, [f"http://heap-bomb.top:{site.port}/", f"http://spa-shell.top:{site.port}/"],
                         settings, {"FRAUDWALL_RENDER_TIMEOUT": 25.0})
    assert 0 < peak.kilobytes < 1_200_000, peak.kilobytes  # V8's own limit let it reach gigabytes
    assert outcome["failures"] == [[f"http://heap-bomb.top:{site.port}/", "RenderFailed", "browser-error"]]
    rendered = {o["url"]: o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"}
    assert "刷单返利 日赚300" in rendered[f"http://spa-shell.top:{site.port}/"]


@needs_browser
def test_what_a_page_shows_in_a_shadow_root_is_read(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page that builds its scam inside a shadow root (no serialisation of the document holds it): the rendered
    page's text has it."""
    site, _ = sites
    settings = {"ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"shadow.top": SITE_ADDRESS},
                "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 0.5}
    outcome = _crawl(tmp_path, [f"http://shadow.top:{site.port}/"], settings, {})
    assert [o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"] == ["刷单返利 日结佣金 下载APP"]


@needs_browser
def test_windows_a_rendered_page_opens_are_closed(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A page opening forty windows in a loop is rendered; every window it opens is closed as it opens, counted."""
    site, _ = sites
    settings = {"ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "HOST_MAP": {"popups.top": SITE_ADDRESS},
                "HOST_MAP_ONLY": True, "CRAWL_DEPTH": 0, "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0}
    outcome = _crawl(tmp_path, [f"http://popups.top:{site.port}/"], settings, {})
    assert [o["text"] for o in outcome["observed"] if o["fetched_as"] == "rendered"] == ["刷单返利"]
    assert outcome["stats"]["fraudwall/render/popups_closed"] == 40


@needs_browser
def test_apps_a_rendered_page_starts_downloading_are_captured(tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A real crawl: an app shell whose script sends the browser to an APK a moment after load, and one whose hidden
    iframe loads an APK from an extensionless URL. The browser saves neither; the crawl fetches each download's
    URL as an app, and both APKs are analysed and stored with their download URLs; no render ends as an uncounted
    error."""
    from fraudwall.blocklists.store import Store
    from tests.crawler.test_host_health import DRIVER as CRAWL_DRIVER

    site, _ = sites
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "CRAWL_DEPTH": 1,
              "HOST_MAP": {"dl-script.top": SITE_ADDRESS, "dl-iframe.top": SITE_ADDRESS}, "HOST_MAP_ONLY": True,
              "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0, "CRAWL_PROFILES": ["android"],
              "CRAWL_PROGRESS": "off", "JUDGE_WORKERS": 1}
    seeds = [f"http://dl-script.top:{site.port}/", f"http://dl-iframe.top:{site.port}/"]
    result = subprocess.run([sys.executable, "-c", CRAWL_DRIVER, json.dumps(config), *seeds], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads(result.stdout)
    with Store.open(tmp_path / "crawl.db") as store:
        downloads = sorted(json.loads(row["payload"])["download_url"]
                           for row in store.db.query("SELECT payload FROM observations WHERE kind = 'apk'"))
    assert downloads == [f"http://dl-iframe.top:{site.port}/get?id=7", f"http://dl-script.top:{site.port}/dl/loan.apk"], \
        " ".join(f"{k}={v}" for k, v in sorted(stats.items()) if k.startswith(("fraudwall/render", "fraudwall/fetch", "playwright/d")))
    assert stats["fraudwall/apk/started-by-script"] == 2
    # The iframe's render ends as a page, or, when the download starts while the browser is still navigating, as a
    # counted download (it was an uncounted RuntimeError); either way its download is fetched.
    assert stats["fraudwall/render/pages"] + stats.get("fraudwall/render/failed/download", 0) == 2
    assert not [key for key in stats if key.startswith("fraudwall/fetch/failed/")], stats


@needs_browser
def test_an_entry_that_sends_visitors_on_by_script_is_recorded_and_judged_with_the_page(
        tmp_path: Path, sites: tuple[_Server, _Listener]) -> None:
    """A real crawl with the SSRF guard and the judging pipeline: the entry redirects once over HTTP, then its
    script sends the browser to the scam's app shell. The rendered page is stored as reached from the entry
    through both hops, and the entry domain shares the scam page's verdict (redirect_entry)."""
    from fraudwall.blocklists.store import Store
    from tests.crawler.test_host_health import DRIVER as CRAWL_DRIVER

    site, _ = sites
    entry, landing = f"http://js-entry.top:{site.port}/", f"http://spa-shell.top:{site.port}/"
    config = {"DB_PATH": str(tmp_path / "crawl.db"), "ALLOW_NETS": [f"{SITE_ADDRESS}/32"], "CRAWL_DEPTH": 0,
              "HOST_MAP": {"js-entry.top": SITE_ADDRESS, "spa-shell.top": SITE_ADDRESS}, "HOST_MAP_ONLY": True,
              "CRAWL_RENDER": "shells", "CRAWL_RENDER_WAIT": 1.0, "CRAWL_PROFILES": ["android"],
              "CRAWL_PROGRESS": "off", "JUDGE_WORKERS": 1}
    result = subprocess.run([sys.executable, "-c", CRAWL_DRIVER, json.dumps(config), entry], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    with Store.open(tmp_path / "crawl.db") as store:
        rendered = store.db.execute("SELECT url, final_url, redirect_chain FROM observations "
                                    "WHERE fetched_as LIKE '%+rendered'").fetchall()
        verdicts = {row["subject"]: row["status"] for row in store.db.query("SELECT subject, status FROM verdicts")}
    assert [tuple(row) for row in rendered] == [(entry, landing, json.dumps([entry, entry + "go"]))]
    assert verdicts[landing] in ("malicious", "suspicious")
    assert verdicts[entry] == verdicts[landing]
