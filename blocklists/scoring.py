"""Combine findings into a verdict.

Scores combine by noisy-OR, ``1 - Π(1 - score)``: independent weak signals add
up, one strong signal suffices, and no number of findings exceeds 1. The
co-occurrence logic that keeps a single word from deciding lives in the
detectors; scoring only adds their judgements up and applies the thresholds
``SCORE_MALICIOUS`` and ``SCORE_SUSPICIOUS``.
"""

from __future__ import annotations

from collections.abc import Sequence

from fraudwall.models import Finding, SubjectKind, Verdict, VerdictStatus
from fraudwall.settings import Settings

#: A category is named on a verdict only when one of its findings alone scores at
#: least this: weaker findings add to the score but do not label the subject.
CATEGORY_MIN_SCORE = 0.5


def combine(scores: Sequence[float]) -> float:
    """Noisy-OR of independent scores in [0, 1]."""
    remaining = 1.0
    for score in scores:
        remaining *= 1.0 - score
    return round(1.0 - remaining, 4)


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
    best: dict[str, float] = {}
    for finding in findings:
        category = str(finding.category)
        if finding.score >= CATEGORY_MIN_SCORE:
            best[category] = max(best.get(category, 0.0), finding.score)
    categories = tuple(sorted(best, key=lambda c: (-best[c], c)))
    ordered = tuple(sorted(findings, key=lambda f: (-f.score, f.detector, str(f.category))))
    return Verdict(subject=subject, score=score, status=status, categories=categories, findings=ordered,
                   subject_kind=kind)  # type: ignore[arg-type]  # None: read from the subject
