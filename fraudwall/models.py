"""Shared types: the values that flow from one stage to the next.

Every stage speaks in these frozen dataclasses and nothing else: the crawler
produces observations, plugins turn observations into findings, the store turns
findings into verdicts and block entries, exporters render block entries. They
hold plain values (tuples, not lists) so they can be hashed, compared, stored
and sent between processes without surprises.
"""

from __future__ import annotations

import enum
import ipaddress
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


class SubjectKind(str, enum.Enum):
    """What a finding or a verdict is about, and so where it may be published.

    Names (``host``) and ``url`` reach every list format, ``ip`` the IP-set
    formats, and the rest (an APK's sha256, a signing certificate's sha256, a
    wallet address, a chat handle) only the threat-intelligence formats (csv,
    json, stix, misp): a hash never becomes a URL or a name entry.
    """

    URL = "url"
    HOST = "host"
    IP = "ip"
    APK = "apk"  # the APK file's sha256
    CERTIFICATE = "certificate"  # the signing certificate's sha256
    WALLET = "wallet"
    HANDLE = "handle"  # a chat handle: Telegram, WhatsApp, QQ, WeChat...

    def __str__(self) -> str:
        return self.value

    @property
    def blocklistable(self) -> bool:
        """True for the kinds resolver and gateway lists can carry: hosts, URLs and IP addresses."""
        return self in (SubjectKind.URL, SubjectKind.HOST, SubjectKind.IP)

    @classmethod
    def of(cls, subject: str) -> SubjectKind:
        """The kind a subject reads as when none is given: a URL, an IP address, or else a host name."""
        if "://" in subject:
            return cls.URL
        try:
            ipaddress.ip_address(subject.strip("[]"))
        except ValueError:
            return cls.HOST
        return cls.IP


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
class ServerCertificate:
    """The certificate an https server presented with a page: evidence, never a reason to refuse the page.

    ``sha256`` is the fingerprint of its DER form (as ``openssl x509 -fingerprint
    -sha256`` prints it, lower-case hex without colons), the key certificate
    search engines and transparency logs are queried by. ``names`` are its
    subjectAltName DNS names and addresses, in its order: the names one
    certificate request put together, often all of a fraud group's sites at once.
    """

    sha256: str
    subject: str
    issuer: str
    names: tuple[str, ...] = ()
    not_before: datetime | None = None
    not_after: datetime | None = None

    @property
    def self_signed(self) -> bool:
        """True when the certificate names itself as its issuer (no authority vouched for it)."""
        return self.subject == self.issuer

    def covers(self, host: str) -> bool:
        """Whether a browser would accept the certificate for ``host`` by name (a ``*`` stands for one label)."""
        host = host.lower().rstrip(".")
        for name in self.names:
            name = name.lower().rstrip(".")
            if name == host or (name.startswith("*.") and host.partition(".")[2] == name[2:] and "." in name[2:]):
                return True
        return False


@dataclass(frozen=True, slots=True)
class PageObservation:
    """What a fetched page looked like to one client profile.

    ``html`` is the decoded body; ``text`` the visible text (scripts and styles
    removed, whitespace collapsed). ``scripts`` holds inline script bodies and
    the URLs of external ones. ``content_hash`` is the SHA-256 of the raw body
    bytes, so identical bodies are stored once and re-analysed once.
    ``certificate`` is the server's TLS certificate when the page came over https.
    ``base_url`` is what the page's relative URLs resolve against: its ``<base href>``, or ""
    when it has none (then it is ``final_url``).
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
    certificate: ServerCertificate | None = None
    base_url: str = ""


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """One answer record with its TTL. ``owner`` is the name it belongs to when that is not the name asked
    (the records at the end of a CNAME chain); ``value`` is in presentation form, names without the final dot."""

    type: str
    value: str
    ttl: int
    owner: str = ""


#: The outcomes of one DNS question: the name has records of the type (NOERROR), has none of that type
#: (NODATA), does not exist (NXDOMAIN), or the resolver failed (SERVFAIL), refused (REFUSED), or never
#: answered, all tries included (TIMEOUT).
DNS_OUTCOMES = ("NOERROR", "NODATA", "NXDOMAIN", "SERVFAIL", "TIMEOUT", "REFUSED")


@dataclass(frozen=True, slots=True)
class DnsObservation:
    """What a resolver said about one name, for every record type asked. Failures are data: an outcome
    is one of :data:`DNS_OUTCOMES`, never an exception.

    ``rcode`` is the name's overall outcome: ``NOERROR`` when the name exists
    (some type answered, or answered with no data), else the first failure
    in the order NXDOMAIN, SERVFAIL, REFUSED, TIMEOUT. ``outcomes`` holds
    each asked type's own. ``wildcard`` is set when the name's answers are
    what a wildcard in ``wildcard_zone`` gives any name there (a random label
    got the same addresses), so its existence proves nothing.
    ``address_rounds`` are the A and AAAA address sets of successive probes
    of the name in one run (sorted), the evidence of fast flux; ``signs`` what
    the prober saw (``wildcard``, ``fast-flux``, ``cname-chain``).
    """

    name: str
    rcode: str
    records: tuple[DnsRecord, ...] = ()
    wildcard: bool = False
    resolver: str = ""
    observed_at: datetime | None = None
    outcomes: tuple[tuple[str, str], ...] = ()
    #: The names followed through CNAME records, in order, the asked name not included.
    cname_chain: tuple[str, ...] = ()
    wildcard_zone: str = ""
    address_rounds: tuple[tuple[str, ...], ...] = ()
    signs: tuple[str, ...] = ()

    def outcome(self, record_type: str) -> str:
        """The outcome of the question for ``record_type``; ``""`` when that type was not asked."""
        return dict(self.outcomes).get(record_type, "")

    def values(self, record_type: str) -> tuple[str, ...]:
        """The values of the records of ``record_type``, in answer order, each once."""
        return tuple(dict.fromkeys(record.value for record in self.records if record.type == record_type))


@dataclass(frozen=True, slots=True)
class DnsPivots:
    """Infrastructure of names already judged malicious, for the DNS detectors: each address and each
    name server mapped to a few of the blocked names that use it (the store's :meth:`pivots`)."""

    addresses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    nameservers: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IntentFilter:
    """One intent filter of an Android component: what it answers to."""

    actions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: ``data`` elements as URIs or partial URIs: ``sms:``, ``https://pay.example/*``, ``*/*``.
    data: tuple[str, ...] = ()
    priority: int = 0


@dataclass(frozen=True, slots=True)
class ApkComponent:
    """An activity, service, receiver or provider declared in the manifest."""

    kind: str  # "activity", "service", "receiver", "provider"
    name: str
    #: ``None`` when the manifest does not say (then Android's default applies: exported iff it has filters).
    exported: bool | None = None
    permission: str = ""
    intent_filters: tuple[IntentFilter, ...] = ()
    #: Service types and other attributes detectors need, e.g. ("foregroundServiceType", "mediaProjection").
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ApkCertificate:
    """A signing certificate, and which signature schemes carry it and verify."""

    sha256: str
    subject: str = ""
    issuer: str = ""
    serial: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    self_signed: bool = False
    #: The public Android debug certificate (CN=Android Debug): anyone can sign with it.
    debug: bool = False
    #: Signature schemes ("v1", "v2", "v3", "v3.1", "v4") with whether each verified.
    schemes: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class ApkObservation:
    """What an APK is and what it carries, read without running it (``apk_analysis/`` fills it).

    Embedded indicators come from the DEX string tables and the assets:
    ``urls``, ``hosts``, ``ips``, ``wallets`` (kind, address), ``handles``
    (kind, handle) and ``phones``. ``packers`` (jiagu, bangcle, ijiami, legu,
    secneo...), ``shells`` (web-to-APK: DCloud/uni-app, APICloud, GoNative,
    Median, Cordova with a remote start URL) and ``sdks`` (remote control,
    screen sharing) are marks with the evidence that named them; ``tamper``
    lists zip and signing tricks (invalid compression methods, data between
    the central directory and its end, a DEX before the zip). ``nested`` are
    the sha256 of APKs inside this one, each observed too.
    """

    sha256: str
    size: int
    package: str = ""
    #: The app's label per locale, ("", default) first: ("", "国家反诈中心"), ("en", "Anti-Fraud").
    labels: tuple[tuple[str, str], ...] = ()
    version_code: int | None = None
    version_name: str = ""
    min_sdk: int | None = None
    target_sdk: int | None = None
    #: Requested permissions with their protection level when known: ("android.permission.READ_SMS", "dangerous").
    permissions: tuple[tuple[str, str], ...] = ()
    components: tuple[ApkComponent, ...] = ()
    certificates: tuple[ApkCertificate, ...] = ()
    urls: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    wallets: tuple[tuple[str, str], ...] = ()
    handles: tuple[tuple[str, str], ...] = ()
    phones: tuple[str, ...] = ()
    native_libraries: tuple[str, ...] = ()
    packers: tuple[tuple[str, str], ...] = ()
    shells: tuple[tuple[str, str], ...] = ()
    sdks: tuple[tuple[str, str], ...] = ()
    tamper: tuple[str, ...] = ()
    nested: tuple[str, ...] = ()
    #: Where it was downloaded from, and the page that offered it.
    download_url: str = ""
    referrer: str = ""
    observed_at: datetime | None = None
    #: For an APK found inside another: the carrier's sha256, and the member path it was found at.
    parent: str = ""
    member: str = ""
    #: Only with the full analysis (``analyze apk --full``): sensitive framework methods the code really
    #: calls, as ``Lclass;->method`` (found through cross-references, not string tables); empty otherwise.
    api_calls: tuple[str, ...] = ()
    #: True when the full analysis ran, so an empty ``api_calls`` means "calls none of them".
    fully_analysed: bool = False


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
    #: What ``subject`` is; when not given, read from it (:meth:`SubjectKind.of`): a URL, an IP
    #: address or a host. Findings about an APK, a certificate, a wallet or a handle must say so.
    subject_kind: SubjectKind = None  # type: ignore[assignment]  # filled in by __post_init__

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"finding score must be within [0, 1], got {self.score!r}")
        kind = SubjectKind.of(self.subject) if self.subject_kind is None else SubjectKind(self.subject_kind)
        object.__setattr__(self, "subject_kind", kind)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The combined decision about one subject, explained by its findings."""

    subject: str
    score: float
    status: VerdictStatus
    categories: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    subject_kind: SubjectKind = None  # type: ignore[assignment]  # read from the subject when not given
    #: Why the status is what it is beyond the noisy-OR of the scores, e.g. the corroboration rule of
    #: :func:`fraudwall.blocklists.scoring.score_findings`; empty when the score alone decided.
    reason: str = ""

    def __post_init__(self) -> None:
        kind = SubjectKind.of(self.subject) if self.subject_kind is None else SubjectKind(self.subject_kind)
        object.__setattr__(self, "subject_kind", kind)


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


#: The kinds of evidence :func:`fraudwall.judging.judge` takes: a fetched page, a URL or name on its
#: own, a DNS answer, an APK.
Observation = PageObservation | UrlParts | DnsObservation | ApkObservation


@dataclass(frozen=True, slots=True)
class ApkDownload:
    """An APK the crawler downloaded, before analysis: its bytes and where they came from.

    Not an observation: the judging road turns it into the APK's observations
    (its own first, then those of APKs nested in it) with
    :mod:`fraudwall.apk_analysis`, and judges each.
    """

    url: str
    final_url: str
    body: bytes
    #: The page whose link offered it ("" for a seed).
    referrer: str = ""
    content_type: str = ""
    redirect_chain: tuple[str, ...] = ()
    ip: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    """One observation judged: the findings of the plugins that ran, and the verdict they add up to.

    ``findings`` are the ones this run produced; the verdict also counts the
    findings a re-analysis kept from plugins it did not re-run. ``host`` is the
    name a blocklist would carry for the subject (empty for an APK).
    ``plugins`` names every plugin that ran, findings or not, with its
    version: what tells a later re-analysis which plugins are new or changed.
    ``observation_id`` is the stored observation's row when it was judged
    again from the store, ``None`` for new evidence. ``related`` are the
    verdicts on other subjects the evidence named: the hosts, certificate,
    wallets and handles an APK carries, each judged on its own findings.
    """

    observation: Observation
    findings: tuple[Finding, ...]
    verdict: Verdict
    host: str
    plugins: tuple[tuple[str, str], ...]
    observation_id: int | None = None
    related: tuple[Verdict, ...] = ()


@dataclass(frozen=True, slots=True)
class Indicator:
    """A subject only threat-intelligence formats publish (and IP sets, for an address).

    An IP address, an APK's sha256, a signing certificate's sha256, a wallet
    address or a chat handle, with its verdict's categories, score and dates.
    ``context`` says where it was seen and what goes with it, as (key, value)
    pairs: an APK's ``package``, ``label``, ``certificate``, ``download_url``
    and ``download_host``; ``seen_in`` for what carried a wallet or a handle.
    """

    kind: SubjectKind
    value: str
    categories: tuple[str, ...] = ()
    confidence: float = 1.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    sources: tuple[str, ...] = ()
    context: tuple[tuple[str, str], ...] = ()
