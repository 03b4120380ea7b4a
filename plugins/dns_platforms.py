"""DNS detector: a name whose answer is a tenant's site on a shared platform or a tunnel (weak evidence).

Throw-away fraud sites are often built on free hosting (``*.vercel.app``,
``*.netlify.app``, ``*.pages.dev``) or served from a laptop through a tunnel
(``*.ngrok-free.app``, ``*.trycloudflare.com``) or a dynamic DNS name
(``*.duckdns.org``), and given a name of their own by a CNAME. Honest sites do
that too (a blog, a product's documentation), so the finding is weak and only
adds to the name's other signals:

* CNAME (``dns.cname_chain``, else the CNAME records) to a tenant of a shared
  hosting platform of ``reference.shared_platforms()``: ``HOSTING`` (0.10);
* to a tenant of a tunnel or dynamic DNS service (:data:`TUNNELS`, a subset
  of those platforms): ``TUNNEL`` (0.15): a public name in front of a machine
  that may be anywhere, for as long as someone leaves it on.

Category ``suspicious_url``, below "suspicious" whatever else; about the name
asked. Nothing for a name that is itself on the platform (the URL detectors
see it), a brand's own or an allowlisted name, an answer through a wildcard
(the zone's configuration, not the name's), or a failed answer.
"""

from __future__ import annotations

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, DnsObservation, Finding
from fraudwall.plugins import dns_signals

name = "dns_platforms"
version = dns_signals.VERSION

# -- calibration ---------------------------------------------------------------

HOSTING = 0.10
TUNNEL = 0.15

#: Apexes of shared_platforms.toml that expose a machine rather than host a site: tunnels and dynamic DNS.
TUNNELS = frozenset({
    "ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "loca.lt", "localtunnel.me", "serveo.net",
    "duckdns.org", "no-ip.org", "ddns.net", "hopto.org", "zapto.org", "dynv6.net", "freeddns.org", "3322.org",
    "oicp.net", "vicp.net", "f3322.net",
})


def judge(dns: DnsObservation) -> list[Finding]:
    """At most one weak finding: the name is a CNAME to a tenant of a shared platform."""
    subject = dns_signals.subject_of(dns)
    if subject is None or dns.rcode != dns_signals.NOERROR:
        return []
    wildcard, _ = dns_signals.wildcard_zone(dns, subject)
    if wildcard or dns_signals.vouched(subject) or reference.shared_platform_of(subject):
        return []
    for target in dns_signals.cname_targets(dns):
        platform = reference.shared_platform_of(target)
        if platform:
            tunnel = platform in TUNNELS
            kind = "a tunnel or dynamic DNS service" if tunnel else "a shared hosting platform"
            return [dns_signals.finding(
                subject, name, Category.SUSPICIOUS_URL.value, TUNNEL if tunnel else HOSTING,
                f"{subject} is a CNAME to {target}, a tenant of {kind} ({platform}) where throw-away sites live.",
                evidence=[f"CNAME chain: {' -> '.join((subject, *dns_signals.cname_targets(dns)))}"],
                indicators=[("platform", platform), ("domain", target)],
            )]
    return []


@hookimpl
def analyze_dns(dns: DnsObservation) -> list[Finding]:
    """The weak shared-platform finding about ``dns.name``."""
    return judge(dns)
