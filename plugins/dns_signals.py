"""What the DNS detectors read in a resolver's answer: the facts every ``dns_*`` plugin weighs.

Not a plugin itself (``setup.cfg`` registers nothing from it): the shared
reading behind ``dns_flux``, ``dns_wildcard``, ``dns_pivots`` and
``dns_platforms``, the way ``apk_signals`` serves the APK detectors. The
plugins share one version, :data:`VERSION`: **change anything here and bump
it**, so that ``fraudwall reanalyze`` re-runs every DNS plugin over stored
observations.

Every function is pure: it reads a :class:`~fraudwall.models.DnsObservation`
and fraudwall's reference data (``fraudwall/data/``), never the network, a file
or the clock. The lists below are facts about the DNS industry that no
reference file holds yet; each is small on purpose and documented, and its
natural home is a data file in ``fraudwall/data/`` beside
``shared_platforms.toml`` (say ``dns_providers.toml``) once ``fraudwall.reference``
has a loader for it:

* :data:`CDN_SUFFIXES`: names a CNAME points into when a site sits behind a
  content delivery network or a cloud load balancer. Their addresses are
  low-TTL, numerous and changing for every customer: never fast flux, never a
  pivot (see also ``reference.shared_platforms()``, the hosting platforms);
* :data:`BIG_DNS_PROVIDERS`: public DNS hosts and registrar defaults that serve
  millions of zones: sharing one of their name servers with a blocked name
  links nothing;
* :data:`PARKING_PROVIDERS`: domain parking services; a parked name (CNAME or
  name server there) is for sale, not fraud, and its catch-all answers every
  name;
* :data:`SHARED_PROXY_NETWORKS`: Cloudflare's published address ranges. A site
  behind its proxy shows anycast addresses shared by millions of unrelated
  sites, without a CNAME: such an address is no pivot;
* :data:`ROUND_ROBIN_POOLS`: volunteer pools that answer each query with a few
  addresses of a large, changing set on purpose (pool.ntp.org): fast flux by
  shape, not by intent.

Answers through a wildcard are the zone's, not the name's (see
:func:`wildcard_zone`): a random label under a catch-all is no registered name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from fraudwall import reference
from fraudwall.exceptions import InvalidName
from fraudwall.host_labels import vouched_for
from fraudwall.models import DnsObservation, Finding, SubjectKind
from fraudwall.names import is_public_suffix, normalize_name, parse_url, registrable_domain

#: The version of every dns_* plugin: they report what this module reads (see the docstring).
VERSION = "1.0"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: CNAME targets of CDNs and cloud load balancers (the name or a parent of it), by operator.
CDN_SUFFIXES = frozenset({
    # Akamai
    "akamai.net", "akamaiedge.net", "akamaihd.net", "akamaized.net", "akadns.net", "edgekey.net", "edgesuite.net",
    # Amazon CloudFront, Elastic Load Balancing, Global Accelerator
    "cloudfront.net", "elb.amazonaws.com", "awsglobalaccelerator.com",
    # Cloudflare (CNAME setup), Fastly, Microsoft Azure Front Door / CDN / Traffic Manager
    "cdn.cloudflare.net", "fastly.net", "fastlylb.net", "azureedge.net", "azurefd.net", "trafficmanager.net",
    # Edgio / Limelight, StackPath, CDN77, BunnyCDN, Imperva, Google-hosted custom domains
    "edgecastcdn.net", "llnwd.net", "hwcdn.net", "cdn77.org", "b-cdn.net", "incapdns.net", "ghs.googlehosted.com",
    # Alibaba Cloud CDN
    "kunlunaq.com", "kunlunca.com", "kunlunsl.com", "alikunlun.com", "alikunlun.net", "cdngslb.com", "tbcache.com",
    # Tencent Cloud CDN / EdgeOne, Baidu Cloud CDN, Huawei Cloud CDN, Qiniu, Kingsoft Cloud, Volcengine
    "cdn.dnsv1.com", "cdn.dnsv1.com.cn", "tencent-cloud.net", "bdydns.com", "jomodns.com", "cdnhwc1.com",
    "qiniudns.com", "ksyuncdn.com", "volcgslb.com", "bytegslb.com",
    # Wangsu / ChinaNetCenter, ChinaCache
    "wscdns.com", "wscloudcdn.com", "lxdns.com", "wsglb0.com", "ourwebcdn.com", "ccgslb.com", "ccgslb.net",
    # CNAME targets of hosting platforms whose tenant apexes are in shared_platforms.toml
    "herokudns.com", "vercel-dns.com",
})

#: Name server hosts (the name or a parent of it) of DNS providers and registrars that serve millions of zones.
BIG_DNS_PROVIDERS = frozenset({
    # global DNS hosts
    "ns.cloudflare.com", "cloudflare.com", "nsone.net", "googledomains.com", "google.com",
    "azure-dns.com", "azure-dns.net", "azure-dns.org", "azure-dns.info", "ultradns.com", "ultradns.net",
    "ultradns.org", "ultradns.biz", "dynect.net", "akam.net", "dnsmadeeasy.com", "dnsimple.com", "he.net",
    "cloudns.net", "afraid.org", "linode.com", "digitalocean.com", "vultr.com", "ovh.net", "gandi.net",
    "vercel-dns.com", "wixdns.net",
    # registrar defaults
    "domaincontrol.com", "registrar-servers.com", "dnsowl.com", "name-services.com", "worldnic.com",
    "porkbun.com", "dyna-ns.net", "namebrightdns.com",
    # Chinese DNS hosts and registrars: DNSPod (Tencent), Alibaba Cloud DNS / HiChina, Huawei Cloud, Xinnet, West.cn
    "dnspod.net", "dnspod.com", "dnsv2.com", "dnsv3.com", "dnsv4.com", "dnsv5.com", "alidns.com", "hichina.com",
    "huaweicloud-dns.com", "huaweicloud-dns.net", "huaweicloud-dns.cn", "huaweicloud-dns.org",
    "xincache.com", "myhostadmin.net",
})
#: Amazon Route 53 name servers: ``ns-1234.awsdns-56.org`` (and .com, .net, .co.uk).
_ROUTE53 = re.compile(r"(?:^|\.)awsdns-\d+\.(?:com|net|org|co\.uk)$")

#: Domain parking and domain sale services (name servers and CNAME targets).
PARKING_PROVIDERS = frozenset({
    "sedoparking.com", "parkingcrew.net", "bodis.com", "above.com", "dan.com", "afternic.com", "hugedomains.com",
    "parklogic.com", "cashparking.com", "dns-parking.com",
})

#: Cloudflare's published proxy ranges (https://www.cloudflare.com/ips/): shared anycast addresses.
SHARED_PROXY_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
))

#: Pools that rotate addresses from a large volunteer set by design.
ROUND_ROBIN_POOLS = frozenset({"pool.ntp.org"})

#: Outcome of a name that exists; every other rcode (NXDOMAIN, SERVFAIL, TIMEOUT, REFUSED) scores nothing.
NOERROR = "NOERROR"


# -- names -------------------------------------------------------------------------


def clean(name: str) -> str:
    """A name as the lists above and the pivots hold it: lowercase, without the final dot."""
    return name.strip().lower().rstrip(".")


def subject_of(dns: DnsObservation) -> str | None:
    """The name the verdict is about, normalised as :func:`fraudwall.judging.judge` does; ``None`` when unusable."""
    try:
        return normalize_name(dns.name, allow_underscore=True)
    except InvalidName:
        return None


def under(name: str, suffixes: Iterable[str]) -> str | None:
    """The first of ``suffixes`` that ``name`` is, or is below."""
    name = clean(name)
    for suffix in suffixes:
        if name == suffix or name.endswith("." + suffix):
            return suffix
    return None


def _parents(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[index:]) for index in range(len(labels))]


def vouched(name: str) -> bool:
    """A brand's own name, an allowlisted site or a shared platform apex: the DNS detectors leave it alone."""
    try:
        return vouched_for(parse_url(f"http://{name}/"))
    except InvalidName:
        return True  # nothing to say about what is no name


def blockable_zone(zone: str) -> bool:
    """True when ``zone`` may carry a finding of its own: a registered name or below one, no public suffix,
    no shared platform apex, nothing vouched for."""
    return bool(registrable_domain(zone)) and not is_public_suffix(zone) and not vouched(zone)


def cname_targets(dns: DnsObservation) -> tuple[str, ...]:
    """Every name the answer went through by CNAME, in order: the chain, else the CNAME records' values."""
    chain = dns.cname_chain or dns.values("CNAME")
    return tuple(dict.fromkeys(clean(name) for name in chain if name))


def delivery_platform(dns: DnsObservation) -> str | None:
    """The CDN suffix or shared hosting platform a CNAME of the answer points into (tenant or apex), if any."""
    platforms = reference.shared_platforms()
    for target in cname_targets(dns):
        found = under(target, CDN_SUFFIXES) or next((p for p in _parents(target) if p in platforms), None)
        if found:
            return found
    return None


def nameservers(dns: DnsObservation) -> tuple[str, ...]:
    """The NS record values of the answer (whatever their owner), cleaned, each once."""
    return tuple(dict.fromkeys(clean(value) for value in dns.values("NS") if value.strip(".")))


def big_dns_provider(server: str) -> str | None:
    """The provider (suffix) of a name server that serves millions of zones, or ``None`` for a dedicated one."""
    server = clean(server)
    if _ROUTE53.search(server):
        return "awsdns (Amazon Route 53)"
    return under(server, BIG_DNS_PROVIDERS) or under(server, PARKING_PROVIDERS)


def parking(dns: DnsObservation) -> str | None:
    """The parking service a CNAME or a name server of the answer points to, or ``None``."""
    for name in (*cname_targets(dns), *nameservers(dns)):
        found = under(name, PARKING_PROVIDERS)
        if found:
            return found
    return None


def wildcard_zone(dns: DnsObservation, subject: str) -> tuple[bool, str | None]:
    """Whether the answer came through a wildcard, and the zone whose wildcard it is when that zone is usable.

    The zone is usable when it is a valid name that is ``subject`` or a parent of it; the prober's
    ``wildcard`` sign counts as the flag.
    """
    wildcard = dns.wildcard or "wildcard" in dns.signs
    if not wildcard or not dns.wildcard_zone:
        return wildcard, None
    try:
        zone = normalize_name(dns.wildcard_zone.lstrip("*."), allow_underscore=True)
    except InvalidName:
        return wildcard, None
    return wildcard, zone if subject == zone or subject.endswith("." + zone) else None


# -- addresses -------------------------------------------------------------------------


def parse_address(value: str) -> Address | None:
    """An address record's value as an address, ``None`` when it is none."""
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def public(addresses: Iterable[str]) -> list[Address]:
    """The globally routed addresses among ``addresses``, each once, in order: loopback, private, reserved and
    sinkhole-style answers (0.0.0.0, 127.0.0.1) link nothing on the Internet."""
    found: dict[Address, None] = {}
    for value in addresses:
        address = parse_address(value)
        if address is not None and address.is_global:
            found.setdefault(address)
    return list(found)


def answer_addresses(dns: DnsObservation) -> tuple[str, ...]:
    """The A and AAAA values of the answer's records (the end of a CNAME chain included)."""
    return (*dns.values("A"), *dns.values("AAAA"))


def snapshots(dns: DnsObservation) -> list[frozenset[Address]]:
    """The successive public address sets of the name: each probe round, and the records when they are not
    one of the rounds (one set when there are no rounds); empty sets left out."""
    rounds = [frozenset(public(round_)) for round_ in dns.address_rounds]
    records = frozenset(public(answer_addresses(dns)))
    if records and records not in rounds:
        rounds.insert(0, records)
    return [round_ for round_ in rounds if round_]


def address_order(address: Address) -> tuple[int, int]:
    """Sort key of addresses: IPv4 first, then numerically."""
    return address.version, int(address)


def network(address: Address, wide: bool = False) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network an address is counted in: a /24 (wide: /16) for IPv4, a /48 (wide: /32) for IPv6.

    A /24 is what one hosting customer or one CDN point of presence usually holds; distinct /16s
    are a cheap stand-in for distinct operators when no AS numbers are known.
    """
    prefix = (16 if wide else 24) if address.version == 4 else (32 if wide else 48)
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def networks(addresses: Iterable[Address], wide: bool = False) -> set[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The distinct networks (see :func:`network`) of ``addresses``."""
    return {network(address, wide) for address in addresses}


def shared_proxy(address: Address) -> bool:
    """True for an address of a big shared reverse proxy (:data:`SHARED_PROXY_NETWORKS`)."""
    return any(address.version == net.version and address in net for net in SHARED_PROXY_NETWORKS)


def address_ttls(dns: DnsObservation) -> list[int]:
    """The TTLs of the answer's A and AAAA records."""
    return [record.ttl for record in dns.records if record.type in ("A", "AAAA")]


# -- findings -------------------------------------------------------------------------


def finding(
    subject: str, detector: str, category: str, score: float, reason: str,
    evidence: Sequence[str] = (), indicators: Sequence[tuple[str, str]] = (),
) -> Finding:
    """A finding of a DNS detector about a host name, at this module's :data:`VERSION`."""
    return Finding(
        subject=subject, detector=detector, detector_version=VERSION, category=category, score=round(score, 3),
        reason=reason, evidence=tuple(dict.fromkeys(evidence)), indicators=tuple(dict.fromkeys(indicators)),
        subject_kind=SubjectKind.HOST,
    )
