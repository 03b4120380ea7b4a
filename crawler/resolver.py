"""Name resolution for Scrapy with fixed answers and the network policy applied.

Installed through Scrapy's ``TWISTED_DNS_RESOLVER`` setting. Twisted asks it for
every connection, IP literals included, so it is the one place where each
address is checked against :class:`~fraudwall.crawler.network.NetworkPolicy`
before a socket is opened. ``FRAUDWALL_HOST_MAP`` gives fixed answers, like
curl's ``--resolve``; with ``FRAUDWALL_HOST_MAP_ONLY`` no other name is
looked up at all (the demo runs that way, so it never sends a DNS query).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from fraudwall.crawler.network import NetworkPolicy
from fraudwall.names import is_ip_literal

log = logging.getLogger(__name__)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # nothing to cancel: answers are delivered at once
        pass


def _address(ip: str, port: int, transport: str) -> IAddress:
    kind = IPv6Address if ":" in ip else IPv4Address
    return kind(transport, ip, port)


@provider(IResolutionReceiver)
class _PolicyReceiver:
    """Passes on only the addresses the policy allows; logs the others."""

    def __init__(self, receiver: IResolutionReceiver, name: str, policy: NetworkPolicy) -> None:
        self.receiver = receiver
        self.name = name
        self.policy = policy

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        host = getattr(address, "host", "")
        if self.policy.allows(host):
            self.receiver.addressResolved(address)
        else:
            log.warning("refused %s -> %s: address not allowed by the network policy", self.name, host)

    def resolutionComplete(self) -> None:
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """An ``IHostnameResolver`` with fixed answers and the SSRF guard."""

    def __init__(
        self,
        reactor: Any,
        policy: NetworkPolicy,
        host_map: Mapping[str, str] | None = None,
        host_map_only: bool = False,
    ) -> None:
        self.reactor = reactor
        self.policy = policy
        self.host_map = {name.lower().rstrip("."): ip for name, ip in (host_map or {}).items()}
        self.host_map_only = host_map_only
        self.original = reactor.nameResolver

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        settings = crawler.settings
        return cls(
            reactor,
            NetworkPolicy(settings.getlist("FRAUDWALL_ALLOW_NETS")),
            settings.getdict("FRAUDWALL_HOST_MAP"),
            settings.getbool("FRAUDWALL_HOST_MAP_ONLY"),
        )

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def _answer(self, receiver: IResolutionReceiver, name: str, ips: Sequence[str], port: int, transport: str) -> IHostResolution:
        resolution = _Resolution(name)
        receiver.resolutionBegan(resolution)
        for ip in ips:
            if self.policy.allows(ip):
                receiver.addressResolved(_address(ip, port, transport))
            else:
                log.warning("refused %s -> %s: address not allowed by the network policy", name, ip)
        receiver.resolutionComplete()
        return resolution

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        name = hostName.lower().rstrip(".")
        if is_ip_literal(name):
            return self._answer(resolutionReceiver, name, [name.strip("[]")], portNumber, transportSemantics)
        if name in self.host_map:
            return self._answer(resolutionReceiver, name, [self.host_map[name]], portNumber, transportSemantics)
        if self.host_map_only:
            log.warning("refused %s: not in the host map and lookups are off", name)
            return self._answer(resolutionReceiver, name, [], portNumber, transportSemantics)
        return self.original.resolveHostName(
            _PolicyReceiver(resolutionReceiver, name, self.policy), hostName, portNumber, addressTypes, transportSemantics
        )
