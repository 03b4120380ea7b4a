"""Names to judged DNS observations: the road ``probe``, ``permute --registered`` and ``recheck`` take.

Orchestration (like :mod:`fraudwall.apk_intake`): it wires the prober
(:mod:`fraudwall.crawler.dns_probe`) to the one judging road
(:func:`fraudwall.judging.judge`), the store and the names' lifecycle
(:mod:`fraudwall.blocklists.lifecycle`).

A name is judged when it exists (``NOERROR``): the name detectors see it
(``analyze_url``), then the DNS detectors see its answers (``analyze_dns``)
with the pivots of names already blocked. A name that does not exist, or
whose resolver failed, gets no verdict (publishing names nobody registered
would fill lists with noise); its outcome is still reported and, with a
store, moves its lifecycle. A name that answers only through a parent zone's
wildcard is never counted as registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fraudwall.crawler.dns_probe import Nameserver, ProbeOptions, parse_nameserver, probe, system_nameservers
from fraudwall.crawler.seeds import read_seeds
from fraudwall.exceptions import ConfigError
from fraudwall.judging import judge
from fraudwall.models import DnsObservation, DnsPivots, Judgement
from fraudwall.names import is_ip_literal, parse_url
from fraudwall.plugin_host import PluginHost
from fraudwall.rejections import Rejections
from fraudwall.settings import Settings


@dataclass(frozen=True, slots=True)
class DnsOutcome:
    """One probed name: what the resolver said, and its judgement when the name exists."""

    observation: DnsObservation
    judgement: Judgement | None = None


def nameservers_from(settings: Settings, given: Sequence[str] = ()) -> list[Nameserver]:
    """The resolvers to ask: ``--nameserver`` values, else ``DNS_NAMESERVERS``, else the system's."""
    values = list(given) or settings.getlist("DNS_NAMESERVERS")
    if not values:
        found = system_nameservers()
        if not found:
            raise ConfigError("no resolver to ask: /etc/resolv.conf names none; give --nameserver HOST:PORT")
        return found
    servers = []
    for value in values:
        try:
            servers.append(parse_nameserver(value))
        except ValueError as error:
            raise ConfigError(f"bad nameserver {value!r}: {error}") from None
    return servers


def probe_options(settings: Settings) -> ProbeOptions:
    """The prober's options from the ``DNS_*`` settings."""
    return ProbeOptions(timeout=settings.getfloat("DNS_TIMEOUT"), retries=settings.getint("DNS_RETRIES"),
                        concurrency=settings.getint("DNS_CONCURRENCY"), rate=settings.getfloat("DNS_RATE"))


def names_to_probe(values: Iterable[str]) -> tuple[list[str], Rejections]:
    """The host names that command-line values give (names, URLs, or list and feed files), each once, in order.

    Read like crawl seeds, so a file is read the same wherever it is given;
    an address has no name to probe (``ip-address``), and every value that
    is no usable name is a counted rejection with its reason.
    """
    seeds = read_seeds(values)
    rejected = seeds.rejected
    names: dict[str, None] = {}
    for target in seeds.targets:
        host = parse_url(target.url).host
        if is_ip_literal(host):
            rejected.add(host, "ip-address")
        else:
            names[host] = None
    return list(names), rejected


def registered(observation: DnsObservation) -> bool:
    """True when the name exists with an answer of its own: not NXDOMAIN, not a failure, not a wildcard's."""
    return observation.rcode == "NOERROR" and not observation.wildcard


def probe_and_judge(
    names: Iterable[str], servers: Sequence[Nameserver], options: ProbeOptions, host: PluginHost,
    pivots: DnsPivots | None = None,
) -> Iterator[DnsOutcome]:
    """Probe ``names`` and judge each one that exists, in the order the answers come."""
    for observation in probe(names, servers, options):
        judgement = judge(host, observation, pivots=pivots) if observation.rcode == "NOERROR" else None
        yield DnsOutcome(observation, judgement)


def dns_record(outcome: DnsOutcome) -> dict[str, Any]:
    """One probed name as a JSON line: outcomes per record type, records with TTLs, signs, and its verdict."""
    observation = outcome.observation
    record: dict[str, Any] = {
        "name": observation.name, "rcode": observation.rcode, "outcomes": dict(observation.outcomes),
        "records": [{"type": r.type, "value": r.value, "ttl": r.ttl, **({"owner": r.owner} if r.owner else {})}
                    for r in observation.records],
        "cname_chain": list(observation.cname_chain), "wildcard": observation.wildcard,
        "signs": list(observation.signs), "resolver": observation.resolver,
    }
    if observation.wildcard_zone:
        record["wildcard_zone"] = observation.wildcard_zone
    if outcome.judgement is None:
        record["verdict"] = None
        return record
    verdict = outcome.judgement.verdict
    record.update(
        verdict=str(verdict.status), score=verdict.score, categories=list(verdict.categories),
        findings=[{"detector": f.detector, "category": str(f.category), "score": f.score, "reason": f.reason,
                   "evidence": list(f.evidence)}
                  for f in sorted(outcome.judgement.findings, key=lambda f: (-f.score, f.detector))],
    )
    return record
