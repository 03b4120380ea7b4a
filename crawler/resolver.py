"""Name resolution for Scrapy with fixed answers and the network policy applied.

Installed through Scrapy's ``TWISTED_DNS_RESOLVER`` setting. Twisted asks it for
every connection, IP literals included, so it is the one place where each
address is checked against :class:`~fraudwall.crawler.network.NetworkPolicy`
before a socket is opened. ``FRAUDWALL_HOST_MAP`` gives fixed answers, like
curl's ``--resolve``; with ``FRAUDWALL_HOST_MAP_ONLY`` no other name is
looked up at all (the demo runs that way, so it never sends a DNS query).

A resolver can only withhold addresses, which the download handler reports
as a failed DNS lookup. So the resolver also remembers, per name, why it gave
none (:meth:`GuardedResolver.refusal`); :mod:`fraudwall.crawler.refusals`
reads that to turn the failed download into a counted refusal.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from fraudwall.crawler.network import NetworkPolicy
from fraudwall.names import is_ip_literal

log = logging.getLogger(__name__)

#: How long a name whose lookup gave no address is answered so without a new lookup, as a resolver caches a
#: negative answer; and how many such names are kept at most.
UNRESOLVED_SECONDS = 60.0
UNRESOLVED_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a name was given no address: ``reason`` is a stat token, ``detail`` a sentence for the log."""

    reason: str
    detail: str


def _key(host: str) -> str:
    """``host`` as the resolver files it: lower case, no trailing dot, no IPv6 brackets."""
    return host.lower().rstrip(".").strip("[]")


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # nothing to cancel: answers are delivered at once
        pass


#: An IPv4 address as inet_aton, and so the system resolver and browsers, still read one: fewer than four parts
#: (127.1), hexadecimal (0x7f000001), octal (0177.0.0.1), one number (2130706433).
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)


def legacy_ipv4(name: str) -> str | None:
    """The dotted-quad address ``name`` spells in a legacy IPv4 form, or None when it is no such spelling."""
    if not _LEGACY_IPV4.fullmatch(name):
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(name))
    except OSError:
        return None


def _address(ip: str, port: int, transport: str) -> IAddress:
    kind = IPv6Address if ":" in ip else IPv4Address
    return kind(transport, ip, port)


@provider(IResolutionReceiver)
class _PolicyReceiver:
    """Passes on only the addresses the policy allows; tells the resolver what it withheld.

    With a ``timeout``, a lookup still unanswered then completes with no address (a failed lookup) and
    its late answer is ignored: the system resolver's own timeouts (5 seconds a try, two tries a name
    server) are not the crawl's ``CRAWL_DNS_TIMEOUT``.
    """

    def __init__(self, receiver: IResolutionReceiver, name: str, resolver: GuardedResolver,
                 timeout: float = 0.0) -> None:
        self.receiver = receiver
        self.name = name
        self.resolver = resolver
        self.refused: list[str] = []
        self.delivered = False
        self.done = False
        self.timer = resolver.reactor.callLater(timeout, self._time_out) if timeout > 0 else None

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        if self.done:
            return
        host = getattr(address, "host", "")
        if self.resolver.policy.allows(host):
            self.delivered = True
            self.receiver.addressResolved(address)
        else:
            self.refused.append(host)

    def resolutionComplete(self) -> None:
        if self.done:
            return
        self.done = True
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        # Settled first: the receiver fails the connection as soon as it hears there is no address.
        self.resolver.settle(self.name, self.refused, self.delivered)
        self.receiver.resolutionComplete()

    def _time_out(self) -> None:
        log.debug("lookup of %s timed out", self.name)
        self.resolutionComplete()


@implementer(IHostnameResolver)
class GuardedResolver:
    """An ``IHostnameResolver`` with fixed answers and the SSRF guard."""

    def __init__(
        self,
        reactor: Any,
        policy: NetworkPolicy,
        host_map: Mapping[str, str] | None = None,
        host_map_only: bool = False,
        lookup_timeout: float = 0.0,
    ) -> None:
        self.reactor = reactor
        self.policy = policy
        self.host_map = {_key(name): ip for name, ip in (host_map or {}).items()}
        self.host_map_only = host_map_only
        self.lookup_timeout = lookup_timeout
        self.original = reactor.nameResolver
        self.refusals: dict[str, Refusal] = {}
        #: Names whose lookup gave no address, until when (monotonic seconds) they are answered so at once.
        self.unresolved: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        settings = crawler.settings
        return cls(
            reactor,
            NetworkPolicy(settings.getlist("FRAUDWALL_ALLOW_NETS")),
            settings.getdict("FRAUDWALL_HOST_MAP"),
            settings.getbool("FRAUDWALL_HOST_MAP_ONLY"),
            settings.getfloat("DNS_TIMEOUT"),
        )

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def refusal(self, host: str) -> Refusal | None:
        """Why the last resolution of ``host`` gave no address, or None if it was not refused."""
        return self.refusals.get(_key(host))

    def settle(self, name: str, refused: Sequence[str], delivered: bool) -> None:
        """Record the outcome of resolving ``name``: refused when it had addresses and none was allowed.

        A later answer that does deliver an address clears the record, so a real
        connection failure is never mistaken for a refusal.
        """
        if not refused and not delivered:
            self._remember_unresolved(name)
        if refused and not delivered:
            detail = "; ".join(self.policy.explain(ip) for ip in refused)
            if list(refused) != [name]:  # a name, not an IP literal: say what it resolved to
                detail = f"{name} resolves to {', '.join(refused)}: {detail}"
            self.refusals[name] = Refusal("network-policy", detail)
        else:
            self.refusals.pop(name, None)
            if refused:  # the connection goes to the other addresses; a mixed answer is still worth a look
                log.info("withheld %s -> %s: not allowed by the network policy", name, ", ".join(refused))

    def _remember_unresolved(self, name: str) -> None:
        now = time.monotonic()
        if len(self.unresolved) >= UNRESOLVED_KEPT:
            self.unresolved = {kept: until for kept, until in self.unresolved.items() if until > now}
        if len(self.unresolved) < UNRESOLVED_KEPT:
            self.unresolved[name] = now + UNRESOLVED_SECONDS

    def _known_unresolved(self, name: str) -> bool:
        until = self.unresolved.get(name)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self.unresolved[name]
        return False

    def _answer(self, receiver: IResolutionReceiver, name: str, ips: Sequence[str], port: int, transport: str) -> IHostResolution:
        resolution = _Resolution(name)
        receiver.resolutionBegan(resolution)
        allowed = [ip for ip in ips if self.policy.allows(ip)]
        for ip in allowed:
            receiver.addressResolved(_address(ip, port, transport))
        self.settle(name, [ip for ip in ips if ip not in allowed], bool(allowed))
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
        name = _key(hostName)
        if is_ip_literal(name):
            return self._answer(resolutionReceiver, name, [name], portNumber, transportSemantics)
        if (address := legacy_ipv4(name)) is not None:
            # An address, not a name: the host map and lookups do not apply, the network policy does.
            return self._answer(resolutionReceiver, name, [address], portNumber, transportSemantics)
        if name in self.host_map:
            return self._answer(resolutionReceiver, name, [self.host_map[name]], portNumber, transportSemantics)
        if self.host_map_only:
            resolution = _Resolution(name)
            resolutionReceiver.resolutionBegan(resolution)
            self.refusals[name] = Refusal(
                "not-in-host-map", f"{name} is not in the host map and lookups are off (--resolve {name}:IP maps it)"
            )
            resolutionReceiver.resolutionComplete()
            return resolution
        if self._known_unresolved(name):
            # Failed a moment ago (a dead or lame domain): the name's other requests (its other links, a link to
            # it from another seed) fail at once instead of each holding a request slot and a thread for a timeout.
            resolution = _Resolution(name)
            resolutionReceiver.resolutionBegan(resolution)
            resolutionReceiver.resolutionComplete()
            return resolution
        return self.original.resolveHostName(
            _PolicyReceiver(resolutionReceiver, name, self, self.lookup_timeout), hostName, portNumber, addressTypes,
            transportSemantics,
        )
