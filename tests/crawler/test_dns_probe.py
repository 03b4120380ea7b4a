"""The async DNS prober against a real Unbound holding planted zones, and scripted responders on loopback.

Nothing here leaves the machine: every nameserver is started by the test on a
free loopback port (see ``dns_servers``), and Unbound is configured so it
cannot query anything beyond itself.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudwall.crawler import dns_wire as wire
from fraudwall.crawler.dns_probe import (
    RECORD_TYPES, Nameserver, ProbeOptions, Prober, overall_rcode, parse_nameserver, probe, system_nameservers,
)
from fraudwall.models import DNS_OUTCOMES, DnsObservation, DnsRecord
from tests.crawler.dns_servers import (
    BIG_TXT, FLUX_ADDRESSES, Replies, Responder, Unbound, answer, nxdomain, planted_zones, silent,
)

pytestmark = pytest.mark.timeout(60)

#: Short timeouts so failure cases finish quickly; loopback answers in well under a millisecond.
FAST = ProbeOptions(timeout=0.5, retries=1, backoff=0.05, flux_delay=0.1)


def collect(prober: Prober, names: Iterable[str], limit: float = 30.0) -> list[DnsObservation]:
    """Every observation of ``names``, the whole run bounded by ``limit`` seconds."""

    async def run() -> list[DnsObservation]:
        return [observation async for observation in prober.probe_many(names)]

    return asyncio.run(asyncio.wait_for(run(), limit))


def observe(server: Unbound, names: Iterable[str], options: ProbeOptions = FAST) -> dict[str, DnsObservation]:
    """The observations of ``names`` through ``server``, by name."""
    prober = Prober([Nameserver(server.host, server.port)], options)
    return {observation.name: observation for observation in collect(prober, names)}


def observe_one(server: Unbound, name: str, options: ProbeOptions = FAST) -> tuple[DnsObservation, Counter[str]]:
    """The observation of ``name`` and the prober's stats."""
    prober = Prober([Nameserver(server.host, server.port)], options)
    (observation,) = collect(prober, [name])
    return observation, prober.stats


def ns(responder: Responder) -> Nameserver:
    return parse_nameserver(responder.address)


# -- nameservers and options -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "host", "port", "shown"), [
    ("127.0.0.1", "127.0.0.1", 53, "127.0.0.1:53"),
    ("127.0.0.1:5353", "127.0.0.1", 5353, "127.0.0.1:5353"),
    ("[::1]:53", "::1", 53, "[::1]:53"),
    ("[::1]", "::1", 53, "[::1]:53"),
    ("::1", "::1", 53, "[::1]:53"),
    (" [2001:DB8::0:1]:8053 ", "2001:db8::1", 8053, "[2001:db8::1]:8053"),
])
def test_nameserver_parsing(text: str, host: str, port: int, shown: str) -> None:
    """IP literals with or without a port parse to one canonical spelling, shown as HOST:PORT or [V6]:PORT."""
    nameserver = parse_nameserver(text)
    assert (nameserver.host, nameserver.port, str(nameserver)) == (host, port, shown)


@pytest.mark.parametrize("text", ["dns.google", "127.0.0.1:", "127.0.0.1:dns", "[::1", "[::1]x", "1.2.3.4:70000",
                                  "", "999.1.1.1"])
def test_nameserver_parsing_refuses_the_rest(text: str) -> None:
    """Names, bad ports and broken brackets are a ValueError that says what is expected."""
    with pytest.raises(ValueError, match="expected an IP address"):
        parse_nameserver(text)


def test_system_nameservers_reads_the_file_only(tmp_path: Path) -> None:
    """resolv.conf's nameservers come back as Nameservers (reading the file asks nothing); no file, none."""
    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.com\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n")
    assert system_nameservers(str(conf)) == [Nameserver("127.0.0.53"), Nameserver("::1")]
    assert system_nameservers(str(tmp_path / "missing.conf")) == []


def test_options_are_checked() -> None:
    """Unknown record types and out-of-range limits are refused at once; types are upper-cased."""
    assert ProbeOptions(types=("a", "mx")).types == ("A", "MX")
    with pytest.raises(ValueError, match="record types"):
        ProbeOptions(types=("A", "SRV"))
    with pytest.raises(ValueError, match="concurrency"):
        ProbeOptions(concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        ProbeOptions(timeout=0)
    with pytest.raises(ValueError, match="no nameserver"):
        Prober([])


# -- what a name's observation holds -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "addresses", "address6"), [
    ("icbc-kefu.com", ("203.0.113.10", "203.0.113.11"), "2001:db8::10"),
    ("lcbc.com.cn", ("203.0.113.20",), "2001:db8::20"),
])
def test_lookalike_every_record_type(planted_unbound: Unbound, name: str, addresses: tuple[str, ...],
                                     address6: str) -> None:
    """A lookalike domain: every type asked, each outcome a value, records with their TTLs, NS and addresses
    kept as pivots, the resolver named, no signs."""
    observation, _ = observe_one(planted_unbound, name)
    assert observation.rcode == "NOERROR"
    assert dict(observation.outcomes) == {"A": "NOERROR", "AAAA": "NOERROR", "CNAME": "NODATA", "NS": "NOERROR",
                                          "MX": "NOERROR", "TXT": "NOERROR", "SOA": "NOERROR"}
    assert sorted(observation.values("A")) == sorted(addresses)
    assert observation.values("AAAA") == (address6,)
    assert sorted(observation.values("NS")) == ["ns1.bulletproof-dns.net", "ns2.bulletproof-dns.net"]
    assert observation.values("MX") == (f"10 mail.{name}",)
    assert observation.values("TXT") == ('"v=spf1 -all"',)
    assert observation.values("SOA") == (
        "ns1.bulletproof-dns.net admin.bulletproof-dns.net 2024112501 3600 600 86400 300",)
    assert {record.ttl for record in observation.records} == {3600}
    assert all(record.owner == "" for record in observation.records)
    assert observation.resolver == f"127.0.0.1:{planted_unbound.port}"
    assert observation.observed_at is not None and observation.observed_at.tzinfo is not None
    assert observation.address_rounds == (tuple(sorted((*addresses, address6))),)  # TTL 3600: one round
    assert (observation.wildcard, observation.wildcard_zone, observation.signs, observation.cname_chain) == (
        False, "", (), ())


def test_nxdomain_answers_every_type_in_one_query(planted_unbound: Unbound) -> None:
    """A name that does not exist costs one query: by RFC 8020 the other types are NXDOMAIN without asking."""
    observation, stats = observe_one(planted_unbound, "nope.icbc-kefu.com")
    assert observation.rcode == "NXDOMAIN"
    assert observation.outcomes == tuple((t, "NXDOMAIN") for t in RECORD_TYPES)
    assert observation.records == () and observation.signs == ()
    assert stats["queries"] == 1
    assert stats["nxdomain_inferred"] == len(RECORD_TYPES) - 1


@pytest.mark.parametrize(("name", "answered"), [("txt-only.icbc-kefu.com", "TXT"), ("mx-only.lcbc.com.cn", "MX")])
def test_nodata_is_its_own_outcome(planted_unbound: Unbound, name: str, answered: str) -> None:
    """A name with records of one type only: that type NOERROR, every other NODATA, the name NOERROR."""
    observation, _ = observe_one(planted_unbound, name)
    assert observation.rcode == "NOERROR"
    assert dict(observation.outcomes) == {t: "NOERROR" if t == answered else "NODATA" for t in RECORD_TYPES}
    assert {record.type for record in observation.records} == {answered}
    assert observation.address_rounds == ()


@pytest.mark.parametrize(("name", "outcome"), [("x.servfail-kefu.top", "SERVFAIL"), ("x.blocked-kefu.cn", "REFUSED")])
def test_failures_are_values_and_every_type_is_asked(planted_unbound: Unbound, name: str, outcome: str) -> None:
    """SERVFAIL and REFUSED are outcomes, not exceptions; unlike NXDOMAIN they do not stop the other types."""
    observation, stats = observe_one(planted_unbound, name)
    assert observation.rcode == outcome
    assert observation.outcomes == tuple((t, outcome) for t in RECORD_TYPES)
    assert stats["queries"] == len(RECORD_TYPES)
    assert stats[f"outcome:{outcome}"] == len(RECORD_TYPES)


def test_the_test_unbound_recurses_nowhere(planted_unbound: Unbound) -> None:
    """A name outside the planted zones fails at once (SERVFAIL): the fixture's Unbound asks nobody."""
    started = time.monotonic()
    observation, _ = observe_one(planted_unbound, "example.org")
    assert observation.rcode == "SERVFAIL"
    assert time.monotonic() - started < 2


def test_truncated_reply_is_asked_again_over_tcp(planted_unbound: Unbound) -> None:
    """20 TXT records do not fit a UDP reply: the TC bit sends the question over TCP, and all 20 arrive."""
    observation, stats = observe_one(planted_unbound, "big.icbc-kefu.com")
    assert sorted(observation.values("TXT")) == sorted(f'"{text}"' for text in BIG_TXT)
    assert stats["truncated"] >= 1 and stats["tcp_queries"] >= 1
    assert stats["tcp_failures"] == 0


def test_cname_chain_across_zones(planted_unbound: Unbound) -> None:
    """A chain through two zones: every link recorded with its owner, addresses owned by the chain's end."""
    observation, _ = observe_one(planted_unbound, "www.wildpay.top")
    assert observation.cname_chain == ("cdn.wildpay.top", "edge.chain.top")
    assert observation.signs == ("cname-chain",)
    assert DnsRecord("CNAME", "cdn.wildpay.top", 300) in observation.records
    assert DnsRecord("CNAME", "edge.chain.top", 300, owner="cdn.wildpay.top") in observation.records
    assert DnsRecord("A", "198.51.100.7", 60, owner="edge.chain.top") in observation.records
    assert DnsRecord("AAAA", "2001:db8::7", 60, owner="edge.chain.top") in observation.records
    assert dict(observation.outcomes)["CNAME"] == "NOERROR"
    assert dict(observation.outcomes)["MX"] == "NODATA"  # the chain's end has no MX
    assert not observation.wildcard  # a wildcard sibling exists, but this name answers with its own chain


def test_dangling_cname_exists_and_is_asked_in_full(planted_unbound: Unbound) -> None:
    """A CNAME to a name that does not exist: NXDOMAIN for A (RFC 6604), yet the name exists, so the other
    types are asked, not inferred, and the name is NOERROR."""
    observation, stats = observe_one(planted_unbound, "dangling.wildpay.top")
    assert observation.rcode == "NOERROR"
    assert dict(observation.outcomes)["A"] == "NXDOMAIN"
    assert dict(observation.outcomes)["CNAME"] == "NOERROR"
    assert observation.cname_chain == ("gone.chain.top",)
    assert stats["nxdomain_inferred"] == 0


# -- wildcards ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "zone", "chain"), [
    ("anything.wildpay.top", "wildpay.top", ()),  # `*` A and AAAA in an auth zone
    ("deep.er.wildpay.top", "wildpay.top", ()),  # the same answer under er.wildpay.top: named at the top
    ("x.sub.wildpay.top", "sub.wildpay.top", ()),  # a wildcard of its own below the zone's: named there
    ("q.redirect-pay.top", "redirect-pay.top", ()),  # a local-zone redirect answers every name alike
    ("q.cnamewild.top", "cnamewild.top", ("edge.chain.top",)),  # a `*` CNAME: the same chain
])
def test_wildcard_answers_are_marked(planted_unbound: Unbound, name: str, zone: str, chain: tuple[str, ...]) -> None:
    """A name answered as random labels under its zone are: wildcard set, the zone named, the sign given."""
    observation, _ = observe_one(planted_unbound, name)
    assert (observation.wildcard, observation.wildcard_zone) == (True, zone)
    assert "wildcard" in observation.signs
    assert observation.cname_chain == chain


def test_a_name_with_its_own_answers_is_not_a_wildcard(planted_unbound: Unbound) -> None:
    """real.wildpay.top has its own address, unlike the zone's wildcard: it exists in its own right."""
    observation, stats = observe_one(planted_unbound, "real.wildpay.top")
    assert observation.values("A") == ("192.0.2.99",)
    assert (observation.wildcard, observation.wildcard_zone, observation.signs) == (False, "", ())
    assert stats["wildcard_zones"] == 1  # the zone was looked into, and has a wildcard


def test_wildcard_zone_is_probed_once_per_run(planted_unbound: Unbound) -> None:
    """Ten names under one zone share one wildcard probe of it: 10 x 7 questions, plus 4 for the probe."""
    prober = Prober([Nameserver(planted_unbound.host, planted_unbound.port)], FAST)
    observations = collect(prober, [f"n{number}.wildpay.top" for number in range(10)])
    assert all(observation.wildcard_zone == "wildpay.top" for observation in observations)
    assert prober.stats["wildcard_zones"] == 1
    assert prober.stats["queries"] == 10 * len(RECORD_TYPES) + 2 * 2


def test_wildcard_detection_can_be_turned_off(planted_unbound: Unbound) -> None:
    """With ``wildcard=False`` no random label is asked and nothing is marked."""
    observation, stats = observe_one(planted_unbound, "anything.wildpay.top", ProbeOptions(
        timeout=0.5, retries=1, wildcard=False))
    assert not observation.wildcard and "wildcard" not in observation.signs
    assert stats["wildcard_zones"] == 0 and stats["queries"] == len(RECORD_TYPES)


# -- fast flux ---------------------------------------------------------------------------------------------------


def test_fast_flux_sign_needs_many_addresses_and_low_ttls(planted_unbound: Unbound) -> None:
    """Eight addresses at TTL 60: fast flux, asked twice. Two at TTL 60: asked twice, no sign. Six at TTL
    3600: not asked again, no sign."""
    observations = observe(planted_unbound, ["flux.kefu-pay.top", "cdn.kefu-pay.top", "stable.kefu-pay.top"])
    flux, cdn, stable = (observations[name] for name in ("flux.kefu-pay.top", "cdn.kefu-pay.top",
                                                         "stable.kefu-pay.top"))
    assert flux.signs == ("fast-flux",)
    assert flux.address_rounds == (tuple(sorted(FLUX_ADDRESSES)),) * 2
    assert cdn.signs == () and len(cdn.address_rounds) == 2
    assert stable.signs == () and len(stable.address_rounds) == 1


def _rotating(pool: list[str], per_answer: int) -> Callable[[dns.message.Message, int], Replies]:
    """A handler giving ``rotate.flux-pay.top`` a different slice of ``pool`` at TTL 60 on every A query."""
    turn = itertools.count()

    def handler(query: dns.message.Message, count: int) -> Replies:
        question = query.question[0]
        name = question.name.to_text()
        if name != "rotate.flux-pay.top.":
            return [(0.0, answer(query, dns.rcode.NXDOMAIN))]
        if question.rdtype != dns.rdatatype.A:
            return [(0.0, answer(query))]
        start = next(turn) * per_answer
        chosen = [pool[(start + offset) % len(pool)] for offset in range(per_answer)]
        return [(0.0, answer(query, records=[(name, 60, "A", address) for address in chosen]))]

    return handler


def test_fast_flux_sign_from_a_rotating_pool(responders: Callable[..., Responder]) -> None:
    """Three addresses per answer from a pool of twelve: each round sees other addresses, the union reaches
    the threshold, the records stay the first answer, and each later round went through the next nameserver."""
    pool = [f"198.18.1.{number}" for number in range(1, 13)]
    handler = _rotating(pool, 3)
    first, second = responders(handler), responders(handler)
    prober = Prober([ns(first), ns(second)], ProbeOptions(timeout=0.5, flux_rounds=3, flux_delay=0.1))
    (observation,) = collect(prober, ["rotate.flux-pay.top"])
    assert len(observation.address_rounds) == 3
    assert len(set(observation.address_rounds)) == 3  # the set changed each round
    assert "fast-flux" in observation.signs
    assert tuple(sorted(observation.values("A"))) == observation.address_rounds[0]  # records: the first answer
    assert ("rotate.flux-pay.top", "A") in second.questions()  # round two asked the other resolver


def test_a_small_rotating_pool_is_not_fast_flux(responders: Callable[..., Responder]) -> None:
    """Two addresses per answer from a pool of four: the rounds differ, but four addresses are not many."""
    responder = responders(_rotating([f"198.18.2.{number}" for number in range(1, 5)], 2))
    prober = Prober([ns(responder)], ProbeOptions(timeout=0.5, flux_rounds=3, flux_delay=0.1))
    (observation,) = collect(prober, ["rotate.flux-pay.top"])
    assert len(observation.address_rounds) == 3
    assert "fast-flux" not in observation.signs


# -- transport: spoofing, timeouts, failover, limits -------------------------------------------------------------


def _spoofing(query: dns.message.Message, count: int) -> Replies:
    """Four forged replies before the genuine one: wrong ID, wrong name, wrong type, and a query (QR clear)."""
    question = query.question[0]
    name = question.name.to_text()
    forged = [(name, 60, "A", "6.6.6.6")] if question.rdtype == dns.rdatatype.A else []
    wrong_id = bytearray(answer(query, records=forged))
    wrong_id[0:2] = ((query.id + 1) % 65536).to_bytes(2, "big")
    other_name = dns.message.make_query("attacker.example", question.rdtype, id=query.id)
    other_type = dns.message.make_query(name, "SRV", id=query.id)
    genuine = [(name, 60, "A", "192.0.2.1")] if question.rdtype == dns.rdatatype.A else []
    return [
        (0.0, bytes(wrong_id)),
        (0.0, answer(other_name, records=[("attacker.example.", 60, "A", "6.6.6.6")])),
        (0.0, answer(other_type)),
        (0.0, query.to_wire()),
        (0.05, answer(query, records=genuine)),
    ]


def test_forged_replies_are_ignored(responders: Callable[..., Responder]) -> None:
    """Replies with the wrong ID, name or type, or that are not responses, never settle a query."""
    responder = responders(_spoofing)
    prober = Prober([ns(responder)], FAST)
    (observation,) = collect(prober, ["pay.target.top"])
    assert observation.values("A") == ("192.0.2.1",)
    assert "6.6.6.6" not in {record.value for record in observation.records}
    assert prober.stats["mismatched_replies"] >= 4 * len(RECORD_TYPES)


def test_silent_nameserver_gives_timeouts_in_bounded_time(responders: Callable[..., Responder]) -> None:
    """A nameserver that never answers: every outcome TIMEOUT after the tries, within a known bound."""
    black_hole = responders(silent)
    # down_after set high: this counts every try (marking a silent server down is the next test's).
    prober = Prober([ns(black_hole)], ProbeOptions(timeout=0.2, retries=1, backoff=0.05, down_after=1000))
    started = time.monotonic()
    observations = collect(prober, ["a.kefu.top", "b.kefu.top", "c.kefu.top"])
    elapsed = time.monotonic() - started
    assert len(observations) == 3
    for observation in observations:
        assert observation.rcode == "TIMEOUT"
        assert observation.outcomes == tuple((t, "TIMEOUT") for t in RECORD_TYPES)
        assert observation.resolver == black_hole.address
    # A: two tries; then the six other types, two tries each, together: about 2 x (0.2 + 0.2 + 0.05).
    assert elapsed < 3
    assert prober.stats["timeouts"] == 3 * 2 * len(RECORD_TYPES)
    assert prober.stats["retries"] == 3 * len(RECORD_TYPES)


def test_a_resolver_that_stops_answering_ends_in_timeouts_not_a_hang(
        unbound_factory: Callable[..., Unbound]) -> None:
    """Unbound is paused after 20 names of 400: the rest end as TIMEOUT within seconds, because the silent
    resolver is marked down, where asking each type of each name to time out would take over a minute."""
    server = unbound_factory(planted_zones())
    options = ProbeOptions(timeout=0.3, retries=1, backoff=0.05, concurrency=20, wildcard=False)
    prober = Prober([Nameserver(server.host, server.port)], options)
    names = [f"n{number}.icbc-kefu.com" if number % 2 else "icbc-kefu.com" for number in range(400)]

    async def run() -> list[DnsObservation]:
        observed = []
        async for observation in prober.probe_many(names):
            observed.append(observation)
            if len(observed) == 20:
                server.pause()
        return observed

    started = time.monotonic()
    observations = asyncio.run(asyncio.wait_for(run(), 30))
    elapsed = time.monotonic() - started
    assert len(observations) == 400
    outcomes = Counter(observation.rcode for observation in observations[20:])
    assert outcomes["TIMEOUT"] >= 350, outcomes
    assert prober.stats["nameserver_down"] >= 1
    assert elapsed < 15


def test_a_dead_resolver_among_live_ones_costs_time_not_answers(
        planted_unbound: Unbound, responders: Callable[..., Responder]) -> None:
    """Names given first to a silent resolver are retried through the live one: every name is answered."""
    black_hole = responders(silent)
    prober = Prober([ns(black_hole), Nameserver(planted_unbound.host, planted_unbound.port)],
                    ProbeOptions(timeout=0.3, retries=1, backoff=0.05))
    observations = collect(prober, ["icbc-kefu.com", "lcbc.com.cn", "nope.icbc-kefu.com", "nope.lcbc.com.cn"])
    assert {observation.name: observation.rcode for observation in observations} == {
        "icbc-kefu.com": "NOERROR", "lcbc.com.cn": "NOERROR",
        "nope.icbc-kefu.com": "NXDOMAIN", "nope.lcbc.com.cn": "NXDOMAIN"}
    assert prober.stats["timeouts"] > 0  # the silent one was tried


def _delayed_nxdomain(query: dns.message.Message, count: int) -> Replies:
    return [(0.2, answer(query, dns.rcode.NXDOMAIN))]


def test_concurrency_limit_is_respected(responders: Callable[..., Responder]) -> None:
    """With 4 slots and replies that take 0.2 s, the server never holds more than 4 queries, and does hold 4."""
    responder = responders(_delayed_nxdomain)
    prober = Prober([ns(responder)], ProbeOptions(timeout=2, concurrency=4))
    started = time.monotonic()
    observations = collect(prober, [f"n{number}.kefu.top" for number in range(24)])
    elapsed = time.monotonic() - started
    assert len(observations) == 24
    assert responder.max_held == 4
    assert elapsed >= 24 / 4 * 0.2 * 0.9


def test_rate_limit_is_respected(responders: Callable[..., Responder]) -> None:
    """At 25 queries/s, 40 queries are spread over 1.5 s or more, the measured rate is at most the limit,
    and no second holds more than 27 of them (25, one more for where the second starts, one for the
    responder thread's own scheduling, which stamps the arrivals)."""
    responder = responders(nxdomain)
    prober = Prober([ns(responder)], ProbeOptions(timeout=2, rate=25))
    collect(prober, [f"n{number}.kefu.top" for number in range(40)])
    arrivals = [arrived for arrived, _, _ in responder.arrivals]
    assert len(arrivals) == 40
    span = arrivals[-1] - arrivals[0]
    assert span >= 39 / 25 * 0.95
    assert (len(arrivals) - 1) / span <= 25 * 1.05
    busiest = max(sum(1 for other in arrivals if start <= other < start + 1) for start in arrivals)
    assert busiest <= 27


def test_names_are_spread_over_nameservers(responders: Callable[..., Responder]) -> None:
    """Two resolvers share the names evenly, and each observation names the resolver that answered it."""
    first, second = responders(nxdomain), responders(nxdomain)
    prober = Prober([ns(first), ns(second)], FAST)
    observations = collect(prober, [f"n{number}.kefu.top" for number in range(20)])
    assert len(first.arrivals) == len(second.arrivals) == 10
    assert Counter(observation.resolver for observation in observations) == {first.address: 10, second.address: 10}


def test_ipv6_nameserver(responders: Callable[..., Responder]) -> None:
    """A resolver on ::1 is reached over IPv6 and named [::1]:PORT."""
    responder = responders(nxdomain, "::1")
    prober = Prober([parse_nameserver(responder.address)], FAST)
    (observation,) = collect(prober, ["n.kefu.top"])
    assert observation.rcode == "NXDOMAIN"
    assert observation.resolver == f"[::1]:{responder.port}"


def test_names_that_cannot_be_asked_are_counted_not_raised(planted_unbound: Unbound) -> None:
    """An empty label or a 64-byte label cannot be encoded: skipped and counted, the rest probed."""
    prober = Prober([Nameserver(planted_unbound.host, planted_unbound.port)], FAST)
    observations = collect(prober, ["bad..name", "x" * 64 + ".com", "icbc-kefu.com"])
    assert [observation.name for observation in observations] == ["icbc-kefu.com"]
    assert prober.stats["rejected_names"] == 2


# -- the synchronous wrapper -------------------------------------------------------------------------------------


def test_sync_probe_yields_every_name_and_its_stats(planted_unbound: Unbound) -> None:
    """``probe`` yields one observation per name from its background loop and hands back the counts."""
    stats: Counter[str] = Counter()
    names = ["icbc-kefu.com", "nope.icbc-kefu.com", "x.blocked-kefu.cn"]
    observations = list(probe(names, [Nameserver(planted_unbound.host, planted_unbound.port)], FAST, stats=stats))
    assert sorted((o.name, o.rcode) for o in observations) == [
        ("icbc-kefu.com", "NOERROR"), ("nope.icbc-kefu.com", "NXDOMAIN"), ("x.blocked-kefu.cn", "REFUSED")]
    assert stats["names"] == 3 and stats["queries"] > 0
    assert all(outcome in DNS_OUTCOMES for o in observations for _, outcome in o.outcomes)


def test_sync_probe_reads_names_lazily_and_stops_when_closed(responders: Callable[..., Responder]) -> None:
    """A million names: three observations read, then the iterator closed. Only a bounded part of the names
    was ever taken, and the background thread has ended."""
    responder = responders(nxdomain)
    taken = 0

    def names() -> Iterator[str]:
        nonlocal taken
        for number in range(1_000_000):
            taken += 1
            yield f"n{number}.kefu.top"

    results = probe(names(), [ns(responder)], ProbeOptions(timeout=1, names_in_flight=8))
    first = [next(results) for _ in range(3)]
    results.close()
    assert len(first) == 3
    assert taken < 5_000
    time.sleep(0.2)
    assert not any(thread.name == "fraudwall-dns-probe" for thread in threading.enumerate())


# -- the wire format ---------------------------------------------------------------------------------------------


def test_query_bytes_are_a_standard_query() -> None:
    """What :func:`dns_wire.query` builds, dnspython reads as one recursive question with EDNS0 at 1232."""
    question = wire.question(wire.encode_name("Kefu.Example.top"), wire.TYPE_CODES["MX"])
    message = dns.message.from_wire(wire.query(0x1234, question))
    assert message.id == 0x1234 and message.flags & dns.flags.RD and not message.flags & dns.flags.QR
    assert message.question[0].name == dns.name.from_text("kefu.example.top")
    assert message.question[0].rdtype == dns.rdatatype.MX
    assert message.edns == 0 and message.payload == 1232
    assert dns.message.from_wire(wire.query(7, question, 0)).edns == -1


def test_replies_must_echo_the_question() -> None:
    """A reply matches only with the same question (name case aside) and the QR bit set."""
    query = dns.message.make_query("kefu.example.top", "A")
    question = wire.question(wire.encode_name("kefu.example.top"), 1)
    shouted = dns.message.make_response(dns.message.make_query("KEFU.example.TOP", "A", id=query.id))
    assert wire.matches(dns.message.make_response(query).to_wire(), question)
    assert wire.matches(shouted.to_wire(), question)
    assert not wire.matches(query.to_wire(), question)  # not a response
    other = dns.message.make_response(dns.message.make_query("kefu.example.top", "AAAA", id=query.id))
    assert not wire.matches(other.to_wire(), question)
    assert not wire.matches(b"\x00" * 11, question)


@pytest.mark.parametrize(("name", "reason"), [("", "empty"), ("a..b", "empty label"), ("x" * 64, "63"),
                                              (".".join(["x" * 60] * 5), "255"), ("工行.cn", "A-label")])
def test_names_that_cannot_be_encoded(name: str, reason: str) -> None:
    """Names the wire cannot carry are a ValueError saying why."""
    with pytest.raises(ValueError, match=reason):
        wire.encode_name(name)


_LABEL = st.binary(min_size=1, max_size=12)
_NAMES = st.lists(_LABEL, min_size=1, max_size=4).map(lambda labels: dns.name.Name([*labels, b""]))
_RDATA = st.one_of(
    st.tuples(st.just("A"), st.ip_addresses(v=4).map(str)),
    st.tuples(st.just("AAAA"), st.ip_addresses(v=6).map(str)),
    st.tuples(st.sampled_from(["CNAME", "NS"]), _NAMES.map(lambda name: name.to_text())),
    st.tuples(st.just("MX"), st.tuples(st.integers(0, 65535), _NAMES).map(lambda p: f"{p[0]} {p[1].to_text()}")),
    st.tuples(st.just("TXT"), st.lists(st.binary(max_size=20), min_size=1, max_size=3).map(
        lambda strings: " ".join('"' + "".join(f"\\{byte:03d}" for byte in text) + '"' for text in strings))),
    st.tuples(st.just("SOA"), st.tuples(_NAMES, _NAMES, st.lists(st.integers(0, 2**32 - 1), min_size=5,
                                                                  max_size=5)).map(
        lambda p: f"{p[0].to_text()} {p[1].to_text()} {' '.join(map(str, p[2]))}")),
    st.tuples(st.just("SRV"), st.just("1 2 3 srv.example.")),  # a type the prober skips
)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.tuples(_NAMES, st.integers(0, 2**31 - 1), _RDATA), max_size=6,
                        unique_by=lambda record: (record[0], record[2][0])))  # one record per rrset: no merging
def test_answer_reader_agrees_with_dnspython(records: list[tuple[dns.name.Name, int, tuple[str, str]]]) -> None:
    """The prober's own answer reader gives what dnspython's full parse gives, escapes and compression
    included, on replies dnspython builds with arbitrary names and data."""
    message = dns.message.make_response(dns.message.make_query("q.example", "A"))
    for owner, ttl, (rdtype, text) in records:
        message.answer.append(dns.rrset.from_text(owner, ttl, dns.rdataclass.IN, rdtype, text))
    data = message.to_wire()
    assert wire._answer_records(data) == wire._answer_records_dnspython(data)


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(min_size=12, max_size=120))
def test_answer_reader_survives_garbage(garbage: bytes) -> None:
    """Random bytes after a valid header give an Answer or a ValueError, nothing else."""
    data = b"\x12\x34\x81\x80\x00\x01\x00\x03\x00\x00\x00\x00" + garbage
    try:
        result = wire.read_answer(data, "q.example", 1)
    except ValueError:
        return
    assert isinstance(result, wire.Answer)


def test_outcome_order_of_failures() -> None:
    """A name with no NOERROR/NODATA is filed under its first failure in the order NXDOMAIN, SERVFAIL,
    REFUSED, TIMEOUT (the model's rule)."""
    assert overall_rcode(["TIMEOUT", "SERVFAIL", "REFUSED"]) == "SERVFAIL"
    assert overall_rcode(["TIMEOUT", "REFUSED"]) == "REFUSED"
    assert overall_rcode(["TIMEOUT", "NXDOMAIN", "SERVFAIL"]) == "NXDOMAIN"
    assert overall_rcode(["TIMEOUT", "NODATA"]) == "NOERROR"
