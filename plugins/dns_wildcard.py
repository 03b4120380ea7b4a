"""DNS detector: a catch-all wildcard on a zone named for a protected brand.

Fraud kits mint a fresh subdomain for every victim or SMS batch
(``a8f3k.icbc-kefu.top``) and point ``*.icbc-kefu.top`` at the landing page, so
that any name there answers. Blocking the random names one by one is hopeless;
the zone is what to block. So when the answer for a name came only through the
wildcard of ``dns.wildcard_zone`` (``dns.wildcard``, or the prober's
``wildcard`` sign), and the zone's own labels (the ones its registrant chose:
public suffix and shared-platform apex cut off) carry a brand token or hotline
from ``reference.brands()`` (read with ``fraudwall.host_labels``, as
``url_heuristics`` reads names), the detector reports:

* about the **zone** (a finding of its own, judged into its own verdict):
  ``ZONE`` (0.50), category ``brand_impersonation``: suspicious on its own, and
  it adds up with what the URL detectors say when the zone is judged by name;
* about the **name asked**: ``NAME`` (0.15) at most. A wildcard answer proves
  nothing about the name (any random label gets it), so it never makes a random
  name "registered", let alone malicious.

Nothing is said about a zone with no brand in its labels (wildcards are
common on honest zones), about a zone a brand owns, that is allowlisted, a
public suffix or a shared platform apex, about a parked catch-all (CNAME or
name server at a parking service: ``dns_signals.PARKING_PROVIDERS``; parked
names are for sale, not fraud), nor about a failed answer. Misspelt and
homoglyph zones are not read here: that reading lives in the ``lookalike``
plugin, which sees the full name (zone labels included) through
``analyze_url``, and plugins do not import each other.
"""

from __future__ import annotations

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.host_labels import owned_labels, token_in_label
from fraudwall.models import Category, DnsObservation, Finding
from fraudwall.names import parse_url
from fraudwall.plugins import dns_signals

name = "dns_wildcard"
version = dns_signals.VERSION

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

ZONE = 0.50
NAME = 0.15


def brand_tokens(zone: str) -> list[tuple[str, str, str]]:
    """(brand id, token, label) for every brand whose token or hotline one of the zone's own labels carries."""
    found = []
    for label in owned_labels(parse_url(f"http://{zone}/")):
        for brand in reference.brands():
            token = token_in_label(brand, label)
            if token:
                found.append((brand.id, token, label))
    return found


def judge(dns: DnsObservation) -> list[Finding]:
    """A finding about the brand-named wildcard zone, and a weak one about the name it answered for."""
    subject = dns_signals.subject_of(dns)
    if subject is None or dns.rcode != dns_signals.NOERROR:
        return []
    wildcard, zone = dns_signals.wildcard_zone(dns, subject)
    if not wildcard or zone is None or not dns_signals.blockable_zone(zone) or dns_signals.parking(dns):
        return []
    found = brand_tokens(zone)
    if not found:
        return []
    brands = list(dict.fromkeys(brand for brand, _, _ in found))
    evidence = [f"{brand}: label '{label}' carries '{token}'" for brand, token, label in found[:5]]
    evidence.append(f"*.{zone} answered for {subject}: {', '.join(dns_signals.answer_addresses(dns)[:4]) or 'records'}")
    indicators = [("brand", brand) for brand in brands]
    findings = [dns_signals.finding(
        zone, name, Category.BRAND_IMPERSONATION.value, ZONE,
        f"Zone {zone} is named for {brands[0]} and answers every name below it through a wildcard: "
        "a catch-all for throw-away fraud subdomains.",
        evidence=evidence, indicators=indicators,
    )]
    if subject != zone:
        findings.append(dns_signals.finding(
            subject, name, Category.BRAND_IMPERSONATION.value, NAME,
            f"{subject} answers only through the catch-all wildcard of {zone}, a zone named for {brands[0]}; "
            "the answer proves nothing about the name itself.",
            evidence=evidence, indicators=indicators,
        ))
    return findings


@hookimpl
def analyze_dns(dns: DnsObservation) -> list[Finding]:
    """The wildcard findings about ``dns.wildcard_zone`` and ``dns.name``."""
    return judge(dns)
