"""Which addresses the crawler may connect to: the SSRF guard.

By default only globally routable addresses are allowed: a hostile page or
DNS answer must not point the crawler at loopback, the LAN, link-local cloud
metadata endpoints or other reserved ranges. ``--allow-net CIDR`` opens
specific networks (the demo and the tests open ``127.0.0.0/8``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fraudwall.exceptions import ConfigError

#: Scrapy's download handlers for what is not the web (local files, ``data:`` URLs, FTP, S3), switched off in
#: every crawl: whatever path a request comes by (a page's link, an install path judging read, a rendered
#: page's download), only http and https are fetched. An install path ``ftp://.../app.apk`` was fetched once.
NO_OTHER_SCHEMES: dict[str, None] = {"file": None, "data": None, "ftp": None, "s3": None}

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


#: NAT64 prefixes (RFC 6052's well-known one, RFC 8215's local-use one): the last 32 bits are the IPv4 address
#: the gateway connects to. Python counts both as global whatever they carry.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def _parse_address(address: str) -> IPAddress | None:
    """The address a connection to ``address`` reaches: an IPv4 address carried in an IPv6 one is that IPv4
    address (mapped ``::ffff:127.0.0.1`` in any spelling, 6to4 ``2002:7f00:1::``, NAT64 ``64:ff9b::7f00:1``)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped is not None or ip.sixtofour is not None:
            return ip.ipv4_mapped or ip.sixtofour
        if any(ip in prefix for prefix in _NAT64):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


class NetworkPolicy:
    """Decides whether an IP address may be connected to."""

    def __init__(self, allow_nets: Iterable[str] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(self._parse(cidr) for cidr in allow_nets)

    @staticmethod
    def _parse(cidr: str) -> IPNetwork:
        try:
            return ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            raise ConfigError(f"--allow-net expects a CIDR such as 127.0.0.0/8, got {cidr!r}") from exc

    def allows(self, address: str) -> bool:
        """True when ``address`` is public, or inside an explicitly allowed network."""
        ip = _parse_address(address)
        if ip is None:
            return False
        if any(ip in net for net in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast

    @staticmethod
    def explain(address: str) -> str:
        """Why a refused ``address`` is refused, and the ``--allow-net`` that would open it."""
        ip = _parse_address(address)
        if ip is None:
            return f"{address} is not an IP address"
        # Loopback is opened as a whole, as the demo and the tests do; anything else only itself,
        # so that following the hint never opens more than the one address.
        cidr = "127.0.0.0/8" if ip.version == 4 and ip.is_loopback else f"{ip}/{ip.max_prefixlen}"
        return f"{address} is not a public address (network policy; --allow-net {cidr} opens it)"
