"""Listed text checked into items: names as lowercase A-labels, URLs as URL-level items, unusable text refused.

Every reader turns what a line or record states into an item here, so a
name comes out exactly as :func:`~fraudwall.names.normalize_name` gives it,
whichever path it took. The common case, an LDH name needing no IDNA care,
is one regex match. A URL-level item keeps the feed's URL (spaces sent as
``%20``) and is named by its host; only http(s) URLs are items. A URL on a
public IPv4 address is named by the address and stays URL-level only (never
a name block, never an IP-set entry); on an IPv6 address it is rejected as
``ip-literal``, on a private or reserved one as ``non-public-address``
(:func:`~fraudwall.names.url_address`).
"""

from __future__ import annotations

import re
from datetime import datetime

from fraudwall.exceptions import InputError
from fraudwall.lists.items import ListedName
from fraudwall.models import Scope
from fraudwall.names import (
    MAX_NAME_LENGTH,
    browser_slashes,
    is_ip_literal,
    normalize_name,
    split_host_port,
    url_address,
)

#: The boilerplate at the top of every hosts file: never names to block.
LOCAL_NAMES = frozenset({
    "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
    "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",
})
# A whole LDH name (underscores allowed, as list files carry them) in one match: the
# common case skips normalize_name's per-label checks. Anything it does not match, or
# that needs more care (xn--, a numeric last label), goes through normalize_name.
_LDH_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def text_fault(text: str) -> str | None:
    """The reason ``text`` cannot be read at all (NUL, invalid UTF-8), or ``None``."""
    if "\x00" in text:
        return "nul-byte"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the bytes were not UTF-8
            return "invalid-utf8"
    return None


def plain_ldh(raw: str) -> str | None:
    """``raw`` lowercased when it is a valid LDH name needing no IDNA care, else ``None``.

    What this accepts, :func:`normalize_name` accepts unchanged but for case;
    what it declines (``xn--``, a last label starting with a digit, non-ASCII, a trailing dot,
    hosts-file boilerplate) is left to the full path.
    """
    if not raw.isascii():
        return None
    name = raw.lower()
    if (len(name) <= MAX_NAME_LENGTH and _LDH_NAME.fullmatch(name) and not name[name.rfind(".") + 1].isdigit()
            and "xn--" not in name and name not in LOCAL_NAMES):
        return name
    return None


def checked_name(raw: str) -> str:
    """``raw`` as a lowercase A-label name, exactly as :func:`normalize_name` would give it.

    Raises :class:`~fraudwall.exceptions.InvalidName` or, for hosts-file
    boilerplate such as ``localhost``, :class:`InputError` (``local-name``).
    """
    name = plain_ldh(raw)
    if name is not None:
        return name
    if raw.lower() in LOCAL_NAMES:
        raise InputError("local-name", raw)
    return normalize_name(raw, allow_underscore=True)


def url_item(
    raw: str, source: str, *, first_seen: datetime | None = None, categories: tuple[str, ...] = (),
    tags: tuple[str, ...] = (), target: str = "",
) -> ListedName:
    """A URL-level item for ``raw``: http(s) only, on a valid DNS name; the rest is the feed's metadata."""
    # Feeds copy URLs from address bars, spaces and all; a client sends a space as %20
    # (one in the host still fails below, as a bad character).
    url = raw.strip().replace(" ", "%20")
    if not url.isprintable():
        raise InputError("bad-url", url)
    scheme, separator, _ = url.partition(":")
    if not (separator and scheme.isascii() and scheme.isalpha()):
        raise InputError("url-without-scheme", url)
    if scheme.lower() not in ("http", "https"):
        raise InputError("unsupported-scheme", url)
    url = browser_slashes(url)
    try:
        _, hostname, port = split_host_port(url)  # a port that is not a number or out of range raises
    except ValueError as exc:
        raise InputError("bad-url", f"{url}: {exc}") from exc
    if port == 0:  # no client connects to port 0, and Squid's and Suricata's grammars refuse it
        raise InputError("bad-url", f"{url}: port 0")
    if not hostname:
        raise InputError("no-host", url)
    # A plain name first: most hosts are one, and no plain name is an address.
    host = plain_ldh(hostname) or (url_address(hostname) if is_ip_literal(hostname) else checked_name(hostname))
    return ListedName(host, Scope.EXACT, source, url, first_seen=first_seen, categories=categories, tags=tags,
                      target=target)
