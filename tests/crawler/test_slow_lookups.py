"""Dead and lame domains cost a crawl one lookup timeout each, not more.

A seed list from a feed is full of domains that no longer resolve, and of lame
ones whose name servers never answer: the system resolver then holds a lookup
for 10 seconds or more. The guarded resolver fails a lookup at
``CRAWL_DNS_TIMEOUT`` whatever the system resolver does, answers a name that
just failed at once (a minute, as a resolver caches a negative answer), and the
crawl does not retry a failed lookup. Measured in a network namespace whose
only name server was silent: 200 live and 200 lame seed domains took 403 s
before, 133 s after (the crawl's 16 request slots times 10 s a lame domain).

The system resolver here is a stand-in that never sends a query (tests talk to
loopback only) and answers when the test says; time is Twisted's ``Clock``.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from twisted.internet.task import Clock
from zope.interface import implementer

from fraudwall.crawl import scrapy_settings_for
from fraudwall.crawler import resolver as resolver_module
from fraudwall.crawler.network import NetworkPolicy
from fraudwall.crawler.resolver import UNRESOLVED_SECONDS, GuardedResolver
from fraudwall.settings import Settings


@implementer(IHostnameResolver)
class _HeldDNS:
    """Stands in for the system resolver: holds every lookup until the test answers it; counts lookups."""

    def __init__(self) -> None:
        self.held: list[Any] = []

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0, addressTypes: Any = None,
                        transportSemantics: str = "TCP") -> None:
        resolutionReceiver.resolutionBegan(None)
        self.held.append(resolutionReceiver)

    def answer(self, *addresses: str) -> None:
        for receiver in self.held:
            for address in addresses:
                receiver.addressResolved(IPv4Address("TCP", address, 80))
            receiver.resolutionComplete()
        self.held = []


class _Receiver:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.completed = 0

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: IPv4Address) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        self.completed += 1


class _Reactor(Clock):
    def __init__(self, dns: _HeldDNS) -> None:
        super().__init__()
        self.nameResolver = dns


def _looked_up(name: str) -> tuple[_HeldDNS, _Reactor, _Receiver]:
    """A lookup of ``name`` begun by a resolver with a 10 s timeout: its system resolver, clock and receiver."""
    dns = _HeldDNS()
    clock = _Reactor(dns)
    receiver = _Receiver()
    GuardedResolver(clock, NetworkPolicy(), lookup_timeout=10.0).resolveHostName(receiver, name, 80)
    return dns, clock, receiver


def test_a_lookup_that_hangs_fails_at_the_crawls_dns_timeout() -> None:
    """No answer in 10 s: the resolution completes with no address (a failed lookup); the system resolver's
    late answer is ignored."""
    dns, clock, receiver = _looked_up("lame-domain.top")
    clock.advance(9.9)
    assert receiver.completed == 0
    clock.advance(0.2)
    assert (receiver.completed, receiver.addresses) == (1, [])
    dns.answer("8.8.8.8")
    assert (receiver.completed, receiver.addresses) == (1, [])


def test_an_answer_in_time_is_delivered_and_stops_the_timer() -> None:
    """An answer before the timeout goes through as before, and nothing fires later."""
    dns, clock, receiver = _looked_up("live-domain.top")
    clock.advance(1.0)
    dns.answer("8.8.8.8")
    assert (receiver.completed, receiver.addresses) == (1, ["8.8.8.8"])
    assert not clock.getDelayedCalls()


def test_a_name_that_failed_is_answered_at_once_for_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a failed lookup the same name (another request into the dead domain) fails without a new lookup;
    a minute later it is looked up again. A name refused by the network policy is not remembered so."""
    now = [1000.0]
    monkeypatch.setattr(resolver_module.time, "monotonic", lambda: now[0])
    dns = _HeldDNS()
    resolver = GuardedResolver(_Reactor(dns), NetworkPolicy(), lookup_timeout=10.0)
    resolver.resolveHostName(_Receiver(), "dead-domain.top", 80)
    dns.answer()  # no address: NXDOMAIN, SERVFAIL or a timeout alike
    again = _Receiver()
    resolver.resolveHostName(again, "DEAD-domain.top.", 80)
    assert (again.completed, again.addresses, dns.held) == (1, [], [])
    now[0] += UNRESOLVED_SECONDS + 1
    later = _Receiver()
    resolver.resolveHostName(later, "dead-domain.top", 80)
    assert later.completed == 0 and len(dns.held) == 1  # asked again
    dns.answer("8.8.8.8")
    assert later.addresses == ["8.8.8.8"]

    resolver.resolveHostName(_Receiver(), "inside.top", 80)
    dns.answer("10.0.0.1")  # refused: not a failed lookup
    resolver.resolveHostName(_Receiver(), "inside.top", 80)
    assert len(dns.held) == 1


def test_a_failed_lookup_is_not_retried_and_lookups_have_threads_enough() -> None:
    """The crawl retries timeouts and lost connections but not a failed lookup; the reactor's thread pool,
    where the system resolver runs, has four threads for each request in flight (a lame domain's lookup holds
    its thread after its request has failed)."""
    settings = scrapy_settings_for(Settings({"CRAWL_CONCURRENCY": 32}))
    assert "scrapy.exceptions.CannotResolveHostError" not in settings["RETRY_EXCEPTIONS"]
    assert "scrapy.exceptions.DownloadTimeoutError" in settings["RETRY_EXCEPTIONS"]
    assert settings["REACTOR_THREADPOOL_MAXSIZE"] == 128
