"""Redirects as a browser follows them, and the evidence of each entry kept.

Scrapy hands a redirect back to its scheduler as a new request, where the
duplicate filter drops it silently when its URL was asked for before. A
crawl of fraud sites lost two kinds of evidence that way:

* **entry domains**: a campaign's throw-away names (in the text messages,
  the seeds) each redirect to one landing page. The first was crawled; every
  other one's redirect was dropped, so no page recorded that it leads there,
  and nothing could be judged or blocked for it;
* **gates**: a server that answers its own URL with a redirect to itself and a
  cookie (a bot check; the browser comes back with the cookie and gets the
  page) was never seen past the gate, and a redirect loop ended with no
  reason counted.

So a redirect is followed even to a URL asked for before when it comes
back to a URL of its own chain (the gate; a loop then ends at
``REDIRECT_MAX_TIMES`` as ``too-many-redirects``), or when its chain started
at an entry (a seed, or a link followed one hop off a site: a short link) and
it leaves that entry's registered domain: each entry domain is recorded with
its chain, up to the landing domain's page budget. A site's own links that
converge on a page already fetched (every page sending visitors to its login,
a thousand ``/go?id=`` links to one partner) are still dropped as duplicates.

A redirect to an iOS sideloading file (an ``itms-services:`` install, a
``.mobileconfig`` profile, an ``.ipa``; behind an extensionless "install"
link) is not followed, as links to them are not: it ends as
:class:`IosInstallRedirect`, which the spider counts as an iOS lure.

A ``Refresh`` response header (``Refresh: 0; url=/landing``), which browsers
follow as they follow ``<meta http-equiv="refresh">`` and Scrapy does not,
is followed as a meta refresh is, with the same delay limit.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from w3lib.html import get_meta_refresh

from fraudwall.crawler.app_files import is_ios_install
from fraudwall.crawler.outbound import OUTBOUND_META
from fraudwall.crawler.sites import registered_domain


class IosInstallRedirect(IgnoreRequest):
    """A redirect to an iOS sideloading file, not followed (see the module's docstring)."""

    def __init__(self, request: Request, target: str) -> None:
        super().__init__(f"redirect to an iOS install not followed: {request.url} -> {target[:200]}")
        self.target = target


def must_follow(request: Request, redirected: Request) -> bool:
    """Whether ``redirected`` (a redirect of ``request``) is fetched even if its URL was asked for before."""
    chain = [*request.meta.get("redirect_urls", ()), request.url]
    if redirected.url in chain:
        return True  # a gate that sets a cookie and sends the browser back, or a loop: the cap ends it
    entry = not request.meta.get("referrer") or request.meta.get(OUTBOUND_META)
    return bool(entry) and registered_domain(chain[0]) != registered_domain(redirected.url)


class _KeepsEntries:
    """What both redirect middlewares add: a redirect :func:`must_follow` passes the duplicate filter."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        redirects = 300 <= response.status < 400 and not request.meta.get("dont_redirect")
        location = response.headers.get(b"Location") if redirects else None
        if location and is_ios_install(target := location.decode("latin-1").strip()):
            raise IosInstallRedirect(request, target)  # itms-services: is no URL Scrapy would build a request for
        result = super().process_response(request, response)  # type: ignore[misc]
        if isinstance(result, Request):
            if is_ios_install(result.url):
                raise IosInstallRedirect(request, result.url)
            if not result.dont_filter and must_follow(request, result):
                result.dont_filter = True
        return result


class EntryKeepingRedirectMiddleware(_KeepsEntries, RedirectMiddleware):
    """Scrapy's HTTP redirects (3xx and ``Location``), with :func:`must_follow`."""


class EntryKeepingMetaRefreshMiddleware(_KeepsEntries, MetaRefreshMiddleware):
    """Scrapy's ``<meta http-equiv="refresh">``, the ``Refresh`` header too, with :func:`must_follow`."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        refresh = response.headers.get(b"Refresh")
        if refresh and request.method != "HEAD" and not request.meta.get("dont_redirect"):
            # The header says what the element says: read it as the element, then as Scrapy reads a meta refresh.
            content = refresh.decode("latin-1").replace('"', "&quot;")
            delay, url = get_meta_refresh(f'<meta http-equiv="refresh" content="{content}">', response.url)
            if url and delay is not None and delay < self._maxdelay:
                redirected = self._redirect_request_using_get(request, response, url)
                if is_ios_install(redirected.url):
                    raise IosInstallRedirect(request, redirected.url)
                if redirected.url.startswith(("http://", "https://")):
                    if must_follow(request, redirected):
                        redirected.dont_filter = True
                    return self._redirect(redirected, request, "refresh header")
        return super().process_response(request, response)
