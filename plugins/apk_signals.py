"""What the APK detectors read in an app: the scored signals every ``apk_*`` plugin reports.

Not a plugin itself (``setup.cfg`` registers nothing from it): the shared
reading behind ``apk_impersonation``, ``apk_capabilities``,
``apk_remote_control``, ``apk_shells``, ``apk_signing``, ``apk_api_calls`` and
``apk_indicators``. Each of them reports one of the signals below as its
finding; ``apk_indicators`` also needs all of them at once, to decide whether
the app is fraud-like enough for the wallets, handles, hosts and certificate it
carries to be reported (:func:`profile`). That is why the signals live in one
module rather than in each plugin, and why the plugins share one version,
:data:`VERSION`: **change anything here and bump it**, so that
``fraudwall reanalyze`` re-runs every APK plugin over stored observations.
The natural home of this reading is fraudwall's core, as an ``ApkView`` built
once per APK by :func:`fraudwall.judging.judge` the way ``PageView`` is built
for pages; it lives under ``plugins/`` until that exists.

Every function here is pure: it reads an :class:`~fraudwall.models.ApkObservation`
and fraudwall's reference data (``fraudwall/data/``), never a file, the network
or the clock (dates are compared with ``apk.observed_at`` only).

Scores are calibrated against the judging thresholds (noisy-OR over all findings
about the APK; malicious at ``SCORE_MALICIOUS`` = 0.75, suspicious at
``SCORE_SUSPICIOUS`` = 0.40). The rule is that no single concept reaches
malicious on its own unless the evidence is unambiguous (a web shell that loads
a remote site *and* is named for USDT or 刷单; an app on a bank's own package
signed by someone else's certificate; a Janus DEX); everything that honest apps
also do (read SMS, pack their code, use a debug key in testing, embed an RTC
SDK) scores weakly and counts only beside other signals.

Reference data is the bundled data only (``reference.brands()`` and friends,
as the page detectors read it); the functions that weigh brands also take a
brand list, which is how tests give a brand its certificates.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fraudwall import reference
from fraudwall.exceptions import InvalidName
from fraudwall.host_labels import owned_labels, token_in_label
from fraudwall.host_labels import parts as label_parts
from fraudwall.matching import Term, Text, compile_terms, find_terms, normalize
from fraudwall.models import ApkCertificate, ApkComponent, ApkObservation, Category, Finding, SubjectKind
from fraudwall.names import is_ip_literal, normalize_name, parse_url, registrable_domain
from fraudwall.reference import Brand
from fraudwall.scores import noisy_or

#: The version of every apk_* plugin: they report what this module reads (see the docstring).
VERSION = "1.2"

# -- Android vocabulary ----------------------------------------------------------------

_P = "android.permission."
READ_SMS = _P + "READ_SMS"
RECEIVE_SMS = _P + "RECEIVE_SMS"
RECEIVE_MMS = _P + "RECEIVE_MMS"
RECEIVE_WAP_PUSH = _P + "RECEIVE_WAP_PUSH"
SEND_SMS = _P + "SEND_SMS"
READ_CONTACTS = _P + "READ_CONTACTS"
READ_CALL_LOG = _P + "READ_CALL_LOG"
PROCESS_OUTGOING_CALLS = _P + "PROCESS_OUTGOING_CALLS"
SYSTEM_ALERT_WINDOW = _P + "SYSTEM_ALERT_WINDOW"
REQUEST_INSTALL_PACKAGES = _P + "REQUEST_INSTALL_PACKAGES"
FOREGROUND_SERVICE_MEDIA_PROJECTION = _P + "FOREGROUND_SERVICE_MEDIA_PROJECTION"
ACCESS_FINE_LOCATION = _P + "ACCESS_FINE_LOCATION"
ACCESS_COARSE_LOCATION = _P + "ACCESS_COARSE_LOCATION"
CAMERA = _P + "CAMERA"
BIND_ACCESSIBILITY_SERVICE = _P + "BIND_ACCESSIBILITY_SERVICE"
BIND_DEVICE_ADMIN = _P + "BIND_DEVICE_ADMIN"
BIND_NOTIFICATION_LISTENER_SERVICE = _P + "BIND_NOTIFICATION_LISTENER_SERVICE"
BIND_INCALL_SERVICE = _P + "BIND_INCALL_SERVICE"
BROADCAST_SMS = _P + "BROADCAST_SMS"

ACTION_ACCESSIBILITY = "android.accessibilityservice.AccessibilityService"
ACTION_DEVICE_ADMIN = "android.app.action.DEVICE_ADMIN_ENABLED"
ACTION_SMS_RECEIVED = "android.provider.Telephony.SMS_RECEIVED"
ACTION_SMS_DELIVER = "android.provider.Telephony.SMS_DELIVER"
ACTION_WAP_PUSH_DELIVER = "android.provider.Telephony.WAP_PUSH_DELIVER"
ACTION_RESPOND_VIA_MESSAGE = "android.intent.action.RESPOND_VIA_MESSAGE"
ACTION_INCALL = "android.telecom.InCallService"
ACTION_NOTIFICATION_LISTENER = "android.service.notification.NotificationListenerService"
#: Priorities of 1000 and above are reserved to the system (SYSTEM_HIGH_PRIORITY); apps that declare
#: 999 or more on SMS_RECEIVED want to be first, to read the message and abort the broadcast.
HIGH_SMS_PRIORITY = 999

# -- vocabulary of labels and package names ------------------------------------------------
# Labels are short, so each list holds words that name a fraud script on their own. Package
# names are matched with the pinyin and English words of fraudwall/data/domain_words.toml.

#: Words of the fraud scripts in an app's label, by category. Traditional characters fold to these.
LABEL_FRAUD_WORDS: dict[str, tuple[str, ...]] = {
    Category.INVESTMENT.value: (
        "usdt", "泰达币", "理财", "投资", "收益", "交易所", "数字货币", "数字资产", "虚拟币", "炒币", "挖矿", "矿机",
        "量化", "配资", "外汇", "期货", "区块链", "defi", "crypto",
    ),
    Category.TASK_REBATE.value: ("刷单", "返利", "兼职", "点赞", "抢单", "派单", "做任务", "佣金", "日结", "rebate"),
    Category.LOAN.value: ("贷款", "借款", "借钱", "网贷", "下款", "放款", "秒批", "额度", "贷", "loan"),
    Category.CUSTOMER_SERVICE.value: ("客服", "退款", "理赔", "售后", "注销", "屏幕共享", "共享屏幕"),
    Category.IMPERSONATION.value: ("公安", "警务", "网警", "检察", "法院", "通缉", "安全账户", "资金清查"),
}
#: Loan words in a label for the loan profile: the fraud words above plus the one-character names
#: loan apps give themselves (闪电借, 易借花), which only count beside the loan permissions.
LOAN_LABEL_WORDS = (*LABEL_FRAUD_WORDS[Category.LOAN.value], "借", "现金", "分期", "cash", "credit", "lend")
#: Domain-word themes (domain_words.toml) read in package names and embedded hosts: the fraud scripts'.
PACKAGE_THEMES = ("customer_service", "loan", "investment", "task_rebate", "impersonation")
#: Words of those themes too common in honest package and host names to count there (com.acme.service).
GENERIC_NAME_WORDS = frozenset({
    "service", "support", "helpdesk", "credit", "wallet", "trade", "trading", "crypto", "mining", "profit", "invest",
    "tasks", "commission", "police", "court", "warrant", "interpol", "help", "care", "job", "jobs", "case", "gov",
})
#: Label words of the "meeting", "customer service" and "anti-fraud" lures of screen-sharing scripts.
REMOTE_LURE_WORDS = (
    "会议", "云会议", "视频会议", "meeting", "屏幕共享", "共享屏幕", "远程协助", "远程", "协助", "客服", "在线客服",
    "售后", "反诈", "防诈", "安全中心", "安全防护", "资金安全", "公安", "警务", "网警", "support", "assist",
)
#: Marks in ``apk.sdks`` (matched inside the mark's name, lowercase) of SDKs that hand the device to a
#: remote operator, and of those that only share the screen or stream audio and video.
REMOTE_CONTROL_SDKS = (
    "teamviewer", "anydesk", "rustdesk", "sunlogin", "oray", "向日葵", "todesk", "airdroid", "splashtop", "vnc",
    "remote_control", "remotecontrol", "remote-control", "quicksupport",
)
SCREEN_SHARING_SDKS = (
    "screen_sharing", "screenshare", "screen-sharing", "agora", "zego", "trtc", "webrtc", "jitsi", "zoom", "livekit",
    "rongcloud", "yunxin", "mediasoup",
)
#: Vendors whose own apps legitimately carry remote-control or meeting SDKs (beside the protected brands'
#: packages, which reference data lists): their apps get no remote-control finding.
REMOTE_VENDOR_PACKAGES = (
    "us.zoom.*", "com.teamviewer.*", "com.anydesk.*", "com.oray.*", "com.carriez.flutter_hbb", "com.sand.airdroid",
    "com.splashtop.*",
)

# -- hosts -----------------------------------------------------------------------------------------

#: Registrable domains of libraries, SDKs and specifications that ordinary apps' string tables name
#: (XML namespaces, push, analytics, maps, ads, crash reporting, the shell frameworks' own sites):
#: never reported as hosts of a fraud app. Brands' domains, the allowlist and shared platforms are
#: left out through the reference data.
LIBRARY_DOMAINS = frozenset({
    "w3.org", "xmlpull.org", "xmlsoap.org", "apache.org", "json.org", "schema.org", "ietf.org", "openssl.org",
    "jquery.com", "jsdelivr.net", "unpkg.com", "cdnjs.com", "bootcdn.cn", "bootcss.com", "staticfile.org",
    "googleapis.com", "firebaseio.com", "crashlytics.com", "app-measurement.com", "doubleclick.net",
    "googlesyndication.com", "googleadservices.com", "google-analytics.com", "googletagmanager.com", "facebook.net",
    "sentry.io", "bugsnag.com", "appsflyer.com", "adjust.com", "branch.io", "onesignal.com", "githubusercontent.com",
    "jpush.cn", "jiguang.cn", "umeng.com", "umengcloud.com", "umsns.com", "getui.com", "getui.net", "igexin.com",
    "mob.com", "sharesdk.cn", "amap.com", "autonavi.com", "tencentcloudapi.com", "qcloud.com", "cmpassport.com",
    "dcloud.net.cn", "dcloud.io", "apicloud.com", "gonative.io", "median.co", "heytapmobi.com", "meizu.com",
    "flyme.cn", "hihonor.com", "honor.com", "coloros.com", "vivo.com", "miui.com", "xiaomi.net", "snssdk.com",
    "pangolin-sdk-toutiao.com", "pglstatp-toutiao.com", "anythinktech.com", "tanx.com", "shuzilm.cn",
    "talkingdata.com", "talkingdata.net", "growingio.com", "sensorsdata.cn", "agora.io", "agoralab.co", "zego.im",
    "zegocloud.com", "rongcloud.cn", "ronghub.com", "netease.im", "easemob.com",
})
#: Dynamic DNS and tunnel services: a fixed host under one of them in an app is a home-made backend.
DYNAMIC_DNS = (
    "duckdns.org", "no-ip.org", "ddns.net", "hopto.org", "zapto.org", "3322.org", "f3322.net", "oicp.net", "vicp.net",
    "dynv6.net", "freeddns.org", "ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "serveo.net",
    "loca.lt", "localtunnel.me",
)
#: Public DNS resolvers that apps hard-code for HTTPDNS and connectivity checks: not endpoints of anyone's.
PUBLIC_RESOLVERS = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "114.114.114.114", "114.114.115.115", "223.5.5.5",
    "223.6.6.6", "119.29.29.29", "182.254.116.116", "180.76.76.76", "208.67.222.222", "208.67.220.220",
})
_URL = re.compile(r"(?:https?|wss?)://[^\s\"'<>()]+", re.IGNORECASE)

# -- certificates ------------------------------------------------------------------------------------

#: Common names junk and throw-away keys carry (besides names of one or two characters).
PLACEHOLDER_CN = frozenset({
    "test", "android", "unknown", "key", "key0", "demo", "app", "abc", "aaa", "123", "1234", "12345", "123456",
    "admin", "user", "name", "none", "null", "qwe", "asd", "apk", "xxx", "my", "mykey",
})
#: Longest believable certificate validity, and the earliest believable start.
MAX_VALIDITY_YEARS = 150
EARLIEST_NOT_BEFORE_YEAR = 1995


@dataclass(frozen=True, slots=True)
class Signal:
    """One concept's judgement of an app: what its finding reports."""

    concept: str
    category: str
    score: float
    reason: str
    evidence: tuple[str, ...] = ()
    indicators: tuple[tuple[str, str], ...] = ()


def to_finding(
    signal: Signal, subject: str, kind: SubjectKind, detector: str, version: str, *,
    score: float | None = None, category: str | None = None, reason: str | None = None,
    indicators: tuple[tuple[str, str], ...] | None = None,
) -> Finding:
    """The finding that reports ``signal`` about ``subject`` (its score, category and reason unless given)."""
    return Finding(
        subject=subject, detector=detector, detector_version=version,
        category=signal.category if category is None else category,
        score=signal.score if score is None else round(score, 3),
        reason=signal.reason if reason is None else reason, evidence=signal.evidence,
        indicators=signal.indicators if indicators is None else indicators, subject_kind=kind,
    )


# -- reading the manifest ------------------------------------------------------------------------


def _full_permission(name: str) -> str:
    return name if "." in name else _P + name


def permissions(apk: ApkObservation) -> frozenset[str]:
    """The permissions the app requests, full names (``READ_SMS`` reads ``android.permission.READ_SMS``)."""
    return frozenset(_full_permission(name.strip()) for name, _ in apk.permissions)


def _actions(component: ApkComponent) -> set[str]:
    return {action for intent_filter in component.intent_filters for action in intent_filter.actions}


def _components(apk: ApkObservation, kind: str, permission: str = "", action: str = "") -> list[ApkComponent]:
    """Components of ``kind`` protected by ``permission`` or answering ``action``."""
    return [
        component for component in apk.components
        if component.kind == kind and (
            (permission and _full_permission(component.permission) == permission)
            or (action and action in _actions(component))
        )
    ]


def _attribute(component: ApkComponent, key: str) -> str:
    return " ".join(value for name, value in component.attributes if name.rsplit(":", 1)[-1] == key)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the manifest lets the app do, as the detectors weigh it."""

    permissions: frozenset[str]
    accessibility: tuple[str, ...]
    device_admin: tuple[str, ...]
    sms_receivers: tuple[tuple[str, int], ...]
    sms_role: tuple[str, ...]
    dialer_role: tuple[str, ...]
    media_projection: tuple[str, ...]
    notification_listener: tuple[str, ...]

    @property
    def sms(self) -> bool:
        return bool(self.permissions & {READ_SMS, RECEIVE_SMS, RECEIVE_MMS, RECEIVE_WAP_PUSH})

    @property
    def contacts(self) -> bool:
        return READ_CONTACTS in self.permissions

    @property
    def call_log(self) -> bool:
        return READ_CALL_LOG in self.permissions

    @property
    def overlay(self) -> bool:
        return SYSTEM_ALERT_WINDOW in self.permissions

    @property
    def location(self) -> bool:
        return bool(self.permissions & {ACCESS_FINE_LOCATION, ACCESS_COARSE_LOCATION})

    @property
    def camera(self) -> bool:
        return CAMERA in self.permissions


def capabilities(apk: ApkObservation) -> Capabilities:
    """Read the permissions and components that matter to the capability detectors."""
    names = permissions(apk)
    projection = [
        component.name for component in apk.components
        if component.kind == "service" and "mediaprojection" in _attribute(component, "foregroundServiceType").lower()
    ]
    if FOREGROUND_SERVICE_MEDIA_PROJECTION in names and not projection:
        projection = ["FOREGROUND_SERVICE_MEDIA_PROJECTION"]
    sms_receivers = tuple(
        (component.name, max(f.priority for f in component.intent_filters if ACTION_SMS_RECEIVED in f.actions))
        for component in _components(apk, "receiver", action=ACTION_SMS_RECEIVED)
    )
    sms_role = [c.name for c in _components(apk, "receiver", BROADCAST_SMS, ACTION_SMS_DELIVER)]
    sms_role += [c.name for c in _components(apk, "receiver", action=ACTION_WAP_PUSH_DELIVER)]
    sms_role += [c.name for c in _components(apk, "service", action=ACTION_RESPOND_VIA_MESSAGE)]
    dialer = [c.name for c in _components(apk, "service", BIND_INCALL_SERVICE, ACTION_INCALL)]
    if PROCESS_OUTGOING_CALLS in names:
        dialer.append("PROCESS_OUTGOING_CALLS")
    accessibility = _components(apk, "service", BIND_ACCESSIBILITY_SERVICE, ACTION_ACCESSIBILITY)
    listeners = _components(apk, "service", BIND_NOTIFICATION_LISTENER_SERVICE, ACTION_NOTIFICATION_LISTENER)
    return Capabilities(
        permissions=names,
        accessibility=tuple(c.name for c in accessibility),
        device_admin=tuple(c.name for c in _components(apk, "receiver", BIND_DEVICE_ADMIN, ACTION_DEVICE_ADMIN)),
        sms_receivers=sms_receivers,
        sms_role=tuple(dict.fromkeys(sms_role)),
        dialer_role=tuple(dict.fromkeys(dialer)),
        media_projection=tuple(projection),
        notification_listener=tuple(c.name for c in listeners),
    )


def labels(apk: ApkObservation) -> list[str]:
    """The app's labels, every locale, each once, as written."""
    return list(dict.fromkeys(label.strip() for _, label in apk.labels if label.strip()))


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1] if name.startswith("android.") else name


def package_words(package: str) -> list[str]:
    """A package name's words: its segments, lowercase, split further at ``_``/``-`` and digits."""
    words: list[str] = []
    for segment in package.lower().split("."):
        words.append(segment)
        words += [part for part in label_parts(segment) if part != segment]
    return words


def _package_matches(package: str, entries: Sequence[str]) -> bool:
    for entry in entries:
        prefix = entry[:-2] if entry.endswith(".*") else None
        if package == entry or (prefix and (package == prefix or package.startswith(prefix + "."))):
            return True
    return False


# -- words ---------------------------------------------------------------------------------------------


@functools.cache
def _label_vocabulary() -> tuple[tuple[str, tuple[Term, ...]], ...]:
    return tuple((category, compile_terms(words)) for category, words in LABEL_FRAUD_WORDS.items())


@functools.cache
def _terms(words: tuple[str, ...]) -> tuple[Term, ...]:
    return compile_terms(words)


def label_words(texts: Sequence[str], words: Sequence[str]) -> list[str]:
    """The ``words`` found in any of ``texts`` (normalised: traditional folds to simplified)."""
    terms = _terms(tuple(words))
    found: list[str] = []
    for text in texts:
        found += [word for word in find_terms(normalize(text), terms) if word not in found]
    return found


def fraud_label_words(texts: Sequence[str]) -> list[tuple[str, str]]:
    """``(category, word)`` for every fraud-script word in the labels, in the order of LABEL_FRAUD_WORDS."""
    found: list[tuple[str, str]] = []
    normalised = [normalize(text) for text in texts]
    for category, terms in _label_vocabulary():
        for text in normalised:
            found += [(category, word) for word in find_terms(text, terms) if (category, word) not in found]
    return found


def fraud_package_words(package: str, themes: Sequence[str] = PACKAGE_THEMES) -> list[tuple[str, str]]:
    """``(category, word)`` for the fraud words of the domain-word ``themes`` in the package name."""
    words = package_words(package)
    found: list[tuple[str, str]] = []
    for theme in reference.domain_words().themes:
        if theme.id not in themes:
            continue
        for word in theme.words:
            if word.isascii() and len(word) >= 4 and word not in GENERIC_NAME_WORDS and any(word in w for w in words):
                found.append((theme.category, word))
        found += [(theme.category, word) for word in theme.exact if word in words and word not in GENERIC_NAME_WORDS]
    return list(dict.fromkeys(found))


# -- 1. impersonation --------------------------------------------------------------------------------

#: Brand kinds whose names count anywhere in a label (工商银行信用卡, 国家反诈中心安全版); the other
#: kinds' names only count when they are the whole label.
CLAIM_KINDS = frozenset({"bank", "payment", "government"})
#: Government brands whose names carry one of these are police, procuratorates, courts and the
#: anti-fraud centre: impersonating them is the 冒充公检法 script.
POLICE_WORDS = ("公安", "反诈", "检察", "法院", "警")
IMPERSONATION_EXACT = 0.55  # the label is the brand's or its app's name
IMPERSONATION_CONTAINS = 0.35  # the label carries the name
IMPERSONATION_PACKAGE = 0.25  # the package carries a brand token
IMPERSONATION_BOTH = 0.15  # label and package both claim the brand
IMPERSONATION_NOT_SIGNED = 0.20  # the brand's certificates are known and none signs the app
IMPERSONATION_REPACKAGED = 0.80  # the brand's own package, signed by another certificate
IMPERSONATION_CAP = 0.70  # without certificate evidence
IMPERSONATION_CAP_SIGNED = 0.92
#: A brand whose packages and certificates are both unknown: a claim on it cannot be told from the
#: real app (国家反诈中心 asks for SMS, call log and contacts itself), so it weighs less.
UNKNOWN_OWNER_FACTOR = 0.6
#: Labels that present the app as an institution of a kind fraud impersonates, when no protected brand is
#: claimed: China has thousands of banks, courts and police bureaux, and the reference data lists a few.
#: By the category of the script that impersonates them.
INSTITUTION_WORDS: dict[str, tuple[str, ...]] = {
    Category.BRAND_IMPERSONATION.value: (
        "银行", "信用社", "农商行", "证券", "保险", "网银", "bank", "banking", "securities", "insurance",
    ),
    Category.IMPERSONATION.value: ("公安", "警察", "警务", "网警", "检察院", "法院", "反诈", "国家安全"),
    Category.FAKE_SUBSIDY.value: ("社保", "医保", "税务", "公积金", "补贴", "政务"),
}
INSTITUTION = 0.15  # the label presents the app as a bank, a police bureau, a social-security office...
INSTITUTION_WITH_HARVEST = 0.30  # ... and it reads SMS or drives the screen: the banking trojan's costume
_DECORATION = re.compile(r"(?:官方版|官方|正式版|最新版|安卓版|手机版|极速版|客户端|app|apk|android)$")
_NOT_WORD = re.compile(r"[\W_]+")


def _bare(flat: str) -> str:
    """A normalised label without punctuation, spaces or trailing decorations (官方版, App)."""
    bare = _NOT_WORD.sub("", flat)
    while True:
        stripped = _DECORATION.sub("", bare)
        if stripped == bare or len(stripped) < 2:
            return bare
        bare = stripped


@dataclass(frozen=True, slots=True)
class BrandApps:
    """A brand's names and app names compiled for reading labels."""

    brand: Brand
    exact: frozenset[str]
    contained: tuple[Term, ...]
    category: str


def _containable(term: Term) -> bool:
    if not term.latin:
        return len(term.text) >= 3
    return len(term.text) >= 4 and any(ch.isalpha() for ch in term.text)


@functools.cache
def brand_apps(brands: tuple[Brand, ...]) -> tuple[BrandApps, ...]:
    """Every brand compiled for label claims (cached per brand list: reference data, not observations)."""
    compiled = []
    for brand in brands:
        words = (*brand.names, *brand.apps)
        terms = compile_terms(words)
        police = brand.kind == "government" and any(word in name for name in words for word in POLICE_WORDS)
        category = Category.IMPERSONATION.value if police else Category.BRAND_IMPERSONATION.value
        contained = tuple(term for term in terms if _containable(term)) if brand.kind in CLAIM_KINDS else ()
        exact = frozenset(bare for bare in (_bare(term.text) for term in terms) if len(bare) >= 2)
        compiled.append(BrandApps(brand, exact, contained, category))
    return tuple(compiled)


def _label_claim(entry: BrandApps, texts: Sequence[tuple[str, Text, str]]) -> tuple[str, str] | None:
    """``("exact" | "contains", label)`` for the strongest way one of the (label, normalised, bare) claims the brand."""
    best: tuple[str, str] | None = None
    for label, text, bare in texts:
        if bare in entry.exact:
            return "exact", label
        if best is None and find_terms(text, entry.contained):
            best = ("contains", label)
    return best


def _package_claim(brand: Brand, package: str) -> str | None:
    """The brand token the package name carries (only distinctive tokens: icbc, alipay, yunshanfu)."""
    if brand.kind not in CLAIM_KINDS:
        return None
    words = package_words(package)
    return next((token for token in brand.tokens if any(token in word for word in words)), None)


def impersonation(apk: ApkObservation, brands: Sequence[Brand] | None = None) -> Signal | None:
    """The protected brand the app presents itself as, without being the brand's (see ``apk_impersonation``)."""
    texts = [(label, text, _bare(text.flat)) for label in labels(apk) for text in (normalize(label),)]
    package = apk.package.strip()
    fingerprints = [certificate.sha256 for certificate in apk.certificates]
    best: tuple[float, Signal] | None = None
    protected = False  # a protected brand is named or owns the app: no generic institution claim then
    for entry in brand_apps(tuple(reference.brands() if brands is None else brands)):
        brand = entry.brand
        owned = bool(package) and brand.owns_package(package)
        claim = _label_claim(entry, texts)
        protected = protected or owned or claim is not None
        if brand.certificates and brand.signed(fingerprints):
            continue  # signed by the brand: its app, whatever the package
        token = None if owned else _package_claim(brand, package)
        evidence = []
        if claim:
            how = "is" if claim[0] == "exact" else "carries"
            evidence.append(f"label「{claim[1]}」{how} the name of {brand.id}")
        if token:
            evidence.append(f"package {package} carries {brand.id}'s token {token!r}")
        if owned:
            if not brand.certificates:
                continue  # the brand's package, and nothing to check its signer against
            score = IMPERSONATION_REPACKAGED + (IMPERSONATION_BOTH if claim else 0.0)
            reason = (f"App uses {brand.id}'s own package {package} but is signed by a certificate {brand.id} "
                      "does not sign with: a repackaged copy")
            evidence.append(f"package {package} is {brand.id}'s; {len(brand.certificates)} certificate(s) of "
                            f"{brand.id} listed, none signs the app")
            cap = IMPERSONATION_CAP_SIGNED
        elif claim or token:
            score = 0.0
            if claim:
                score = IMPERSONATION_EXACT if claim[0] == "exact" else IMPERSONATION_CONTAINS
            if token:
                score = max(score, IMPERSONATION_PACKAGE) + (IMPERSONATION_BOTH if claim else 0.0)
            reason = (f"App presents itself as {brand.id} ({brand.kind}) on package {package or '(none)'}, "
                      f"which is not {brand.id}'s")
            cap = IMPERSONATION_CAP
            if brand.certificates:
                score += IMPERSONATION_NOT_SIGNED
                cap = IMPERSONATION_CAP_SIGNED
                reason += f", and none of {brand.id}'s certificates signs it"
            elif not brand.packages:
                score *= UNKNOWN_OWNER_FACTOR
                reason += (" (the real app's package and certificate are not in the reference data, "
                           "so the score was lowered)")
        else:
            continue
        signal = Signal("impersonation", entry.category, round(min(cap, score), 3), reason + ".", tuple(evidence),
                        (("brand", brand.id),))
        if best is None or signal.score > best[0]:
            best = (signal.score, signal)
    if best:
        return best[1]
    return None if protected else institution_claim(apk)


@functools.cache
def _institution_terms() -> tuple[tuple[str, tuple[Term, ...]], ...]:
    return tuple((category, compile_terms(words)) for category, words in INSTITUTION_WORDS.items())


def institution_claim(apk: ApkObservation) -> Signal | None:
    """A label that presents the app as a bank, police bureau or public office no protected brand covers.

    Weak alone (0.15: the real regional banks are thousands); 0.30 when the app also reads SMS or has an
    accessibility service, the costume and the tools of a banking trojan.
    """
    for category, terms in _institution_terms():
        for label in labels(apk):
            found = find_terms(normalize(label), terms)
            if not found:
                continue
            word = next(iter(found))
            caps = capabilities(apk)
            harvest = [what for what, has in (("reads SMS", caps.sms), ("accessibility service", bool(caps.accessibility)))
                       if has]
            score = INSTITUTION_WITH_HARVEST if harvest else INSTITUTION
            reason = (f"App presents itself as an institution (label「{label}」: {word}) that the reference data "
                      "does not list")
            if harvest:
                reason += f", and it {' and has an '.join(harvest)}"
            return Signal("impersonation", category, score, reason + ".", (f"label「{label}」 names {word}",
                          *(f"also: {what}" for what in harvest)))
    return None


# -- 2. dangerous combinations -----------------------------------------------------------------------

CAPABILITY_WEIGHTS = {
    "sms": 0.10,  # reads or receives SMS
    "sms+contacts|call_log": 0.25,  # ... and contacts or call log: an SMS stealer's or a loan app's harvest
    "sms+contacts+call_log": 0.35,
    "send_sms": 0.05,
    "hidden_sms": 0.15,  # SMS_RECEIVED at priority >= 999: first to read, and to hide, the bank's codes
    "accessibility": 0.10,
    "overlay": 0.05,
    "accessibility+overlay": 0.35,  # drives the screen and draws over it: the banking-trojan pair
    "media_projection": 0.05,
    "media_projection+overlay": 0.25,  # records the screen while hiding that it does
    "installer": 0.10,  # installs other APKs
    "nested": 0.10,  # carries an APK inside
    "dropper": 0.40,  # carries an APK and may install it: the dropper of a second-stage app
    "device_admin": 0.15,  # device admin: hard to uninstall, can lock the phone
    "sms_role": 0.10,  # can become the default SMS app
    "dialer_role": 0.15,  # can become the dialler or redirect calls (to a fake bank hotline)
    "notification_listener": 0.05,  # reads every notification, OTPs included
}
#: Added when at least this many distinct capabilities of weight >= 0.10 come together.
CAPABILITY_MANY = 3
CAPABILITY_MANY_BONUS = 0.10
CAPABILITY_CAP = 0.65
#: Permissions listed in the evidence of a capability finding.
_DANGEROUS_LISTED = frozenset({
    READ_SMS, RECEIVE_SMS, RECEIVE_MMS, RECEIVE_WAP_PUSH, SEND_SMS, READ_CONTACTS, READ_CALL_LOG,
    PROCESS_OUTGOING_CALLS, SYSTEM_ALERT_WINDOW, REQUEST_INSTALL_PACKAGES, FOREGROUND_SERVICE_MEDIA_PROJECTION,
})


def dangerous_capabilities(apk: ApkObservation) -> Signal | None:
    """The dangerous capabilities the app combines (see ``apk_capabilities``)."""
    caps = capabilities(apk)
    present: dict[str, str] = {}
    if caps.sms:
        harvest = [name for name, has in (("contacts", caps.contacts), ("call log", caps.call_log)) if has]
        key = ("sms", "sms+contacts|call_log", "sms+contacts+call_log")[len(harvest)]
        present[key] = "reads SMS" + (" with " + " and ".join(harvest) if harvest else "")
        if SEND_SMS in caps.permissions:
            present["send_sms"] = "sends SMS"
    high = [(name, priority) for name, priority in caps.sms_receivers if priority >= HIGH_SMS_PRIORITY]
    if high:
        present["hidden_sms"] = f"SMS_RECEIVED receiver {high[0][0]} at priority {high[0][1]}"
    if caps.accessibility and caps.overlay:
        present["accessibility+overlay"] = f"accessibility service {caps.accessibility[0]} with SYSTEM_ALERT_WINDOW"
    elif caps.accessibility:
        present["accessibility"] = f"accessibility service {caps.accessibility[0]}"
    elif caps.overlay:
        present["overlay"] = "SYSTEM_ALERT_WINDOW"
    if caps.media_projection and caps.overlay:
        present["media_projection+overlay"] = f"screen capture ({caps.media_projection[0]}) with SYSTEM_ALERT_WINDOW"
    elif caps.media_projection:
        present["media_projection"] = f"screen capture ({caps.media_projection[0]})"
    installer = REQUEST_INSTALL_PACKAGES in caps.permissions
    if installer and apk.nested:
        present["dropper"] = f"carries {len(apk.nested)} APK(s) and requests REQUEST_INSTALL_PACKAGES"
    elif installer:
        present["installer"] = "REQUEST_INSTALL_PACKAGES"
    elif apk.nested:
        present["nested"] = f"carries {len(apk.nested)} APK(s)"
    if caps.device_admin:
        present["device_admin"] = f"device admin receiver {caps.device_admin[0]}"
    if caps.sms_role:
        present["sms_role"] = f"default-SMS-app components ({caps.sms_role[0]})"
    if caps.dialer_role:
        present["dialer_role"] = f"dialler or call-redirection components ({caps.dialer_role[0]})"
    if caps.notification_listener:
        present["notification_listener"] = f"notification listener {caps.notification_listener[0]}"
    if not present:
        return None
    weights = [CAPABILITY_WEIGHTS[key] for key in present]
    score = noisy_or(weights)
    strong = sum(1 for weight in weights if weight >= 0.10)
    if strong >= CAPABILITY_MANY:
        score += CAPABILITY_MANY_BONUS
    score = round(min(CAPABILITY_CAP, score), 3)
    named = sorted(present, key=lambda key: -CAPABILITY_WEIGHTS[key])
    reason = "App combines dangerous capabilities: " + "; ".join(present[key] for key in named[:4])
    evidence = tuple(f"{key}: {present[key]}" for key in named)
    dangerous = sorted(_short(p) for p in caps.permissions if p in _DANGEROUS_LISTED)
    if dangerous:
        evidence += ("permissions: " + ", ".join(dangerous),)
    return Signal("capabilities", Category.FAKE_APP.value, score, reason + ".", evidence)


# -- 3. loan-app profile ----------------------------------------------------------------------------

LOAN_FULL = 0.55  # 4 or 5 of contacts, call log, SMS, location, camera, with loan words
LOAN_THREE = 0.40  # three of them, or contacts with call log: whom debt collectors call and shame
LOAN_CONTACTS = 0.25
LOAN_CAP = 0.60


def loan_profile(apk: ApkObservation) -> Signal | None:
    """A loan app that collects what harassment needs (see ``apk_capabilities``)."""
    words = label_words(labels(apk), LOAN_LABEL_WORDS)
    words += [word for _, word in fraud_package_words(apk.package, ("loan",))]
    if not words:
        return None
    caps = capabilities(apk)
    groups = [name for name, has in (("contacts", caps.contacts), ("call log", caps.call_log), ("SMS", caps.sms),
                                     ("location", caps.location), ("camera", caps.camera)) if has]
    if len(groups) >= 4:
        score = LOAN_FULL
    elif len(groups) == 3 or (caps.contacts and caps.call_log):
        score = LOAN_THREE
    elif caps.contacts:
        score = LOAN_CONTACTS
    else:
        return None
    reason = (f"A loan app ({', '.join(words[:3])}) that collects {', '.join(groups)}: the profile of illegal "
              "lenders who upload contacts to harass borrowers and their families")
    return Signal("loan", Category.LOAN.value, round(min(LOAN_CAP, score), 3), reason + ".",
                  (f"loan words: {', '.join(words[:5])}", f"collects: {', '.join(groups)}"))


# -- 4. remote control and meeting lures -------------------------------------------------------------

REMOTE_SDK = 0.20  # an SDK that hands the device to a remote operator
SCREEN_SDK = 0.10  # screen sharing or real-time video: common in honest chat apps too
REMOTE_WITH_CONTROL = 0.15  # ... with an accessibility service or an overlay
SCREEN_WITH_CONTROL = 0.10
REMOTE_LURE = 0.25  # ... named as a meeting, customer-service or anti-fraud app
HOMEGROWN_REMOTE = 0.20  # no SDK, but a lure label with accessibility and screen capture or overlay
HOMEGROWN_FULL = 0.15  # ... with both screen capture and an overlay: the whole remote-control kit
REMOTE_CAP = 0.60


def _sdk_kinds(apk: ApkObservation) -> tuple[list[str], list[str]]:
    remote, screen = [], []
    for mark, evidence in apk.sdks:
        lowered = mark.lower()
        if any(word in lowered for word in REMOTE_CONTROL_SDKS):
            remote.append(f"{mark} ({evidence})" if evidence else mark)
        elif any(word in lowered for word in SCREEN_SHARING_SDKS):
            screen.append(f"{mark} ({evidence})" if evidence else mark)
    return remote, screen


def remote_control(apk: ApkObservation, brands: Sequence[Brand] | None = None) -> Signal | None:
    """Remote control or screen sharing under a meeting, customer-service or anti-fraud name (apk_remote_control)."""
    package = apk.package.strip()
    owners = reference.brands() if brands is None else brands
    if package and (_package_matches(package, REMOTE_VENDOR_PACKAGES) or any(b.owns_package(package) for b in owners)):
        return None
    remote, screen = _sdk_kinds(apk)
    caps = capabilities(apk)
    control = [what for what, has in (("accessibility service", bool(caps.accessibility)),
                                      ("overlay", caps.overlay)) if has]
    lure = label_words(labels(apk), REMOTE_LURE_WORDS)
    if remote or screen:
        score = REMOTE_SDK if remote else SCREEN_SDK
        if control:
            score += REMOTE_WITH_CONTROL if remote else SCREEN_WITH_CONTROL
        if lure:
            score += REMOTE_LURE
        sdks = remote or screen
        reason = f"App carries {'a remote-control' if remote else 'a screen-sharing'} SDK ({sdks[0]})"
    elif lure and caps.accessibility and (caps.overlay or caps.media_projection):
        score = HOMEGROWN_REMOTE + (HOMEGROWN_FULL if caps.overlay and caps.media_projection else 0.0)
        sdks = []
        reason = "App can watch and drive the screen itself (accessibility with screen capture or overlay)"
        if caps.media_projection:
            control.append("screen capture")
    else:
        return None
    if control:
        reason += f" with {' and '.join(control)}"
    if lure:
        reason += f", named as {'/'.join(lure[:3])}: the 'meeting app' of fake customer-service and anti-fraud scripts"
    evidence = [f"sdk: {sdk}" for sdk in sdks[:3]] + [f"control: {what}" for what in control]
    if lure:
        evidence.append(f"label words: {', '.join(lure[:4])}")
    return Signal("remote_control", Category.CUSTOMER_SERVICE.value, round(min(REMOTE_CAP, score), 3),
                  reason + ".", tuple(evidence))


# -- 5. web shells ------------------------------------------------------------------------------------

SHELL_REMOTE = 0.40  # a web-to-APK shell whose start page is a remote site
SHELL_REMOTE_FRAUD_LABEL = 0.80  # ... named with a fraud script's words
SHELL_PACKAGE_WORDS = 0.15  # ... whose package carries them
SHELL_LOCAL_FRAUD_LABEL = 0.30  # a shell of bundled pages, named with a fraud script's words


@dataclass(frozen=True, slots=True)
class ShellStart:
    """A shell's remote start page: the URL and the host (or IP) a blocklist would carry."""

    framework: str
    url: str
    host: str
    is_ip: bool


def vouched_host(host: str) -> bool:
    """True for names fraudwall never reports from an app: brands', allowlisted, shared-platform apexes."""
    return (
        reference.brand_for_domain(host) is not None
        or reference.is_allowlisted(host)
        or reference.is_shared_platform_apex(host)
    )


def shell_starts(apk: ApkObservation) -> tuple[list[ShellStart], list[str]]:
    """(remote start pages on names not vouched for, every shell framework named)."""
    starts: list[ShellStart] = []
    frameworks: list[str] = []
    for framework, evidence in apk.shells:
        frameworks.append(framework)
        for raw in _URL.findall(evidence):
            try:
                url = parse_url(raw.rstrip(".,;"))
            except (InvalidName, ValueError):
                continue
            if url.is_ip:
                if not public_ip(url.host):
                    continue
            elif vouched_host(url.host) or url.host == "localhost":
                continue
            if url.host not in {start.host for start in starts}:
                starts.append(ShellStart(framework, url.url, url.host, url.is_ip))
    return starts, list(dict.fromkeys(frameworks))


def web_shell(apk: ApkObservation) -> tuple[Signal | None, list[ShellStart]]:
    """The web-shell signal and the remote start pages it reports (see ``apk_shells``)."""
    if not apk.shells:
        return None, []
    starts, frameworks = shell_starts(apk)
    in_label = fraud_label_words(labels(apk))
    in_package = fraud_package_words(apk.package)
    category = (in_label or in_package or [(Category.FAKE_APP.value, "")])[0][0]
    evidence = [f"shell: {framework}" for framework in frameworks[:3]]
    evidence += [f"start page: {start.url[:120]}" for start in starts[:3]]
    if in_label:
        evidence.append("label words: " + ", ".join(word for _, word in in_label[:4]))
    if in_package:
        evidence.append("package words: " + ", ".join(word for _, word in in_package[:4]))
    if starts:
        score = SHELL_REMOTE_FRAUD_LABEL if in_label else SHELL_REMOTE + (SHELL_PACKAGE_WORDS if in_package else 0.0)
        reason = (f"App is a {frameworks[0]} web shell around the remote site {starts[0].host}: whoever runs it "
                  "changes what the app shows at will")
    elif in_label:
        score = SHELL_LOCAL_FRAUD_LABEL
        reason = f"App is a {frameworks[0]} web shell of bundled pages"
    else:
        return None, []
    if in_label:
        reason += f", named with the words of a fraud script ({', '.join(word for _, word in in_label[:3])})"
    indicators = tuple(("ip" if start.is_ip else "host", start.host) for start in starts)
    return Signal("shell", category, round(score, 3), reason + ".", tuple(evidence), indicators), starts


# -- 6. signing and packaging --------------------------------------------------------------------------

SIGN_DEBUG = 0.20  # the public Android debug key, or the public AOSP test keys
SIGN_JUNK = {1: 0.08, 2: 0.12, 3: 0.15}  # by number of junk marks (3 or more: 0.15)
SIGN_UNSIGNED = 0.15
SIGN_NOT_VERIFIED = 0.25  # no scheme verifies: modified after signing
SIGN_PARTLY_VERIFIED = 0.15
PACKER = 0.05  # banks pack their apps too
TAMPER = 0.20  # zip tricks against analysis tools
TAMPER_EACH = 0.05
TAMPER_CAP = 0.30
SIGNATURE_STRIPPED = 0.15  # newer signature schemes removed: changed and re-signed, or made to look unsigned
HOSTILE_MEMBERS = 0.30  # members named to escape the app's folder (zip slip) or to exhaust the unpacker
SIGNING_CAP = 0.35  # never suspicious on its own...
#: ...except Janus (CVE-2017-13156): a DEX put before a v1-signed zip so that Android runs code the
#: signature does not cover. It has no honest use: malicious on its own.
JANUS = 0.75
SIGNING_CAP_JANUS = 0.90
#: How ``apk.tamper`` messages are read: (kind, words any of which the lowercased message contains).
#: Signatures that do not verify and nested APKs are left to the schemes and to ``apk.nested``.
TAMPER_KINDS = (
    # "full analysis": notes of the optional analysis of the code (a DEX androguard cannot read, a limit
    # reached): about the analysis, not tricks in the APK, and absent without --full.
    ("ignore", ("nested apk", "app bundle", "budget", "does not verify", "unsigned", "no signature",
                "full analysis")),
    ("janus", ("janus", "dex before the zip")),
    ("stripped", ("signature stripped",)),
    ("hostile", ("traversal", "bomb")),
)

_DN_PART = re.compile(r"(?:^|[,/;]\s*)([A-Za-z][A-Za-z0-9.]*)\s*[=:]\s*((?:\\,|[^,/;])*)")
_DN_KEYS = {
    "cn": "CN", "commonname": "CN", "common name": "CN", "o": "O", "organizationname": "O", "organization": "O",
    "ou": "OU", "organizationalunitname": "OU", "organizational unit": "OU", "emailaddress": "E", "e": "E",
    "email": "E", "1.2.840.113549.1.9.1": "E",
}


def distinguished_name(subject: str) -> dict[str, str]:
    """``CN``, ``O``, ``OU``, ``E`` of a subject written as ``CN=a, O=b`` (RFC 4514 or OpenSSL's ``/CN=a/O=b``)."""
    found: dict[str, str] = {}
    for key, value in _DN_PART.findall(subject):
        name = _DN_KEYS.get(key.strip().lower())
        if name and name not in found:
            found[name] = value.strip().replace("\\,", ",")
    return found


def public_key(certificate: ApkCertificate) -> bool:
    """True for keys anyone can sign with: the Android debug key and the AOSP test keys."""
    if certificate.debug:
        return True
    dn = distinguished_name(certificate.subject)
    return dn.get("E", "").lower() == "android@android.com" or dn.get("CN", "").lower() == "android debug"


def junk_marks(certificate: ApkCertificate, observed_at: datetime | None) -> list[str]:
    """How a self-made certificate shows it was made in a hurry: tiny or placeholder names, absurd dates."""
    marks = []
    dn = distinguished_name(certificate.subject)
    if certificate.subject.strip():
        cn = dn.get("CN", "").strip()
        if not cn:
            marks.append("no common name")
        elif len(cn) <= 2 or cn.lower() in PLACEHOLDER_CN:
            marks.append(f"placeholder common name {cn!r}")
        organisation = dn.get("O", "").strip()
        if not organisation and not dn.get("OU") and marks:
            marks.append("no organisation")  # only counts beside another mark: many honest developers leave it out
        elif cn and cn == organisation and cn.isascii() and cn.islower() and " " not in cn:
            marks.append(f"one lowercase word {cn!r} for both person and organisation")
    start, end = certificate.not_before, certificate.not_after
    if start and end:
        if end < start:
            marks.append("expires before it starts")
        elif (end - start).days > MAX_VALIDITY_YEARS * 366:
            marks.append(f"valid for {round((end - start).days / 365.25)} years")
    if start and start.year < EARLIEST_NOT_BEFORE_YEAR:
        marks.append(f"valid from {start.year}")
    if start and observed_at and _naive(start) > _naive(observed_at):
        marks.append(f"valid only from {start.date()}, after the app was seen")
    return marks


def _naive(moment: datetime) -> datetime:
    """``moment`` as a naive UTC time, so aware and naive dates compare."""
    offset = moment.utcoffset()
    return moment.replace(tzinfo=None) - offset if offset is not None else moment


def tamper_kinds(messages: Sequence[str]) -> dict[str, list[str]]:
    """``apk.tamper`` messages by kind (``TAMPER_KINDS``; the rest are ``zip`` tricks), the ignored left out."""
    found: dict[str, list[str]] = {}
    for message in messages:
        lowered = message.lower()
        kind = next((kind for kind, words in TAMPER_KINDS if any(word in lowered for word in words)), "zip")
        if kind != "ignore":
            found.setdefault(kind, []).append(message)
    return found


def signing(apk: ApkObservation) -> Signal | None:
    """Weak signs in how the app is signed and packaged (see ``apk_signing``)."""
    parts: list[tuple[float, str]] = []
    if not apk.certificates:
        parts.append((SIGN_UNSIGNED, "unsigned"))
    for certificate in apk.certificates[:3]:
        if public_key(certificate):
            parts.append((SIGN_DEBUG, f"signed with a public key anyone can use ({certificate.subject or 'debug'})"))
            continue
        marks = junk_marks(certificate, apk.observed_at)
        if marks:
            text = f"throw-away certificate {certificate.subject!r}: " + ", ".join(marks)
            parts.append((SIGN_JUNK[min(3, len(marks))], text))
    schemes = [verified for certificate in apk.certificates for _, verified in certificate.schemes]
    if schemes and not any(schemes):
        parts.append((SIGN_NOT_VERIFIED, "no signature verifies: the APK was changed after signing"))
    elif schemes and not all(schemes):
        failed = sorted({s for c in apk.certificates for s, ok in c.schemes if not ok})
        parts.append((SIGN_PARTLY_VERIFIED, f"signature schemes {', '.join(failed)} do not verify"))
    if apk.packers:
        parts.append((PACKER, "packed with " + ", ".join(dict.fromkeys(name for name, _ in apk.packers))))
    kinds = tamper_kinds(apk.tamper)
    if kinds.get("janus"):
        parts.append((JANUS, "code put before the zip, outside the signature (Janus): " + kinds["janus"][0]))
    if kinds.get("stripped"):
        parts.append((SIGNATURE_STRIPPED, kinds["stripped"][0]))
    if kinds.get("hostile"):
        parts.append((HOSTILE_MEMBERS, "members built against unpackers: " + ", ".join(kinds["hostile"][:2])))
    if kinds.get("zip"):
        tamper = min(TAMPER_CAP, TAMPER + TAMPER_EACH * (len(kinds["zip"]) - 1))
        parts.append((tamper, "zip tricks against analysis tools: " + ", ".join(kinds["zip"][:3])))
    if not parts:
        return None
    cap = SIGNING_CAP_JANUS if kinds.get("janus") else SIGNING_CAP
    score = round(min(cap, noisy_or(score for score, _ in parts)), 3)
    reason = "App is signed or packaged the way throw-away apps are: " + "; ".join(text for _, text in parts[:3])
    return Signal("signing", Category.FAKE_APP.value, score, reason + ".", tuple(text for _, text in parts))


# -- 7. embedded endpoints ------------------------------------------------------------------------------

ENDPOINT_IP_URL = 0.10  # a URL on a bare public IP address
ENDPOINT_ODD_PORT = 0.05  # ... on a port other than 80 and 443
ENDPOINT_DYNAMIC_DNS = 0.15
ENDPOINT_SUSPICIOUS_TLD = 0.08
ENDPOINT_FRAUD_WORDS = 0.10  # a host whose labels carry fraud words (kefu, daikuan, usdt)
ENDPOINT_BRAND = 0.20  # a host named after a protected brand that does not own it (icbc-anquan.top)
ENDPOINT_CAP = 0.35


def public_ip(value: str) -> bool:
    """True for a globally routable address that is not a well-known public resolver."""
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return address.is_global and str(address) not in PUBLIC_RESOLVERS


def embedded_hosts(apk: ApkObservation) -> list[str]:
    """Host names the app embeds (``apk.hosts`` and the hosts of ``apk.urls``), valid, each once, in order."""
    found: list[str] = []
    for raw in (*apk.hosts, *(_url_host(url) for url in apk.urls)):
        if not raw or is_ip_literal(raw):
            continue
        try:
            host = normalize_name(raw, allow_underscore=True)
        except InvalidName:
            continue
        if registrable_domain(host) and host not in found:
            found.append(host)
    return found


def _url_host(url: str) -> str:
    try:
        return parse_url(url).host
    except (InvalidName, ValueError):
        return ""


def reportable_host(host: str) -> bool:
    """True for a host an app may be reported for: not vouched for, no library's, no shared platform's."""
    domain = registrable_domain(host)
    return not (
        vouched_host(host)
        or domain in LIBRARY_DOMAINS
        or reference.shared_platform_of(host) is not None
    )


def endpoints(apk: ApkObservation) -> Signal | None:
    """Backends the way fraud builds them: bare IPs on odd ports, dynamic DNS, cheap TLDs, fraud words in names."""
    parts: list[tuple[float, str]] = []
    ip_urls = []
    for raw in apk.urls:
        try:
            url = parse_url(raw)
        except (InvalidName, ValueError):
            continue
        if url.is_ip and public_ip(url.host):
            ip_urls.append(url)
    if ip_urls:
        parts.append((ENDPOINT_IP_URL, f"URL on a bare IP address: {ip_urls[0].url[:100]}"))
        odd = [url for url in ip_urls if url.port not in (None, 80, 443)]
        if odd:
            parts.append((ENDPOINT_ODD_PORT, f"on port {odd[0].port}"))
    hosts = embedded_hosts(apk)
    dynamic = [host for host in hosts if any(host.endswith("." + apex) for apex in DYNAMIC_DNS)]
    if dynamic:
        parts.append((ENDPOINT_DYNAMIC_DNS, f"dynamic DNS or tunnel host {dynamic[0]}"))
    candidates = [host for host in hosts if reportable_host(host)]
    tlds = reference.domain_words().suspicious_tlds
    cheap = [host for host in candidates if host.rsplit(".", 1)[-1] in tlds]
    if cheap:
        parts.append((ENDPOINT_SUSPICIOUS_TLD, f"host on a throw-away TLD: {cheap[0]}"))
    worded = [(host, word) for host in candidates for _, word in _host_fraud_words(host)[:1]]
    if worded:
        parts.append((ENDPOINT_FRAUD_WORDS, f"host named with fraud words: {worded[0][0]} ({worded[0][1]})"))
    branded = [(host, brand) for host in candidates if (brand := brand_in_host(host))]
    if branded:
        parts.append((ENDPOINT_BRAND, f"host named after {branded[0][1]}, which does not own it: {branded[0][0]}"))
    if not parts:
        return None
    score = round(min(ENDPOINT_CAP, noisy_or(score for score, _ in parts)), 3)
    reason = "App talks to backends built the way fraud builds them: " + "; ".join(text for _, text in parts[:3])
    return Signal("endpoints", Category.SUSPICIOUS_URL.value, score, reason + ".", tuple(text for _, text in parts))


def brand_in_host(host: str) -> str | None:
    """The bank, payment or government brand whose token a host's own labels carry (``fraudwall.host_labels``).

    Only those kinds: apps name the many domains of the global platforms that the reference data does
    not list (googlevideo.com, googlelabs.com), while a backend named after a bank is the fraud's own.
    """
    try:
        url = parse_url(f"http://{host}/")
    except (InvalidName, ValueError):
        return None
    labels = owned_labels(url)
    for brand in reference.brands():
        if brand.kind not in CLAIM_KINDS or brand.owns(host):
            continue
        if any(token_in_label(brand, label) for label in labels):
            return brand.id
    return None


def _host_fraud_words(host: str) -> list[tuple[str, str]]:
    domain = registrable_domain(host)
    own = host[: len(host) - len(domain)] + domain.split(".", 1)[0] if domain else host
    return fraud_package_words(own)


# -- 8. what the code really calls (the full analysis only) ---------------------------------------------

# ``apk.api_calls`` holds the sensitive framework methods the app's own code calls, found through
# cross-references when the full analysis ran (``fraudwall analyze apk --full``), as ``Lclass;->method``
# (apk_analysis/data/sensitive_apis.toml lists every method it may hold). A call corroborates what the
# manifest allows: the app does not merely ask for SEND_SMS, its code sends SMS.
CALLS_SEND_SMS = (
    "Landroid/telephony/SmsManager;->sendTextMessage", "Landroid/telephony/SmsManager;->sendMultipartTextMessage",
    "Landroid/telephony/SmsManager;->sendDataMessage", "Landroid/telephony/gsm/SmsManager;->sendTextMessage",
    "Landroid/telephony/gsm/SmsManager;->sendMultipartTextMessage",
)
CALLS_ABORT_BROADCAST = ("Landroid/content/BroadcastReceiver;->abortBroadcast",)
CALLS_GESTURES = (
    "Landroid/accessibilityservice/AccessibilityService;->dispatchGesture",
    "Landroid/accessibilityservice/AccessibilityService;->performGlobalAction",
)
CALLS_SCREEN_CAPTURE = (
    "Landroid/media/projection/MediaProjectionManager;->createScreenCaptureIntent",
    "Landroid/media/projection/MediaProjectionManager;->getMediaProjection",
    "Landroid/media/projection/MediaProjection;->createVirtualDisplay",
)
#: Window additions the full analysis reports only with an overlay window type in the calling class.
CALLS_OVERLAY = ("Landroid/view/WindowManager;->addView", "Landroid/view/ViewManager;->addView")
CALLS_DYNAMIC_CODE = (
    "Ldalvik/system/DexClassLoader;-><init>", "Ldalvik/system/PathClassLoader;-><init>",
    "Ldalvik/system/InMemoryDexClassLoader;-><init>", "Ldalvik/system/DelegateLastClassLoader;-><init>",
    "Ldalvik/system/DexFile;->loadDex",
)
#: Package installation: the session API, or an intent the full analysis saw built to install an APK.
CALLS_INSTALL = (
    "Landroid/content/pm/PackageInstaller;->createSession", "Landroid/content/pm/PackageInstaller;->openSession",
    "Landroid/content/pm/PackageInstaller$Session;->commit", "Landroid/content/Intent;->setDataAndType",
    "Landroid/content/Intent;->setAction", "Landroid/content/Intent;-><init>",
)
CALLS_DEVICE_ADMIN = (
    "Landroid/app/admin/DevicePolicyManager;->lockNow", "Landroid/app/admin/DevicePolicyManager;->resetPassword",
    "Landroid/app/admin/DevicePolicyManager;->wipeData",
)
CORROBORATION_WEIGHTS = {
    "send_sms": 0.08,  # SEND_SMS, and the code sends SMS
    "hides_sms": 0.10,  # reads SMS, and the code aborts broadcasts: the bank's message never shows
    "gestures": 0.12,  # an accessibility service whose code taps, swipes and presses Back/Home
    "screen_capture": 0.10,  # a MediaProjection service whose code starts capturing the screen
    "overlay": 0.05,  # SYSTEM_ALERT_WINDOW, and the code adds a window over other apps
    "dropper_code": 0.12,  # REQUEST_INSTALL_PACKAGES, and the code loads code at run time
    "installs_payload": 0.08,  # carries an APK and may install, and the code installs packages
    "device_admin": 0.10,  # device admin, and the code locks the phone, resets its password or wipes it
}
#: Below 1 - (1 - 0.75) / (1 - CAPABILITY_CAP) = 0.286: the capability finding at its cap and this one
#: together stay under malicious. Calls corroborate what the manifest asks for; they are the same concept.
CORROBORATION_CAP = 0.25


def _short_call(call: str) -> str:
    """``Landroid/telephony/SmsManager;->sendTextMessage`` as ``SmsManager.sendTextMessage``."""
    owner, _, method = call.partition("->")
    return owner.rstrip(";").rsplit("/", 1)[-1] + "." + method


def code_corroboration(apk: ApkObservation) -> Signal | None:
    """Dangerous capabilities the app's code is seen using (``apk_api_calls``); None without calls."""
    if not apk.api_calls:
        return None
    calls = set(apk.api_calls)
    caps = capabilities(apk)
    present: dict[str, str] = {}

    def called(names: Sequence[str]) -> str:
        return ", ".join(_short_call(name) for name in names if name in calls)

    if SEND_SMS in caps.permissions and (made := called(CALLS_SEND_SMS)):
        present["send_sms"] = f"sends SMS ({made})"
    if (caps.sms or caps.sms_receivers) and (made := called(CALLS_ABORT_BROADCAST)):
        present["hides_sms"] = f"reads SMS and aborts broadcasts ({made})"
    if caps.accessibility and (made := called(CALLS_GESTURES)):
        present["gestures"] = f"accessibility service {caps.accessibility[0]} drives the screen ({made})"
    if caps.media_projection and (made := called(CALLS_SCREEN_CAPTURE)):
        present["screen_capture"] = f"screen capture ({caps.media_projection[0]}) started in code ({made})"
    if caps.overlay and (made := called(CALLS_OVERLAY)):
        present["overlay"] = f"draws a window over other apps ({made} with an overlay type)"
    installer = REQUEST_INSTALL_PACKAGES in caps.permissions
    if installer and (made := called(CALLS_DYNAMIC_CODE)):
        present["dropper_code"] = f"loads code at run time and may install packages ({made})"
    if installer and apk.nested and (made := called(CALLS_INSTALL)):
        present["installs_payload"] = f"installs packages ({made}) and carries {len(apk.nested)} APK(s)"
    if caps.device_admin and (made := called(CALLS_DEVICE_ADMIN)):
        present["device_admin"] = f"device admin {caps.device_admin[0]} locks or wipes the phone ({made})"
    if not present:
        return None
    score = round(min(CORROBORATION_CAP, noisy_or(CORROBORATION_WEIGHTS[key] for key in present)), 3)
    named = sorted(present, key=lambda key: -CORROBORATION_WEIGHTS[key])
    reason = "App's code really uses its dangerous capabilities: " + "; ".join(present[key] for key in named[:4])
    evidence = tuple(f"{key}: {present[key]}" for key in named)
    return Signal("code", Category.FAKE_APP.value, score, reason + ".", evidence)


# -- the whole app ------------------------------------------------------------------------------------------


def app_signals(apk: ApkObservation, brands: Sequence[Brand] | None = None) -> list[Signal]:
    """Every concept's signal about the app itself (indicators excluded): what the apk_* plugins report."""
    found = [
        impersonation(apk, brands), dangerous_capabilities(apk), loan_profile(apk), remote_control(apk, brands),
        web_shell(apk)[0], signing(apk), endpoints(apk), code_corroboration(apk),
    ]
    return [signal for signal in found if signal is not None]


def profile(signals: Sequence[Signal]) -> float:
    """How fraud-like the app is: the noisy-OR of its signals, the score its verdict starts from."""
    return round(noisy_or(signal.score for signal in signals), 4)
