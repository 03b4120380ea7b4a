"""Cookies kept as a browser keeps them: a cookie set without a ``Domain`` goes back to its own host only.

Scrapy's cookie jars take Python's default policy, which sends a cookie set
by ``scam.top`` without a ``Domain`` attribute to ``sub.scam.top`` too. A
browser keeps such a cookie for the host that set it (RFC 6265's host-only
flag), so a site that gates or cloaks by cookie showed a subdomain something
no victim's browser gets. :class:`BrowserCookiesMiddleware` is Scrapy's
middleware with jars under the strict rule Python offers for it
(``DomainStrictNonDomain``).
"""

from __future__ import annotations

from collections import defaultdict
from http.cookiejar import DefaultCookiePolicy

from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http.cookies import CookieJar


def browser_jar() -> CookieJar:
    """A cookie jar that sends a cookie set without a Domain to the host that set it only."""
    return CookieJar(policy=DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain))


class BrowserCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware, its jars keeping host-only cookies to their host (:func:`browser_jar`)."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self.jars = defaultdict(browser_jar)
