"""Page detector: a page that speaks as a protected brand on a name the brand does not own.

The protected brands, their names, hotlines, official apps and domains come
from ``fraudwall/data/brands.toml``. Naming a brand is not claiming it: payment
pages list banks, news reports on them, police warn about those who pretend to
be them. So only **claims** count, each a way a page presents itself as the brand:

* *identity*: the brand's name in the page title, its declared site name
  (``og:site_name``, ``application-name``) or its top-level heading (one claim:
  a news page titles and heads an article about a bank with the same words);
* *logo*: an image whose file, class or id says "logo" with the brand's name as alt text;
* *service wording*: the name right beside a word of self-presentation
  (工商银行网上银行, 支付宝安全中心, 京东官方客服, "PayPal sign in"; the words
  are ``[brand_claims] words`` in ``fraudwall/data/page_signals.toml``);
* *official app*: one of the brand's app names on a page that offers a download.

A name preceded in its clause by a mention cue (支持微信支付, 冒充工商银行,
"pay with PayPal") or a negation is not a claim, and on a page that lists
several brands (a logo wall, 支付方式, "we accept") only identity claims count. Claims add up; the brand's hotline on the page and a form asking
for any credential (the claim made actionable) add more. A page framed as a
warning that asks for nothing is scaled down. Pages on a name the reference data
vouches for (any brand's own, the allowlist) get no finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.identity_cache import by_identity
from fraudwall.matching import Term, TermSet, Text, compile_lexicon, compile_terms, find_terms, negated, normalize
from fraudwall.models import Category, Finding, UrlParts
from fraudwall.page_view import PageView, strip_tags
from fraudwall.reference import Brand

name = "brand_impersonation"
version = "1.2"

# -- calibration ---------------------------------------------------------------
# Combined by noisy-OR with the other findings; malicious >= 0.75, suspicious >= 0.40.

#: Weight of each kind of claim; distinct kinds add up.
CLAIM_WEIGHTS = {"identity": 0.30, "logo": 0.30, "app": 0.30, "service": 0.25}
#: The brand's own hotline on the page, beside a claim.
HOTLINE = 0.15
#: A form asking for a credential on a page claiming the brand.
CREDENTIAL_FORM = 0.25
SCORE_MAX = 0.97
#: Warning pages that ask for nothing: score x FRAME_DECAY ** (warning terms - 1).
FRAME_DECAY = 0.3
MIN_SCORE = 0.1
#: A page naming this many brands in image alts shows a logo wall, not its own logo.
LOGO_WALL_BRANDS = 3
#: Characters around a name searched for self-presentation words (Chinese, Latin).
SERVICE_WINDOW_CJK = 6
SERVICE_WINDOW_LATIN = 16
#: Occurrences of a name examined for service wording (the first ones; claims come early).
MAX_OCCURRENCES = 8

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_IMG_ATTRIBUTE = re.compile(r"""\b(alt|src|class|id)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "og:title")


@dataclass(frozen=True, slots=True)
class BrandTerms:
    """One brand with its names, apps and hotlines compiled for matching."""

    brand: Brand
    names: tuple[Term, ...]
    service_names: tuple[Term, ...]  # names that are not also a messaging channel's (see below)
    apps: tuple[Term, ...]
    hotlines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrandIndex:
    """Every brand's terms, and one term set of all their names and apps, to find the brands a page names in one pass."""

    entries: tuple[BrandTerms, ...]
    every_name: TermSet
    #: For each term of ``every_name``, the entries it belongs to.
    owners: tuple[tuple[int, ...], ...]

    def named_in(self, text: Text) -> list[BrandTerms]:
        """The entries whose names or apps ``text`` carries, in brand order."""
        found = self.every_name.first_spans(text)
        return [self.entries[index] for index in sorted({entry for term in found for entry in self.owners[term]})]


@by_identity  # hashing every brand per page costs more than the page's other brand work
def _brand_index(brands: tuple[Brand, ...]) -> BrandIndex:
    """The index of ``brands``, built once."""
    # "在线客服 Telegram", "微信客服": a messaging app named beside service words is
    # the channel the page talks through, not a brand it claims to be.
    channels = {word for words in reference.page_signals().channel_words.values() for word in words}
    entries, owners = [], {}
    for index, brand in enumerate(brands):
        names = compile_terms(brand.names)
        apps = compile_terms(brand.apps)
        service_names = tuple(term for term in names if term.text not in channels)
        entries.append(BrandTerms(brand, names, service_names, apps, brand.hotlines))
        for term in (*names, *apps):
            owners.setdefault(term.text, []).append(index)
    every_name = compile_terms(owners)
    return BrandIndex(tuple(entries), every_name, tuple(tuple(owners[term.text]) for term in every_name))


@functools.cache
def _vocabulary() -> tuple[tuple[Term, ...], tuple[Term, ...], tuple[Term, ...]]:
    """(self-presentation words, list cues, cues that make a name a mention: negations included)."""
    signals = reference.page_signals()
    negation = compile_lexicon(reference.lexicon()).negation
    return (
        compile_terms(signals.claim_words),
        compile_terms(signals.list_cues),
        (*compile_terms(signals.mention_cues), *negation),
    )


@dataclass(slots=True)
class Claims:
    """The claims a page makes for one brand, with a line of evidence each."""

    brand: Brand
    kinds: dict[str, str] = field(default_factory=dict)
    hotline: str = ""

    def add(self, kind: str, evidence: str) -> None:
        """Record a claim of ``kind`` (the first evidence of each kind is kept)."""
        self.kinds.setdefault(kind, evidence)


def _claimed_in(text: Text, names: Sequence[Term], mention_cues: Sequence[Term]) -> str | None:
    """The first name of ``names`` that ``text`` uses as a claim (not after a mention cue), if any."""
    for term in names:
        start = next((start for start, _ in term.spans(text)), None)
        if start is not None and not negated(text, start, term.latin, mention_cues):
            return term.text
    return None


def _service_wording(
    text: Text, names: Sequence[Term], claim_words: Sequence[Term], mention_cues: Sequence[Term]
) -> str | None:
    """A snippet where a name stands right beside a self-presentation word, if any."""
    flat = text.flat
    for term in names:
        for count, (start, end) in enumerate(term.spans(text)):
            if count >= MAX_OCCURRENCES:
                break
            window = SERVICE_WINDOW_LATIN if term.latin else SERVICE_WINDOW_CJK
            around = flat[max(0, start - window):start] + " " + flat[end:end + window]
            if any(word.text in around for word in claim_words) and not negated(text, start, term.latin, mention_cues):
                return text.snippet(start, end)
    return None


def logo_alts(page_html: str) -> list[Text]:
    """The normalised alt texts of images whose file, class or id says they are a logo."""
    alts = []
    for tag in _IMG.finditer(page_html):
        attributes = {
            match.group(1).lower(): match.group(2) if match.group(2) is not None else match.group(3)
            for match in _IMG_ATTRIBUTE.finditer(tag.group(0))
        }
        alt = attributes.get("alt", "").strip()
        if alt and "logo" in " ".join(attributes.get(key, "") for key in ("src", "class", "id")).lower():
            alts.append(normalize(alt))
    return alts


def page_claims(view: PageView) -> list[Claims]:
    """Every brand the page claims, with how (brands owning the page's own name excluded by the caller)."""
    claim_words, list_cues, mention_cues = _vocabulary()
    page = view.page
    text = view.text
    # Most pages name no brand at all: everything below is for those that do.
    present = _brand_index(reference.brands()).named_in(text)
    if not present:
        return []
    title = normalize(page.title)
    site_names = normalize(" | ".join(content for key, content in page.meta if key in _SITE_NAME_META))
    headers = normalize(" | ".join(strip_tags(match.group(1)) for match in _H1.finditer(page.html)))
    alts = normalize("\n".join(page.image_alts))
    logo_wall = sum(1 for entry in present if find_terms(alts, entry.names)) >= LOGO_WALL_BRANDS
    listing = logo_wall or bool(find_terms(text, list_cues))
    logos = logo_alts(page.html)
    offers_download = bool(view.install_paths)
    found = []
    for entry in present:
        claims = Claims(entry.brand)
        for where, field_text in (("title", title), ("site name", site_names), ("heading", headers)):
            named = _claimed_in(field_text, entry.names, mention_cues)
            if named:
                claims.add("identity", f"{where} names {named}: {field_text.raw[:80]}")
        if not listing:
            logo = next((alt for alt in logos if find_terms(alt, entry.names)), None)
            if logo:
                claims.add("logo", f"logo image alt「{logo.raw[:60]}」")
            service = _service_wording(text, entry.service_names, claim_words, mention_cues)
            if service:
                claims.add("service", f"presents itself as the brand: {service}")
        app = find_terms(text, entry.apps)
        if app and offers_download:
            claims.add("app", f"offers the brand's app {next(iter(app))} for download")
        if claims.kinds:
            claims.hotline = next((number for number in entry.hotlines if number in text.flat), "")
            found.append(claims)
    return found


def score_claims(claims: Claims, asks_credentials: bool) -> float:
    """The claims' weights added up, with the hotline and a credential form on top."""
    score = sum(CLAIM_WEIGHTS[kind] for kind in claims.kinds)
    if claims.hotline:
        score += HOTLINE
    if asks_credentials:
        score += CREDENTIAL_FORM
    return min(SCORE_MAX, score)


def judge(view: PageView, url: UrlParts) -> Finding | None:
    """The brand-impersonation finding for the page, naming the most strongly claimed brand."""
    if not url.is_ip and (reference.is_allowlisted(url.host) or reference.brand_for_domain(url.host)
                          or reference.country_site_brand(url.host)):
        return None  # a brand's own name, or its country site (hsbc.com.sg): its login there is no impersonation
    claims = page_claims(view)
    if not claims:
        return None
    asked = view.credential_fields
    scored = sorted(((score_claims(c, bool(asked)), c) for c in claims), key=lambda item: -item[0])
    score, top = scored[0]
    frame = view.warning_frame
    factor = 1.0 if asked else frame.factor(FRAME_DECAY)
    score = round(score * factor, 3)
    if score < MIN_SCORE:
        return None
    brand = top.brand
    reason = f"Page presents itself as {brand.id} ({', '.join(top.kinds)}) on {url.host or url.url}, which {brand.id} does not own"
    extras = []
    if top.hotline:
        extras.append(f"shows its hotline {top.hotline}")
    if asked:
        extras.append("asks for " + ", ".join(kind.replace("_", " ") for kind, _ in asked))
    if extras:
        reason += "; it " + " and ".join(extras)
    if factor < 1.0:
        reason += f"; but it is framed as a warning ({', '.join(frame.terms[:3])}), so the score was lowered"
    evidence = [*top.kinds.values()]
    if top.hotline:
        evidence.append(f"hotline {top.hotline}")
    evidence += [f"also claims {other.brand.id}: {', '.join(other.kinds)}" for _, other in scored[1:3]]
    return Finding(
        subject=view.page.final_url, detector=name, detector_version=version,
        category=Category.BRAND_IMPERSONATION.value, score=score, reason=reason + ".",
        evidence=tuple(evidence), indicators=tuple(("brand", claim.brand.id) for _, claim in scored[:3]),
    )


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """At most one finding: the brand the page claims to be, on a name the brand does not own."""
    finding = judge(view, url)
    return [finding] if finding else []
