"""The SSRF guard: only public addresses unless a network is allowed explicitly, and why one is refused."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from fraudwall.crawler.network import NetworkPolicy
from fraudwall.crawler.resolver import GuardedResolver, Refusal, legacy_ipv4
from fraudwall.exceptions import ConfigError


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "::1", "fe80::1", "0.0.0.0",
     "::ffff:127.0.0.1", "100.64.0.1", "224.0.0.1", "not-an-ip",
     # IPv4 carried in IPv6: mapped in its long spelling, 6to4 and NAT64 (which Python calls global).
     "0:0:0:0:0:ffff:7f00:0002", "2002:7f00:1::", "2002:a9fe:a9fe::1", "64:ff9b::a00:1", "64:ff9b:1::c0a8:1"],
)
def test_default_policy_refuses_internal_addresses(address: str) -> None:
    """Loopback, private, link-local (cloud metadata), CGNAT, multicast and junk are refused by default, in
    whatever IPv6 address they are carried."""
    assert not NetworkPolicy().allows(address)


def test_ipv4_carried_in_ipv6_is_judged_as_the_ipv4_address() -> None:
    """A 6to4 or NAT64 address of a public IPv4 address passes; --allow-net 127.0.0.0/8 opens loopback in them too."""
    assert NetworkPolicy().allows("2002:808:808::") and NetworkPolicy().allows("64:ff9b::808:808")
    assert NetworkPolicy(["127.0.0.0/8"]).allows("2002:7f00:1::")


def test_public_addresses_and_allowed_networks() -> None:
    """Public addresses pass; --allow-net opens exactly the named network."""
    assert NetworkPolicy().allows("8.8.8.8") and NetworkPolicy().allows("2001:4860::8888")
    policy = NetworkPolicy(["127.0.0.0/8"])
    assert policy.allows("127.0.0.1") and policy.allows("::ffff:127.0.0.2")
    assert not policy.allows("10.0.0.1")


def test_bad_cidr_is_a_config_error() -> None:
    """A malformed --allow-net value is reported, not ignored."""
    with pytest.raises(ConfigError, match="CIDR"):
        NetworkPolicy(["127.0.0.0/33"])


def test_explain_names_the_address_and_the_network_that_opens_it() -> None:
    """A refusal says what the address is and the narrowest usual --allow-net that opens it."""
    assert NetworkPolicy.explain("127.0.0.1") == (
        "127.0.0.1 is not a public address (network policy; --allow-net 127.0.0.0/8 opens it)"
    )
    assert NetworkPolicy.explain("10.1.2.3").endswith("(network policy; --allow-net 10.1.2.3/32 opens it)")
    assert NetworkPolicy.explain("::1").endswith("--allow-net ::1/128 opens it)")
    assert NetworkPolicy.explain("not-an-ip") == "not-an-ip is not an IP address"


@implementer(IHostnameResolver)
class _FixedDNS:
    """Stands in for the system resolver: answers each name from ``answers``, sends no query."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}

    def resolveHostName(
        self, resolutionReceiver: Any, hostName: str, portNumber: int = 0, addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> None:
        resolutionReceiver.resolutionBegan(None)
        for ip in self.answers[hostName]:
            resolutionReceiver.addressResolved(IPv4Address("TCP", ip, portNumber))
        resolutionReceiver.resolutionComplete()


class _Receiver:
    """Collects the addresses a resolution delivers."""

    def __init__(self) -> None:
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: IPv4Address) -> None:
        self.addresses.append(address.host)

    def resolutionComplete(self) -> None:
        pass


def test_resolver_records_a_dns_answer_refused_whole_and_forgets_it_when_one_passes() -> None:
    """A looked-up name whose every address is refused is recorded with the reason; an answer with a public address clears it."""
    dns = _FixedDNS()
    resolver = GuardedResolver(SimpleNamespace(nameResolver=dns), NetworkPolicy())
    dns.answers["evil.top"] = ["127.0.0.1", "10.0.0.1"]
    receiver = _Receiver()
    resolver.resolveHostName(receiver, "evil.top", 80)
    assert receiver.addresses == []
    assert resolver.refusal("EVIL.top.") == Refusal(
        "network-policy",
        "evil.top resolves to 127.0.0.1, 10.0.0.1: "
        "127.0.0.1 is not a public address (network policy; --allow-net 127.0.0.0/8 opens it); "
        "10.0.0.1 is not a public address (network policy; --allow-net 10.0.0.1/32 opens it)",
    )

    dns.answers["evil.top"] = ["127.0.0.1", "8.8.8.8"]
    receiver = _Receiver()
    resolver.resolveHostName(receiver, "evil.top", 80)
    assert receiver.addresses == ["8.8.8.8"]
    assert resolver.refusal("evil.top") is None


@pytest.mark.parametrize("spelling", ["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0x7F.1"])
def test_legacy_ipv4_spellings_are_addresses_under_the_policy(spelling: str) -> None:
    """127.0.0.1 written as inet_aton still reads it is that address: refused by the network policy (with the
    address named), delivered where the policy allows it, and never looked up or sent to the host map."""
    dns = _FixedDNS()  # any lookup would fail: it has no answers
    refusing = GuardedResolver(SimpleNamespace(nameResolver=dns), NetworkPolicy(), host_map_only=True)
    receiver = _Receiver()
    refusing.resolveHostName(receiver, spelling, 80)
    assert receiver.addresses == []
    refusal = refusing.refusal(spelling)
    assert refusal is not None and refusal.reason == "network-policy" and "resolves to 127.0.0.1" in refusal.detail
    allowing = GuardedResolver(SimpleNamespace(nameResolver=dns), NetworkPolicy(["127.0.0.0/8"]))
    receiver = _Receiver()
    allowing.resolveHostName(receiver, spelling, 80)
    assert receiver.addresses == ["127.0.0.1"]


@pytest.mark.parametrize("name", ["example.top", "0x7g.top", "1.2.3.4.5", "deadbeef", "0x"])
def test_names_are_not_legacy_ipv4(name: str) -> None:
    """Names that merely contain digits or hex letters are names."""
    assert legacy_ipv4(name) is None


def test_no_crawl_has_a_handler_for_anything_but_the_web() -> None:
    """Scrapy's handlers for local files, data: URLs, FTP and S3 are off in a crawl, rendering or not: a request of
    one of those schemes, by whatever path it is made, fails as unsupported instead of being fetched."""
    from fraudwall.crawl import scrapy_settings_for
    from fraudwall.crawler.render import render_settings
    from fraudwall.settings import Settings

    settings = Settings({"CRAWL_RENDER": "off"})
    for handlers in (scrapy_settings_for(settings)["DOWNLOAD_HANDLERS"],
                     {**scrapy_settings_for(settings), **render_settings(Settings({"CRAWL_RENDER": "shells"}))}
                     .get("DOWNLOAD_HANDLERS")):
        assert {scheme: handlers.get(scheme, "on") for scheme in ("file", "data", "ftp", "s3")} == dict.fromkeys(
            ("file", "data", "ftp", "s3"))
        assert set(handlers) - {"file", "data", "ftp", "s3"} == {"http", "https"}
