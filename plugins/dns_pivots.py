"""DNS detector: a name on the same infrastructure as names already judged malicious.

Fraud groups register names by the hundred and host them together: the same
few servers, the same throw-away name servers. ``pivots`` (the store's
:func:`~fraudwall.blocklists.lifecycle.dns_pivots`) maps the addresses and the
name servers of malicious names to a few of those names; a name whose answer
uses one of them is linked to them. How much that link weighs depends on how
many honest names share the same thing:

* **an address** (A/AAAA, of the records or of any probe round), counted once
  per /24 (IPv6: /48): shared hosting puts thousands of names on one address,
  so ``ADDRESS[n]`` is 0.30, 0.35 or 0.40 for 1, 2 or 3+ malicious names
  there: suspicious at most, whatever else;
* **a dedicated name server**, counted once per operator (the registered domain
  of the server's name: ``ns1`` and ``ns2.evil-dns.top`` are one): ``NAMESERVER[n]``
  is 0.50, 0.55 or 0.60 for 1, 2 or 3+ malicious names on it, so that a
  misspelt brand (0.45) on the servers of two blocked names is malicious (0.75)
  while the servers alone only make a name suspicious. Big public DNS hosts and registrar defaults (Cloudflare, DNSPod,
  Alibaba Cloud DNS / HiChina, Route 53, NS1, GoDaddy...: ``dns_signals.BIG_DNS_PROVIDERS``)
  and parking services serve millions of zones and link nothing;
* **several pivots** add up by noisy-OR: a dedicated name server and an
  address (0.65), two name server operators (0.75, malicious). Addresses alone stay below
  ``ADDRESSES_MAX`` (0.60); the finding never exceeds ``SCORE_MAX`` (0.85).

No address counts when the name is served through a CDN or a shared hosting
platform (a CNAME into ``dns_signals.CDN_SUFFIXES`` or
``reference.shared_platforms()``), nor when it sits in Cloudflare's shared
proxy ranges, nor when it is not public (127.0.0.1, private ranges, the
sinkhole answers of parked or seized names); and nothing counts for a parked
name, a brand's own or an allowlisted name, a failed answer, or a pivot that
only leads back to the name itself. The finding (category ``suspicious_url``)
is about the name, with the linked malicious names as evidence and
indicators; an answer through a wildcard is the zone's, so the finding is then
about ``dns.wildcard_zone`` (when it may be blocked), never about the random
name asked. No finding is about an address: one shared address is no reason to
block every site on it.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, DnsObservation, DnsPivots, Finding
from fraudwall.names import registrable_domain
from fraudwall.plugins import dns_signals

name = "dns_pivots"
version = dns_signals.VERSION

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: An address network shared with 1, 2, 3 or more malicious names.
ADDRESS = {1: 0.30, 2: 0.35, 3: 0.40}
#: A dedicated name server operator shared with 1, 2, 3 or more malicious names.
NAMESERVER = {1: 0.50, 2: 0.55, 3: 0.60}
ADDRESSES_MAX = 0.60
SCORE_MAX = 0.85


def _linked(names: tuple[str, ...] | None, own: set[str]) -> list[str]:
    """The malicious names of a pivot other than the name (and zone) judged now."""
    return [linked for linked in dict.fromkeys(names or ()) if dns_signals.clean(linked) not in own]


def judge(dns: DnsObservation, pivots: DnsPivots) -> list[Finding]:
    """At most one finding: the name (or its wildcard zone) shares infrastructure with malicious names."""
    subject = dns_signals.subject_of(dns)
    if subject is None or dns.rcode != dns_signals.NOERROR or not (pivots.addresses or pivots.nameservers):
        return []
    own, asked = {subject}, subject
    wildcard, zone = dns_signals.wildcard_zone(dns, subject)
    if wildcard:
        if zone is None or not dns_signals.blockable_zone(zone):
            return []
        subject = zone
        own.add(zone)
    if dns_signals.vouched(subject) or dns_signals.parking(dns):
        return []
    groups: dict[str, tuple[str, list[str], list[str]]] = {}  # key -> (kind, what, linked names)
    if not dns_signals.delivery_platform(dns):
        rounds = (value for round_ in dns.address_rounds for value in round_)
        for value in dict.fromkeys((*dns_signals.answer_addresses(dns), *rounds)):
            address = dns_signals.parse_address(value)
            if address is None or not address.is_global or dns_signals.shared_proxy(address):
                continue
            # The store keeps addresses as probes wrote them; a canonical form finds the same address written otherwise.
            linked = _linked(pivots.addresses.get(str(address)) or pivots.addresses.get(value.strip()), own)
            if linked:
                _, what, names = groups.setdefault(str(dns_signals.network(address)), ("address", [], []))
                what.append(str(address))
                names.extend(linked)
    for server in dns_signals.nameservers(dns):
        if dns_signals.big_dns_provider(server):
            continue
        linked = _linked(pivots.nameservers.get(server) or pivots.nameservers.get(server + "."), own)
        if linked:
            _, what, names = groups.setdefault(registrable_domain(server) or server, ("nameserver", [], []))
            what.append(server)
            names.extend(linked)
    if not groups:
        return []
    remaining = 1.0
    evidence, indicators = [], []
    for kind, what, names in groups.values():
        linked = list(dict.fromkeys(names))
        weights = NAMESERVER if kind == "nameserver" else ADDRESS
        weight = weights[min(len(linked), max(weights))]
        remaining *= 1.0 - weight
        evidence.append(f"{kind} {', '.join(what)} also serves {', '.join(linked[:3])}")
        indicators += [("ip" if kind == "address" else "nameserver", item) for item in what]
        indicators += [("domain", item) for item in linked[:3]]
    score = 1.0 - remaining
    if all(kind == "address" for kind, _, _ in groups.values()):
        score = min(score, ADDRESSES_MAX)
    score = min(score, SCORE_MAX)
    kinds = sorted({kind for kind, _, _ in groups.values()})
    where = f"The wildcard of {subject} (asked for {asked})" if wildcard else subject
    return [dns_signals.finding(
        subject, name, Category.SUSPICIOUS_URL.value, score,
        f"{where} shares {len(groups)} piece(s) of infrastructure ({' and '.join(kinds)}) with names already "
        "judged malicious.",
        evidence=evidence, indicators=indicators,
    )]


@hookimpl
def analyze_dns(dns: DnsObservation, pivots: DnsPivots) -> list[Finding]:
    """The shared-infrastructure finding about ``dns.name`` (or its wildcard zone)."""
    return judge(dns, pivots)
