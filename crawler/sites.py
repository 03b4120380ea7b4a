"""The site a URL belongs to, as the crawl scopes it: its host's registered domain.

A seed's links are followed inside its registered domain, a registered domain
is one download slot with its own page and byte budget, and a redirect or a
certificate that leads to another registered domain leads to another site.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from fraudwall.exceptions import InputError
from fraudwall.names import parse_url


def registered_domain(url: str) -> str | None:
    """The registered domain of ``url``'s host (the host itself for an address), None for no usable URL."""
    try:
        authority = urlsplit(url).netloc
    except ValueError:
        return None
    return _registered_domain_of(authority.rpartition("@")[2].lower())


@functools.lru_cache(maxsize=65536)
def _registered_domain_of(authority: str) -> str | None:
    # A page links the same few hosts hundreds of times: each is parsed once, not once per link.
    try:
        parts = parse_url(f"http://{authority}/")
    except InputError:
        return None
    if parts.is_ip:
        return parts.host
    # A suffix the bundled list does not know (a TLD newer than its snapshot, .test, .internal): the list's
    # default rule "*" makes the last label the suffix, so a.example.test and example.test are one site.
    return parts.registrable_domain or ".".join(parts.host.rsplit(".", 2)[-2:])
