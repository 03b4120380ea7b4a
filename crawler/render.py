"""Render JavaScript pages in a real browser: the optional ``render`` extra.

Many scam sites are single-page apps (Vue, React, uni-app, Next.js builds)
whose static HTML is an empty shell: a mount point such as ``<div id="app">``
and a few scripts. The detectors read text, so such a page says nothing until
a browser runs it. With the extra installed (scrapy-playwright and playwright;
the browser is Debian's ``/usr/bin/chromium``, never a downloaded one) the
crawl loads those pages again in headless Chromium and judges the DOM as it
stands once the network has gone quiet.

Rendering costs a browser page (tens of MB, a second or more), so it is asked
for, per page, after the static fetch:

- :func:`is_shell` says whether a static page is a shell (thresholds below);
- :func:`maybe_render` is what the spider calls after parsing a static page:
  a re-request (:func:`render_request`) when ``CRAWL_RENDER`` says so, else None;
- :func:`render_when_asked` is how a detector asks: a judged page with a finding
  in :data:`RENDER_ON_CATEGORIES` (cloaking: decoded payloads, obfuscation,
  script redirects) is worth rendering even when it has text. Findings come
  after the spider has moved on, so the judge pipeline schedules that render.

``CRAWL_RENDER`` is ``"off"``, ``"shells"`` (shells and pages a detector asks
for), ``"always"`` (every HTML page, for investigations) or ``"auto"``, the
default: ``"shells"`` when the extra and the browser are installed, else
``"off"`` with one log line. A user who installed the extra wants it used, and
one who did not must not get an error; an explicit ``"shells"`` or
``"always"`` without them is a configuration error.

:func:`render_settings` gives the Scrapy settings that switch it on; the
download handler that applies the SSRF guard and the caps to every request of
a rendered page is :mod:`fraudwall.crawler.render_handler`, imported only when
rendering is on. This module imports neither Playwright nor scrapy-playwright,
so the spider and the settings can use it when the extra is missing, and the
requests it builds carry only plain values in their meta (the distributed
frontier stores requests as JSON).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import scrapy
from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from fraudwall.exceptions import ConfigError
from fraudwall.crawler.network import NO_OTHER_SCHEMES
from fraudwall.html_limits import parseable
from fraudwall.models import Finding, PageObservation

log = logging.getLogger(__name__)

# -- settings ---------------------------------------------------------------------
MODES = ("off", "auto", "shells", "always")
#: Defaults of the fraudwall settings, used while they are absent from ``default_settings``.
DEFAULTS: dict[str, Any] = {
    "CRAWL_RENDER": "auto",
    "CRAWL_RENDER_BROWSER": "/usr/bin/chromium",
    "CRAWL_RENDER_PAGES": 2,
    "CRAWL_RENDER_WAIT": 2.0,
    "CRAWL_RENDER_MAX_BYTES": 20 * 1024 * 1024,
}
#: Requests one rendered page may make; a real SPA makes tens, a hostile page may try thousands.
PAGE_REQUESTS = 300
#: Megabytes of JavaScript heap a renderer may use (V8's default is several gigabytes); a real page uses tens.
JS_HEAP_MB = 512
HANDLER = "fraudwall.crawler.render_handler.RenderDownloadHandler"
#: The download slot of every render: its concurrency is the number of browser pages, so a render
#: waits for a page in Scrapy's queue, where waiting costs nothing, not inside the handler, where it
#: would count against the render time limit.
RENDER_SLOT = "fraudwall-render"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
#: Chromium switches on top of Playwright's own (which already turn off background networking,
#: component updates, sync and the first-run screens).
CHROMIUM_ARGS = (
    # Resolve no name in the browser: every request goes through the guarded proxy, which resolves
    # with the crawl's resolver; anything that tried to go around it fails instead of connecting.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-quic",  # QUIC is UDP, which an HTTP proxy does not carry
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",  # nor WebRTC's UDP
    "--dns-prefetch-disable",
    "--disable-gpu",  # headless on servers: no GPU, and its process only costs memory
    # navigator.webdriver gives the automation away to kits that cloak from crawlers.
    "--disable-blink-features=AutomationControlled",
    "--mute-audio",
    # A page that allocates until it dies took its renderer to 2.7 GB: past this JavaScript heap it dies sooner.
    f"--js-flags=--max-old-space-size={JS_HEAP_MB}",
)


def _setting(settings: Mapping[str, Any], name: str) -> Any:
    return settings.get(name, DEFAULTS[name])


def unavailable(browser: str) -> str | None:
    """Why rendering cannot run here (the extra or the browser missing), or None when it can."""
    for module in ("playwright", "scrapy_playwright"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'fraudwall[render]')"
    if not (os.path.isfile(browser) and os.access(browser, os.X_OK)):
        return f"no browser at {browser} (apt-get install chromium)"
    return None


def render_mode(settings: Mapping[str, Any]) -> str:
    """``CRAWL_RENDER`` resolved: ``"off"``, ``"shells"`` or ``"always"`` (``"auto"`` is decided here)."""
    mode = str(_setting(settings, "CRAWL_RENDER")).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"setting CRAWL_RENDER expects one of {', '.join(MODES)}, got {mode!r}")
    if mode == "off":
        return mode
    missing = unavailable(str(_setting(settings, "CRAWL_RENDER_BROWSER")))
    if missing is None:
        return "shells" if mode == "auto" else mode
    if mode == "auto":
        log.info("rendering JavaScript pages is off: %s", missing)
        return "off"
    raise ConfigError(f"CRAWL_RENDER={mode} cannot render pages: {missing}")


def render_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The Scrapy settings to merge over :func:`fraudwall.crawl.scrapy_settings_for`'s.

    With rendering off this is only ``FRAUDWALL_RENDER_MODE = "off"``: Scrapy's
    own handlers stay. With it on, the http/https handler becomes
    :class:`~fraudwall.crawler.render_handler.RenderDownloadHandler`, which hands
    every request without ``meta["playwright"]`` to Scrapy's HTTP/1.1 handler as
    before. scrapy-playwright needs the asyncio reactor, Scrapy's default since
    2.13: it is set explicitly so that nothing changes it under us; the
    ``GuardedResolver`` is a plain Twisted name resolver and works on it as on any.
    """
    mode = render_mode(settings)
    if mode == "off":
        return {"FRAUDWALL_RENDER_MODE": "off"}
    timeout = float(settings.get("CRAWL_TIMEOUT", 20.0))
    wait = float(_setting(settings, "CRAWL_RENDER_WAIT"))
    return {
        "FRAUDWALL_RENDER_MODE": mode,
        "FRAUDWALL_RENDER_WAIT": wait,
        # Navigation, settling and reading the DOM together; then the page is closed whatever it does.
        "FRAUDWALL_RENDER_TIMEOUT": timeout + wait + 5.0,
        "FRAUDWALL_RENDER_PAGE_BYTES": int(_setting(settings, "CRAWL_RENDER_MAX_BYTES")),
        "FRAUDWALL_RENDER_PAGE_REQUESTS": PAGE_REQUESTS,
        "DOWNLOAD_HANDLERS": {**NO_OTHER_SCHEMES, "http": HANDLER, "https": HANDLER},
        "DOWNLOAD_SLOTS": {RENDER_SLOT: {"concurrency": int(_setting(settings, "CRAWL_RENDER_PAGES")), "delay": 0}},
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": str(_setting(settings, "CRAWL_RENDER_BROWSER")),
            "headless": True,
            # Chromium's sandbox cannot start as root (CI, containers); Playwright then passes --no-sandbox.
            "chromium_sandbox": os.geteuid() != 0,
            "args": list(CHROMIUM_ARGS),
            "timeout": 30_000,  # ms to start the browser
        },
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
        # One context per name (``playwright_context``, e.g. one per client profile); the render slot
        # above bounds the pages open at once, each a renderer process.
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": int(_setting(settings, "CRAWL_RENDER_PAGES")),
    }


# -- shells -------------------------------------------------------------------------
#: A page with at most this many visible characters (whitespace and ``<noscript>`` text not counted) is
#: "nearly empty": a shell when it also has a script and an app mount point or framework
#: marker. Room for a "loading…" line and a copyright footer; a real landing page, even a
#: short Chinese one, has more.
SHELL_MAX_TEXT = 80
#: A page with at most this many visible characters and a script is a shell even without a
#: marker: its content can only come from the script (``document.write`` of a decoded payload,
#: a script redirect).
SHELL_EMPTY_TEXT = 8
#: Ids of the elements SPA frameworks mount into (Vue/uni-app, React, Next, Nuxt, Gatsby, Quasar).
MOUNT_IDS = ("app", "root", "__next", "__nuxt", "___gatsby", "q-app")
#: Markers of client-rendered apps in the HTML: framework state and elements, bundler file names.
FRAMEWORK_MARKERS = re.compile(
    r"__NEXT_DATA__|__NUXT__|__INITIAL_STATE__|data-reactroot|data-v-app|\bng-version\b|\bng-app\b"
    r"|<app-root\b|<uni-app\b|/_next/static/|/_nuxt/|chunk-vendors|\bumi\.[0-9a-f]*\.?js|/assets/index-[\w-]+\.js",
    re.IGNORECASE,
)
_TEXT_NO_NOSCRIPT = (
    "//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::template)"
    " and not(ancestor::noscript)]"
)
_SPACE = re.compile(r"\s+")
#: ``page.text`` counts ``<noscript>`` text (Vue CLI's notice alone is over 100 characters): a page
#: is parsed again without it unless its text is longer than any such notice.
_NOSCRIPT_ALLOWANCE = 2000


def shell_reason(page: PageObservation) -> str | None:
    """Why ``page`` is an empty shell that only a browser fills (``"mount:#app"``, ``"marker:__NEXT_DATA__"``,
    ``"empty"``), or None when it is not one. See :data:`SHELL_MAX_TEXT` and :data:`SHELL_EMPTY_TEXT`."""
    if page.status >= 400 or not page.scripts or not page.html:
        return None
    if len(page.text) > _NOSCRIPT_ALLOWANCE:
        return None  # decidedly not empty, whatever of it is <noscript>: no need to parse again
    selector = Selector(text=parseable(page.html))
    text = _SPACE.sub("", "".join(selector.xpath(_TEXT_NO_NOSCRIPT).getall()))
    if len(text) > SHELL_MAX_TEXT:
        return None
    for mount in MOUNT_IDS:
        if selector.xpath("//body//*[@id=$id]", id=mount):
            return f"mount:#{mount}"
    marker = FRAMEWORK_MARKERS.search(page.html)
    if marker:
        return f"marker:{marker.group(0)}"
    if len(text) <= SHELL_EMPTY_TEXT:
        return "empty"
    return None


def is_shell(page: PageObservation) -> bool:
    """True when ``page`` is a static page whose content a script builds: near-empty text, scripts and an
    app mount point or framework marker, or no text at all beside a script."""
    return shell_reason(page) is not None


#: Finding categories that make a page worth rendering even when it has text of its own:
#: what the static page hides is what the browser shows.
RENDER_ON_CATEGORIES = frozenset({"cloaking"})


def asks_for_render(findings: Iterable[Finding]) -> bool:
    """True when a detector's finding asks for the page to be rendered (see :data:`RENDER_ON_CATEGORIES`)."""
    return any(str(finding.category) in RENDER_ON_CATEGORIES for finding in findings)


# -- requests -------------------------------------------------------------------------


class RenderFailed(IgnoreRequest):
    """A page the browser could not render (counted as ``fraudwall/render/failed/<reason>``); not retried.

    ``reason`` is the stat token: ``timeout`` (the render time limit), ``browser-timeout``
    (navigation), ``browser-error``, ``download`` (the page itself is a download). Defined here, not
    with the handler, so a spider's errback can recognise it without importing Playwright.
    """

    def __init__(self, reason: str, message: str, downloads: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        #: The files the page started downloading before it failed (a navigation that is a download ends
        #: the render as ``download``): the spider fetches them as apps.
        self.downloads = downloads


#: Meta keys a re-request does not inherit: Scrapy's per-download bookkeeping and scrapy-playwright's own.
_TRANSIENT_META = frozenset({
    "depth", "download_latency", "download_slot", "download_timeout", "download_maxsize", "redirect_urls",
    "redirect_times", "redirect_ttl", "redirect_reasons", "retry_times", "handle_httpstatus_list",
})
#: Meta key holding the depth of the page a render re-fetches (DepthMiddleware adds one to every request).
RENDER_DEPTH = "fraudwall_render_depth"
#: Meta key naming why a page was rendered (``shell``, ``always``, ``detector``): a stat of the handler.
RENDER_REASON = "fraudwall_render_reason"
#: Meta key: seconds the page may take after its load event to go quiet on the network.
RENDER_WAIT = "fraudwall_render_wait"
#: Meta key: the URLs of the downloads a rendered page started (its script sent the browser to an APK, a
#: hidden iframe loaded one, a download link was clicked); the browser saves none, the spider fetches them.
RENDER_DOWNLOADS = "fraudwall_render_downloads"
#: Meta key: the redirects the static fetch of a rendered page went through (Scrapy's ``redirect_urls``, which a
#: re-request does not inherit); the handler gives them back to the rendered response.
RENDER_CHAIN = "fraudwall_render_chain"


def render_request(
    request_or_url: scrapy.Request | str,
    *,
    callback: Callable[..., Any] | None = None,
    errback: Callable[..., Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    wait: float = DEFAULTS["CRAWL_RENDER_WAIT"],
    depth: int | None = None,
    reason: str = "request",
) -> scrapy.Request:
    """A request that loads ``request_or_url`` in the browser and answers with the rendered HTML.

    From a request, its URL, callbacks and meta are kept (less Scrapy's
    per-download keys); ``callback``/``errback``/``meta`` given here win. After
    the load event the page is given ``wait`` seconds at most to go quiet on the
    network. It bypasses the duplicate filter (the static fetch had the same
    URL); ``depth`` is the depth of the page being re-fetched, kept for
    :func:`page_depth`.
    """
    if isinstance(request_or_url, scrapy.Request):
        base = request_or_url
        url = base.url
        callback = callback or base.callback
        errback = errback or base.errback
        carried = {
            key: value for key, value in base.meta.items()
            if key not in _TRANSIENT_META and not key.startswith(("playwright", "_"))
        }
        if base.meta.get("redirect_urls"):
            carried[RENDER_CHAIN] = list(base.meta["redirect_urls"])
    else:
        url, carried = request_or_url, {}
    carried.update(meta or {})
    carried.update({
        "playwright": True,
        # Plain values only: the distributed frontier stores requests as JSON. The handler turns
        # the wait into scrapy-playwright's page method.
        RENDER_WAIT: wait,
        "download_slot": RENDER_SLOT,
        RENDER_REASON: reason,
    })
    if depth is not None:
        carried[RENDER_DEPTH] = depth
    return scrapy.Request(url, callback=callback, errback=errback, meta=carried, dont_filter=True)


def is_rendered(response: Response) -> bool:
    """True when ``response`` came from the browser."""
    return bool(response.meta.get("playwright"))


def fetched_as(response: Response, profile: str = "default") -> str:
    """The ``fetched_as`` of the page in ``response``: ``profile``, or ``"rendered"`` (``profile+rendered``)."""
    if not is_rendered(response):
        return profile
    return "rendered" if profile == "default" else f"{profile}+rendered"


def page_depth(message: Response | scrapy.Request) -> int:
    """The link depth of the page in ``message`` (a response, or the request for it): a rendered page has its static
    page's depth."""
    return int(message.meta.get(RENDER_DEPTH, message.meta.get("depth", 0)))


def maybe_render(
    response: Response, page: PageObservation, settings: Any, *, asked: bool = False
) -> scrapy.Request | None:
    """The render re-request the spider yields after parsing the static ``page``, or None.

    ``settings`` are the crawler's (``FRAUDWALL_RENDER_MODE`` from
    :func:`render_settings`); ``asked`` is a detector's request
    (:func:`asks_for_render`). A rendered page is never rendered again.
    """
    mode = settings.get("FRAUDWALL_RENDER_MODE", "off")
    if mode not in ("shells", "always") or is_rendered(response):
        return None
    if mode == "always":
        reason = "always"
    elif asked:
        reason = "detector"
    elif is_shell(page):
        reason = "shell"
    else:
        return None
    request = response.request
    base: scrapy.Request | str = request.replace(url=response.url) if request is not None else response.url
    return render_request(base, wait=float(settings.get("FRAUDWALL_RENDER_WAIT", DEFAULTS["CRAWL_RENDER_WAIT"])),
                          depth=page_depth(response), reason=reason)


def render_when_asked(
    page: PageObservation,
    findings: Iterable[Finding],
    settings: Any,
    *,
    callback: Callable[..., Any],
    errback: Callable[..., Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    depth: int | None = None,
) -> scrapy.Request | None:
    """The render a detector asks for, once ``page`` has been judged, or None.

    For the orchestration (the judge pipeline), which sees findings only after the
    spider has moved on: when a finding asks (:func:`asks_for_render`), the static
    ``page`` was not rendered already (shells were, in ``"shells"`` mode; every page
    in ``"always"``), a re-request of its final URL to hand to ``engine.crawl``.
    ``depth`` should be the page's link depth, or the crawl's limit to follow none of
    the rendered page's links.
    """
    if settings.get("FRAUDWALL_RENDER_MODE", "off") != "shells" or page.fetched_as.endswith("rendered"):
        return None
    if is_shell(page) or not asks_for_render(findings):
        return None
    return render_request(page.final_url, callback=callback, errback=errback, meta=meta, depth=depth,
                          wait=float(settings.get("FRAUDWALL_RENDER_WAIT", DEFAULTS["CRAWL_RENDER_WAIT"])),
                          reason="detector")
