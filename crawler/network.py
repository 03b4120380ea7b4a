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

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_address(address: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever its spelling
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
