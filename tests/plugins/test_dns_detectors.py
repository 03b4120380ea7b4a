"""Tests for the DNS detectors (``dns_flux``, ``dns_wildcard``, ``dns_pivots``, ``dns_platforms``) and the
reading they share (``dns_signals``).

Observations are built by hand, the way a DNS probe fills them. Each detector is run on its own (its
``judge`` function, or through the real plugin host), then all of them beside the real URL detectors
through :func:`fraudwall.judging.judge`, which is how a probed name is judged: ``analyze_url`` on the name,
then ``analyze_dns`` with the pivots of names already judged malicious.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS
from tests.plugins.test_plugin_independence import plugin_imports

from fraudwall.judging import judge
from fraudwall.models import Category, DnsObservation, DnsPivots, DnsRecord, Finding, SubjectKind, VerdictStatus
from fraudwall.plugin_host import PluginHost
from fraudwall.plugins import dns_flux, dns_pivots, dns_platforms, dns_signals, dns_wildcard, lookalike, url_heuristics
from fraudwall.settings import Settings
from fraudwall.testing import run_plugin

DNS_PLUGINS = (dns_flux, dns_wildcard, dns_pivots, dns_platforms)

# Front addresses of a fast-flux name: every answer spread over unrelated networks, new ones each round.
FLUX_ROUNDS = (
    ("5.6.7.8", "45.12.1.5", "77.88.2.9", "91.200.3.4", "185.10.4.7"),
    ("23.94.5.6", "31.4.5.6", "62.4.7.1", "109.1.2.3", "178.3.3.3"),
    ("45.12.1.5", "37.9.8.7", "94.23.4.5", "146.70.1.2", "213.5.6.7"),
)
# A CDN point of presence: a few addresses of one /24 per answer, another /24 the next time.
CDN_ROUNDS = (
    ("18.66.196.10", "18.66.196.24", "18.66.196.61", "18.66.196.93"),
    ("13.35.20.5", "13.35.20.17", "13.35.20.40", "13.35.20.88"),
    ("108.138.7.3", "108.138.7.9", "108.138.7.44", "108.138.7.101"),
)


def a(value: str, ttl: int = 60, owner: str = "") -> DnsRecord:
    """An A record (AAAA when ``value`` is IPv6)."""
    return DnsRecord("AAAA" if ":" in value else "A", value, ttl, owner)


def ns(server: str, ttl: int = 3600) -> DnsRecord:
    """An NS record."""
    return DnsRecord("NS", server, ttl)


def observation(
    name: str, addresses: Sequence[str] = (), *, ttl: int = 60, rounds: Sequence[Sequence[str]] = (),
    cname: Sequence[str] = (), servers: Sequence[str] = (), rcode: str = "NOERROR", zone: str = "",
    signs: Sequence[str] = (),
) -> DnsObservation:
    """A probe's answer: address records (at the end of ``cname`` when given), NS records, rounds, wildcard zone."""
    owner = cname[-1] if cname else ""
    records = [DnsRecord("CNAME", target, 300, name if i == 0 else cname[i - 1]) for i, target in enumerate(cname)]
    records += [a(value, ttl, owner) for value in addresses] + [ns(server) for server in servers]
    return DnsObservation(
        name, rcode, tuple(records) if rcode == "NOERROR" else (), wildcard=bool(zone), wildcard_zone=zone,
        cname_chain=tuple(cname), address_rounds=tuple(tuple(sorted(r)) for r in rounds), signs=tuple(signs),
        outcomes=(("A", rcode),),
    )


def flux(name: str, **extra: object) -> DnsObservation:
    """A fast-flux answer for ``name``: low TTL, wide answers, rotating rounds."""
    return observation(name, FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, **extra)  # type: ignore[arg-type]


def host() -> PluginHost:
    """The real URL detectors and the DNS detectors in one host, as an installed fraudwall would load them."""
    plugin_host = PluginHost(Settings())
    for plugin in (url_heuristics, lookalike, *DNS_PLUGINS):
        plugin_host.register(plugin, origin="test")
    return plugin_host


def only(findings: Sequence[Finding], detector: str) -> list[Finding]:
    """The findings of one detector."""
    return [finding for finding in findings if finding.detector == detector]


# -- the shared reading ---------------------------------------------------------------


def test_dns_plugins_import_no_other_plugin() -> None:
    """Each DNS plugin reaches no plugin module but the shared dns_signals reading (the independence rule)."""
    for plugin in DNS_PLUGINS:
        assert plugin_imports(plugin.__name__) == {"fraudwall.plugins.dns_signals"}, plugin.__name__
        assert plugin.version == dns_signals.VERSION


def test_snapshots_keep_public_addresses_and_add_the_records_when_they_are_no_round() -> None:
    """Private, loopback and unspecified answers are dropped; the records count as an answer of their own."""
    dns = observation("x.top", ["10.0.0.1", "127.0.0.1", "0.0.0.0", "5.6.7.8"], rounds=[["9.9.9.9"]])
    assert [sorted(map(str, s)) for s in dns_signals.snapshots(dns)] == [["5.6.7.8"], ["9.9.9.9"]]


@pytest.mark.parametrize(
    ("server", "big"),
    [("ada.ns.cloudflare.com", True), ("f1g1ns1.dnspod.net", True), ("ns-1234.awsdns-56.org", True),
     ("dns9.hichina.com", True), ("ns1.alidns.com", True), ("dns1.p01.nsone.net", True), ("ns1.sedoparking.com", True),
     ("ns1.evil-dns.top", False), ("ns2.cloudflare-dns.top", False)],
)
def test_big_dns_providers_by_suffix(server: str, big: bool) -> None:
    """Public DNS hosts and parking services are recognised by their name's suffix, not by a word inside it."""
    assert bool(dns_signals.big_dns_provider(server)) is big


# -- fast flux ------------------------------------------------------------------------------


def test_rotating_wide_answers_with_low_ttls_are_fast_flux() -> None:
    """Low TTL, answers spread over many /16s, new networks each round: suspicious alone, never malicious."""
    found = run_plugin(dns_flux, dns=flux("pay-center.top", signs=["fast-flux"]))
    assert len(found) == 1 and found[0].subject == "pay-center.top" and found[0].subject_kind is SubjectKind.HOST
    assert found[0].category == Category.CLOAKING.value and found[0].score == dns_flux.ROTATING
    assert SUSPICIOUS <= found[0].score < MALICIOUS
    assert ("ip", "45.12.1.5") in found[0].indicators and "the prober also saw fast flux" in found[0].evidence


def test_one_wide_answer_without_rotation_is_weak() -> None:
    """Eight addresses in eight /16s once, no rounds that change: a weak sign only, below suspicious."""
    wide = FLUX_ROUNDS[0] + FLUX_ROUNDS[1][:3]
    found = dns_flux.judge(observation("pay-center.top", wide, rounds=[wide, wide]))
    assert [f.score for f in found] == [dns_flux.SNAPSHOT] and dns_flux.SNAPSHOT < SUSPICIOUS


def test_name_under_a_trailing_dot_and_capitals_is_the_verdict_subject() -> None:
    """The finding's subject is the name as judge() normalises it, so it counts towards the name's verdict."""
    assert dns_flux.judge(flux("Pay-Center.TOP."))[0].subject == "pay-center.top"


@pytest.mark.parametrize(
    "dns",
    [
        # a CDN without a visible CNAME (an apex alias): one /24 per answer
        observation("shop.northwind-traders.com", CDN_ROUNDS[0], rounds=CDN_ROUNDS, ttl=60),
        # a CNAME into a CDN, even with answers that look wide
        observation("shop.northwind-traders.com", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS,
                    cname=["shop.northwind-traders.com.edgekey.net", "e1234.dscb.akamaiedge.net"]),
        # a CNAME into a shared hosting platform of fraudwall/data/shared_platforms.toml
        observation("shop.northwind-traders.com", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, cname=["northwind.vercel.app"]),
        # Cloudflare's proxy: two anycast addresses a family, stable
        observation("shop.northwind-traders.com", ["104.21.32.1", "172.67.150.2", "2606:4700:3030::6815:2001"],
                    rounds=[["104.21.32.1", "172.67.150.2"]] * 3, ttl=300),
        # flux-shaped answers but long TTLs: a static round-robin
        observation("shop.northwind-traders.com", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, ttl=3600),
        # the NTP pool rotates volunteers' addresses by design
        observation("cn.pool.ntp.org", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, ttl=130),
        # private addresses link nothing on the Internet
        observation("shop.northwind-traders.com", ["10.0.0.1", "10.1.0.1", "10.2.0.1", "192.168.1.1"],
                    rounds=[["10.3.0.1", "10.4.0.1", "172.16.0.1", "10.5.0.1"], ["10.6.0.1", "10.7.0.1"]]),
        # the prober's sign alone, on two stable addresses
        observation("shop.northwind-traders.com", ["5.6.7.8", "45.12.1.5"], signs=["fast-flux"]),
        # a bank's own name behind a CDN
        observation("www.icbc.com.cn", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, cname=["www.icbc.com.cn.cdn.dnsv1.com"]),
        observation("www.icbc.com.cn", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS),
    ],
    ids=["cdn-alias", "cdn-cname", "platform-cname", "cloudflare-proxy", "long-ttl", "ntp-pool", "private",
         "sign-only", "bank-cdn", "bank"],
)
def test_cdns_pools_and_official_names_are_not_flux(dns: DnsObservation) -> None:
    """Low TTLs and changing addresses of a CDN, a load balancer, a pool or a bank's own name are no fast flux."""
    assert run_plugin(dns_flux, dns=dns) == []


def test_flux_through_a_wildcard_is_about_the_zone() -> None:
    """A fluxing wildcard is the zone's: the finding names the zone, and says nothing about the random name."""
    found = dns_flux.judge(flux("q7x2k9.harbor-goods.com", zone="harbor-goods.com"))
    assert [(f.subject, f.score) for f in found] == [("harbor-goods.com", dns_flux.ROTATING)]
    assert dns_flux.judge(flux("q7x2k9.harbor-goods.com", signs=["wildcard"])) == []  # zone unknown: nothing


# -- wildcard catch-alls ------------------------------------------------------------------------


def test_brand_named_wildcard_zone_is_a_catch_all() -> None:
    """A wildcard on a zone named for a brand: a finding about the zone, and only a weak one about the name."""
    found = run_plugin(dns_wildcard, dns=observation("a8f3k.icbc-kefu.top", ["45.12.1.5"], zone="icbc-kefu.top"))
    by_subject = {f.subject: f for f in found}
    assert set(by_subject) == {"icbc-kefu.top", "a8f3k.icbc-kefu.top"}
    zone, name = by_subject["icbc-kefu.top"], by_subject["a8f3k.icbc-kefu.top"]
    assert zone.score == dns_wildcard.ZONE and SUSPICIOUS <= zone.score < MALICIOUS
    assert zone.category == Category.BRAND_IMPERSONATION.value and ("brand", "icbc") in zone.indicators
    assert name.score == dns_wildcard.NAME < SUSPICIOUS


def test_hotline_in_a_wildcard_zone_counts() -> None:
    """A brand's hotline as a part of the zone's label names the brand too."""
    found = dns_wildcard.judge(observation("x1.kefu-95588.top", ["45.12.1.5"], zone="kefu-95588.top"))
    assert ("brand", "icbc") in found[0].indicators and found[0].subject == "kefu-95588.top"


@pytest.mark.parametrize(
    "dns",
    [
        observation("q7x2k9.harbor-goods.com", ["45.12.1.5"], zone="harbor-goods.com"),  # no brand in the zone
        observation("q7x2k9.icbc-kefu.top", cname=["icbc-kefu.top.sedoparking.com"], zone="icbc-kefu.top"),  # parked
        observation("q7x2k9.icbc-kefu.top", ["45.12.1.5"], servers=["ns1.parkingcrew.net"], zone="icbc-kefu.top"),
        observation("q7x2k9.icbc.com.cn", ["45.12.1.5"], zone="icbc.com.cn"),  # the brand's own zone
        observation("icbc-kefu.github.io", ["185.199.108.153"], zone="github.io"),  # a shared platform apex
        observation("q7x2k9.icbc-kefu.top", ["45.12.1.5"]),  # no wildcard
        observation("q7x2k9.icbc-kefu.top", ["45.12.1.5"], zone="icbc-other.top"),  # a zone that is no parent
        observation("q7x2k9.icbc-kefu.top", rcode="NXDOMAIN", zone="icbc-kefu.top"),
    ],
    ids=["no-brand", "parked-cname", "parked-ns", "brand-owned", "platform-apex", "no-wildcard", "not-parent",
         "nxdomain"],
)
def test_wildcards_that_are_no_brand_catch_all_score_nothing(dns: DnsObservation) -> None:
    """Honest wildcards, parked catch-alls, brand-owned zones, platform apexes and failures get no finding."""
    assert dns_wildcard.judge(dns) == []


# -- shared infrastructure --------------------------------------------------------------------------

PIVOTS = DnsPivots(
    addresses={"45.12.1.5": ("fanli-a.top",), "45.12.1.9": ("fanli-b.top", "fanli-c.top", "fanli-d.top"),
               "203.0.113.0": ("x.top",), "104.21.32.1": ("fanli-e.top",), "5.6.7.8": ("pay-center.top",),
               "91.200.3.4": ("fanli-f.top",), "77.88.2.9": ("fanli-g.top",), "2a01:4f8::5": ("fanli-h.top",)},
    nameservers={"ns1.evil-dns.top": ("fanli-a.top",), "ns2.evil-dns.top": ("fanli-b.top",),
                 "dns1.other-ns.xyz": ("fanli-c.top",), "ada.ns.cloudflare.com": ("fanli-d.top",),
                 "f1g1ns1.dnspod.net": ("fanli-e.top",), "ns-12.awsdns-01.com": ("fanli-f.top",),
                 "dns9.hichina.com": ("fanli-g.top",)},
)


def pivot_score(dns: DnsObservation) -> float | None:
    """The dns_pivots score for ``dns`` against :data:`PIVOTS`, ``None`` without a finding."""
    found = dns_pivots.judge(dns, PIVOTS)
    assert len(found) <= 1
    return found[0].score if found else None


def test_one_shared_address_is_weak() -> None:
    """One address shared with one malicious name: weak; with three malicious names there: suspicious at most."""
    assert pivot_score(observation("new-shop.top", ["45.12.1.5"])) == dns_pivots.ADDRESS[1] < SUSPICIOUS
    crowded = pivot_score(observation("new-shop.top", ["45.12.1.9"]))
    assert crowded == dns_pivots.ADDRESS[3] and SUSPICIOUS <= crowded < MALICIOUS


def test_addresses_alone_stay_below_malicious() -> None:
    """Many shared addresses in different networks add up, but shared hosting keeps them under ADDRESSES_MAX."""
    score = pivot_score(observation("new-shop.top", ["45.12.1.5", "91.200.3.4", "77.88.2.9", "2a01:4f8::5"]))
    assert score == dns_pivots.ADDRESSES_MAX < MALICIOUS
    written_out = pivot_score(observation("new-shop.top", ["2a01:04f8:0000:0000:0000:0000:0000:0005"]))
    assert written_out == dns_pivots.ADDRESS[1]  # the same IPv6 address, written in full
    same_network = pivot_score(observation("new-shop.top", ["45.12.1.5", "45.12.1.9"]))
    assert same_network == dns_pivots.ADDRESS[3]  # one /24: one pivot, its names together


def test_dedicated_name_server_is_stronger_and_one_operator_counts_once() -> None:
    """A shared dedicated name server is suspicious alone; ns1 and ns2 of the same operator are one pivot, with
    the malicious names of both."""
    one = pivot_score(observation("new-shop.top", ["198.51.100.7"], servers=["ns1.evil-dns.top"]))
    assert one == dns_pivots.NAMESERVER[1] and SUSPICIOUS <= one < MALICIOUS
    found = dns_pivots.judge(observation("new-shop.top", ["198.51.100.7"], servers=["ns1.evil-dns.top",
                                                                                   "ns2.evil-dns.top"]), PIVOTS)
    assert found[0].score == dns_pivots.NAMESERVER[2] and found[0].subject == "new-shop.top"
    assert {("nameserver", "ns1.evil-dns.top"), ("domain", "fanli-b.top")} <= set(found[0].indicators)
    assert any("fanli-a.top" in line for line in found[0].evidence)


def test_several_pivots_add_up() -> None:
    """A dedicated name server and an address: above either alone; two operators and an address: malicious."""
    both = pivot_score(observation("new-shop.top", ["45.12.1.5"], servers=["ns1.evil-dns.top"]))
    assert both == pytest.approx(1 - (1 - dns_pivots.NAMESERVER[1]) * (1 - dns_pivots.ADDRESS[1]), abs=1e-3)
    many = pivot_score(observation("new-shop.top", ["45.12.1.5"], servers=["ns1.evil-dns.top", "dns1.other-ns.xyz"]))
    assert many is not None and MALICIOUS <= many <= dns_pivots.SCORE_MAX


@pytest.mark.parametrize(
    "dns",
    [
        observation("new-shop.top", ["198.51.100.7"], servers=["ada.ns.cloudflare.com", "f1g1ns1.dnspod.net",
                                                              "ns-12.awsdns-01.com", "dns9.hichina.com"]),
        observation("new-shop.top", ["104.21.32.1"]),  # Cloudflare's shared proxy
        observation("new-shop.top", ["45.12.1.5"], cname=["new-shop.top.cdn.cloudflare.net"]),  # through a CDN
        observation("new-shop.top", ["45.12.1.5"], cname=["newshop.netlify.app"]),  # through a shared platform
        observation("pay-center.top", ["5.6.7.8"]),  # the pivot leads back to the name itself
        observation("new-shop.top", ["45.12.1.5"], servers=["ns1.bodis.com"]),  # parked
        observation("www.icbc.com.cn", ["45.12.1.5"], servers=["ns1.evil-dns.top"]),  # a bank's own name
        observation("new-shop.top", ["198.51.100.8"], servers=["ns9.clean-ns.top"]),  # nothing shared
        observation("new-shop.top", rcode="SERVFAIL"),
    ],
    ids=["big-dns", "cloudflare-proxy", "cdn", "platform", "itself", "parked", "bank", "unshared", "servfail"],
)
def test_shared_providers_and_hosting_are_no_pivot(dns: DnsObservation) -> None:
    """Big DNS providers, shared proxies, CDNs, platforms, parking, official names and failures link nothing."""
    assert dns_pivots.judge(dns, PIVOTS) == []


def test_pivot_through_a_wildcard_is_about_the_zone() -> None:
    """A wildcard's address is the zone's: the finding names the zone, unless the zone is the blocked name itself."""
    found = dns_pivots.judge(observation("q7x2.harbor-goods.com", ["45.12.1.5"], zone="harbor-goods.com"), PIVOTS)
    assert [f.subject for f in found] == ["harbor-goods.com"]
    own = dns_pivots.judge(observation("q7x2.fanli-a.top", ["45.12.1.5"], zone="fanli-a.top"), PIVOTS)
    assert own == []


# -- shared platforms ---------------------------------------------------------------------------------


def test_cname_to_a_tunnel_or_platform_tenant_is_weak_evidence() -> None:
    """A name CNAMEd to a tunnel is a little more telling than one CNAMEd to free hosting; both stay weak."""
    tunnel = dns_platforms.judge(observation("promo-page.com", ["3.4.5.6"], cname=["abc123.ngrok-free.app"]))
    hosting = dns_platforms.judge(observation("promo-page.com", ["76.76.21.21"], cname=["promo.vercel.app"]))
    assert [f.score for f in tunnel] == [dns_platforms.TUNNEL] and [f.score for f in hosting] == [dns_platforms.HOSTING]
    assert ("platform", "ngrok-free.app") in tunnel[0].indicators and dns_platforms.TUNNEL < SUSPICIOUS


@pytest.mark.parametrize(
    "dns",
    [
        observation("promo-page.com", ["23.1.2.3"], cname=["promo-page.com.edgekey.net"]),  # a CDN is no tenant
        observation("abc.vercel.app", ["76.76.21.21"], cname=["cname.vercel-dns.com"]),  # the tenant itself
        observation("www.icbc.com.cn", ["76.76.21.21"], cname=["icbc.vercel.app"]),  # a bank's own name
        observation("q7.promo-page.com", ["76.76.21.21"], cname=["promo.vercel.app"], zone="promo-page.com"),
        observation("promo-page.com", rcode="NXDOMAIN"),
    ],
    ids=["cdn", "tenant-itself", "bank", "wildcard", "nxdomain"],
)
def test_platform_detector_leaves_cdns_tenants_and_official_names_alone(dns: DnsObservation) -> None:
    """CDNs, the platform's own tenant names, official names, wildcard answers and failures get no finding."""
    assert dns_platforms.judge(dns) == []


@pytest.mark.parametrize("rcode", ["NXDOMAIN", "SERVFAIL", "TIMEOUT", "REFUSED"])
def test_failed_answers_score_nothing_in_any_detector(rcode: str) -> None:
    """A failure is evidence for the lifecycle, not of fraud: no DNS detector finds anything in it."""
    dns = DnsObservation("pay-center.top", rcode, (a("45.12.1.5"), ns("ns1.evil-dns.top")), wildcard=True,
                         wildcard_zone="pay-center.top", address_rounds=FLUX_ROUNDS, signs=("fast-flux",))
    findings = judge(host(), dns, pivots=PIVOTS, only={plugin.name for plugin in DNS_PLUGINS}).findings
    assert findings == ()


# -- through the judging road -----------------------------------------------------------------------------


def test_brand_lookalike_with_fast_flux_is_malicious() -> None:
    """A misspelt brand (suspicious by its name alone) that also fast-fluxes is malicious."""
    name_only = judge(host(), observation("taobaao.com", ["198.51.100.7"], ttl=3600))
    fluxing = judge(host(), flux("taobaao.com"))
    assert name_only.verdict.status is VerdictStatus.SUSPICIOUS
    assert fluxing.verdict.status is VerdictStatus.MALICIOUS and fluxing.verdict.subject == "taobaao.com"
    assert {f.detector for f in fluxing.verdict.findings} >= {"lookalike", "dns_flux"}
    assert Category.CLOAKING.value in fluxing.verdict.categories


def test_fast_flux_alone_is_suspicious_not_malicious() -> None:
    """A plain name that fast-fluxes is kept for review, not published."""
    verdict = judge(host(), flux("qx7m2.harbor-goods.com")).verdict
    assert verdict.status is VerdictStatus.SUSPICIOUS


def test_lookalike_wildcard_zone_is_at_least_suspicious() -> None:
    """A brand-named wildcard zone gets a verdict of its own, at least suspicious; the name asked is too."""
    judgement = judge(host(), observation("a8f3k.icbc-kefu.top", ["45.12.1.5"], zone="icbc-kefu.top"))
    zone = {verdict.subject: verdict for verdict in judgement.related}["icbc-kefu.top"]
    assert zone.status in (VerdictStatus.SUSPICIOUS, VerdictStatus.MALICIOUS) and zone.subject_kind is SubjectKind.HOST
    assert [f.detector for f in zone.findings] == ["dns_wildcard"]
    assert judgement.verdict.status in (VerdictStatus.SUSPICIOUS, VerdictStatus.MALICIOUS)


def test_random_name_under_a_wildcard_is_not_malicious() -> None:
    """A random label under a fluxing wildcard, on addresses and name servers of blocked names, is no registered
    name: what the answer shows goes to the zone, and the name keeps at most weak findings."""
    dns = observation("k3j9x2.harbor-goods.com", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, servers=["ns1.evil-dns.top"],
                      zone="harbor-goods.com")
    judgement = judge(host(), dns, pivots=PIVOTS)
    assert judgement.verdict.status is not VerdictStatus.MALICIOUS
    assert all(f.score < SUSPICIOUS for f in judgement.verdict.findings if f.detector.startswith("dns_"))
    zone = {verdict.subject: verdict for verdict in judgement.related}["harbor-goods.com"]
    assert {f.detector for f in zone.findings} == {"dns_flux", "dns_pivots"}


@pytest.mark.parametrize(
    "dns",
    [
        observation("www.icbc.com.cn", FLUX_ROUNDS[0], rounds=FLUX_ROUNDS, cname=["www.icbc.com.cn.cdn.dnsv1.com"],
                    servers=["ns1.evil-dns.top"]),
        observation("static.northwind-traders.com", CDN_ROUNDS[0], rounds=CDN_ROUNDS,
                    cname=["d111111abcdef8.cloudfront.net"], servers=["ns-12.awsdns-01.com"]),
        observation("www.northwind-traders.com", ["104.21.32.1", "172.67.150.2"], ttl=300,
                    servers=["ada.ns.cloudflare.com"]),
    ],
    ids=["bank-cdn", "cloudfront", "cloudflare"],
)
def test_names_behind_cdns_are_benign(dns: DnsObservation) -> None:
    """A bank's real name and ordinary sites behind CDNs score nothing from the DNS detectors, pivots or not."""
    judgement = judge(host(), dns, pivots=PIVOTS)
    assert judgement.verdict.status is VerdictStatus.BENIGN and judgement.related == ()
    assert not [f for f in judgement.findings if f.detector.startswith("dns_")]


def test_lookalike_on_blocked_infrastructure_is_malicious() -> None:
    """A misspelt brand on the name servers of two blocked names is malicious; one such server on a plain name
    makes it suspicious."""
    dns = observation("alipya.com", ["198.51.100.7"], servers=["ns1.evil-dns.top", "ns2.evil-dns.top"])
    assert judge(host(), dns, pivots=PIVOTS).verdict.status is VerdictStatus.MALICIOUS
    plain = observation("harbor-goods.com", ["198.51.100.7"], servers=["ns1.evil-dns.top"])
    assert judge(host(), plain, pivots=PIVOTS).verdict.status is VerdictStatus.SUSPICIOUS
    assert judge(host(), dns).verdict.status is VerdictStatus.SUSPICIOUS  # no pivots known: the name alone
