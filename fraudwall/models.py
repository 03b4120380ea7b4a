"""Shared types: the values that flow from one stage to the next.

Every stage speaks in these frozen dataclasses and nothing else: the crawler
produces observations, plugins turn observations into findings, the store turns
findings into verdicts and block entries, exporters render block entries. They
hold plain values (tuples, not lists) so they can be hashed, compared, stored
and sent between processes without surprises.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Category(str, enum.Enum):
    """What kind of fraud a finding points to.

    Plugins may use other category strings; these are the ones fraudwall's own
    detectors, scoring and exporters know by name.
    """

    TASK_REBATE = "task_rebate"  # 刷单返利: paid "tasks", advance payments
    INVESTMENT = "investment"  # 虚假投资理财, pig-butchering, USDT
    LOAN = "loan"  # 虚假网络贷款: "unfreezing" and deposit fees
    CUSTOMER_SERVICE = "customer_service"  # 虚假客服: refunds, claims, screen sharing
    IMPERSONATION = "police_impersonation"  # 冒充公检法: "safe account"
    FAKE_APP = "fake_app"  # download pages for fraud apps
    BRAND_IMPERSONATION = "brand_impersonation"  # a protected brand on a foreign domain
    CREDENTIAL_PHISHING = "credential_phishing"  # asks for card, PIN, ID number on a foreign domain
    FAKE_SUBSIDY = "fake_subsidy"  # fake subsidies and tax refunds
    DIVERSION = "diversion"  # chat IDs and wallet addresses that move victims off the page
    CLOAKING = "cloaking"  # redirect-only pages, decoded payloads, obfuscation
    SUSPICIOUS_URL = "suspicious_url"  # URL or domain shape alone

    def __str__(self) -> str:
        return self.value


class VerdictStatus(str, enum.Enum):
    """The decision about a subject, from most to least severe."""

    MALICIOUS = "malicious"
    SUSPICIOUS = "suspicious"
    BENIGN = "benign"
    ALLOWLISTED = "allowlisted"

    def __str__(self) -> str:
        return self.value


class Scope(str, enum.Enum):
    """How much of the DNS tree a block entry covers."""

    EXACT = "exact"  # this one name
    SUBTREE = "subtree"  # this name and every name below it

    def __str__(self) -> str:
        return self.value


class Action(str, enum.Enum):
    """What a resolver or gateway should do with a name."""

    BLOCK = "block"
    ALLOW = "allow"  # an explicit exception under a blocked parent

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Target:
    """Something to fetch: a URL, with where it came from."""

    url: str
    source: str = "seed"
    parent: str | None = None
    depth: int = 0


@dataclass(frozen=True, slots=True)
class UrlParts:
    """A URL split the way detectors need it, host already IDNA-normalised.

    ``host`` is lowercase A-labels (``xn--...``) or an IP literal; ``unicode_host``
    is the same name with U-labels for humans and homoglyph checks.
    ``registrable_domain`` is the public-suffix-aware registered domain
    (``example.com.cn``); it is empty for IP literals and bare suffixes.
    """

    url: str
    scheme: str
    host: str
    unicode_host: str
    port: int | None
    path: str
    query: str
    registrable_domain: str
    subdomain: str
    suffix: str
    is_ip: bool


@dataclass(frozen=True, slots=True)
class Link:
    """An outgoing link on a page, absolute."""

    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form: its name, type and the words a user sees near it."""

    name: str
    type: str = "text"
    label: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    """A form on a page."""

    action: str
    method: str = "get"
    fields: tuple[FormField, ...] = ()


@dataclass(frozen=True, slots=True)
class PageObservation:
    """What a fetched page looked like to one client profile.

    ``html`` is the decoded body; ``text`` the visible text (scripts and styles
    removed, whitespace collapsed). ``scripts`` holds inline script bodies and
    the URLs of external ones. ``content_hash`` is the SHA-256 of the raw body
    bytes, so identical bodies are stored once and re-analysed once.
    """

    url: str
    final_url: str
    status: int
    html: str
    text: str
    title: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    redirect_chain: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    forms: tuple[Form, ...] = ()
    scripts: tuple[str, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    image_alts: tuple[str, ...] = ()
    encoding: str = "utf-8"
    content_hash: str = ""
    fetched_as: str = "default"
    ip: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One answer record with its TTL."""

    type: str
    value: str
    ttl: int


@dataclass(frozen=True, slots=True)
class DnsObservation:
    """The answer to one DNS question. Failures are data: ``rcode`` may be
    ``NXDOMAIN``, ``SERVFAIL`` or ``TIMEOUT``, never an exception."""

    name: str
    rcode: str
    records: tuple[DnsRecord, ...] = ()
    wildcard: bool = False
    resolver: str = ""
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's claim about one subject, with the evidence behind it.

    ``score`` is in [0, 1]: how strongly this finding alone says "fraud".
    ``evidence`` holds short human-readable snippets; ``indicators`` holds
    typed values for linking campaigns, e.g. ``("telegram", "@kefu888")``.
    Findings are keyed by (subject, detector, detector_version, category), so a
    changed detector can be re-run over stored evidence beside the old results.
    """

    subject: str
    detector: str
    detector_version: str
    category: str
    score: float
    reason: str
    evidence: tuple[str, ...] = ()
    indicators: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"finding score must be within [0, 1], got {self.score!r}")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The combined decision about one subject, explained by its findings."""

    subject: str
    score: float
    status: VerdictStatus
    categories: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """One name (or URL) to publish, with everything a format needs to render it faithfully.

    A name-level entry blocks ``name`` (and, with ``Scope.SUBTREE``, every name
    below it). A URL-level entry sets ``url``; ``name`` is then the URL's host,
    and only formats that match URLs (Squid ``url_regex``, Suricata HTTP rules,
    the threat-intel formats) publish it: a phishing page on a shared platform
    must never turn into a block of the platform's host. ``addresses`` are the
    IPs the name was seen resolving to, for IP-set formats.
    """

    name: str
    scope: Scope = Scope.EXACT
    action: Action = Action.BLOCK
    categories: tuple[str, ...] = ()
    confidence: float = 1.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    expires: datetime | None = None
    sources: tuple[str, ...] = field(default=())
    url: str = ""
    addresses: tuple[str, ...] = ()
