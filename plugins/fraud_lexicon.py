"""Page detector: the Chinese fraud scripts recognised by their words, in Chinese and English.

Each script in ``fraudwall/data/fraud_lexicon.toml`` (task/rebate, fake
investment, fake loans, fake customer service, police impersonation, fake app
downloads) is a set of term groups such as *promise*, *mechanism* and
*payment*. A page is judged by **co-occurrence**, never by a single word:

* a script counts only when terms from at least two of its groups appear, one
  of them a *core* group (the part of the script only fraud has: 刷单, 解冻费,
  安全账户 ...); the score grows with distinct groups and distinct terms;
* calls to action raise it: forms asking for an ID number, bank card, password
  or SMS code, links to ``.apk`` files or ``itms-services`` installs, contact
  IDs (QQ, WeChat, Telegram, WhatsApp) and "立即下载 / 联系客服" buttons;
* a term preceded in its clause by a negation ("我们不会收取解冻费") does not
  count, and a *warning frame* (several anti-fraud words, at least one of them
  narrative such as 骗子 / 所谓 / victims) lowers the score steeply unless the
  page itself asks for credentials or pushes an app: police notices and news
  articles quote the scripts, they do not run them.

Text is normalised before matching (NFKC, lowercase, and spaces or punctuation
between Chinese characters removed), so full-width letters and "刷 单" spacing
do not evade it. Title, meta tags, visible text, image alts, form labels and the
string literals of inline scripts are all searched.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.reference import Lexicon, Script, TermGroup

name = "fraud_lexicon"
version = "1.0"

# -- calibration ---------------------------------------------------------------
# Findings are combined by noisy-OR with the URL findings of the same host;
# malicious is >= 0.75. Two groups alone stay below "suspicious" (0.40) unless
# the page also acts (forms, contacts, downloads); three or four groups with a
# handful of distinct terms reach "malicious" on their own.

#: Base score by number of distinct groups matched (4 or more use the last).
GROUP_BASE = {2: 0.30, 3: 0.55, 4: 0.70}
#: Each distinct term beyond one per group adds this much, up to TERM_BONUS_MAX.
TERM_BONUS = 0.03
TERM_BONUS_MAX = 0.15
#: Calls to action; their sum is capped at CTA_MAX.
CTA_CREDENTIAL_KIND = 0.08  # per kind of credential asked for (ID, card, password, SMS code)
CTA_APP_DOWNLOAD = 0.15  # a link to an .apk or an itms-services install
CTA_CONTACT = 0.12  # contact IDs or messaging links
CTA_PHRASE = 0.04  # per distinct call-to-action phrase
CTA_PHRASE_MAX = 0.08
CTA_MAX = 0.35
SCORE_MAX = 0.98
#: A warning frame needs this many distinct warning/narrative terms, one narrative.
FRAME_MIN_TERMS = 3
#: Frame factor is DECAY ** (terms - 1): 3 terms -> x0.09, 5 -> x0.008.
FRAME_DECAY = 0.3
#: Weaker decay when the page shows contact IDs: quoted in a warning, or real.
FRAME_DECAY_WITH_CONTACTS = 0.5
#: Findings below this are noise and are not reported.
MIN_SCORE = 0.05
#: A form asking for a bank card together with its PIN, on a name no brand owns:
#: no lender, shop or refund desk asks for a card PIN, so this stands alone.
HARVEST_CARD_PIN = 0.70
HARVEST_MORE = 0.10  # ... and also for an ID number or SMS code
HARVEST_CATEGORY = Category.CREDENTIAL_PHISHING.value

EVIDENCE_CONTEXT = 20
MAX_EVIDENCE = 6
#: Characters before a term searched for a negation cue (same clause only).
NEGATION_WINDOW_CJK = 24
NEGATION_WINDOW_LATIN = 60

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_GAP = re.compile(f"(?<=[{_CJK}])[\\W_]+(?=[{_CJK}])")
_CJK_LATIN_SPACE = re.compile(f"(?<=[{_CJK}])\\s+(?=[a-z0-9])|(?<=[a-z0-9])\\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
# Format characters (zero-width spaces, joiners, soft hyphens) hide inside words.
_INVISIBLE = {"Cf"}
_CLAUSE_END_CJK = re.compile(r"[，,。.！!？?；;]")
_CLAUSE_END_LATIN = re.compile(r"[。.！!？?；;]")

_JS_STRING = re.compile(r'"((?:[^"\\\n]|\\.){2,})"|\'((?:[^\'\\\n]|\\.){2,})\'|`([^`]{2,})`')
_JS_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})")
_TAG = re.compile(r"<[^>]+>")
_APK_REF = re.compile(r"""["'(=]\s*([^"'()\s<>]+\.apk)(?:[?#][^"'()\s<>]*)?\s*["')]""", re.IGNORECASE)
_ITMS_REF = re.compile(r"itms-services://[^\s\"'<>]+", re.IGNORECASE)

# Contact IDs as fraud pages write them (after NFKC and lowercasing).
_CONTACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("qq", re.compile(r"(?<![a-z])(?:qq|扣扣|企鹅)\s*(?:号码|号|群)?\s*[:：]?\s*([1-9]\d{4,11})(?!\d)")),
    ("wechat", re.compile(
        r"(?:微信|薇信|威信|徽信|vx|v信|wx|wechat|weixin)\s*(?:号|id)?\s*[:：]?\s*"
        r"([a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![a-z0-9])"
    )),
    ("telegram", re.compile(
        r"(?:telegram|tg|纸飞机|飞机|电报)\s*(?:号|id)?\s*[:：]?\s*@?([a-z][a-z0-9_]{4,31})(?![a-z0-9_])"
    )),
    ("whatsapp", re.compile(r"(?<![a-z])(?:whatsapp|wa)\s*[:：]?\s*(\+?\d[\d -]{7,16}\d)")),
)
# Links that open a chat directly: (indicator kind, host or scheme, path pattern).
_MESSAGING_LINKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("telegram", re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?:\+)?([a-z0-9_]{4,32})", re.IGNORECASE)),
    ("whatsapp", re.compile(r"^(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send\?phone=)(\+?\d{6,16})", re.IGNORECASE)),
    ("qq", re.compile(r"^(?:tencent://message/\?.*uin=|mqqwpa://im/chat\?.*uin=)(\d{5,12})", re.IGNORECASE)),
    ("wechat", re.compile(r"^weixin://(?:dl/chat\?|contacts/profile/)?([-_a-z0-9]{6,20})", re.IGNORECASE)),
)


# -- normalisation -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A text prepared for matching.

    ``raw`` is NFKC, lowercase, whitespace collapsed: what evidence snippets and
    negation checks read. ``flat`` is ``raw`` with spaces and punctuation between
    Chinese characters (and spaces between Chinese and Latin) removed: what terms
    are matched against. ``origin[i]`` is the index in ``raw`` of ``flat[i]``.
    """

    raw: str
    flat: str
    origin: tuple[int, ...]

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """The ``raw`` span of the ``flat`` span ``[start, end)``."""
        return self.origin[start], self.origin[end - 1] + 1

    def snippet(self, start: int, end: int, context: int = EVIDENCE_CONTEXT) -> str:
        """The matched words with about ``context`` characters on each side."""
        raw_start, raw_end = self.raw_span(start, end)
        left, right = max(0, raw_start - context), min(len(self.raw), raw_end + context)
        return ("…" if left else "") + self.raw[left:right] + ("…" if right < len(self.raw) else "")

    def clause_before(self, start: int, latin: bool) -> str:
        """The text of the same clause just before ``flat[start]``, for negation cues."""
        raw_start = self.origin[start]
        width = NEGATION_WINDOW_LATIN if latin else NEGATION_WINDOW_CJK
        window = self.raw[max(0, raw_start - width):raw_start]
        ends = list((_CLAUSE_END_LATIN if latin else _CLAUSE_END_CJK).finditer(window))
        return window[ends[-1].end():] if ends else window


def normalize(text: str) -> Text:
    """Normalise ``text`` for matching; see :class:`Text`."""
    raw = unicodedata.normalize("NFKC", text)
    raw = "".join(ch for ch in raw if unicodedata.category(ch) not in _INVISIBLE).lower()
    raw = _SPACES.sub(" ", raw).strip()
    dropped = bytearray(len(raw))
    for pattern in (_CJK_GAP, _CJK_LATIN_SPACE):
        for match in pattern.finditer(raw):
            dropped[match.start():match.end()] = b"\x01" * (match.end() - match.start())
    origin = tuple(index for index in range(len(raw)) if not dropped[index])
    return Text(raw=raw, flat="".join(raw[index] for index in origin), origin=origin)


# -- terms ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A lexicon term, compiled: Chinese terms match anywhere, Latin ones at word boundaries."""

    text: str
    latin: bool
    pattern: re.Pattern[str] | None

    @classmethod
    def compile(cls, term: str) -> Term:
        """Normalise ``term`` like page text and pick the matching strategy for its script."""
        flat = normalize(term).flat
        if _CJK_CHAR.search(flat):
            return cls(flat, False, None)
        return cls(flat, True, re.compile(rf"(?<![a-z0-9]){re.escape(flat)}s?(?![a-z0-9])"))

    def spans(self, text: Text) -> Iterator[tuple[int, int]]:
        """Every ``(start, end)`` of the term in ``text.flat``."""
        if self.text not in text.flat:  # a plain substring test is far cheaper than the regex
            return
        if self.pattern is not None:
            for match in self.pattern.finditer(text.flat):
                yield match.span()
            return
        start = text.flat.find(self.text)
        while start >= 0:
            yield start, start + len(self.text)
            start = text.flat.find(self.text, start + 1)


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted occurrence of a term, with the group it belongs to."""

    group: str
    term: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class CompiledLexicon:
    """The lexicon with every term compiled once."""

    scripts: tuple[tuple[Script, tuple[tuple[str, tuple[Term, ...]], ...]], ...]
    frame: tuple[Term, ...]
    narrative: frozenset[str]
    negation: tuple[Term, ...]
    cta_phrases: tuple[Term, ...]
    credential_fields: tuple[tuple[str, tuple[Term, ...]], ...]


def _terms(words: Iterable[str]) -> tuple[Term, ...]:
    return tuple(Term.compile(word) for word in dict.fromkeys(words))


def _groups(groups: Sequence[TermGroup]) -> tuple[tuple[str, tuple[Term, ...]], ...]:
    return tuple((group.name, _terms(group.terms)) for group in groups)


@functools.cache
def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    """Compile ``lexicon`` (cached: the bundled one is compiled once per process)."""
    return CompiledLexicon(
        scripts=tuple((script, _groups(script.groups)) for script in lexicon.scripts),
        frame=_terms((*lexicon.warning, *lexicon.narrative)),
        narrative=frozenset(Term.compile(word).text for word in lexicon.narrative),
        negation=_terms(lexicon.negation_cues),
        cta_phrases=_terms(lexicon.cta_phrases),
        credential_fields=_groups(lexicon.credential_fields),
    )


def _negated(text: Text, start: int, latin: bool, cues: Sequence[Term]) -> bool:
    """True when a negation cue precedes ``flat[start]`` in the same clause."""
    clause = normalize(text.clause_before(start, latin))
    return any(next(cue.spans(clause), None) is not None for cue in cues)


def find_terms(text: Text, terms: Iterable[Term], negation: Sequence[Term] = ()) -> dict[str, tuple[int, int]]:
    """Term -> span of its first occurrence that is not negated."""
    found: dict[str, tuple[int, int]] = {}
    for term in terms:
        for start, end in term.spans(text):
            if not negation or not _negated(text, start, term.latin, negation):
                found[term.text] = (start, end)
                break
    return found


def _longest_first(hits: Iterable[Hit]) -> list[Hit]:
    """Drop hits that overlap a longer hit, so 刷单返利 counts once, not as 刷单 + 返利."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        if all(hit.end <= other.start or hit.start >= other.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def script_hits(text: Text, groups: Sequence[tuple[str, Sequence[Term]]], negation: Sequence[Term]) -> list[Hit]:
    """The counted hits of one script's groups in ``text``."""
    hits = (
        Hit(group, term, start, end)
        for group, terms in groups
        for term, (start, end) in find_terms(text, terms, negation).items()
    )
    return _longest_first(hits)


# -- page content --------------------------------------------------------------


def _is_url(entry: str) -> bool:
    return not any(ch.isspace() for ch in entry) and entry.startswith(("http://", "https://", "//"))


def script_strings(scripts: Iterable[str]) -> list[str]:
    """String literals of inline scripts, escapes decoded and tags stripped."""
    strings = []
    for body in scripts:
        if _is_url(body):
            continue
        for match in _JS_STRING.finditer(body):
            literal = next(group for group in match.groups() if group is not None)
            literal = _JS_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), literal)
            strings.append(_TAG.sub(" ", literal))
    return strings


def page_text(page: PageObservation) -> Text:
    """Everything a visitor reads on ``page``, normalised as one text."""
    parts = [page.title, *(content for _, content in page.meta), page.text, *page.image_alts]
    parts += [field.label for form in page.forms for field in form.fields]
    parts += script_strings(page.scripts)
    return normalize("\n".join(part for part in parts if part))


def app_links(page: PageObservation) -> list[tuple[str, str]]:
    """``("apk", url)`` and ``("itms", url)`` for every app install the page links to."""
    found: dict[str, str] = {}
    # References found in raw HTML (onclick handlers, scripts) are still entity-escaped.
    candidates = [link.url for link in page.links]
    candidates += [html.unescape(match.group(1)) for match in _APK_REF.finditer(page.html)]
    candidates += [html.unescape(match.group(0)) for match in _ITMS_REF.finditer(page.html)]
    for candidate in candidates:
        if candidate.lower().startswith("itms-services:"):
            found[candidate] = "itms"
        elif _path(candidate).endswith(".apk"):
            found[urljoin(page.final_url, candidate)] = "apk"
    return [(kind, url) for url, kind in found.items()]


def _path(url: str) -> str:
    try:
        return urlsplit(url).path.lower()
    except ValueError:  # hostile pages carry malformed URLs
        return ""


def contact_ids(text: Text, page: PageObservation) -> list[tuple[str, str]]:
    """Contact indicators: IDs written in the text and chat links."""
    found: list[tuple[str, str]] = []
    for kind, pattern in _CONTACT_PATTERNS:
        for match in pattern.finditer(text.raw):
            value = _SPACES.sub("", match.group(1))
            found.append((kind, "@" + value if kind == "telegram" else value))
    for link in page.links:
        for kind, pattern in _MESSAGING_LINKS:
            opened = pattern.match(link.url)
            if opened:
                found.append((kind, "@" + opened.group(1).lower() if kind == "telegram" else opened.group(1)))
    return list(dict.fromkeys(found))


def messaging_links(page: PageObservation) -> bool:
    """True when the page links straight into a chat app."""
    return any(pattern.match(link.url) for link in page.links for _, pattern in _MESSAGING_LINKS)


def credential_fields(page: PageObservation, compiled: CompiledLexicon) -> dict[str, str]:
    """Kind of credential -> the first field asking for it (id_number, bank_card, card_pin, ...)."""
    kinds: dict[str, str] = {}
    for form in page.forms:
        for field in form.fields:
            described = normalize(f"{field.label} {field.name.replace('_', ' ')} {field.name}")
            for kind, terms in compiled.credential_fields:
                typed_password = kind == "password" and field.type == "password"
                if kind not in kinds and (typed_password or find_terms(described, terms)):
                    kinds[kind] = field.label or field.name
    return kinds


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _official(host: str) -> bool:
    """True for names the reference data vouches for (a brand's own or allowlisted)."""
    return bool(host) and (reference.brand_for_domain(host) is not None or reference.is_allowlisted(host))


# -- the page as a whole -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What the page does and how it frames itself, shared by every script's score."""

    credentials: tuple[tuple[str, str], ...]  # (kind, field label)
    acting_links: tuple[str, ...]
    apps: tuple[tuple[str, str], ...]
    contacts: tuple[tuple[str, str], ...]
    messaging: bool
    phrases: tuple[str, ...]
    frame_terms: tuple[str, ...]
    frame_narrative: bool
    official_host: bool

    @property
    def foreign_apps(self) -> tuple[tuple[str, str], ...]:
        """App installs served from names the reference data does not vouch for."""
        return tuple(app for app in self.apps if app[0] == "itms" or not _official(_host(app[1])))

    @property
    def acts(self) -> bool:
        """The page itself asks for credentials, pushes an app, opens a chat or links into the scheme."""
        return bool(self.credentials or self.foreign_apps or self.messaging or self.acting_links)

    def cta_bonus(self) -> float:
        """What the page's calls to action add to a matched script's score."""
        bonus = CTA_CREDENTIAL_KIND * len(self.credentials)
        bonus += CTA_APP_DOWNLOAD if self.foreign_apps else 0.0
        bonus += CTA_CONTACT if (self.contacts or self.messaging) else 0.0
        bonus += min(CTA_PHRASE_MAX, CTA_PHRASE * len(self.phrases))
        return min(CTA_MAX, bonus)

    def frame_factor(self) -> float:
        """Multiplier for a warning frame: 1.0 unless the page talks about fraud without acting."""
        if len(self.frame_terms) < FRAME_MIN_TERMS or not self.frame_narrative or self.acts:
            return 1.0
        decay = FRAME_DECAY_WITH_CONTACTS if self.contacts else FRAME_DECAY
        return decay ** (len(self.frame_terms) - 1)

    def describe_actions(self) -> list[str]:
        """The calls to action, in words, for finding reasons."""
        actions = []
        if self.credentials:
            actions.append("form asking for " + ", ".join(kind.replace("_", " ") for kind, _ in self.credentials))
        if self.foreign_apps:
            actions.append("app install link")
        if self.contacts or self.messaging:
            actions.append("contact IDs " + ", ".join(f"{k} {v}" for k, v in self.contacts[:3]))
        if self.phrases:
            actions.append("buttons " + ", ".join(self.phrases[:3]))
        return actions


def acting_links(page: PageObservation, compiled: CompiledLexicon) -> list[str]:
    """Link texts that offer the scheme itself ("查询本人通缉令", "开始做任务").

    A link whose text carries a script's core term and no warning word leads
    into the scam; a news site's links about scams carry 诈骗, 警惕 and the like.
    """
    core = [
        term for script, groups in compiled.scripts for group, terms in groups if group in script.core for term in terms
    ]
    found = []
    for link in page.links:
        text = normalize(link.text)
        if text.flat and find_terms(text, core) and not find_terms(text, compiled.frame):
            found.append(link.text)
    return list(dict.fromkeys(found))


def page_signals(page: PageObservation, url: UrlParts, text: Text, compiled: CompiledLexicon) -> PageSignals:
    """Everything about ``page`` that is not one script's words: its actions and its frame."""
    found_frame = find_terms(text, compiled.frame)
    # Count 犯罪嫌疑人 once, not also as 嫌疑人; but 都是诈骗 still shows the page narrates.
    frame = [hit.term for hit in _longest_first(Hit("frame", term, *span) for term, span in found_frame.items())]
    official = _official(url.host)
    return PageSignals(
        credentials=tuple(credential_fields(page, compiled).items()),
        # A site the reference data vouches for links to its own notices, not into scams.
        acting_links=() if official else tuple(acting_links(page, compiled)),
        apps=tuple(app_links(page)),
        contacts=tuple(contact_ids(text, page)),
        messaging=messaging_links(page),
        phrases=tuple(find_terms(text, compiled.cta_phrases)),
        frame_terms=tuple(frame),
        frame_narrative=any(term in compiled.narrative for term in found_frame),
        official_host=official,
    )


# -- scoring -------------------------------------------------------------------


def base_score(groups: int, terms: int) -> float:
    """Score from co-occurrence alone: distinct groups, then distinct terms beyond them."""
    if groups < 2:
        return 0.0
    base = GROUP_BASE[min(groups, max(GROUP_BASE))]
    return base + min(TERM_BONUS_MAX, TERM_BONUS * max(0, terms - groups))


def _evidence(text: Text, hits: Sequence[Hit]) -> tuple[str, ...]:
    """One snippet per group first, then further terms, up to MAX_EVIDENCE."""
    first: dict[str, Hit] = {}
    for hit in hits:
        first.setdefault(hit.group, hit)
    ordered = [*first.values(), *(hit for hit in hits if hit not in first.values())]
    return tuple(f"{hit.group} 「{hit.term}」: {text.snippet(hit.start, hit.end)}" for hit in ordered[:MAX_EVIDENCE])


def co_occurrence(script: Script, hits: Sequence[Hit]) -> float:
    """The script's score from its words alone; 0 unless two groups, one of them core, co-occur."""
    groups = {hit.group for hit in hits}
    if len(groups) < 2 or not groups & set(script.core):
        return 0.0
    return base_score(len(groups), len({hit.term for hit in hits}))


def judge_script(
    script: Script, hits: Sequence[Hit], signals: PageSignals, text: Text, page: PageObservation, lead: float
) -> Finding | None:
    """The finding for one script, or ``None`` when its words do not co-occur.

    ``lead`` is the strongest co-occurrence score of any script on the page:
    a page's calls to action serve its main script, so only the script(s)
    reaching it get the call-to-action bonus. Otherwise one registration form
    would turn every script the page brushes against into a confident finding.
    """
    base = co_occurrence(script, hits)
    if base == 0.0:
        return None
    groups = list(dict.fromkeys(hit.group for hit in hits))
    terms = {hit.term for hit in hits}
    raw = min(SCORE_MAX, base + (signals.cta_bonus() if base >= lead else 0.0))
    factor = signals.frame_factor()
    score = round(raw * factor, 3)
    if score < MIN_SCORE:
        return None
    reason = (
        f"Page reads as a {script.label}: {len(terms)} distinct terms from {len(groups)} groups ({', '.join(groups)})"
    )
    actions = signals.describe_actions()
    if actions:
        reason += "; it acts: " + "; ".join(actions)
    if factor < 1.0:
        reason += f"; but it is framed as a warning ({', '.join(signals.frame_terms[:4])}), so the score was lowered"
    indicators = tuple(sorted({*signals.contacts, *signals.apps}))
    return Finding(
        subject=page.final_url, detector=name, detector_version=version, category=script.category,
        score=score, reason=reason + ".", evidence=_evidence(text, hits), indicators=indicators,
    )


def _lure_hits(compiled: CompiledLexicon, found: dict[str, list[Hit]]) -> list[Hit]:
    """A fake-app pseudo-group: another script's core or promise terms on the same page."""
    lures = []
    for script, _ in compiled.scripts:
        wanted = {*script.core, "promise"}
        lures += [Hit("lure", hit.term, hit.start, hit.end) for hit in found.get(script.id, []) if hit.group in wanted]
    return lures


def analyze(page: PageObservation, url: UrlParts, lexicon: Lexicon | None = None) -> list[Finding]:
    """All findings for ``page``; ``lexicon`` defaults to the bundled one."""
    compiled = compile_lexicon(lexicon or reference.lexicon())
    text = page_text(page)
    signals = page_signals(page, url, text, compiled)
    negation = compiled.negation
    found = {
        script.id: script_hits(text, groups, negation)
        for script, groups in compiled.scripts
        if script.category != "fake_app"
    }
    for script, groups in compiled.scripts:
        if script.category == "fake_app":
            found[script.id] = _fake_app_hits(text, groups, signals, compiled, found)
    lead = max((co_occurrence(script, found[script.id]) for script, _ in compiled.scripts), default=0.0)
    findings = []
    for script, _ in compiled.scripts:
        hits = found[script.id]
        finding = judge_script(script, hits, signals, text, page, lead) if hits else None
        if finding is not None:
            findings.append(finding)
    harvest = judge_credentials(signals, page)
    return [*findings, harvest] if harvest else findings


def judge_credentials(signals: PageSignals, page: PageObservation) -> Finding | None:
    """A finding for a form that asks for a bank card and its PIN on a name no brand owns."""
    kinds = dict(signals.credentials)
    if signals.official_host or not {"bank_card", "card_pin"} <= kinds.keys():
        return None
    score = HARVEST_CARD_PIN + (HARVEST_MORE if kinds.keys() & {"id_number", "sms_code"} else 0.0)
    asked = ", ".join(kind.replace("_", " ") for kind in kinds)
    return Finding(
        subject=page.final_url, detector=name, detector_version=version, category=HARVEST_CATEGORY,
        score=round(score, 3),
        reason=f"A form asks for a bank card together with its PIN ({asked}) on a site no bank owns.",
        evidence=tuple(f"{kind}: {label}" for kind, label in signals.credentials),
        indicators=tuple(sorted(signals.contacts)),
    )


def _fake_app_hits(
    text: Text,
    groups: Sequence[tuple[str, Sequence[Term]]],
    signals: PageSignals,
    compiled: CompiledLexicon,
    found: dict[str, list[Hit]],
) -> list[Hit]:
    """Hits for the fake-app script, or none when the page cannot be one.

    An official or allowlisted site offering its own app is not a fake app page,
    and a download push needs an actual install path: a foreign .apk or
    itms-services link, or words telling the visitor to bypass the warnings.
    """
    if signals.official_host:
        return []
    hits = script_hits(text, groups, compiled.negation)
    if not (signals.foreign_apps or any(hit.group == "bypass" for hit in hits)):
        return []
    return _longest_first([*hits, *_lure_hits(compiled, found)])


@hookimpl
def analyze_page(page: PageObservation, url: UrlParts) -> list[Finding]:
    """One finding per fraud script the page's words and actions match."""
    return analyze(page, url)
