"""Links that carry credentials (``http://www.icbc.com.cn@pay-verify.top/``): fetched without them, recorded with them.

A phishing link puts a trusted name where the user name goes: the browser goes
to the host after the ``@``, and the reader sees the bank. Twisted's HTTP
client takes the whole authority for the host name and fails the request
("invalid hostname"), so the crawl lost exactly these links. The download
handlers send such a request to the URL without its user information
(:func:`without_credentials`), sending no credentials anywhere, and the URL as
linked stays the first hop of the page's chain, so the observation keeps it as
its URL: the deception is evidence.
"""

from __future__ import annotations

from scrapy import Request

from fraudwall.names import without_user_info


def without_credentials(request: Request) -> Request:
    """``request`` itself, or, when its URL carries user information, a copy to the URL without it (recorded in
    the original request's ``redirect_urls``, as the page's first hop)."""
    plain = without_user_info(request.url)
    if plain == request.url:
        return request
    request.meta["redirect_urls"] = [*request.meta.get("redirect_urls", ()), request.url]
    return request.replace(url=plain)
