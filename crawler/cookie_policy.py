"""Cookies kept as a browser keeps them: host-only cookies to their host, and no more than a browser holds.

Scrapy's cookie jars take Python's default policy, which sends a cookie set
by ``scam.top`` without a ``Domain`` attribute to ``sub.scam.top`` too. A
browser keeps such a cookie for the host that set it (RFC 6265's host-only
flag), so a site that gates or cloaks by cookie showed a subdomain something
no victim's browser gets. :class:`BrowserCookiesMiddleware` is Scrapy's
middleware with jars under the strict rule Python offers for it
(``DomainStrictNonDomain``).

Python's jar also keeps every cookie it is given. A site that sets 1,500
cookies got all of them back on every request, and a crawl of many domains
kept every domain's cookies to its end. A browser keeps a bounded number
(Chromium: 180 per registered domain, 3,300 in all) and lets the oldest go
first; :class:`BoundedCookieJar` does the same, oldest set first (Chromium
counts from the last use; a crawler uses a site's cookies in the order it
got them).
"""

from __future__ import annotations

import http.cookiejar
from collections import OrderedDict, defaultdict
from http.cookiejar import Cookie, DefaultCookiePolicy

from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.http.cookies import CookieJar

from fraudwall.crawler.sites import registered_domain

#: Cookies kept per registered domain (Chromium's limit), then the oldest set goes.
MAX_COOKIES_PER_SITE = 180
#: Cookies kept in one jar (one client profile), all sites together.
MAX_COOKIES = 3000

#: A cookie's place in Python's jar: (domain, path, name).
CookieKey = tuple[str, str, str]


class BoundedCookieJar(http.cookiejar.CookieJar):
    """Python's cookie jar, keeping at most ``per_site`` cookies per registered domain and ``total`` in all.

    Every cookie comes in through :meth:`set_cookie` and leaves through
    :meth:`clear` (an expired one, or one a site deletes with ``Max-Age=0``,
    too), so the counts are of the cookies really held.
    """

    def __init__(self, policy: http.cookiejar.CookiePolicy, per_site: int = MAX_COOKIES_PER_SITE,
                 total: int = MAX_COOKIES) -> None:
        super().__init__(policy)
        self.per_site = per_site
        self.total = total
        #: Every cookie held, oldest set first, with its registered domain.
        self._held: OrderedDict[CookieKey, str] = OrderedDict()
        #: The same, per registered domain.
        self._by_site: defaultdict[str, OrderedDict[CookieKey, None]] = defaultdict(OrderedDict)

    def set_cookie(self, cookie: Cookie) -> None:
        super().set_cookie(cookie)
        key = (cookie.domain, cookie.path, cookie.name)
        site = registered_domain(f"http://{cookie.domain.lstrip('.')}/") or cookie.domain
        self._held[key] = site
        self._held.move_to_end(key)
        kept = self._by_site[site]
        kept[key] = None
        kept.move_to_end(key)
        while len(kept) > self.per_site:
            self.clear(*next(iter(kept)))
        while len(self._held) > self.total:
            self.clear(*next(iter(self._held)))

    def clear(self, domain: str | None = None, path: str | None = None, name: str | None = None) -> None:
        super().clear(domain, path, name)
        if domain is None:
            self._held.clear()
            self._by_site.clear()
            return
        gone = [key for key in self._held if key[0] == domain and (path is None or key[1] == path)] \
            if name is None else [(domain, path or "", name)]
        for key in gone:
            site = self._held.pop(key, None)
            if site is not None:
                kept = self._by_site[site]
                kept.pop(key, None)
                if not kept:
                    del self._by_site[site]


def browser_jar() -> CookieJar:
    """A Scrapy cookie jar that keeps cookies as a browser does (see the module's docstring)."""
    jar = CookieJar(policy=DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain))
    jar.jar = BoundedCookieJar(jar.policy)
    return jar


class BrowserCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware, its jars keeping cookies as a browser does (:func:`browser_jar`)."""

    def __init__(self, debug: bool = False) -> None:
        super().__init__(debug)
        self.jars = defaultdict(browser_jar)
