"""Combine findings into a verdict.

Scores combine by noisy-OR, ``1 - Π(1 - score)``: independent weak signals add
up, one strong signal suffices, and no number of findings exceeds 1. The
co-occurrence logic that keeps a single word from deciding lives in the
detectors; scoring only adds their judgements up and applies the thresholds
``SCORE_MALICIOUS`` and ``SCORE_SUSPICIOUS``.

**Corroboration.** Noisy-OR treats every finding as a weak vote, so a page that
two detectors independently recognise as the same fraud (the lexicon reads a
fake-loan script and a YAML rule spells out its "unfreezing fee"; a form
harvests card and CVV while the text runs a toll-fine pretext) can still stop
at *suspicious*. The rule: when at least ``CORROBORATION_DETECTORS`` distinct
detectors each report a finding of at least ``CORROBORATION_MIN_SCORE`` in the
same fraud family (``CORROBORATION_FAMILIES``: one family per fraud script,
credential capture grouping phishing forms, brand impersonation and fake
subsidies, which all end in a harvesting form; a claimed identity on a foreign
name and a form harvesting cards or IDs (``CORROBORATE_EVERY_FAMILY``) agree
with every family, since a fake prosecutor's portal is the impersonation
carried out and a fake refund page's card form is what its pretext is for),
and the combined score is at least suspicious, the verdict is lifted to
malicious. The verdict's ``reason``
names the family and the detectors. Generic signals (URL shape, diversion,
cloaking) never corroborate each other: they say "throw-away", not "which
fraud". Two findings of one detector never corroborate each other, and
detectors skip allowlisted and brand-owned names, so a bank's own login or a
licensed lender's page cannot be lifted.

**Fraud on disposable infrastructure.** The other lift answers two different
questions at once: a detector recognises a fraud script or a harvesting form
(a finding of at least ``CORROBORATION_MIN_SCORE`` in a family, a bare identity
claim excepted), and another finds the name that carries it disposable
(``INFRASTRUCTURE_CATEGORIES``: a throw-away name's shape, or content hidden
from some visitors, at least ``INFRASTRUCTURE_MIN_SCORE``). A fraud script
told on a name made to be thrown away is the fraud, not a page about it:
advice pages, news and real lenders live on names with a history. A chat link
(diversion) is no such sign: real shops and banks have them too.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudwall.models import Finding, SubjectKind, Verdict, VerdictStatus
from fraudwall.scores import noisy_or
from fraudwall.settings import Settings

#: A category is named on a verdict only when one of its findings alone scores at
#: least this: weaker findings add to the score but do not label the subject.
CATEGORY_MIN_SCORE = 0.5

#: Corroboration (see the module docstring): this many distinct detectors ...
CORROBORATION_DETECTORS = 2
#: ... each with a finding at least this strong in the same family. 0.35 is what a detector
#: gives one complete piece of fraud evidence on its own (a card form with its CVV on a foreign
#: name, a script read from two groups with a call to action); weaker findings are hints.
CORROBORATION_MIN_SCORE = 0.35
#: Category -> fraud family; categories not listed (suspicious_url, diversion, cloaking) never corroborate.
CORROBORATION_FAMILIES: dict[str, str] = {
    "task_rebate": "task_rebate",
    "investment": "investment",
    "loan": "loan",
    "customer_service": "customer_service",
    "police_impersonation": "police_impersonation",
    "fake_app": "fake_app",
    "credential_phishing": "credential_capture",
    "brand_impersonation": "credential_capture",
    "fake_subsidy": "credential_capture",
}

#: Categories saying that the name is disposable (see the module docstring) ...
INFRASTRUCTURE_CATEGORIES = frozenset({"suspicious_url", "cloaking"})
#: ... at this strength: the weakest throw-away shape url_heuristics reports (a suspicious TLD on a made-up name).
INFRASTRUCTURE_MIN_SCORE = 0.15

#: The category of a protected identity claimed on a foreign name: no fraud by itself (a page naming a bank).
IDENTITY_CLAIM = "brand_impersonation"
#: Categories that agree with whichever fraud the page runs: a claimed identity, and a form harvesting
#: cards or IDs (the pretext is what the script is for).
CORROBORATE_EVERY_FAMILY = frozenset({IDENTITY_CLAIM, "credential_phishing"})


def corroboration(findings: Sequence[Finding]) -> tuple[str, tuple[str, ...]] | None:
    """The fraud family and the detectors that independently agree on it, or ``None``.

    A protected identity claimed on a name its owner does not hold, or a form
    harvesting cards or IDs (:data:`CORROBORATE_EVERY_FAMILY`), agrees with
    whichever fraud the page runs: a fake police portal is the impersonation
    carried out, a fake refund page's card form what its pretext is for. Of
    several families the one with the most agreeing detectors wins (then the
    name, for determinism).
    """
    detectors: dict[str, set[str]] = {}
    every_family: set[str] = set()
    for finding in findings:
        if finding.score < CORROBORATION_MIN_SCORE:
            continue
        if str(finding.category) in CORROBORATE_EVERY_FAMILY:
            every_family.add(finding.detector)
        family = CORROBORATION_FAMILIES.get(str(finding.category))
        if family is not None:
            detectors.setdefault(family, set()).add(finding.detector)
    for names in detectors.values():
        names |= every_family
    agreed = [(family, names) for family, names in detectors.items() if len(names) >= CORROBORATION_DETECTORS]
    if not agreed:
        return None
    family, names = min(agreed, key=lambda item: (-len(item[1]), item[0]))
    return family, tuple(sorted(names))


def disposable_infrastructure(findings: Sequence[Finding]) -> tuple[str, tuple[str, ...]] | None:
    """The fraud family found on a name another detector finds disposable, with the two detectors; or ``None``.

    The fraud side is a finding of a family (a script, a harvesting form, a fake
    app) of at least ``CORROBORATION_MIN_SCORE``; a claimed identity alone is
    not (a page naming a bank is no fraud yet). The infrastructure side is an
    ``INFRASTRUCTURE_CATEGORIES`` finding of at least ``INFRASTRUCTURE_MIN_SCORE``
    from a different detector. Of several pairs the strongest fraud finding wins.
    """
    frauds = sorted((finding for finding in findings if finding.score >= CORROBORATION_MIN_SCORE
                     and str(finding.category) in CORROBORATION_FAMILIES and str(finding.category) != IDENTITY_CLAIM),
                    key=lambda finding: (-finding.score, finding.detector))
    infrastructure = sorted((finding for finding in findings if finding.score >= INFRASTRUCTURE_MIN_SCORE
                             and str(finding.category) in INFRASTRUCTURE_CATEGORIES),
                            key=lambda finding: (-finding.score, finding.detector))
    for fraud in frauds:
        for sign in infrastructure:
            if sign.detector != fraud.detector:
                return CORROBORATION_FAMILIES[str(fraud.category)], (fraud.detector, sign.detector)
    return None


def combine(scores: Sequence[float]) -> float:
    """Noisy-OR of independent scores in [0, 1], to four places."""
    return round(noisy_or(scores), 4)


def score_findings(
    subject: str, findings: Sequence[Finding], settings: Settings, *, kind: SubjectKind | None = None,
) -> Verdict:
    """The verdict on ``subject`` (of ``kind``, read from it when not given) given all findings about it."""
    score = combine([finding.score for finding in findings])
    if score >= settings.getfloat("SCORE_MALICIOUS"):
        status = VerdictStatus.MALICIOUS
    elif score >= settings.getfloat("SCORE_SUSPICIOUS"):
        status = VerdictStatus.SUSPICIOUS
    else:
        status = VerdictStatus.BENIGN
    reason = ""
    if status == VerdictStatus.SUSPICIOUS:
        agreed = corroboration(findings)
        if agreed is not None:
            family, detectors = agreed
            status = VerdictStatus.MALICIOUS
            reason = (f"corroborated: {len(detectors)} independent detectors ({', '.join(detectors)}) each "
                      f"report {family.replace('_', ' ')} at >= {CORROBORATION_MIN_SCORE}; score {score} "
                      f"lifted from suspicious to malicious")
        elif (disposable := disposable_infrastructure(findings)) is not None:
            family, (fraud_detector, sign_detector) = disposable
            status = VerdictStatus.MALICIOUS
            reason = (f"corroborated: {fraud_detector} reports {family.replace('_', ' ')} at >= "
                      f"{CORROBORATION_MIN_SCORE} on a name {sign_detector} finds disposable (>= "
                      f"{INFRASTRUCTURE_MIN_SCORE}); score {score} lifted from suspicious to malicious")
    best: dict[str, float] = {}
    for finding in findings:
        category = str(finding.category)
        if finding.score >= CATEGORY_MIN_SCORE:
            best[category] = max(best.get(category, 0.0), finding.score)
        elif reason and CORROBORATION_FAMILIES.get(category) == family and finding.score >= CORROBORATION_MIN_SCORE:
            best[category] = max(best.get(category, 0.0), finding.score)  # a corroborated category is named
    categories = tuple(sorted(best, key=lambda c: (-best[c], c)))
    ordered = tuple(sorted(findings, key=lambda f: (-f.score, f.detector, str(f.category))))
    return Verdict(subject=subject, score=score, status=status, categories=categories, findings=ordered,
                   subject_kind=kind, reason=reason)  # type: ignore[arg-type]  # None: read from the subject
