"""The detectors over labelled corpora: the project's test pages and the demo site.

Both plugins run over each page the way a crawl would: the page is parsed with
``fraudwall.pages.parse_page`` from its raw bytes (so GBK and Big5 pages are
decoded as in production), ``fraud_lexicon`` judges the page, ``url_heuristics``
judges the host the page pretends to be served from, and the findings are
combined by noisy-OR. "Score >= SCORE_MALICIOUS" is the prediction "fraud".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.plugins.detector_helpers import (
    MALICIOUS,
    SUSPICIOUS,
    LabelledPage,
    all_findings,
    noisy_or,
    page_of,
    read_manifest,
)

from fraudwall.models import Category
from fraudwall.names import parse_url
from fraudwall.plugin_host import PluginHost
from fraudwall.settings import Settings

CORPUS = Path(__file__).resolve().parents[1] / "data" / "pages" / "manifest.csv"
DEMO_SITE = Path(__file__).resolve().parents[2] / "fraudwall" / "demo" / "site" / "manifest.csv"


def score(page: LabelledPage) -> float:
    return noisy_or(all_findings(page.file.read_bytes(), page.url))


def misclassified(pages: list[LabelledPage]) -> tuple[list[str], list[str], dict[str, float]]:
    """(false negatives, false positives, every score) for 'score >= malicious means fraud'."""
    scores = {page.file.name: score(page) for page in pages}
    missed = [p.file.name for p in pages if p.label == "fraud" and scores[p.file.name] < MALICIOUS]
    wrong = [p.file.name for p in pages if p.label == "benign" and scores[p.file.name] >= MALICIOUS]
    return missed, wrong, scores


def test_corpus_manifest_is_complete() -> None:
    """Every manifest row names an existing page and a valid label; there are at least 24 pages."""
    pages = read_manifest(CORPUS)
    assert len(pages) >= 24
    assert {page.label for page in pages} == {"fraud", "benign"}
    assert all(page.file.is_file() for page in pages)
    listed = {page.file.name for page in pages}
    assert listed == {path.name for path in CORPUS.parent.glob("*.html")}, "every page is labelled exactly once"


def test_corpus_precision_and_recall() -> None:
    """On the corpus, "score >= malicious" has precision and recall 1.0."""
    pages = read_manifest(CORPUS)
    missed, wrong, scores = misclassified(pages)
    fraud = sum(page.label == "fraud" for page in pages)
    predicted = fraud - len(missed) + len(wrong)
    recall = (fraud - len(missed)) / fraud
    precision = (fraud - len(missed)) / predicted if predicted else 0.0
    detail = ", ".join(f"{name}={scores[name]:.2f}" for name in missed + wrong)
    assert (precision, recall) == (1.0, 1.0), f"precision {precision:.2f} recall {recall:.2f}; misclassified: {detail}"


def test_corpus_benign_pages_are_not_even_suspicious() -> None:
    """Hard negatives (bank, licensed loan, police notice, news, cashback, app pages) stay below suspicious."""
    benign = [page for page in read_manifest(CORPUS) if page.label == "benign"]
    noisy = {page.file.name: round(score(page), 3) for page in benign if score(page) >= SUSPICIOUS}
    assert noisy == {}


def test_corpus_fraud_pages_get_the_expected_category() -> None:
    """Each script page is recognised as its own script, not merely as fraud in general."""
    expected = {
        "zh_task_rebate_dianzan.html": Category.TASK_REBATE,
        "en_task_rebate_optimize.html": Category.TASK_REBATE,
        "zh_investment_usdt.html": Category.INVESTMENT,
        "en_investment_crypto.html": Category.INVESTMENT,
        "big5_investment.html": Category.INVESTMENT,
        "zh_loan_jiedong.html": Category.LOAN,
        "en_loan_upfront.html": Category.LOAN,
        "gbk_loan.html": Category.LOAN,
        "zh_customer_service_taobao.html": Category.CUSTOMER_SERVICE,
        "en_customer_service_amazon.html": Category.CUSTOMER_SERVICE,
        "zh_impersonation_gongan.html": Category.IMPERSONATION,
        "en_impersonation_embassy.html": Category.IMPERSONATION,
        "zh_fake_app_apk.html": Category.FAKE_APP,
        "en_fake_app_ios.html": Category.FAKE_APP,
    }
    pages = {page.file.name: page for page in read_manifest(CORPUS)}
    for name, category in expected.items():
        found = {f.category: f.score for f in all_findings(pages[name].file.read_bytes(), pages[name].url)}
        assert found.get(category.value, 0.0) >= SUSPICIOUS, f"{name}: {found}"


@pytest.mark.skipif(not DEMO_SITE.is_file(), reason="the demo site has no manifest yet")
def test_demo_site_pages() -> None:
    """Demo fraud pages reach malicious and demo benign pages stay below suspicious."""
    pages = read_manifest(DEMO_SITE)
    scores = {str(page.file.relative_to(DEMO_SITE.parent)): (page.label, score(page)) for page in pages}
    missed = {name: round(s, 3) for name, (label, s) in scores.items() if label == "fraud" and s < MALICIOUS}
    noisy = {name: round(s, 3) for name, (label, s) in scores.items() if label == "benign" and s >= SUSPICIOUS}
    assert (missed, noisy) == ({}, {})


def test_plugins_run_through_the_host() -> None:
    """Both built-ins register through their entry points and produce findings via the isolated host."""
    host = PluginHost.from_settings(Settings())
    names = {info.name for info in host.describe()}
    assert {"fraud_lexicon", "url_heuristics"} <= names
    page = read_manifest(CORPUS)[0]
    observation = page_of(page.file.read_bytes(), page.url)
    parsed = parse_url(observation.final_url)
    only = {"fraud_lexicon", "url_heuristics"}
    findings = host.call("analyze_page", only=only, page=observation, url=parsed, settings=host.settings)
    findings += host.call("analyze_url", only=only, url=parsed, settings=host.settings)
    assert {f.detector for f in findings} == only
    assert not any(outcome != "ok" for (_, outcome) in host.stats)
