"""Cloaking across client profiles: does a seed show different clients materially different pages?

A seed is fetched once per client profile (:mod:`fraudwall.crawler.profiles`).
:func:`compare_variants` compares the variants two by two and calls a pair
*different* on any of:

* ``redirect-domain``: they land on different registrable domains (an HTTP
  redirect, or a meta refresh on an otherwise empty page), e.g. only WeChat is
  sent on to the scam;
* ``blocked`` / ``empty``: one gets a block page (403, 404, 451..., or a short
  page saying "access denied", "请使用手机访问", "请在微信中打开") or no
  visible text at all, while the other gets content;
* ``title``: the titles share (almost) nothing;
* ``text``: the visible texts are different documents.

``redirect-path`` (same site, another page) and ``app-download`` (an APK or
iOS install link only one of them has) are recorded beside those but never
decide alone: legitimate sites send phones to ``/m/`` and offer each phone its
own app.

Text similarity is the Jaccard index of token bigrams of the normalised
visible text, where a token is a Latin word or a single CJK character
(Chinese has no spaces to split words on, so a character bigram is its
shingle). Tokens with digits in them are dropped first: that is where
timestamps, counters, prices and session or CSRF tokens live. A rotating ad
block or a changed sentence moves the index a little; another document moves it
to near zero. Two texts are also the same when the shorter one lies mostly
inside the desktop's (a phone page without the desktop's side bars; never
the other way round: a phone shown the desktop's page *and more* is the very
thing looked for), and a difference of a few words on a tiny page is never
material.

A server error (5xx) or a rate limit (429) says nothing about cloaking: such a
variant is left out of the comparison. The comparison works on the
observations alone, costs one tokenisation per variant and set operations per
pair: about a thousand variants a second with 5,000 characters of text each, on one core.

:func:`cloaking_findings` turns a verdict into the core's finding (detector
``cloaking_profiles``) about the seed's host, to be added to the judgement of
every variant. Fetching the variants and holding them until the last has
ended is :mod:`fraudwall.crawler.variants`' work.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from fraudwall import reference
from fraudwall.crawler.profiles import PROFILES
from fraudwall.models import Category, Finding, PageObservation, SubjectKind
from fraudwall.names import is_ip_literal, registrable_domain

#: The detector name and version of the core's finding; the version changes with the calibration below.
DETECTOR = "cloaking_profiles"
VERSION = "1.0"

# -- calibration ---------------------------------------------------------------

#: Texts whose bigram Jaccard index is below this are different documents...
TEXT_SIMILARITY_MIN = 0.5
#: ... unless the shorter is a phone's and has at least this share of its bigrams in the desktop's ...
CONTAINMENT_MIN = 0.8
#: ... (containment counts only for a shorter text of at least this many bigrams) ...
CONTAINMENT_MIN_SHINGLES = 20
#: ... and unless they differ by fewer bigrams than this: a few words on a tiny page are noise.
MIN_DIFFERENT_SHINGLES = 20
#: Titles whose character-bigram Jaccard index is below this (and neither contains the other) differ.
TITLE_SIMILARITY_MIN = 0.25
#: Statuses that are a refusal when another client got the page.
BLOCK_STATUSES = frozenset({401, 403, 404, 410, 451})
#: Statuses that say nothing about the client: the variant is left out.
UNRELIABLE_STATUSES = frozenset({408, 429})
#: A page with more visible text than this is no block page, whatever words it has.
BLOCK_TEXT_MAX = 300
#: A page with less visible text than this (and no form) is empty.
EMPTY_TEXT_MAX = 20
#: A refusal only counts against a variant with content: at least this much visible text, or a form.
CONTENT_TEXT_MIN = 50
#: Visible text read per variant: cloaking shows in the first pages of text, and this bounds the cost.
MAX_TEXT_CHARS = 20_000
#: Latin tokens longer than this are dropped too: no word is, an encoded token is.
MAX_WORD_LENGTH = 24

#: The finding's score with one kind of material difference: suspicious on its own (``SCORE_SUSPICIOUS``
#: 0.40) and naming ``cloaking`` on the verdict (``CATEGORY_MIN_SCORE`` 0.5), never malicious alone
#: (``SCORE_MALICIOUS`` 0.75); beside a variant's own fraud finding of 0.5 or more it makes the verdict malicious.
SCORE = 0.5
#: With two or more kinds (a block page for desktops *and* another landing domain for WeChat...).
SCORE_MANY = 0.6

#: Differences that decide; the others are recorded beside them.
MATERIAL = ("redirect-domain", "blocked", "empty", "title", "text")
SUPPORTING = ("redirect-path", "app-download")

# What block pages say, compared without spaces and in lower case. Only short pages are searched, so an
# article that mentions "access denied" is not a block page.
BLOCK_PHRASES = tuple(phrase.replace(" ", "") for phrase in (
    "access denied", "forbidden", "not found", "not available in your", "mobile only",
    "please open in wechat", "please visit on your phone",
    "访问被拒绝", "拒绝访问", "禁止访问", "无权访问", "页面不存在", "页面未找到", "网站暂时无法访问",
    "请使用手机访问", "请用手机访问", "请使用手机打开", "请用手机打开", "请在手机上打开", "请在手机端",
    "请使用手机浏览器", "仅支持手机", "仅限手机", "请使用移动设备", "电脑端无法访问", "不支持电脑",
    "暂不支持pc", "不支持pc", "请用手机扫码", "请使用手机扫码", "请扫描二维码",
    "请在微信中打开", "请在微信客户端打开", "请在微信内打开", "请用微信打开", "请使用微信打开", "请在微信浏览器",
    "请在浏览器中打开", "请在浏览器打开",
))
_APP_EXTENSIONS = (".apk", ".xapk", ".ipa", ".mobileconfig")
# Hiragana, katakana, CJK ideographs (with extension A and compatibility), hangul: one token per character.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_SPACE = re.compile(r"\s+")
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
_INDEX = re.compile(r"/(?:index|default|home)\.(?:html?|php|aspx?|jsp)$", re.IGNORECASE)


# -- the verdict ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """What one profile was shown, in a few values: the evidence of a cloaking verdict."""

    profile: str
    status: int
    final_url: str
    #: Where the variant ends up: its final URL, or the target of a meta refresh on an empty page.
    landing: str
    title: str
    text_length: int
    #: Why it reads as a refusal (``status 403``, ``请使用手机访问``, ``empty page``); empty when it has content.
    block_sign: str = ""
    #: App install links (APK, IPA, mobileconfig, itms-services) on the page.
    downloads: tuple[str, ...] = ()

    def describe(self) -> str:
        """One evidence line: ``desktop: 403 "Access Denied", 13 characters at https://x.top/ (blocked: status 403)``."""
        title = f' "{self.title[:60]}"' if self.title else " (no title)"
        landing = f" then {self.landing}" if self.landing != self.final_url else ""
        sign = f" (blocked: {self.block_sign})" if self.block_sign else ""
        return f"{self.profile}: {self.status}{title}, {self.text_length} characters at {self.final_url}{landing}{sign}"


@dataclass(frozen=True, slots=True)
class VariantDifference:
    """How two profiles' variants differ; ``reasons`` are codes from :data:`MATERIAL` and :data:`SUPPORTING`."""

    profiles: tuple[str, str]
    reasons: tuple[str, ...]
    #: Jaccard index of their visible texts' bigrams, 1.0 for identical texts.
    similarity: float

    @property
    def material(self) -> bool:
        """True when a reason that decides is among the reasons."""
        return any(reason in MATERIAL for reason in self.reasons)

    def describe(self) -> str:
        """One evidence line: ``desktop vs android: blocked, text (similarity 0.02)``."""
        first, second = self.profiles
        return f"{first} vs {second}: {', '.join(self.reasons)} (text similarity {self.similarity:.2f})"


@dataclass(frozen=True, slots=True)
class CloakingVerdict:
    """A seed whose variants differ materially between client profiles.

    ``profiles`` are those in at least one material difference; ``groups``
    the variants that look alike, each group in profile order (the desktop
    alone, the phones together...); ``reasons`` every reason found, material
    ones first.
    """

    url: str
    profiles: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    reasons: tuple[str, ...]
    differences: tuple[VariantDifference, ...]
    variants: tuple[VariantSummary, ...]

    @property
    def material_reasons(self) -> tuple[str, ...]:
        """The reasons that decide, in :data:`MATERIAL` order."""
        return tuple(reason for reason in self.reasons if reason in MATERIAL)

    def evidence(self, limit: int = 8) -> tuple[str, ...]:
        """Short lines for a finding: each variant, then each material difference, at most ``limit``."""
        lines = [variant.describe() for variant in self.variants]
        lines += [difference.describe() for difference in self.differences if difference.material]
        return tuple(lines[:limit])


# -- comparing -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Variant:
    summary: VariantSummary
    landing_domain: str
    landing_path: str
    title_key: str
    title_grams: frozenset[str]
    shingles: frozenset[tuple[str, ...]]
    has_form: bool
    #: Fetched as a phone; a profile this module does not know is taken for one.
    mobile: bool


def compare_variants(variants: Mapping[str, PageObservation]) -> CloakingVerdict | None:
    """The cloaking verdict on one seed's variants (profile name -> page), ``None`` when they do not differ.

    Variants with a server error or a rate limit are left out; fewer than two
    left is no comparison, so ``None``.
    """
    read = [_read(name, page) for name, page in _ordered(variants)
            if page.status < 500 and page.status not in UNRELIABLE_STATUSES]
    if len(read) < 2:
        return None
    differences = [_difference(first, second) for index, first in enumerate(read) for second in read[index + 1:]]
    material = [difference for difference in differences if difference.material]
    if not material:
        return None
    involved = {name for difference in material for name in difference.profiles}
    found = {reason for difference in material for reason in difference.reasons}
    return CloakingVerdict(
        url=next(iter(variants.values())).url,
        profiles=tuple(variant.summary.profile for variant in read if variant.summary.profile in involved),
        groups=_groups(read, {difference.profiles for difference in material}),
        reasons=tuple(reason for reason in (*MATERIAL, *SUPPORTING) if reason in found),
        differences=tuple(material),
        variants=tuple(variant.summary for variant in read),
    )


def _ordered(variants: Mapping[str, PageObservation]) -> list[tuple[str, PageObservation]]:
    # Known profiles in their own order, others after by name: verdicts read the same whatever the arrival order.
    known = list(PROFILES)
    return sorted(variants.items(), key=lambda item: (known.index(item[0]) if item[0] in known else len(known), item[0]))


def _groups(read: list[_Variant], apart: set[tuple[str, str]]) -> tuple[tuple[str, ...], ...]:
    """Variants that look alike: each joins the first group whose first member it does not differ from."""
    groups: list[list[str]] = []
    for variant in read:
        name = variant.summary.profile
        home = next((group for group in groups if (group[0], name) not in apart), None)
        if home is None:
            groups.append([name])
        else:
            home.append(name)
    return tuple(tuple(group) for group in groups)


def _difference(first: _Variant, second: _Variant) -> VariantDifference:
    a, b = first.summary, second.summary
    similarity = _jaccard(first.shingles, second.shingles)
    reasons: list[str] = []
    if first.landing_domain != second.landing_domain:
        reasons.append("redirect-domain")
    if bool(a.block_sign) != bool(b.block_sign):
        blocked, served = (first, second) if a.block_sign else (second, first)
        # Content, a form, or an app to install (a one-line download page shown to WeChat alone): not a refusal.
        if served.summary.text_length >= CONTENT_TEXT_MIN or served.has_form or served.summary.downloads:
            reasons.append("empty" if blocked.summary.block_sign == "empty page" else "blocked")
    elif not a.block_sign:  # two block pages say the same thing: "no"
        if _titles_differ(first, second):
            reasons.append("title")
        if _texts_differ(first, second, similarity):
            reasons.append("text")
    if first.landing_domain == second.landing_domain and first.landing_path != second.landing_path:
        reasons.append("redirect-path")
    if set(a.downloads) != set(b.downloads):
        reasons.append("app-download")
    return VariantDifference((a.profile, b.profile), tuple(reasons), round(similarity, 3))


def _jaccard(first: frozenset[object], second: frozenset[object]) -> float:
    if not first and not second:
        return 1.0
    common = len(first & second)
    return common / (len(first) + len(second) - common)


def _texts_differ(first: _Variant, second: _Variant, similarity: float) -> bool:
    if similarity >= TEXT_SIMILARITY_MIN:
        return False
    common = len(first.shingles & second.shingles)
    if len(first.shingles) + len(second.shingles) - 2 * common < MIN_DIFFERENT_SHINGLES:
        return False
    smaller, larger = sorted((first, second), key=lambda variant: len(variant.shingles))
    # Only a phone shown less than the desktop is excused: a phone shown more is what cloaking does.
    if not (smaller.mobile and not larger.mobile) or len(smaller.shingles) < CONTAINMENT_MIN_SHINGLES:
        return True
    return common / len(smaller.shingles) < CONTAINMENT_MIN


def _titles_differ(first: _Variant, second: _Variant) -> bool:
    # An absent title is no evidence: the text decides.
    if not first.title_key or not second.title_key or first.title_key == second.title_key:
        return False
    if first.title_key in second.title_key or second.title_key in first.title_key:
        return False
    return _jaccard(first.title_grams, second.title_grams) < TITLE_SIMILARITY_MIN


# -- reading one variant -------------------------------------------------------


def _read(name: str, page: PageObservation) -> _Variant:
    text = page.text[:MAX_TEXT_CHARS]
    landing = _landing(page, text)
    host = (urlsplit(landing).hostname or "").lower()
    title_key = "".join(char for char in page.title.lower() if char.isalpha())
    summary = VariantSummary(
        profile=name, status=page.status, final_url=page.final_url, landing=landing, title=page.title,
        text_length=len(page.text), block_sign=_block_sign(page, text), downloads=_downloads(page),
    )
    return _Variant(
        summary=summary,
        landing_domain=_site(host),
        landing_path=_INDEX.sub("/", urlsplit(landing).path).rstrip("/"),
        title_key=title_key,
        title_grams=frozenset(title_key[i:i + 2] for i in range(max(1, len(title_key) - 1))),
        shingles=shingles(text),
        has_form=bool(page.forms),
        mobile=PROFILES[name].mobile if name in PROFILES else True,
    )


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """Token bigrams of normalised visible text; tokens are Latin words and single CJK characters, none with digits."""
    tokens = [token for token in _TOKEN.findall(text.lower())
              if token.isalpha() and len(token) <= MAX_WORD_LENGTH]
    if len(tokens) < 2:
        return frozenset((token,) for token in tokens)
    return frozenset(zip(tokens, tokens[1:]))


def _landing(page: PageObservation, text: str) -> str:
    """The final URL, or where a meta refresh on a page with no content of its own sends the visitor."""
    if len(text) < BLOCK_TEXT_MAX:
        for key, content in page.meta:
            if key == "refresh" and (match := _REFRESH_URL.search(content)):
                return urljoin(page.final_url, match.group(1).strip())
    return page.final_url


@functools.lru_cache(maxsize=4096)
def _site(host: str) -> str:
    """The registrable domain of ``host``; the host itself for an IP literal or a name without one."""
    if not host or is_ip_literal(host):
        return host
    return registrable_domain(host) or host


def _block_sign(page: PageObservation, text: str) -> str:
    if page.status in BLOCK_STATUSES:
        return f"status {page.status}"
    if len(text) > BLOCK_TEXT_MAX:
        return ""
    compact = _SPACE.sub("", f"{page.title} {text}".lower())
    phrase = next((phrase for phrase in BLOCK_PHRASES if phrase in compact), None)
    if phrase:
        return phrase
    if len(text) < EMPTY_TEXT_MAX and not page.forms and not _downloads(page):
        return "empty page"  # a page that offers an app is not empty, however short its text
    return ""


def _downloads(page: PageObservation) -> tuple[str, ...]:
    found = []
    for link in page.links:
        path = urlsplit(link.url).path.lower()
        if path.endswith(_APP_EXTENSIONS) or link.url.lower().startswith("itms-services:"):
            found.append(link.url)
    return tuple(sorted(set(found)))


# -- the finding ---------------------------------------------------------------


def cloaking_findings(verdict: CloakingVerdict, subject: str) -> list[Finding]:
    """The core's finding that ``subject`` (the seed's host) cloaks, or none for an allowlisted name.

    Scored :data:`SCORE` (:data:`SCORE_MANY` with two or more kinds of
    material difference): cloaking alone makes a subject suspicious and names
    the category; beside a variant's own fraud findings it corroborates them.
    The same finding goes into every variant's judgement: findings are keyed
    by subject, detector, version and category, so it is stored once.
    """
    kind = SubjectKind.of(subject)
    if kind is SubjectKind.HOST and reference.is_allowlisted(subject):
        return []
    material = verdict.material_reasons
    score = SCORE_MANY if len(material) >= 2 else SCORE
    landings = {variant.landing for variant in verdict.variants}
    indicators = [("profile", name) for name in verdict.profiles]
    if "redirect-domain" in material:
        indicators += [("redirect", landing) for landing in sorted(landings)]
    return [Finding(
        subject=subject, detector=DETECTOR, detector_version=VERSION, category=Category.CLOAKING.value,
        score=score, reason=_reason(verdict), evidence=verdict.evidence(), indicators=tuple(indicators),
        subject_kind=kind,
    )]


def _reason(verdict: CloakingVerdict) -> str:
    groups = "; ".join(", ".join(group) for group in verdict.groups)
    return (f"Shows different clients different pages ({', '.join(verdict.material_reasons)}): "
            f"{groups} each see their own.")
