"""The download handler of the ``render`` extra: scrapy-playwright with fraudwall's guards.

:func:`fraudwall.crawler.render.render_settings` installs
:class:`RenderDownloadHandler` for ``http`` and ``https``. A request without
``meta["playwright"]`` goes to Scrapy's own HTTP/1.1 handler unchanged (the
``GuardedResolver`` and ``RefusalMiddleware`` see it as before); one with it is
loaded in Debian's Chromium. Around scrapy-playwright this adds:

- **the SSRF guard on every sub-request**, twice. :class:`SubrequestGuard` is
  the route predicate (``abort_request``): every request the page makes that
  Playwright intercepts is refused when its scheme is not http(s), when the
  page's byte or request budget is spent, or when its host resolves to no
  address the network policy allows; each refusal is counted as
  ``fraudwall/render/refused/<reason>`` and logged. Interception does not see
  redirect hops, WebSockets or service workers, and Chromium would look the name
  up again itself, so the browser's only way out is a
  :class:`~fraudwall.crawler.render_proxy.GuardedProxy` on loopback that resolves
  through the same resolver and connects to the checked address; its refusals
  are counted under the same keys. Chromium is also told to resolve no name
  itself (``--host-resolver-rules``), so a leak would fail rather than connect.
- **caps**: each server response through the proxy is cut at ``DOWNLOAD_MAXSIZE``;
  the responses of one page add up to at most ``FRAUDWALL_RENDER_PAGE_BYTES``
  (plus what is in flight when the budget runs out), and at most
  ``FRAUDWALL_RENDER_PAGE_REQUESTS`` requests; the rendered document is
  refused beyond ``DOWNLOAD_MAXSIZE``; the whole render (navigation, settling,
  reading the DOM) is bounded by ``FRAUDWALL_RENDER_TIMEOUT``, after which the
  page is closed even if its script hangs the renderer.
- **one browser profile**: every page gets the crawl's user agent (a page can
  tell "HeadlessChrome" apart and cloak), China's time zone and Chinese as its
  language, a phone's screen and touch under a phone's user agent, no service workers, no downloads (the
  URL of each download a page starts is recorded in ``RENDER_DOWNLOADS``, for
  the spider to fetch as an app), and certificate errors are accepted as Scrapy
  accepts them.

A render that fails ends as :class:`RenderFailed` (counted as
``fraudwall/render/failed/<why>``), or as
:class:`~fraudwall.crawler.refusals.Refused` when the guard refused the
document itself; neither is retried.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import Route
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.page import PageMethod
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHostResolution, IResolutionReceiver
from zope.interface import provider

from fraudwall import stats_keys
from fraudwall.crawler.browser_processes import kill_browser
from fraudwall.crawler.connection_pool import bound_connections
from fraudwall.crawler.network import NetworkPolicy
from fraudwall.crawler.refusals import Refused
from fraudwall.crawler.render import RENDER_CHAIN, RENDER_DOWNLOADS, RENDER_REASON, RENDER_WAIT, RenderFailed
from fraudwall.crawler.render_proxy import GuardedProxy, ProxyRefusal
from fraudwall.crawler.resolver import GuardedResolver, Refusal
from fraudwall.crawler.tls import accept_any_server
from fraudwall.crawler.url_credentials import without_credentials
from fraudwall.names import is_ip_literal

log = logging.getLogger(__name__)

#: Stat prefixes, all under ``fraudwall/render/``.
REFUSED_STAT = stats_keys.RENDER_REFUSED
FAILED_STAT = stats_keys.RENDER_FAILED
#: The first refusal of a render, whole, for messages (like ``fraudwall/fetch/first_refusal``).
FIRST_REFUSAL_STAT = stats_keys.RENDER_FIRST_REFUSAL
#: Hosts of Chromium's own services. A page with a form made the browser ask Google's autofill service about
#: it through the page's proxy, which looked the name up with the crawl's resolver: an investigator's browser
#: telling Google which scam it is reading. No page's own content comes from them.
BROWSER_SERVICE_HOSTS = frozenset({
    "content-autofill.googleapis.com", "optimizationguide-pa.googleapis.com", "safebrowsing.googleapis.com",
    "update.googleapis.com", "clientservices.googleapis.com", "android.clients.google.com",
    "clients1.google.com", "clients2.google.com", "clients4.google.com", "redirector.gvt1.com",
    "edgedl.me.gvt1.com", "accounts.google.com", "www.googleapis.com",
})
#: Seconds a page, or the browser at the crawl's end, has to close before the browser is killed.
CLOSE_SECONDS = 10.0
#: Schemes a rendered page may fetch; ``data:`` and ``blob:`` never reach the network.
ALLOWED_SCHEMES = frozenset({"http", "https"})

#: The browser profile of every rendering context (see the module docstring): a browser in China, in
#: Chinese, as the victims' are (kits show their scam to that and a blank page to a reviewer abroad).
CONTEXT_KWARGS: dict[str, Any] = {
    "ignore_https_errors": True,
    "service_workers": "block",
    "accept_downloads": False,
    "java_script_enabled": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
#: Added for a phone's user agent: a phone's screen and touch, which kits check beside the user agent
#: (a desktop window under an Android user agent gives a headless crawler away).
PHONE_KWARGS: dict[str, Any] = {
    "viewport": {"width": 412, "height": 915},
    "screen": {"width": 412, "height": 915},
    "device_scale_factor": 2.625,
    "is_mobile": True,
    "has_touch": True,
}


def context_kwargs(user_agent: str) -> dict[str, Any]:
    """The rendering context's options for ``user_agent``: :data:`CONTEXT_KWARGS`, and a phone's for a phone's."""
    phone = any(mark in user_agent for mark in ("Mobile", "Android", "iPhone"))
    return {**CONTEXT_KWARGS, **(PHONE_KWARGS if phone else {}), "user_agent": user_agent}


async def settle(page: Page, wait_ms: float) -> None:
    """Wait until the page's network is idle, ``wait_ms`` at most: what is rendered by then is the page.

    The page method of every render (``meta["fraudwall_render_wait"]``, set by
    :func:`fraudwall.crawler.render.render_request`); a page that never goes idle
    (polling, long-polling) is read as it is when time is up.
    """
    with suppress(PlaywrightTimeoutError):
        await page.wait_for_load_state("networkidle", timeout=wait_ms)
    # What the page shows inside shadow roots is in no serialisation of its document: copied out beside each
    # host (which renders its shadow root, not its children), it is in the document the crawl reads.
    with suppress(PlaywrightError):
        await asyncio.wait_for(page.evaluate(_SHADOW_COPY, SHADOW_COPY_CHARS), SHADOW_COPY_SECONDS)


#: Characters of shadow-root markup copied into a rendered document, in all: a page of a million shadow
#: roots is not copied whole.
SHADOW_COPY_CHARS = 2_000_000
SHADOW_COPY_SECONDS = 5.0
_SHADOW_COPY = """(budget) => {
  const hosts = [];
  const walk = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (hosts.length >= 1000) return;
      if (element.shadowRoot) { hosts.push(element); walk(element.shadowRoot); }
    }
  };
  walk(document);
  for (const host of hosts) {
    const markup = host.shadowRoot.innerHTML;
    if (markup.length > budget) break;
    budget -= markup.length;
    const copy = document.createElement('div');
    copy.setAttribute('data-fraudwall-shadow-root', '');
    copy.innerHTML = markup;
    host.appendChild(copy);
  }
}"""


@provider(IResolutionReceiver)
class _Addresses:
    """Collects the addresses a Twisted resolver delivers into a Deferred."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done: Deferred[list[str]] = Deferred()

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(str(getattr(address, "host", "")))

    def resolutionComplete(self) -> None:
        self.done.callback(self.addresses)


@dataclass(slots=True)
class _PageBudget:
    """What one rendered page has fetched so far."""

    bytes: int = 0
    requests: int = 0


class SubrequestGuard:
    """Decides whether a rendered page may fetch a URL, counts what it refuses, and keeps each page's budget."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        page_bytes: int,
        page_requests: int,
        resolver: GuardedResolver | None = None,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.page_bytes = page_bytes
        self.page_requests = page_requests
        self._resolver = resolver
        self._budgets: dict[int, _PageBudget] = {}
        #: Why a page's own document was refused, by id(page): turns its failed navigation into a refusal.
        self.document_refusals: dict[int, tuple[str, str]] = {}

    # -- resolution -------------------------------------------------------------
    @property
    def resolver(self) -> GuardedResolver:
        """The crawl's resolver: the installed one, or one built from the same settings.

        Looked up when first needed: Scrapy installs its resolver after it builds
        the download handlers.
        """
        if self._resolver is None:
            from twisted.internet import reactor

            installed = getattr(reactor, "nameResolver", None)
            if not isinstance(installed, GuardedResolver):
                installed = GuardedResolver.from_crawler(self.crawler, reactor)
            self._resolver = installed
        return self._resolver

    @property
    def policy(self) -> NetworkPolicy:
        return self.resolver.policy

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` the network policy allows; :class:`ProxyRefusal` when it allows none, or
        when ``host`` serves the browser rather than pages (:data:`BROWSER_SERVICE_HOSTS`).

        The same resolver as the static crawl's, so the host map, host-map-only
        and the policy mean the same for the browser. An empty list is a name that
        does not resolve, which is a failure, not a refusal.
        """
        if host.lower().rstrip(".") in BROWSER_SERVICE_HOSTS:
            raise ProxyRefusal("browser-traffic", f"{host} serves the browser, not the page")
        receiver = _Addresses()
        self.resolver.resolveHostName(receiver, host, port)
        addresses = await receiver.done.asFuture(asyncio.get_running_loop())
        if not addresses:
            refusal: Refusal | None = self.resolver.refusal(host)
            if refusal is not None:
                raise ProxyRefusal(refusal.reason, refusal.detail)
        return addresses

    async def check_url(self, url: str) -> tuple[str, str] | None:
        """``(reason, detail)`` when ``url`` may not be fetched by a rendered page, else None."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in {"data", "blob", "about"}:
            return None  # never reaches the network
        if scheme not in ALLOWED_SCHEMES:
            return "scheme", f"{scheme}: is not fetched by rendered pages"
        host = parts.hostname
        if not host:
            return "scheme", "no host"
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            return "scheme", "bad port"
        if is_ip_literal(host) and not self.policy.allows(host):
            return "network-policy", self.policy.explain(host)  # decided without a lookup
        try:
            await self.resolve(host, port)
        except ProxyRefusal as refusal:
            return refusal.reason, refusal.detail
        return None  # resolvable or not: the proxy makes the final decision on the connection

    # -- the route predicate -----------------------------------------------------
    async def should_abort(self, request: PlaywrightRequest) -> bool:
        """scrapy-playwright's ``abort_request``: True refuses ``request`` before the browser sends it."""
        page = _page_of(request)
        budget = self._budget(page) if page is not None else None
        verdict: tuple[str, str] | None = None
        if budget is not None and budget.bytes > self.page_bytes:
            verdict = "page-bytes", f"the page has fetched more than {self.page_bytes} bytes"
        elif budget is not None and budget.requests >= self.page_requests:
            verdict = "page-requests", f"the page has made {self.page_requests} requests"
        else:
            verdict = await self.check_url(request.url)
        if verdict is None:
            if budget is not None:
                budget.requests += 1
            return False
        reason, detail = verdict
        self.refused(reason, request.url, detail)
        if page is not None and request.is_navigation_request() and request.frame == page.main_frame:
            self.document_refusals[id(page)] = (reason, f"refused {request.url}: {detail}")
        return True

    def refused(self, reason: str, target: str, detail: str) -> None:
        """Count and log one refusal; the first is kept whole for the summary."""
        message = f"render refused {target}: {detail}"
        log.info("%s", message)
        self.stats.inc_value(REFUSED_STAT + reason)
        if self.stats.get_value(FIRST_REFUSAL_STAT) is None:
            self.stats.set_value(FIRST_REFUSAL_STAT, message)

    def _budget(self, page: Page) -> _PageBudget:
        key = id(page)
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = _PageBudget()
            page.on("requestfinished", self._make_counter(budget))
            page.on("close", lambda *_: self.forget(key))
        return budget

    def forget(self, key: int) -> None:
        self._budgets.pop(key, None)
        self.document_refusals.pop(key, None)

    @staticmethod
    def _make_counter(budget: _PageBudget) -> Callable[[PlaywrightRequest], Any]:
        async def count(request: PlaywrightRequest) -> None:
            with suppress(PlaywrightError):  # the page may be closing
                sizes = await request.sizes()
                budget.bytes += int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"])

        return count


def _page_of(request: PlaywrightRequest) -> Page | None:
    # Requests of service workers (blocked anyway) and early navigations have no frame.
    try:
        return request.frame.page
    except PlaywrightError:
        return None


class RenderDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler behind fraudwall's SSRF guard, byte caps and time limit."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        bound_connections(self, settings)  # the requests not rendered go through Scrapy's HTTP client
        accept_any_server(self)
        self.render_timeout = settings.getfloat("FRAUDWALL_RENDER_TIMEOUT", 30.0)
        self.max_document_bytes = settings.getint("DOWNLOAD_MAXSIZE")
        self.user_agent = settings.get("USER_AGENT")
        self.guard = SubrequestGuard(
            crawler,
            page_bytes=settings.getint("FRAUDWALL_RENDER_PAGE_BYTES", 20 * 1024 * 1024),
            page_requests=settings.getint("FRAUDWALL_RENDER_PAGE_REQUESTS", 300),
        )
        # Ours replaces any PLAYWRIGHT_ABORT_REQUEST: the guard is not optional.
        self.abort_request = self.guard.should_abort
        idle = max(1.0, settings.getfloat("DOWNLOAD_TIMEOUT", 20.0))
        self.proxy = GuardedProxy(
            self.guard.resolve, max_response_bytes=self.max_document_bytes or 2**62, idle_timeout=idle,
            on_refusal=self.guard.refused,
        )
        # Chromium's own traffic (component updates, account checks) uses the browser-wide proxy, the
        # pages' traffic their context's: the first goes nowhere and is counted apart from the pages'
        # refusals; the second is the guarded proxy. Playwright sends loopback through both.
        self.blackhole = GuardedProxy(_refuse_all, max_response_bytes=0, idle_timeout=idle,
                                      on_refusal=self._browser_traffic)
        self.config.launch_options = {**self.config.launch_options, "proxy": {"server": self.blackhole.url}}

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(without_credentials(request))
        await self.proxy.start()
        await self.blackhole.start()
        meta = request.meta
        # Read when the context is created; the proxy comes last so that no request can drop it.
        meta["playwright_context_kwargs"] = {**context_kwargs(self.user_agent or ""),
                                             **meta.get("playwright_context_kwargs", {}),
                                             "proxy": {"server": self.proxy.url}}
        if RENDER_WAIT in meta and "playwright_page_methods" not in meta:
            meta["playwright_page_methods"] = [PageMethod(settle, float(meta[RENDER_WAIT]) * 1000)]
        # The page is ours to close in every case, also when the render is cut short below.
        meta["playwright_include_page"] = True
        downloads: list[str] = []
        meta[RENDER_DOWNLOADS] = downloads
        meta["playwright_page_init_callback"] = self._watch_page
        self.stats.inc_value(stats_keys.RENDER_STARTED + meta.get(RENDER_REASON, "request"))
        try:
            response = await asyncio.wait_for(super().download_request(request), self.render_timeout)
        except asyncio.TimeoutError:
            raise self._failed("timeout", f"render of {request.url} took over {self.render_timeout:g} s",
                               downloads) from None
        except PlaywrightError as exc:
            page = meta.get("playwright_page")
            refusal = self.guard.document_refusals.get(id(page)) if page is not None else None
            if refusal is not None:
                raise Refused(*refusal) from exc
            reason = "download" if downloads else "browser-timeout" if isinstance(exc, PlaywrightTimeoutError) \
                else "browser-error"
            raise self._failed(reason, f"render of {request.url} failed: {exc.message.splitlines()[0]}",
                               downloads) from exc
        except IgnoreRequest:
            raise
        except Exception as exc:
            # scrapy-playwright's own: a page whose navigation is a download (which the browser does not save).
            raise self._failed("download" if downloads else "browser-error",
                               f"render of {request.url} failed: {str(exc).splitlines()[0][:300]}", downloads) from exc
        finally:
            await self._close_page(meta.pop("playwright_page", None))
            # Objects the spider has no use for, and that no JSON frontier could carry.
            for key in ("playwright_include_page", "playwright_page_methods", "playwright_context_kwargs",
                        "playwright_page_init_callback"):
                meta.pop(key, None)
        if self.max_document_bytes and len(response.body) > self.max_document_bytes:
            self.guard.refused("document-bytes", request.url, f"rendered document over {self.max_document_bytes} bytes")
            raise Refused("document-bytes", f"refused {request.url}: rendered document too large")
        self.stats.inc_value(stats_keys.RENDER_PAGES)
        # The page is recorded as reached through the static page's redirects and, when the browser left the
        # page it was sent to (a script's location.href, a refresh, a redirect it followed), through that one:
        # an entry domain that sends its visitors on by script is recorded with the page it leads to.
        chain = list(meta.get(RENDER_CHAIN, ()))
        if response.url != request.url:
            chain.append(request.url)
        if chain:
            meta["redirect_urls"] = chain
        # scrapy-playwright reports the address the browser connected to, which is the proxy's.
        parts = urlsplit(response.url)
        address = self.proxy.address_of(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        return response.replace(ip_address=ipaddress.ip_address(address) if address else None)

    async def _watch_page(self, page: Page, request: Request) -> None:
        """Each rendered page's init callback: the URL of each download it starts goes to the request's
        ``RENDER_DOWNLOADS`` (the browser, without ``accept_downloads``, saves none), and each window it opens is
        closed at once (counted): a page opening windows in a loop had a hundred and fifty loaded at once."""
        downloads = request.meta[RENDER_DOWNLOADS]
        page.on("download", lambda download: downloads.append(download.url))
        page.on("popup", self._close_popup)
        await page.route("**/*", self._stay_on_page(page))

    def _stay_on_page(self, page: Page) -> Callable[[Route, PlaywrightRequest], Any]:
        """A route that answers a refused navigation away from the rendered page with ``204 No Content``, which a
        browser answers by staying where it is: a page that sends its visitor to a private address after showing
        its scam keeps the scam (aborted, the browser showed its error page, and the page was lost). The render's
        own navigation, and everything else, goes on to scrapy-playwright's route and the guard."""
        own = [True]

        async def stay(route: Route, request: PlaywrightRequest) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                if own[0]:
                    own[0] = False
                elif (verdict := await self.guard.check_url(request.url)) is not None:
                    self.guard.refused(verdict[0], request.url, verdict[1])
                    with suppress(PlaywrightError):
                        await route.fulfill(status=204, body=b"")
                    return
            await route.fallback()

        return stay

    async def _close_popup(self, popup: Page) -> None:
        self.stats.inc_value(stats_keys.RENDER_POPUPS_CLOSED)
        with suppress(PlaywrightError, asyncio.TimeoutError):
            await asyncio.wait_for(popup.close(), CLOSE_SECONDS)

    def _browser_traffic(self, reason: str, target: str, detail: str) -> None:
        log.debug("browser's own request refused: %s", target)
        self.stats.inc_value(stats_keys.RENDER_BROWSER_REFUSED)

    def _failed(self, reason: str, message: str, downloads: list[str]) -> RenderFailed:
        log.info("%s", message)
        self.stats.inc_value(FAILED_STAT + reason)
        return RenderFailed(reason, message, tuple(downloads))

    async def _close_page(self, page: Page | None) -> None:
        if page is None or page.is_closed():
            return
        # Closing goes through the browser, not the renderer, so it works on a page whose script hangs; a page
        # that keeps the browser itself busy (a history flood) is not closed that way, and would hold its render
        # slot and burn a core until the crawl's end: the browser goes instead (a new one starts for the next render).
        try:
            await asyncio.wait_for(page.close(), CLOSE_SECONDS)
        except PlaywrightError:
            pass
        except asyncio.TimeoutError:
            self._kill_browser(f"a page it did not close within {CLOSE_SECONDS:g} s")
            return
        self.stats.inc_value("playwright/page_count/closed")

    def _kill_browser(self, why: str) -> None:
        killed = kill_browser()
        log.warning("browser killed (%d processes): %s", killed, why)
        self.stats.inc_value(stats_keys.RENDER_BROWSER_KILLED)

    async def close(self) -> None:
        closing = asyncio.ensure_future(super().close())
        try:
            try:
                await asyncio.wait_for(asyncio.shield(closing), CLOSE_SECONDS)
            except asyncio.TimeoutError:
                self._kill_browser(f"it did not close within {CLOSE_SECONDS:g} s at the crawl's end")
                with suppress(PlaywrightError, asyncio.TimeoutError):
                    await asyncio.wait_for(closing, CLOSE_SECONDS)
        finally:
            await self.proxy.close()
            await self.blackhole.close()


async def _refuse_all(host: str, port: int) -> list[str]:
    """The browser-wide proxy's resolver: the browser itself reaches nothing."""
    raise ProxyRefusal("browser-traffic", f"{host}: the browser's own traffic is not sent")
