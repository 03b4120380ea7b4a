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
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever its spelling
        if any(ip in net for net in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast
