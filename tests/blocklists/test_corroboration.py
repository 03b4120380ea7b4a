"""Corroboration: independent detectors agreeing on one fraud, or a fraud found on a disposable name, lift a
suspicious verdict; nothing else does."""

from __future__ import annotations

import pytest

from fraudwall.blocklists.scoring import score_findings
from fraudwall.models import Finding, VerdictStatus
from fraudwall.settings import Settings

SUBJECT = "http://loan-fast.top/apply"


def _finding(detector: str, category: str, score: float) -> Finding:
    return Finding(SUBJECT, detector, "1", category, score, f"{detector} saw {category}")


def test_two_detectors_on_one_fraud_lift_suspicious_to_malicious() -> None:
    """A lexicon and a rule each reading the fake-loan script: malicious, and the verdict says why."""
    verdict = score_findings(SUBJECT, [_finding("fraud_lexicon", "loan", 0.4), _finding("yaml_rules", "loan", 0.4)],
                             Settings())
    assert verdict.score < 0.75 and verdict.status is VerdictStatus.MALICIOUS
    assert "corroborated" in verdict.reason and "fraud_lexicon" in verdict.reason and verdict.categories == ("loan",)


def test_a_form_and_a_brand_claim_corroborate_as_credential_capture() -> None:
    """Phishing forms, brand claims and fake subsidies are one family: they all end in a harvesting form."""
    verdict = score_findings(SUBJECT, [_finding("sensitive_forms", "credential_phishing", 0.35),
                                       _finding("brand_impersonation", "brand_impersonation", 0.4)], Settings())
    assert verdict.status is VerdictStatus.MALICIOUS


def test_a_claimed_identity_corroborates_whatever_fraud_the_page_runs() -> None:
    """A page claiming a protected identity on a foreign name agrees with any fraud script it runs (a fake
    prosecutor's case portal); the claim alone, or with only generic signals, does not lift the verdict."""
    claim = _finding("brand_impersonation", "brand_impersonation", 0.4)
    verdict = score_findings(SUBJECT, [claim, _finding("fraud_lexicon", "police_impersonation", 0.4)], Settings())
    assert verdict.status is VerdictStatus.MALICIOUS and "police impersonation" in verdict.reason
    assert "brand_impersonation" in verdict.reason and "police_impersonation" in verdict.categories
    for others in ([], [_finding("url_heuristics", "suspicious_url", 0.3), _finding("cloaking", "cloaking", 0.3)]):
        assert score_findings(SUBJECT, [claim, *others], Settings()).status is not VerdictStatus.MALICIOUS


def test_a_harvesting_form_corroborates_the_pretext_it_serves() -> None:
    """A card form on a foreign name agrees with the fake-refund script that asks the victim to fill it in."""
    form = _finding("sensitive_forms", "credential_phishing", 0.43)
    verdict = score_findings(SUBJECT, [form, _finding("fraud_lexicon", "customer_service", 0.4)], Settings())
    assert verdict.status is VerdictStatus.MALICIOUS and "customer service" in verdict.reason


def test_a_fraud_script_on_a_disposable_name_is_malicious() -> None:
    """A fake-loan script on a name of throw-away shape, or on a page that cloaks, is lifted, and the reason
    names both detectors; the script alone is not."""
    script = _finding("fraud_lexicon", "loan", 0.55)
    assert score_findings(SUBJECT, [script], Settings()).status is VerdictStatus.SUSPICIOUS
    for sign in (_finding("url_heuristics", "suspicious_url", 0.15), _finding("cloaking", "cloaking", 0.2)):
        verdict = score_findings(SUBJECT, [script, sign], Settings())
        assert verdict.score < 0.75 and verdict.status is VerdictStatus.MALICIOUS
        assert "fraud_lexicon" in verdict.reason and sign.detector in verdict.reason and "disposable" in verdict.reason
        assert verdict.categories == ("loan",)


@pytest.mark.parametrize("findings", [
    # corroboration: one detector twice, generic signals only, weak findings, different frauds
    [_finding("fraud_lexicon", "loan", 0.45), _finding("fraud_lexicon", "loan", 0.4)],
    [_finding("url_heuristics", "suspicious_url", 0.45), _finding("diversion_channels", "diversion", 0.45)],
    [_finding("fraud_lexicon", "loan", 0.34), _finding("yaml_rules", "loan", 0.34)],
    [_finding("fraud_lexicon", "loan", 0.4), _finding("yaml_rules", "investment", 0.4)],
    # disposable names: a chat link is none, a claimed identity alone is no fraud, weak findings, one detector
    [_finding("fraud_lexicon", "loan", 0.55), _finding("diversion_channels", "diversion", 0.3)],
    [_finding("brand_impersonation", "brand_impersonation", 0.5), _finding("url_heuristics", "suspicious_url", 0.3)],
    [_finding("fraud_lexicon", "loan", 0.34), _finding("url_heuristics", "suspicious_url", 0.3)],
    [_finding("fraud_lexicon", "loan", 0.55), _finding("url_heuristics", "suspicious_url", 0.14)],
    [_finding("url_heuristics", "loan", 0.55), _finding("url_heuristics", "suspicious_url", 0.3)],
])
def test_what_is_not_lifted(findings: list[Finding]) -> None:
    """One detector twice, generic signals, weak findings, different frauds, a chat link or a bare identity claim
    beside a throw-away name: the verdict stays suspicious or below, with no lifting reason."""
    verdict = score_findings(SUBJECT, findings, Settings())
    assert verdict.status is not VerdictStatus.MALICIOUS and verdict.reason == ""
