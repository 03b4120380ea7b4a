"""Page detector: YAML rules, the bundled ones and an analyst's own.

Rules are data (schema in :mod:`fraudwall.plugins.rules_engine`): the bundled
files in ``plugins/rules/`` load first, then every ``*.yaml``/``*.yml`` file
under the directories of the ``RULES_DIRS`` setting (``--rules DIR``). A bad
file is logged with its name and reason and the others still load; see
:func:`ruleset` for what was loaded and rejected.

Rule sets are loaded once per process and per ``RULES_DIRS`` value, when the
plugin is configured (before any page, outside every time budget). The
recorded version covers the rule files loaded (its version, ``+`` a digest of them):
editing a rule file takes effect on the next run, and ``fraudwall reanalyze``
re-runs the plugin over stored pages by itself.

Several rules of one category matching one page make a single finding (stored
findings are keyed by subject, detector, version and category). Its score adds
up the page's distinct *mechanisms* by noisy-OR: two steps of one script told on
one page (a tax held against a withdrawal, and the account frozen unless it is
paid) are independent evidence, as the lexicon's groups are. A mechanism is a
rule's id without its language prefix, so the ``zh-`` and ``en-`` rules of one
step on a bilingual page count once, by the stronger of them. The sum stops at
``MAX_SCORE``, below malicious: rules are an analyst's reading of one text, and
a page is published only when another detector agrees. Partial evidence that
should only count together still belongs in one rule's ``all``.

A Chinese match the page denies in the same clause ("本平台绝不会要求您先缴纳税款才可提现") does not
count: the next match of the condition is tried, as the lexicon passes over a negated term.

A page framed as a warning (police notices, news, a platform's own advice: the
lexicon's warning and narrative words) that asks for nothing has its findings
scaled down, as every page detector does: such pages quote the scripts.

A rule with ``frame: false`` is not scaled down: its script is itself told as a warning (a recovery
service narrates its clients' losses, names scams and victims), and its ``none`` list carries the
words of the warnings that quote it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from fraudwall.hookspecs import hookimpl
from fraudwall import reference
from fraudwall.matching import Frame, compile_lexicon, has_chinese, negated_before
from fraudwall.models import Finding, PageObservation, UrlParts
from fraudwall.plugins.rules_engine import BUNDLED_RULES_DIR, RuleMatch, RuleSet, load_rules
from fraudwall.page_view import PageView
from fraudwall.plugins.rule_files import files_digest
from fraudwall.scores import noisy_or
from fraudwall.settings import Settings

name = "yaml_rules"
version = "1.3"

#: Evidence snippets per finding, across its rules.
MAX_EVIDENCE = 8
_LANGUAGE_PREFIX = re.compile(r"^(?:zh|en)-")
#: Below SCORE_MALICIOUS (0.75): however many steps of a script the rules read, they alone make a
#: page suspicious, never published; any other detector's finding of 0.17 or more then tips it over.
MAX_SCORE = 0.7
#: Warning pages that ask for nothing: score x FRAME_DECAY ** (warning terms - 1), as in the other page detectors.
FRAME_DECAY = 0.3
#: Weaker findings are dropped.
MIN_SCORE = 0.05


@functools.cache
def _load(directories: tuple[str, ...]) -> RuleSet:
    return load_rules((BUNDLED_RULES_DIR, *directories))


def ruleset(settings: Settings) -> RuleSet:
    """The bundled rules plus those under ``RULES_DIRS``, loaded once per process."""
    return _load(tuple(str(directory) for directory in settings.getlist("RULES_DIRS")))


@hookimpl
def configure(settings: Settings) -> str:
    """Load the rules now, and name them by a digest of their files."""
    return files_digest(ruleset(settings).files)


def mechanism(rule_id: str) -> str:
    """The step of a script a rule spells out: its id without the language prefix (``zh-``, ``en-``)."""
    return _LANGUAGE_PREFIX.sub("", rule_id)


def findings(subject: str, matches: Sequence[RuleMatch], frame: Frame | None = None) -> list[Finding]:
    """One finding per category of the matched rules, scored by noisy-OR over their distinct mechanisms.

    ``frame``: the page's warning frame when it asks for nothing; a warning page's findings are scaled
    down (``FRAME_DECAY``) as every page detector's are, since police notices quote the scripts, except
    those of rules with ``frame: false`` (scripts told as warnings).
    """
    warning = frame.factor(FRAME_DECAY) if frame is not None else 1.0
    by_category: dict[str, list[RuleMatch]] = {}
    for match in matches:
        by_category.setdefault(match.rule.category, []).append(match)

    def framed(match: RuleMatch) -> float:
        return match.rule.score * (warning if match.rule.frame else 1.0)

    result = []
    for category, group in by_category.items():
        group.sort(key=lambda match: -framed(match))
        strongest: dict[str, float] = {}
        for match in group:
            strongest.setdefault(mechanism(match.rule.id), framed(match))
        score = round(min(MAX_SCORE, noisy_or(strongest.values())), 4)
        if score < MIN_SCORE:
            continue
        reason = "; ".join(f"rule {match.rule.id}: {match.rule.description}" for match in group)
        if warning < 1.0 and any(match.rule.frame for match in group):
            reason += f"; but the page is framed as a warning ({', '.join(frame.terms[:3])}), so the score was lowered"
        evidence = tuple(f"{match.rule.id} {snippet}" for match in group for snippet in match.evidence)
        result.append(Finding(
            subject=subject, detector=name, detector_version=version, category=category,
            score=score, reason=reason + ".", evidence=evidence[:MAX_EVIDENCE],
        ))
    return result


def _denied(value: str, start: int) -> bool:
    """Whether the text denies what a rule's Chinese match at ``start`` says: a negation cue of the lexicon
    (不会, 绝不, 从不...) earlier in the same clause, as the lexicon reads its own terms.

    Chinese only: an English rule's match is often the scam's own condition ("claims not completed within
    48 hours are cancelled"), where "not" denies nothing; English rules keep their page-level ``none``.
    """
    if not has_chinese(value[start:start + 1]):
        return False
    return negated_before(value, start, compile_lexicon(reference.lexicon()).negation)


@hookimpl
def analyze_page(view: PageView, url: UrlParts, settings: Settings) -> list[Finding]:
    """One finding per category of the rules that match the page.

    The ``text`` field reads everything a visitor can read (:attr:`PageView.strings`), text that
    scripts, attributes and base64 blocks build after load included, not only the static body.
    """
    page = view.page
    matches = ruleset(settings).match(page, url, view.canonical_strings, negated=_denied)
    if not matches:
        return []
    acts = bool(view.credential_fields) or view.opens_chat
    return findings(page.final_url, matches, frame=None if acts else view.warning_frame)
