"""APK detector: the backends, wallets, chat handles and signing certificate a fraud-like app carries.

A fraud app links a campaign together: the same USDT address, Telegram
"customer service", API host and signing key turn up in apps with a hundred
different names. This detector reports them as subjects of their own
(``wallet``, ``handle``, ``host``, ``ip``, ``certificate``), so that they can be
linked, probed and crawled, and published in the formats that carry them
(:func:`fraudwall.judging.judge` judges a finding about another subject into a
verdict of its own, beside the APK's). But honest apps embed hosts (their API,
SDKs), donation wallets and support handles too, so **what the app is decides
what its indicators are worth**. The rule:

1. The app's *profile* is the noisy-OR of every APK signal of
   :mod:`fraudwall.plugins.apk_signals` (impersonation, capabilities, loan
   profile, remote control, web shell, signing, endpoints): the score its own
   verdict gets from the apk_* plugins.
2. The app is *fraud-like* when the profile reaches ``SCORE_MALICIOUS``, or
   reaches ``SCORE_SUSPICIOUS`` on at least two independent concepts (each
   signal of 0.10 or more). One concept alone, short of malicious, is what
   honest apps also do (an SMS backup app reads SMS, contacts and call log):
   its indicators are nobody's business and nothing is reported but the
   endpoints finding below.
3. A fraud-like app's indicators carry its profile: wallets the profile itself
   (at most 0.95), chat handles 0.9x, the signing certificate 0.95x (never a key
   anyone can sign with: the debug and AOSP test keys), hosts and IP addresses
   0.75x and never above 0.70 — a host in a string table may still be an SDK's,
   so it stays suspicious until the crawler judges it by its own pages. So the
   wallet of a malicious app is malicious, that of a suspicious one suspicious.
4. One finding about the APK itself (category ``diversion``) adds that a
   fraud-like app hard-codes valid wallet addresses (0.12) or chat handles
   (0.08), 0.20 at most: an app that also says where to pay is worse.

5. Where a fraud-like app was downloaded from (``apk.download_url``, set when
   the crawler fetched it) is fraud's own distribution point: the download URL
   carries the profile (at most 0.95), and so does its host, unless the host
   is a shared platform's (a file host, a CDN, an app store: then only the
   URL names the fraud) or one fraudwall vouches for.

Hosts are never reported when fraudwall vouches for them (a brand's own
domains, the allowlist), when they belong to a shared platform (its apex or a
tenant: string tables name platform endpoints, not tenants) or to a library
(``LIBRARY_DOMAINS``: push, analytics, maps, ads, XML namespaces). Handles are
filed as ``kind:handle`` (``telegram:@kefu888``), so a QQ number and a phone
number never collide; wallets only when their checksum holds.

Independently of the profile, the app's **endpoints** are judged (category
``suspicious_url``, 0.35 at most): URLs on bare public IP addresses 0.10 (+0.05
on odd ports), dynamic-DNS or tunnel hosts 0.15, hosts on throw-away TLDs 0.08,
hosts named with fraud words (kefu, daikuan, usdt: ``domain_words.toml``) 0.10,
hosts named after a protected bank, payment service or government body that
does not own them (icbc-anquan.top) 0.20. Fraud backends are built that way; honest ones rarely are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from fraudwall import wallets
from fraudwall.exceptions import InvalidName
from fraudwall.hookspecs import hookimpl
from fraudwall.models import ApkObservation, Category, Finding, SubjectKind
from fraudwall.names import is_ip_literal, parse_url
from fraudwall.plugins import apk_signals
from fraudwall.reference import Brand, certificate_fingerprint
from fraudwall.settings import Settings

name = "apk_indicators"
version = apk_signals.VERSION

#: The diversion finding about the APK: wallets, handles, and its cap.
DIVERSION_WALLET = 0.12
DIVERSION_HANDLE = 0.08
DIVERSION_CAP = 0.20
#: Indicator scores of a fraud-like app, as a share of its profile, and their caps (see the module docstring).
WALLET_SHARE, WALLET_CAP = 1.0, 0.95
HANDLE_SHARE, HANDLE_CAP = 0.9, 0.95
CERTIFICATE_SHARE, CERTIFICATE_CAP = 0.95, 0.95
HOST_SHARE, HOST_CAP = 0.75, 0.70
DOWNLOAD_SHARE, DOWNLOAD_CAP = 1.0, 0.95
#: Signals of at least this score count as a concept towards "fraud-like" (see the module docstring).
CONCEPT_MIN_SCORE = 0.10
#: Most hosts and IP addresses reported per app (the first ones the app names).
MAX_HOSTS = 30
MAX_HANDLE_LENGTH = 200

_HANDLE_SPACES = re.compile(r"[\s-]+")


def valid_wallets(apk: ApkObservation) -> list[tuple[str, str]]:
    """``(kind, address)`` of the app's wallet addresses whose checksum holds, each once."""
    found: dict[str, str] = {}
    for _, address in apk.wallets:
        for kind, value in wallets.addresses(address.strip()):
            if value == address.strip():
                found.setdefault(value, kind)
    return [(kind, address) for address, kind in found.items()]


def handles(apk: ApkObservation) -> list[tuple[str, str]]:
    """``(kind, handle)`` of the app's chat handles, normalised the way the page view writes them, each once."""
    found: list[tuple[str, str]] = []
    for kind, value in apk.handles:
        kind, value = kind.strip().lower(), value.strip()
        if kind == "whatsapp":
            value = _HANDLE_SPACES.sub("", value)
        elif kind == "telegram":
            value = "@" + value.lstrip("@").lower()
        if kind and value and len(value) <= MAX_HANDLE_LENGTH and value.isprintable() and " " not in value:
            if (kind, value) not in found:
                found.append((kind, value))
    return found


def ip_addresses(apk: ApkObservation) -> list[str]:
    """Public IP addresses the app embeds (``apk.ips`` and the hosts of ``apk.urls``), resolvers left out."""
    found: list[str] = []
    candidates = list(apk.ips)
    for url in apk.urls:
        try:
            parts = parse_url(url)
        except (InvalidName, ValueError):
            continue
        if parts.is_ip:
            candidates.append(parts.host)
    for value in candidates:
        value = value.strip().strip("[]")
        if is_ip_literal(value) and apk_signals.public_ip(value) and value not in found:
            found.append(value)
    return found


def fraud_like(signals: Sequence[apk_signals.Signal], profile: float, suspicious: float, malicious: float) -> bool:
    """Malicious on the app's own signals, or suspicious on two independent concepts (rule 2)."""
    concepts = {signal.concept for signal in signals if signal.score >= CONCEPT_MIN_SCORE}
    return profile >= malicious or (profile >= suspicious and len(concepts) >= 2)


def judge(
    apk: ApkObservation, settings: Settings | None = None, brands: Sequence[Brand] | None = None,
) -> list[Finding]:
    """The endpoints finding, and the app's indicators as the profile allows (see the module docstring)."""
    settings = settings or Settings()
    suspicious, malicious = settings.getfloat("SCORE_SUSPICIOUS"), settings.getfloat("SCORE_MALICIOUS")
    signals = apk_signals.app_signals(apk, brands)
    findings = [apk_signals.to_finding(signal, apk.sha256, SubjectKind.APK, name, version)
                for signal in signals if signal.concept == "endpoints"]
    profile = apk_signals.profile(signals)
    if not fraud_like(signals, profile, suspicious, malicious):
        return findings
    top = max(signals, key=lambda signal: signal.score)
    basis = apk_signals.Signal(
        "indicators", top.category, 0.0,
        f"Carried by the APK {apk.sha256}, whose own signals score {profile:.2f} ({top.concept}: {top.reason})",
        (f"apk: {apk.sha256}", *(f"{s.concept} {s.score}: {s.reason[:120]}" for s in signals[:4])),
        (("apk", apk.sha256),),
    )

    status = "malicious" if profile >= malicious else "suspicious"

    def share(fraction: float, cap: float) -> float:
        return min(cap, profile * fraction)

    def indicator(subject: str, kind: SubjectKind, score: float, category: str, what: str) -> Finding:
        reason = f"{what}, in an app whose own signals make it {status}: {basis.reason}."
        return apk_signals.to_finding(basis, subject, kind, name, version, score=score, category=category,
                                      reason=reason, indicators=(("apk", apk.sha256), (str(kind), subject)))

    addresses = valid_wallets(apk)
    chats = handles(apk)
    if addresses or chats:
        diversion = min(DIVERSION_CAP, DIVERSION_WALLET * bool(addresses) + DIVERSION_HANDLE * bool(chats))
        carried = [*(f"{kind} wallet {address}" for kind, address in addresses),
                   *(f"{kind} {handle}" for kind, handle in chats)]
        findings.append(Finding(
            subject=apk.sha256, detector=name, detector_version=version, category=Category.DIVERSION.value,
            score=round(diversion, 3), subject_kind=SubjectKind.APK,
            reason=f"A fraud-like app (signals {profile:.2f}) hard-codes where victims pay and talk: "
                   + ", ".join(carried[:4]) + ".",
            evidence=tuple(carried[:8]), indicators=(*addresses, *chats),
        ))
    diversion_category = Category.DIVERSION.value
    for kind, address in addresses:
        findings.append(indicator(address, SubjectKind.WALLET, share(WALLET_SHARE, WALLET_CAP), diversion_category,
                                  f"{kind} wallet address hard-coded in the app"))
    for kind, handle in chats:
        findings.append(indicator(f"{kind}:{handle}", SubjectKind.HANDLE, share(HANDLE_SHARE, HANDLE_CAP),
                                  diversion_category, f"{kind} handle hard-coded in the app"))
    fingerprints: list[str] = []
    for certificate in apk.certificates:
        fingerprint = certificate_fingerprint(certificate.sha256)
        if apk_signals.public_key(certificate) or fingerprint in fingerprints:
            continue  # a key anyone can sign with links nobody
        fingerprints.append(fingerprint)
        findings.append(indicator(fingerprint, SubjectKind.CERTIFICATE, share(CERTIFICATE_SHARE, CERTIFICATE_CAP),
                                  Category.FAKE_APP.value,
                                  f"certificate that signs the app ({certificate.subject or 'no subject'})"))
    findings += download_findings(apk, share(DOWNLOAD_SHARE, DOWNLOAD_CAP), top.category, indicator)
    hosts = [host for host in apk_signals.embedded_hosts(apk) if apk_signals.reportable_host(host)]
    for host in hosts[:MAX_HOSTS]:
        findings.append(indicator(host, SubjectKind.HOST, share(HOST_SHARE, HOST_CAP), top.category,
                                  "host the app talks to"))
    for address in ip_addresses(apk)[:MAX_HOSTS]:
        findings.append(indicator(address, SubjectKind.IP, share(HOST_SHARE, HOST_CAP), top.category,
                                  "IP address the app talks to"))
    return findings


def download_findings(apk: ApkObservation, score: float, category: str, indicator: Callable[..., Finding]) -> list[Finding]:
    """The download URL of a fraud-like app, and its host unless a shared platform's or vouched for (rule 5)."""
    if not apk.download_url:
        return []
    try:
        url = parse_url(apk.download_url)
    except (InvalidName, ValueError):
        return []
    found = [indicator(url.url, SubjectKind.URL, score, category, "URL the app was downloaded from")]
    if not url.is_ip and apk_signals.reportable_host(url.host):
        found.append(indicator(url.host, SubjectKind.HOST, score, category, "host the app was downloaded from"))
    return found


@hookimpl
def analyze_apk(apk: ApkObservation, settings: Settings) -> list[Finding]:
    """The endpoints finding about ``apk``, and its indicators when it is fraud-like."""
    return judge(apk, settings)
