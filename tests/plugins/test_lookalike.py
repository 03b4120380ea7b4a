"""Unit tests for the lookalike URL detector: homoglyph skeletons and length-aware typos."""

from __future__ import annotations

import pytest
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS

from fraudwall import reference
from fraudwall.models import Category, Finding
from fraudwall.names import parse_url
from fraudwall.plugins import lookalike


def findings_for(url: str) -> list[Finding]:
    return lookalike.analyze_url(parse_url(url))


@pytest.mark.parametrize(
    ("url", "brand"),
    [
        ("http://xn--pypal-4ve.com/", "paypal"),  # Cyrillic а
        ("http://g00gle-login.top/", "google"),  # digits for letters
        ("http://rnicrosoft.com/", "microsoft"),  # rn for m
        ("http://аррӏе-id.com/", "apple"),  # all-Cyrillic
        ("http://alipáy.com/", "alipay"),  # an accent
    ],
)
def test_homoglyphs_are_strong(url: str, brand: str) -> None:
    """A label whose skeleton reads as a brand token is strong evidence on its own."""
    found = findings_for(url)
    assert found and ("brand", brand) in found[0].indicators
    assert found[0].score >= 0.8 and found[0].category == Category.BRAND_IMPERSONATION.value


@pytest.mark.parametrize(("url", "brand"), [("http://alipya.com/", "alipay"), ("http://taobaao.com/", "taobao"),
                                              ("http://binanse-pro.com/", "binance"), ("http://microsfot.net/", "microsoft")])
def test_typos_are_suspicious(url: str, brand: str) -> None:
    """One edit (a swap counts once) from a 6+ letter token, two from a 9+ letter one: suspicious, not malicious."""
    found = findings_for(url)
    assert found and ("brand", brand) in found[0].indicators
    assert SUSPICIOUS <= found[0].score < MALICIOUS


@pytest.mark.parametrize(
    "url",
    ["http://small-shop.com/", "http://cloud-hosting.com/", "http://finance-news.com/", "http://webchat-help.com/",
     "http://window-cleaning.com/", "http://icbc-kefu.top/", "https://www.paypal.com/", "http://weather.cn/"],
)
def test_short_tokens_everyday_words_and_exact_brands_are_not_lookalikes(url: str) -> None:
    """Short tokens are never typo-matched, listed everyday words are exempt, and exact brands are url_heuristics'."""
    assert findings_for(url) == []


def test_edit_distance_counts_swaps_once_and_stops_early() -> None:
    """Optimal string alignment distance: a transposition is one edit; past the limit it reports limit + 1."""
    assert lookalike.edit_distance("alipay", "alipya", 1) == 1
    assert lookalike.edit_distance("alipay", "alipay", 1) == 0
    assert lookalike.edit_distance("alipay", "zzzzzz", 2) == 3


def test_skeleton_uses_the_bundled_tables() -> None:
    """The skeleton drops marks, maps confusables and folds letter pairs, from domain_words.toml."""
    words = reference.domain_words()
    assert lookalike.skeleton("ρаураl", words) == "paypal"
    assert lookalike.skeleton("rnicrosoft", words) == "microsoft"
    assert lookalike.skeleton("ålîpay", words) == "alipay"


def test_misspellings_are_reported_in_the_labels_order() -> None:
    """Two misspellings of one brand in a label are reported as the label spells them, whatever the hash seed."""
    words = reference.domain_words()
    for label, first in (("alipey-alipau", "alipey"), ("alipau-alipey", "alipau")):
        details = [found.detail for found in lookalike._typos(label, words)]
        assert len(details) == 2 and details[0].startswith(f"'{first}'"), details
