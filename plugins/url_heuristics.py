"""URL detector: what a host name alone says, before or without fetching it.

Signals, all read from the reference data in ``fraudwall/data/``:

* a government's name on a name no government registered: a label part
  ``gov``, ``govt``, ``gouv`` or ``gob``, or a word ending in ``gov``
  (``gov-uk.taxrefund-claim.help``, ``tpc-mojgov-tw.com``), under a suffix that
  is not a government's own (``gov.uk``, ``gov.tw``, ``.gov``...); it counts as
  a brand, the government's;
* a protected brand's token or hotline in a label of a domain the brand does
  not own (``icbc-kefu.top``, ``95588-kefu.cc``), its whole official domain
  embedded in a foreign name (``www.icbc.com.cn.secure-login.xyz``), or its
  Chinese name in an IDN label (``工商银行客服.com``); brands spelt *almost*
  right (homoglyphs, typos) are the ``lookalike`` detector's;
* fraud words in pinyin or English (kefu, tuikuan, daikuan, licai, login...);
* a TLD favoured by throw-away registrations;
* punycode hosts, and U-labels that mix Latin with a confusable script;
* random-looking labels (letters and digits interleaved);
* IP-literal hosts; a brand or fraud words on a shared-platform subdomain
  (``icbc.github.io``, ``daikuan-vip.web.app``);
* a whole domain worn as the subdomain (``netbank-commbank.com.au.secure-id.net``):
  what a reader sees first is a domain the registrant does not hold; the same
  for a domain written as the URL's user name (``http://www.icbc.com.cn@pay-verify.top/``,
  where the browser goes to the host after the ``@``), and a brand's official
  domain there counts as that domain embedded in the name;
* a tenant of a platform that publishes pages unreviewed (object-storage buckets,
  free hosts, dynamic DNS, tunnels: ``unreviewed`` in ``shared_platforms.toml``).

They are combined by co-occurrence. A brand on a foreign name is strong on its
own and becomes very strong with fraud words and a cheap TLD; without a brand
the shape signals add up slowly and are capped below "malicious", so only page
evidence can push such a name over the line. A brand's official domains, the
allowlist and shared-platform apexes get no finding at all.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import unquote, urlsplit
from collections.abc import Sequence
from dataclasses import dataclass, field

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.host_labels import brand_tokens, owned_labels, parts, token_in_label, vouched_for
from fraudwall.models import Category, Finding, UrlParts
from fraudwall.names import registrable_domain
from fraudwall.reference import Brand, DomainWords

name = "url_heuristics"
version = "2.3"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with page findings; malicious >= 0.75, suspicious >= 0.40.

#: Brand signals: the strongest one found sets the base.
BRAND_TOKEN = 0.55  # a brand token in a foreign name: suspicious by itself
BRAND_EMBEDDED = 0.80  # the whole official domain inside a foreign name
GOVERNMENT_CLAIM = 0.45  # "gov" in a name no government registered: weaker than a named brand
#: Additions to a brand base.
BRAND_WORD_BONUS = (0.15, 0.10)  # first and second distinct fraud word
BRAND_TLD_BONUS = 0.18
BRAND_PLATFORM_BONUS = 0.10  # free hosting gives the brand nothing legitimate
BRAND_MAX = 0.97
#: Shape signals without a brand; their sum is capped at SHAPE_MAX.
SHAPE_TLD = 0.15
SHAPE_WORDS = (0.12, 0.10, 0.08)  # first, second, third distinct fraud word
SHAPE_IP = 0.30
SHAPE_PUNYCODE = 0.10
SHAPE_MIXED_SCRIPT = 0.45
SHAPE_RANDOM = 0.15
SHAPE_PLATFORM = 0.10  # fraud words on free hosting: only counted beside those words
SHAPE_DRESSED = 0.30  # a whole domain worn as the subdomain (netbank.com.au.secure-id.net)
SHAPE_UNREVIEWED = 0.15  # a tenant of object storage, a free host, dynamic DNS or a tunnel: as cheap as a throw-away TLD
#: Single-label suffixes a subdomain may end in to pass for a domain of its own.
DRESSING_SUFFIXES = frozenset({"com", "net", "org", "gov", "edu"})
SHAPE_MAX = 0.60

#: A random-looking label: at least this long (letters and digits), switching this
#: many times between letters and digits. Consonant runs are no sign here: Chinese
#: names abbreviate pinyin to initials (jxnxs, bjgjj) all the time.
RANDOM_MIN_LENGTH = 6
RANDOM_SWITCHES = 4

#: Label parts that claim a government, and the suffix parts only governments register under.
GOVERNMENT_PARTS = frozenset({"gov", "govt", "gouv", "gob"})
GOVERNMENT_SUFFIX_PARTS = frozenset({"gov", "govt", "gouv", "gob", "go", "mil", "gv", "gc"})
#: A word ending in "gov" claims one when this long (mojgov, irsgov; not egov or ngov).
GOVERNMENT_WORD_MIN = 6
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER_DIGIT_SWITCH = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


@dataclass(frozen=True, slots=True)
class Signal:
    """One observation about the name, with its weight and a line of evidence."""

    kind: str
    weight: float
    evidence: str
    brand: str = ""


@dataclass(slots=True)
class Observations:
    """Everything noticed about one host, before scoring."""

    brand: list[Signal] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)  # word -> theme
    shape: list[Signal] = field(default_factory=list)
    platform: str | None = None


# -- the name's parts ----------------------------------------------------------
# Which labels the registrant chose, and their parts, is fraudwall.host_labels (lookalike reads them too).


def scripts_of(label: str) -> set[str]:
    """Unicode scripts of the letters in ``label`` (LATIN, CYRILLIC, CJK...)."""
    return {unicodedata.name(ch, "?").split(" ")[0] for ch in label if ch.isalpha()}


# -- brands --------------------------------------------------------------------


def name_in_label(brand: Brand, label: str) -> str | None:
    """The brand's Chinese name inside a Unicode label, if any."""
    return next((n for n in brand.names if _CJK.search(n) and n.lower() in label), None)


def embedded_domain(brand: Brand, host: str) -> str | None:
    """An official domain of the brand written inside a foreign host name.

    The brand's domain with a country's suffix after it (``hsbc.com.sg``,
    ``amazon.com.mx``, ``paypal.com.au``) is not one: such names are mostly the
    brand's own country sites, which the brand data does not list one by one;
    their brand token still counts, at a score that publishes nothing alone.
    """
    padded = f".{host}."
    found = [domain for domain in brand.domains if f".{domain}." in padded]
    if not found:
        return None
    registered = registrable_domain(host)
    return next((domain for domain in found if not registered.startswith(f"{domain}.")), None)


def brand_signals(brand: Brand, host: str, unicode_host: str, labels: Sequence[str]) -> list[Signal]:
    """How the host name wears ``brand`` (the caller has checked the brand does not own it).

    ``labels`` are the host's registrant-chosen labels, ``unicode_host`` the host with U-labels.
    """
    found = []
    domain = embedded_domain(brand, host)
    if domain:
        evidence = f"official domain {domain} of {brand.id} inside {host}"
        found.append(Signal("embedded", BRAND_EMBEDDED, evidence, brand.id))
    for label in labels:
        token = token_in_label(brand, label)
        if token:
            found.append(Signal("token", BRAND_TOKEN, f"{brand.id} token '{token}' in label '{label}'", brand.id))
    for label in (label for label in unicode_host.split(".") if not label.isascii()):
        brand_name = name_in_label(brand, label)
        if brand_name:
            found.append(Signal("name", BRAND_TOKEN, f"{brand.id} name '{brand_name}' in label '{label}'", brand.id))
    return found


def _label_runs(host: str) -> frozenset[str]:
    """Every run of consecutive labels of ``host`` (a.b.c: a, b, c, a.b, b.c, a.b.c): where an embedded domain sits."""
    labels = host.split(".")
    count = len(labels)
    return frozenset(".".join(labels[start:end]) for start in range(count) for end in range(start + 1, count + 1))


@functools.lru_cache(maxsize=reference.HOST_CACHE_SIZE)
def host_brand_signals(host: str, unicode_host: str, labels: tuple[str, ...]) -> tuple[Signal, ...]:
    """:func:`brand_signals` of every bundled brand that does not own ``host``, in brands.toml order.

    Cached per host name: a crawl judges many pages of one host. Only brands
    that can give a signal are asked: one whose token a label carries, one with
    an official domain inside the name, or any brand when a label is Unicode.
    """
    owners = reference.owners(host)
    named = {brand.id for label in labels for brand, _ in brand_tokens(label)}
    runs = _label_runs(host)
    idn = not unicode_host.isascii()
    return tuple(
        signal
        for brand in reference.brands()
        if (idn or brand.id in named or any(domain in runs for domain in brand.domains))
        and not any(brand is owner for owner in owners)
        for signal in brand_signals(brand, host, unicode_host, labels)
    )


# -- words, TLDs and shape ------------------------------------------------------


def government_claim(url: UrlParts, labels: Sequence[str]) -> tuple[str, str] | None:
    """``(label, part)`` where a label the registrant chose claims a government, when the suffix is no government's."""
    if GOVERNMENT_SUFFIX_PARTS & set(url.suffix.split(".")):
        return None
    for label in labels:
        for part in parts(label):
            if part in GOVERNMENT_PARTS or (part.endswith("gov") and len(part) >= GOVERNMENT_WORD_MIN):
                return label, part
    return None


def fraud_words(labels: Sequence[str], words: DomainWords) -> dict[str, str]:
    """Fraud word -> theme, for every theme word in ``labels``."""
    found: dict[str, str] = {}
    for label in labels:
        label_parts = parts(label)
        for theme in words.themes:
            for word in theme.words:
                if word in label:
                    found.setdefault(word, theme.id)
            for word in theme.exact:
                if word in label_parts:
                    found.setdefault(word, theme.id)
    return found


def random_looking(label: str) -> str | None:
    """Why ``label`` looks machine-made (letters and digits interleaved: kq8v2x), or ``None``.

    Short labels are never judged: brands and abbreviations (jd, cmbc, 163) are short.
    """
    plain = label.replace("-", "")
    if len(plain) < RANDOM_MIN_LENGTH or not plain.isascii() or plain.startswith("xn"):
        return None
    switches = len(_LETTER_DIGIT_SWITCH.findall(plain))
    return f"letters and digits switch {switches} times" if switches >= RANDOM_SWITCHES else None


def shape_signals(url: UrlParts, words: DomainWords, platform: str | None) -> list[Signal]:
    """Signals from the form of the name: IP literal, TLD, punycode, mixed scripts, random labels, a domain
    worn as the subdomain, and ``platform`` (the shared platform the host is a tenant of) when unreviewed."""
    if url.is_ip:
        return [Signal("ip", SHAPE_IP, f"host is the IP literal {url.host}")]
    found = []
    tld = url.host.rsplit(".", 1)[-1]
    if tld in words.suspicious_tlds:
        found.append(Signal("tld", SHAPE_TLD, f"TLD .{tld} is favoured by throw-away registrations"))
    if "xn--" in url.host:
        found.append(Signal("punycode", SHAPE_PUNYCODE, f"internationalised name {url.unicode_host}"))
    for label in url.unicode_host.split("."):
        label_scripts = scripts_of(label)
        if "LATIN" in label_scripts and label_scripts & words.confusable_scripts:
            mixed = "+".join(sorted(label_scripts))
            found.append(Signal("mixed-script", SHAPE_MIXED_SCRIPT, f"label '{label}' mixes scripts ({mixed})"))
    for label in owned_labels(url):
        why = random_looking(label)
        if why:
            found.append(Signal("random", SHAPE_RANDOM, f"label '{label}' looks machine-made: {why}"))
            break
    if platform in reference.unreviewed_platforms() and url.host != f"www.{platform}":  # the operator's own site
        found.append(Signal("unreviewed", SHAPE_UNREVIEWED, f"a tenant of {platform}, which publishes pages at once, "
                                                            "unreviewed and under no name of the tenant's own"))
    dressed = dressed_as_domain(url.subdomain)
    if dressed:
        found.append(Signal("dressed", SHAPE_DRESSED, f"the subdomain ends in '{dressed}', a domain of its own, "
                                                      f"before the real one, {url.registrable_domain}"))
    return found


def dressed_as_domain(subdomain: str) -> str | None:
    """The whole domain a subdomain is dressed as (``netbank.com.au`` in ``netbank.com.au.secure-id.net``), or ``None``.

    Only under the suffixes a reader takes for a real site's (``.com``, ``.net``, ``.org``, ``.gov``,
    ``.edu``, a country's ``com.au``, ``co.uk``...): new generic suffixes are everyday words
    (``shop``, ``app``, ``news``) that real subdomains use.
    """
    domain = registrable_domain(subdomain) if "." in subdomain else ""
    if not domain:
        return None
    suffix = domain.split(".", 1)[1]
    return domain if "." in suffix or suffix in DRESSING_SUFFIXES else None


def worn_user_name(url: UrlParts) -> str | None:
    """The domain written as ``url``'s user name (``www.icbc.com.cn`` in ``http://www.icbc.com.cn@pay.top/``)."""
    try:
        user = unquote(urlsplit(url.url).netloc.rpartition("@")[0].partition(":")[0]).lower().rstrip(".")
    except ValueError:
        return None
    return user if "." in user and registrable_domain(user) else None


def user_name_signals(url: UrlParts) -> tuple[list[Signal], list[Signal]]:
    """Brand and shape signals of a domain written as the URL's user name, before the host it goes to."""
    user = worn_user_name(url)
    if user is None:
        return [], []
    brands = [Signal("embedded", BRAND_EMBEDDED, f"official domain {domain} of {brand.id} written as the user name "
                                                 f"before '@': the browser goes to {url.host}", brand.id)
              for brand in reference.brands() if not brand.owns(url.host)
              for domain in [next((d for d in brand.domains if user == d or user.endswith(f".{d}")), None)] if domain]
    if brands:
        return brands, []
    return [], [Signal("dressed", SHAPE_DRESSED, f"'{user}' written as the user name before '@', a domain of its "
                                                 f"own before the real one, {url.host}")]


def observe(url: UrlParts, words: DomainWords) -> Observations:
    """Collect every signal about ``url.host`` (not for official or allowlisted names)."""
    platform = None if url.is_ip else reference.shared_platform_of(url.host)
    seen = Observations(shape=shape_signals(url, words, platform), platform=platform)
    worn_brands, worn_shape = user_name_signals(url)
    seen.brand += worn_brands
    seen.shape += worn_shape
    if url.is_ip:
        return seen
    labels = owned_labels(url)
    # IDN labels carry Chinese fraud words (客服, 贷款) that only their U-labels show.
    unicode_labels = [label for label in url.unicode_host.split(".")[: len(labels)] if not label.isascii()]
    seen.words = fraud_words([*labels, *unicode_labels], words)
    seen.brand += host_brand_signals(url.host, url.unicode_host, tuple(labels))
    claim = government_claim(url, labels)
    if claim is not None:
        label, part = claim
        seen.words.pop(part, None)  # "gov" is a fraud word too: counted once, as the claim
        seen.brand.append(Signal("government", GOVERNMENT_CLAIM, brand="a government", evidence=(
            f"label '{label}' claims a government ({part}) under .{url.suffix}, which is no government's suffix")))
    return seen


# -- scoring -------------------------------------------------------------------


def brand_score(seen: Observations) -> float:
    """Base from the strongest brand signal, raised by fraud words, a cheap TLD and free hosting."""
    score = max(signal.weight for signal in seen.brand)
    score += sum(BRAND_WORD_BONUS[: len(seen.words)])
    if any(signal.kind == "tld" for signal in seen.shape):
        score += BRAND_TLD_BONUS
    if seen.platform:
        score += BRAND_PLATFORM_BONUS
    return min(BRAND_MAX, score)


def shape_score(seen: Observations) -> float:
    """Shape signals and fraud words without a brand: additive, capped below malicious.

    One fraud word and nothing else proves nothing (``tianqi-app.cn``); it only
    adds to other signals.
    """
    if len(seen.words) == 1 and not seen.shape and not seen.platform:
        return 0.0
    score = sum(signal.weight for signal in seen.shape) + sum(SHAPE_WORDS[: len(seen.words)])
    if seen.platform and seen.words:
        score += SHAPE_PLATFORM
    return min(SHAPE_MAX, score)


def _evidence(seen: Observations) -> tuple[str, ...]:
    lines = [signal.evidence for signal in seen.brand]
    lines += [f"fraud word '{word}' ({theme})" for word, theme in seen.words.items()]
    lines += [signal.evidence for signal in seen.shape]
    if seen.platform and (seen.brand or seen.words):
        lines.append(f"tenant of the shared platform {seen.platform}")
    return tuple(dict.fromkeys(lines))


def judge(url: UrlParts, seen: Observations) -> Finding | None:
    """The finding for ``url``, or ``None`` when nothing was noticed."""
    if seen.brand:
        score = brand_score(seen)
        brands = list(dict.fromkeys(signal.brand for signal in seen.brand if signal.kind != "government"))
        category = Category.BRAND_IMPERSONATION
        if brands:
            reason = f"Host {url.host} wears the brand {', '.join(brands)} on a name the brand does not own"
        else:
            reason = f"Host {url.host} claims to be a government's on a name no government registered"
    else:
        score = shape_score(seen)
        brands = []
        category = Category.SUSPICIOUS_URL
        reason = f"Host {url.host} has the shape of a throw-away fraud name"
    if score <= 0:
        return None
    extras = []
    if seen.words:
        extras.append("fraud words " + ", ".join(seen.words))
    if any(signal.kind == "tld" for signal in seen.shape):
        extras.append("a suspicious TLD")
    if seen.platform and (seen.brand or seen.words):
        extras.append("a shared-platform subdomain")
    if extras:
        reason += ", with " + " and ".join(extras)
    return Finding(
        subject=url.host, detector=name, detector_version=version, category=str(category),
        score=round(score, 3), reason=reason + ".", evidence=_evidence(seen),
        indicators=tuple(("brand", brand) for brand in brands),
    )


def analyze(url: UrlParts, words: DomainWords | None = None) -> list[Finding]:
    """All findings for ``url``; ``words`` defaults to the bundled domain words."""
    if vouched_for(url):
        return []
    finding = judge(url, observe(url, words or reference.domain_words()))
    return [finding] if finding else []


@hookimpl
def analyze_url(url: UrlParts) -> list[Finding]:
    """At most one finding: brand impersonation, or else a suspicious name shape."""
    return analyze(url)
