"""Scrapy's cookie middleware, offline: cookie domains are split with the bundled public suffix list.

Scrapy's ``CookiesMiddleware`` asks a module-level ``tldextract.TLDExtract()``
whether a cookie's domain is a public suffix, and that extractor downloads the
suffix list from the Internet the first time a site sets a cookie with a
domain. A crawl must not reach anything but the sites it fetches (and tests
nothing but loopback), so the extractor is replaced with fraudwall's own,
which reads the snapshot bundled with tldextract and never fetches.
"""

from __future__ import annotations

import scrapy.downloadermiddlewares.cookies as scrapy_cookies

from fraudwall.names import suffix_extractor


def use_offline_suffix_list() -> None:
    """Make Scrapy's cookie middleware split domains without a download (idempotent)."""
    scrapy_cookies._split_domain = suffix_extractor()
