"""Page detector: the Chinese fraud scripts recognised by their words, in Chinese and English.

Each script in ``fraudwall/data/fraud_lexicon.toml`` (task/rebate, fake
investment, fake loans, fake customer service, police impersonation) is a set
of term groups such as *promise*, *mechanism* and *payment*. A page is judged
by **co-occurrence**, never by a single word:

* a script counts only when terms from at least two of its groups appear, one
  of them a *core* group (the part of the script only fraud has: 刷单, 解冻费,
  安全账户 ...); the score grows with distinct groups and distinct terms;
* calls to action raise it: forms asking for an ID number, bank card, password
  or SMS code, app installs, contact IDs and chat links (page facts the page view
  reads, which ``sensitive_forms``, ``app_lures`` and ``diversion_channels`` weigh
  too), links whose text enters the scheme ("查询本人通缉令") and
  "立即下载 / 联系客服" buttons;
* a term preceded in its clause by a negation ("我们不会收取解冻费"), or followed
  by the word scam or fraud ("an advance-fee scam", 刷单诈骗), does not
  count, and a *warning frame* (several anti-fraud words, at least one of them
  narrative such as 骗子 / 所谓 / victims) lowers the score steeply unless the
  page itself acts: police notices and news articles quote the scripts, they
  do not run them.

The fake-app script (category ``fake_app``) is judged by ``app_lures``, which
also sees install paths. What is read (text hidden in scripts, attributes,
entities and base64 blocks included) is :class:`fraudwall.page_view.PageView`;
how it is normalised against evasion (full-width letters, spacing, traditional
characters) is :mod:`fraudwall.matching`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fraudwall import reference
from fraudwall.hookspecs import hookimpl
from fraudwall.matching import CompiledLexicon, Frame, Hit, Text, compile_lexicon, find_terms, normalize
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.page_view import PageView
from fraudwall.reference import Script

name = "fraud_lexicon"
version = "2.6"

# -- calibration ---------------------------------------------------------------
# Findings are combined by noisy-OR with the other findings of the page and its
# host; malicious is >= 0.75. Two groups alone stay below "suspicious" (0.40)
# unless the page also acts (forms, contacts, downloads); two groups and one call
# to action are 0.35, the scoring stage's one complete piece of evidence, which
# corroborates another detector or a disposable name; three groups with a
# handful of distinct terms and an act, or four groups, reach "malicious" on
# their own: of the corpus's hundreds of hard negatives (banks, lenders, advice
# pages quoting the scripts) none reads in more than two groups of one script.

#: Base score by number of distinct groups matched (4 or more use the last).
GROUP_BASE = {2: 0.30, 3: 0.55, 4: 0.75}
#: Each distinct term beyond one per group adds this much, up to TERM_BONUS_MAX.
TERM_BONUS = 0.03
TERM_BONUS_MAX = 0.15
#: Calls to action; their sum is capped at CTA_MAX.
CTA_CREDENTIAL_KIND = 0.08  # per kind of credential asked for (ID, card, password, SMS code)
CTA_APP_DOWNLOAD = 0.15  # an app install path from a name nothing vouches for
CTA_CONTACT = 0.12  # contact IDs or messaging links
CTA_PHRASE = 0.05  # per distinct call-to-action phrase
CTA_PHRASE_MAX = 0.10
CTA_MAX = 0.35
SCORE_MAX = 0.98
#: Warning frame factor is DECAY ** (terms - 1): 3 terms -> x0.09, 5 -> x0.008.
FRAME_DECAY = 0.3
#: Weaker decay when the page shows contact IDs: quoted in a warning, or real.
FRAME_DECAY_WITH_CONTACTS = 0.5
#: Findings below this are noise and are not reported.
MIN_SCORE = 0.05
MAX_EVIDENCE = 6


# -- the page as a whole -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageSignals:
    """What the page does and how it frames itself, shared by every script's score."""

    credentials: tuple[tuple[str, str], ...]  # (kind, field label)
    acting_links: tuple[str, ...]
    apps: tuple[tuple[str, str], ...]  # (kind, url) of install paths from names nothing vouches for
    contacts: tuple[tuple[str, str], ...]
    messaging: bool
    phrases: tuple[str, ...]
    frame: Frame

    @property
    def acts(self) -> bool:
        """The page itself asks for credentials, pushes an app, opens a chat or links into the scheme."""
        return bool(self.credentials or self.apps or self.messaging or self.acting_links)

    def cta_bonus(self) -> float:
        """What the page's calls to action add to a matched script's score."""
        bonus = CTA_CREDENTIAL_KIND * len(self.credentials)
        bonus += CTA_APP_DOWNLOAD if self.apps else 0.0
        bonus += CTA_CONTACT if (self.contacts or self.messaging) else 0.0
        bonus += min(CTA_PHRASE_MAX, CTA_PHRASE * len(self.phrases))
        return min(CTA_MAX, bonus)

    def frame_factor(self) -> float:
        """Multiplier for a warning frame: 1.0 unless the page talks about fraud without acting."""
        if self.acts:
            return 1.0
        return self.frame.factor(FRAME_DECAY_WITH_CONTACTS if self.contacts else FRAME_DECAY)

    def describe_actions(self) -> list[str]:
        """The calls to action, in words, for finding reasons."""
        actions = []
        if self.credentials:
            actions.append("form asking for " + ", ".join(kind.replace("_", " ") for kind, _ in self.credentials))
        if self.apps:
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
    texts = list(dict.fromkeys(link.text for link in page.links if link.text))
    if not texts:
        return []
    # Only terms that occur in some link text can decide: find those once, then test each link.
    every_link = normalize("\n".join(texts)).flat
    core = [
        term for script, groups in compiled.scripts for group, terms in groups if group in script.core
        for term in terms if term.text in every_link
    ]
    if not core:
        return []
    frame = [term for term in compiled.frame if term.text in every_link]
    found = []
    for link_text in texts:
        text = normalize(link_text)
        if find_terms(text, core) and not find_terms(text, frame):
            found.append(link_text)
    return found


def page_signals(view: PageView, compiled: CompiledLexicon) -> PageSignals:
    """Everything about the page that is not one script's words: its actions and its frame."""
    return PageSignals(
        credentials=view.credential_fields,
        acting_links=tuple(acting_links(view.page, compiled)),
        apps=tuple((path.kind, path.url) for path in view.install_paths),
        contacts=view.contacts,
        messaging=view.opens_chat,
        phrases=tuple(find_terms(view.text, compiled.cta_phrases)),
        frame=view.warning_frame,
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
        reason += f"; but it is framed as a warning ({', '.join(signals.frame.terms[:4])}), so the score was lowered"
    indicators = tuple(sorted({*signals.contacts, *signals.apps}))
    return Finding(
        subject=page.final_url, detector=name, detector_version=version, category=script.category,
        score=score, reason=reason + ".", evidence=_evidence(text, hits), indicators=indicators,
    )


def analyze(view: PageView, url: UrlParts) -> list[Finding]:
    """All findings for the page, by the bundled lexicon (whose hits the view holds).

    Names the reference data vouches for (a brand's own, the allowlist) get none:
    a bank's pages explain loans and fees, a police site quotes the scripts.
    """
    if not url.is_ip and reference.is_allowlisted(url.host):
        return []
    compiled = compile_lexicon(reference.lexicon())
    text = view.text
    found = view.lexicon_hits
    scripts = [script for script, _ in compiled.scripts if script.category != Category.FAKE_APP.value]
    lead = max((co_occurrence(script, found[script.id]) for script in scripts), default=0.0)
    if lead == 0.0:
        return []
    signals = page_signals(view, compiled)
    findings = (judge_script(script, found[script.id], signals, text, view.page, lead) for script in scripts)
    return [finding for finding in findings if finding is not None]


@hookimpl
def analyze_page(view: PageView, url: UrlParts) -> list[Finding]:
    """One finding per fraud script the page's words and actions match."""
    return analyze(view, url)
