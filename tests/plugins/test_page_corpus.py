"""The whole detector set over labelled corpora: the project's test pages and the demo site.

Each page runs the way ``fraudwall analyze pages`` and a crawl run it: parsed
from its raw bytes with ``fraudwall.pages.parse_page`` (so GBK and Big5 pages
are decoded as in production, declared or not), every installed plugin run
through the isolating host by ``fraudwall.judging.judge`` (URL hooks on
the page's URL, then page hooks), and the findings scored by
``fraudwall.blocklists.scoring``. A *malicious* verdict is the prediction
"fraud": what would be published.

The corpus is written to test generalisation, not to pass: it holds hard
negatives (payment pages listing banks, police and news pages quoting the
scripts, licensed lenders, exchanges, app betas) and some fraud pages that no
detector is expected to catch yet (see their notes in the manifest). The issue's
targets are precision >= 0.98 and recall >= 0.9.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.plugins.detector_helpers import (
    MALICIOUS,
    SUSPICIOUS,
    LabelledPage,
    all_findings,
    plugin_host,
    read_manifest,
    verdict,
)

from fraudwall.models import Category, VerdictStatus

CORPUS = Path(__file__).resolve().parents[1] / "data" / "pages" / "manifest.csv"
DEMO_SITE = Path(__file__).resolve().parents[2] / "fraudwall" / "demo" / "site" / "manifest.csv"
PRECISION_TARGET = 0.98
RECALL_TARGET = 0.90
BUILT_INS = {
    "fraud_lexicon", "url_heuristics", "lookalike", "brand_impersonation", "sensitive_forms", "app_lures",
    "diversion_channels", "cloaking",
}


def evaluate(pages: list[LabelledPage]) -> tuple[float, float, list[str]]:
    """(precision, recall, misclassified pages with their scores) for "malicious means fraud"."""
    tp = fp = fn = 0
    wrong = []
    for page in pages:
        result = verdict(page.file.read_bytes(), page.url)
        predicted = result.status == VerdictStatus.MALICIOUS
        if page.label == "fraud" and predicted:
            tp += 1
        elif page.label == "fraud":
            fn += 1
            wrong.append(f"missed {page.file.name} ({result.score:.2f})")
        elif predicted:
            fp += 1
            wrong.append(f"false positive {page.file.name} ({result.score:.2f}: {', '.join(result.categories)})")
    precision = tp / (tp + fp) if tp + fp else 0.0
    return precision, tp / (tp + fn), wrong


def test_corpus_manifest_is_complete() -> None:
    """Every page is labelled exactly once, fraud or benign, and there are at least 60 pages."""
    pages = read_manifest(CORPUS)
    assert len(pages) >= 60
    assert {page.label for page in pages} == {"fraud", "benign"}
    assert all(page.file.is_file() for page in pages)
    listed = [page.file.name for page in pages]
    assert len(listed) == len(set(listed))
    assert set(listed) == {path.name for path in CORPUS.parent.glob("*.html")}, "every page is labelled exactly once"


def test_corpus_covers_every_script_and_evasion() -> None:
    """The corpus holds each fraud script in Chinese and English, the evasion tricks and the hard negatives."""
    notes = " ".join(f"{page.file.name} {page.notes}" for page in read_manifest(CORPUS)).lower()
    for needed in ("task_rebate", "investment", "loan", "customer_service", "impersonation", "fake_app", "subsidy",
                   "full-width", "js strings", "json", "meta", "alts", "base64", "entities", "gbk", "big5",
                   "traditional", "payment", "telegram", "exchange", "police", "news", "licensed", "cashback"):
        assert needed in notes, needed


def test_corpus_precision_and_recall() -> None:
    """On the corpus, the whole plugin set reaches precision >= 0.98 and recall >= 0.9 (misclassified pages listed)."""
    precision, recall, wrong = evaluate(read_manifest(CORPUS))
    assert precision >= PRECISION_TARGET and recall >= RECALL_TARGET, (
        f"precision {precision:.3f} recall {recall:.3f}; misclassified: {'; '.join(wrong)}"
    )


def test_demo_site_is_classified_perfectly() -> None:
    """The demo site, which the README and the demo command show, keeps precision and recall at 1.0."""
    precision, recall, wrong = evaluate(read_manifest(DEMO_SITE))
    assert (precision, recall) == (1.0, 1.0), "; ".join(wrong)


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("zh_task_rebate_dianzan.html", Category.TASK_REBATE),
        ("en_task_rebate_optimize.html", Category.TASK_REBATE),
        ("zh_investment_usdt.html", Category.INVESTMENT),
        ("en_investment_crypto.html", Category.INVESTMENT),
        ("big5_investment.html", Category.INVESTMENT),
        ("zh_loan_jiedong.html", Category.LOAN),
        ("en_loan_upfront.html", Category.LOAN),
        ("gbk_loan.html", Category.LOAN),
        ("big5_loan_no_meta.html", Category.LOAN),
        ("zh_customer_service_taobao.html", Category.CUSTOMER_SERVICE),
        ("en_customer_service_amazon.html", Category.CUSTOMER_SERVICE),
        ("zh_traditional_customer_service.html", Category.CUSTOMER_SERVICE),
        ("zh_impersonation_gongan.html", Category.IMPERSONATION),
        ("en_impersonation_embassy.html", Category.IMPERSONATION),
        ("zh_traditional_prosecutor.html", Category.IMPERSONATION),
        ("zh_fake_app_apk.html", Category.FAKE_APP),
        ("en_fake_app_ios.html", Category.FAKE_APP),
        ("zh_mobileconfig_ios_app.html", Category.FAKE_APP),
        ("zh_qr_loan_app.html", Category.FAKE_APP),
        ("zh_ccb_login_phish.html", Category.BRAND_IMPERSONATION),
        ("en_paypal_card_phish.html", Category.BRAND_IMPERSONATION),
        ("zh_alipay_security_phish.html", Category.CREDENTIAL_PHISHING),
        ("zh_subsidy_phish.html", "fake_subsidy"),
        ("en_tax_refund_phish.html", "fake_subsidy"),
    ],
)
def test_fraud_pages_are_named_by_their_script(name: str, category: str) -> None:
    """Each fraud page is recognised as its own kind of fraud, not merely as fraud in general."""
    pages = {page.file.name: page for page in read_manifest(CORPUS)}
    found = {str(f.category): f.score for f in all_findings(pages[name].file.read_bytes(), pages[name].url)}
    assert found.get(str(category), 0.0) >= SUSPICIOUS, f"{name}: {found}"


def test_every_benign_page_stays_below_malicious_and_explains_itself() -> None:
    """No hard negative is published; whatever a detector says about one is explained by a reason."""
    for page in read_manifest(CORPUS):
        if page.label != "benign":
            continue
        result = verdict(page.file.read_bytes(), page.url)
        assert result.score < MALICIOUS, f"{page.file.name}: {result.score}"
        assert all(finding.reason for finding in result.findings)


def test_built_in_plugins_run_through_the_host_without_failures() -> None:
    """Every built-in registers through its entry point and runs over the whole corpus without an error."""
    host = plugin_host()
    assert BUILT_INS <= {info.name for info in host.describe()}
    for page in read_manifest(CORPUS):
        all_findings(page.file.read_bytes(), page.url)
    failures = {key: count for key, count in host.stats.items() if key[0] in BUILT_INS and key[1] != "ok"}
    assert failures == {}
