"""DNS detector: fast flux, a name whose addresses change fast across many unrelated networks.

Fraud sites hide their real server behind many short-lived front addresses
(often compromised home machines), handed out with low TTLs and replaced
between queries. CDNs look alike at first sight (low TTLs, several addresses
that change), so the rule asks for what a CDN does not do: one answer already
spread over unrelated networks, and new addresses from other networks in the
next rounds.

The rule, over the public addresses only (:func:`dns_signals.snapshots`: each
probe round in ``dns.address_rounds``, and the records' own set):

* **low TTL**: the A/AAAA records' smallest TTL is at most ``MAX_TTL`` (300 s);
* **spread**: at least ``MIN_ADDRESSES`` (6) distinct addresses in at least
  ``MIN_NETWORKS`` (5) distinct /16s (IPv6: /32s) overall, and the widest single
  answer already spans ``MIN_ANSWER_NETWORKS`` (3) /16s. A CDN or a load
  balancer answers from one point of presence: one or two /24s per answer,
  however much the rounds differ, so it never meets this;
* **rotation**: an answer differs from the one before it and at least
  ``MIN_NEW_ADDRESSES`` (2) addresses appeared beyond the largest single answer.

Low TTL, spread and rotation: ``ROTATING`` (0.60), category ``cloaking``:
suspicious on its own, since a name can rotate across networks by design
(pool.ntp.org is excluded by name), and malicious beside any other sign such as
a brand lookalike (0.45 + 0.60 -> 0.78). Low TTL and a single answer of at least
``SNAPSHOT_ADDRESSES`` (8) addresses in ``SNAPSHOT_NETWORKS`` (6) /16s, but no
rotation seen: ``SNAPSHOT`` (0.25), below suspicious.

Never flux: a name whose CNAME points into a CDN or a shared hosting platform
(``dns_signals.CDN_SUFFIXES``, ``reference.shared_platforms()``), a parked
name, a brand's own or allowlisted name, a round-robin pool, a failed or empty
answer. The prober's ``fast-flux`` sign is quoted in the evidence but scores
nothing by itself: the finding depends on the records alone, so re-analysis
gives the same answer whatever the prober's rule was.

An answer through a wildcard is the zone's (``dns.wildcard_zone``): the finding
is about that zone, never about the random name asked, and nothing is said
when the zone is unknown or may not be blocked. No finding is about an
address: flux fronts are other people's machines, and an address-level verdict
would block whoever has that address next.
"""

from __future__ import annotations

from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, DnsObservation, Finding
from fraudwall.plugins import dns_signals

name = "dns_flux"
version = dns_signals.VERSION

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

ROTATING = 0.60
SNAPSHOT = 0.25
MAX_TTL = 300
MIN_ADDRESSES = 6
MIN_NETWORKS = 5
MIN_ANSWER_NETWORKS = 3
MIN_NEW_ADDRESSES = 2
SNAPSHOT_ADDRESSES = 8
SNAPSHOT_NETWORKS = 6


def judge(dns: DnsObservation) -> list[Finding]:
    """At most one finding: fast flux, about the name (or about its wildcard zone)."""
    subject = dns_signals.subject_of(dns)
    if subject is None or dns.rcode != dns_signals.NOERROR:
        return []
    asked = subject
    wildcard, zone = dns_signals.wildcard_zone(dns, subject)
    if wildcard:
        if zone is None or not dns_signals.blockable_zone(zone):
            return []
        subject = zone
    if (dns_signals.vouched(subject) or dns_signals.under(subject, dns_signals.ROUND_ROBIN_POOLS)
            or dns_signals.delivery_platform(dns) or dns_signals.parking(dns)):
        return []
    ttls = dns_signals.address_ttls(dns)
    rounds = dns_signals.snapshots(dns)
    if not ttls or min(ttls) > MAX_TTL or not rounds:
        return []
    seen = frozenset().union(*rounds)
    overall = len(dns_signals.networks(seen, wide=True))
    widest = max(len(dns_signals.networks(round_, wide=True)) for round_ in rounds)
    largest = max(len(round_) for round_ in rounds)
    changes = sum(1 for before, after in zip(rounds, rounds[1:]) if before != after)
    rotating = (
        changes >= 1 and len(seen) - largest >= MIN_NEW_ADDRESSES
        and len(seen) >= MIN_ADDRESSES and overall >= MIN_NETWORKS and widest >= MIN_ANSWER_NETWORKS
    )
    snapshot = largest >= SNAPSHOT_ADDRESSES and widest >= SNAPSHOT_NETWORKS
    if not (rotating or snapshot):
        return []
    score = ROTATING if rotating else SNAPSHOT
    how = (f"{len(seen)} addresses in {overall} /16 networks over {len(rounds)} answers, {changes} of them changed"
           if rotating else f"one answer of {largest} addresses in {widest} /16 networks")
    where = f"the wildcard of {subject} (asked for {asked})" if wildcard else subject
    ordered = [sorted(round_, key=dns_signals.address_order) for round_ in rounds[:4]]
    evidence = [
        f"lowest address TTL: {min(ttls)} s",
        *(f"answer {index}: {', '.join(map(str, round_[:8]))}" for index, round_ in enumerate(ordered, 1)),
    ]
    if "fast-flux" in dns.signs:
        evidence.append("the prober also saw fast flux")
    return [dns_signals.finding(
        subject, name, Category.CLOAKING.value, score,
        f"Fast flux on {where}: {how}, with TTLs of {min(ttls)} s or less; CDNs answer from one network at a time.",
        evidence=evidence,
        indicators=[("ip", str(address)) for address in sorted(seen, key=dns_signals.address_order)[:10]],
    )]


@hookimpl
def analyze_dns(dns: DnsObservation) -> list[Finding]:
    """The fast-flux finding about ``dns.name`` (or its wildcard zone)."""
    return judge(dns)
