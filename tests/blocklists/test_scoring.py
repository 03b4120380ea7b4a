"""Scoring: findings combine by noisy-OR into a thresholded, explained verdict."""

from __future__ import annotations

from fraudwall.blocklists.scoring import combine, score_findings
from fraudwall.models import Finding, VerdictStatus
from fraudwall.settings import Settings


def _f(score: float, category: str = "loan", detector: str = "d") -> Finding:
    return Finding("http://x.top/", detector, "1", category, score, "r")


def test_noisy_or_combination() -> None:
    """Weak signals add up, never past 1; no findings means zero."""
    assert combine([]) == 0.0
    assert combine([0.5, 0.5]) == 0.75
    assert combine([1.0, 0.2]) == 1.0


def test_thresholds_decide_status() -> None:
    """The SCORE_* settings split malicious, suspicious and benign."""
    settings = Settings()
    assert score_findings("s", [_f(0.8)], settings).status is VerdictStatus.MALICIOUS
    assert score_findings("s", [_f(0.5)], settings).status is VerdictStatus.SUSPICIOUS
    assert score_findings("s", [_f(0.1)], settings).status is VerdictStatus.BENIGN
    strict = Settings({"SCORE_MALICIOUS": 0.95})
    assert score_findings("s", [_f(0.8)], strict).status is VerdictStatus.SUSPICIOUS


def test_verdict_explains_itself() -> None:
    """Categories are ordered by strength and weak ones left off; findings are strongest first."""
    verdict = score_findings("s", [_f(0.2, "suspicious_url"), _f(0.6, "task_rebate"), _f(0.9, "fake_app")], Settings())
    assert verdict.categories == ("fake_app", "task_rebate")
    assert [f.score for f in verdict.findings] == [0.9, 0.6, 0.2]
