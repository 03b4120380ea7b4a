"""Unit tests for the url_heuristics detector."""

from __future__ import annotations

import pytest
from tests.plugins.detector_helpers import MALICIOUS, SUSPICIOUS
from fraudwall.plugins import url_heuristics

from fraudwall import host_labels
from fraudwall.models import Category, Finding
from fraudwall.names import parse_url


def findings_for(url: str) -> list[Finding]:
    return url_heuristics.analyze_url(parse_url(url))


def score_of(url: str) -> float:
    found = findings_for(url)
    assert len(found) <= 1, "url_heuristics reports at most one finding per host"
    return found[0].score if found else 0.0


@pytest.mark.parametrize(
    "url",
    [
        "https://www.icbc.com.cn/",
        "http://icbc.com.cn/login",
        "https://mybank.icbc.com.cn/icbc/perbank/index.jsp",
        "https://m.jd.com/",
        "https://www.paypal.com/signin",
        "https://www.mps.gov.cn/",
        "https://www.spp.gov.cn/",
        "https://10086.cn/",
        "https://www.baidu.com/",
        "https://github.io/",
        "https://web.app/",
    ],
)
def test_official_allowlisted_and_platform_apex_names_score_nothing(url: str) -> None:
    """A brand's own domains, allowlisted sites and shared-platform apexes get no finding at all."""
    assert findings_for(url) == []


def test_suspicious_tld_alone_is_weak() -> None:
    """A cheap TLD on its own is about 0.15."""
    assert score_of("http://weather-report.top/") == pytest.approx(0.15)


def test_ip_literal_alone_is_weak_to_moderate() -> None:
    """An IP-literal host is weak-to-moderate evidence, below suspicious."""
    assert 0.2 <= score_of("http://45.77.12.9/login") < SUSPICIOUS


def test_one_fraud_word_alone_is_nothing() -> None:
    """A single everyday fraud word (app, loan) on an ordinary TLD proves nothing."""
    assert findings_for("https://tianqi-app.cn/") == []


def test_fraud_words_and_tld_stay_below_malicious_without_a_brand() -> None:
    """Without a brand, shape signals add up but are capped below malicious: pages must decide."""
    assert SUSPICIOUS > score_of("http://daikuan-kuaisu.xyz/") > 0.15
    assert score_of("http://kefu-tuikuan-daikuan-licai.top/") < MALICIOUS


def test_brand_on_a_foreign_domain_is_strong() -> None:
    """A brand token on a name the brand does not own is strong on its own."""
    found = findings_for("http://icbc-online.com/")
    assert found[0].category == Category.BRAND_IMPERSONATION.value
    assert SUSPICIOUS <= found[0].score < MALICIOUS
    assert ("brand", "icbc") in found[0].indicators


def test_brand_plus_fraud_word_plus_tld_is_very_strong() -> None:
    """Brand, fraud word and cheap TLD together are very strong, and each signal adds."""
    alone = score_of("http://icbc-online.com/")
    with_word = score_of("http://icbc-kefu.com/")
    with_all = score_of("http://icbc-kefu.top/")
    assert alone < with_word < with_all
    assert with_all >= 0.85


def test_official_domain_embedded_in_a_foreign_name() -> None:
    """www.icbc.com.cn.secure-login.xyz wears the whole official domain: very strong."""
    found = findings_for("http://www.icbc.com.cn.secure-login.xyz/")
    assert found[0].score >= 0.9
    assert any("icbc.com.cn" in line and "inside" in line for line in found[0].evidence)


@pytest.mark.parametrize(
    ("url", "brand"),
    [
        ("http://gonghang-tuikuan.top/", "icbc"),
        ("http://95588-kefu.cc/", "icbc"),
        ("http://jd-tuikuan.top/", "jd"),
        ("http://apple-id-verify.xyz/", "apple"),
        ("http://alipay-secure.icu/", "alipay"),
    ],
)
def test_pinyin_tokens_short_tokens_and_hotlines(url: str, brand: str) -> None:
    """Pinyin tokens, short exact tokens as whole label parts and hotlines all identify the brand."""
    found = findings_for(url)
    assert ("brand", brand) in found[0].indicators
    assert found[0].score >= MALICIOUS


def test_a_round_amount_is_no_hotline() -> None:
    """China Telecom's hotline 10000 is also ten thousand: a handout lure's tw10000-gov names the amount,
    not the carrier, while a five-digit hotline that is no round number (10086) still names its brand."""
    assert not any(brand.id == "chinatelecom" for brand, _ in host_labels.brand_tokens("tw10000-gov"))
    assert any(brand.id == "chinamobile" for brand, _ in host_labels.brand_tokens("10086-vip"))


@pytest.mark.parametrize(("url", "brand"), [
    ("https://netbank-commbank-au.secure-logon.xyz/netbank/logon", "commbank"),
    ("http://westpac-verify.top/", "westpac"),
    ("http://anz-secure.icu/", "anz"),
    ("http://dbs-digibank-verify.top/", "dbs"),
    ("http://singpass-login.top/", "singpass"),
])
def test_banks_of_australia_britain_and_singapore_are_protected(url: str, brand: str) -> None:
    """The banks and the government login that phishing in Australia, Britain and Singapore wears most are
    protected brands: their names on a foreign throw-away name identify them."""
    found = findings_for(url)
    assert ("brand", brand) in found[0].indicators and found[0].score >= MALICIOUS


@pytest.mark.parametrize("url", ["https://www.commbank.com.au/", "https://www.dbs.com.sg/", "https://www.anz.com.au/",
                                 "https://www.natwest.com/", "https://www.bonanza-tanzania.com/",
                                 "https://www.bocmacau.com/tc/ebanking/login.html"])
def test_those_banks_own_names_and_words_that_contain_them_score_nothing(url: str) -> None:
    """Their own domains (and Bank of China's Macau branch's) score nothing, and "anz" inside an ordinary word is
    no brand."""
    assert findings_for(url) == []


@pytest.mark.parametrize("url", ["https://pineapple-recipes.com/", "https://jdxyz-studio.com/", "https://abcdefg.com/"])
def test_short_tokens_do_not_match_inside_words(url: str) -> None:
    """Everyday short tokens (apple, jd, abc) never match inside a longer word."""
    assert findings_for(url) == []






def test_mixed_script_without_brand_is_suspicious() -> None:
    """A label mixing Latin with Cyrillic is a homoglyph sign even without a known brand."""
    found = findings_for("http://b\u0430nkofexample.com/")  # Cyrillic а
    assert found[0].category == Category.SUSPICIOUS_URL.value
    assert SUSPICIOUS <= found[0].score < MALICIOUS


def test_chinese_brand_name_in_idn() -> None:
    """A Chinese IDN carrying a brand's name and a Chinese fraud word is brand impersonation."""
    found = findings_for("http://工商银行客服.com/")
    assert ("brand", "icbc") in found[0].indicators
    assert any("客服" in line for line in found[0].evidence)


def test_brand_on_a_shared_platform_subdomain() -> None:
    """A brand on a tenant subdomain of a shared platform is impersonation; the platform is named."""
    found = findings_for("https://icbc-tuikuan.github.io/")
    assert found[0].category == Category.BRAND_IMPERSONATION.value
    assert found[0].subject == "icbc-tuikuan.github.io"
    assert any("github.io" in line for line in found[0].evidence)


def test_shared_platform_tenant_without_brand_is_quiet() -> None:
    """An ordinary tenant of a shared platform gets nothing."""
    assert findings_for("https://my-portfolio.github.io/") == []


def test_finding_fields() -> None:
    """Subject is the host; detector name and version are the plugin's."""
    finding = findings_for("http://ICBC-kefu.top/path?q=1")[0]
    assert finding.subject == "icbc-kefu.top"
    assert (finding.detector, finding.detector_version) == (url_heuristics.name, url_heuristics.version)
    assert finding.reason.endswith(".") and finding.evidence


def test_parts_split_hyphens_and_digit_runs() -> None:
    """Labels split into parts at hyphens and letter/digit boundaries (fraudwall.host_labels, read by both URL detectors)."""
    assert host_labels.parts("icbc95588-kefu") == ["icbc", "95588", "kefu"]


def test_homoglyphs_are_left_to_lookalike() -> None:
    """A brand spelt with look-alike characters is the lookalike detector's; here only the mixed script shows."""
    found = findings_for("http://xn--pypal-4ve.com/")
    assert found[0].category == Category.SUSPICIOUS_URL.value
    assert any("mixes scripts" in line for line in found[0].evidence)


@pytest.mark.parametrize("url", ["http://kq8v2x9m.top/", "http://a7b3c9d2.com/"])
def test_random_looking_labels(url: str) -> None:
    """Labels that switch between letters and digits again and again look machine-made: a weak shape signal."""
    found = findings_for(url)
    assert found and any("machine-made" in line for line in found[0].evidence)
    assert found[0].score < SUSPICIOUS


@pytest.mark.parametrize("url", ["https://www.jxnxs.com/", "https://bjgjj.gov.cn/", "https://www.12306.cn/", "https://web3dev.io/"])
def test_pinyin_initials_and_short_labels_are_not_random(url: str) -> None:
    """Pinyin initials (jxnxs, bjgjj) and short or ordinary labels are not called random."""
    found = findings_for(url)
    assert not found or not any("machine-made" in line for line in found[0].evidence)


def test_fraud_words_on_a_shared_platform_tenant() -> None:
    """Fraud words on a free-hosting tenant add up with the platform, still below malicious without a brand."""
    plain = score_of("http://daikuan-kuaisu.example.com/")
    hosted = score_of("http://daikuan-kuaisu.web.app/")
    assert plain < hosted < MALICIOUS
    assert any("web.app" in line for line in findings_for("http://daikuan-kuaisu.web.app/")[0].evidence)


@pytest.mark.parametrize(("url", "at_least"), [
    ("https://gov-uk.taxrefund-claim.help/hmrc/refund", MALICIOUS - 0.1),
    ("https://www.tpc-mojgov-tw.com/case/query.asp", SUSPICIOUS),
    ("https://post-gov-tw.redelivery-tw.top/tw/", SUSPICIOUS),
    ("https://gov.cn.zwfw-login.top/", SUSPICIOUS),
])
def test_a_government_name_off_a_government_suffix_is_a_claimed_identity(url: str, at_least: float) -> None:
    """'gov' as a label part, or a word ending in it, under a suffix no government registers under is an
    impersonation of a government (a brand_impersonation finding, so that a page's fraud script corroborates it)."""
    [finding] = findings_for(url)
    assert finding.category == Category.BRAND_IMPERSONATION.value and finding.score >= at_least
    assert "government" in finding.reason and finding.indicators == ()


@pytest.mark.parametrize("url", [
    "https://www.gov.uk/browse/tax", "https://hmrc.gov.uk/", "https://portal.gov.hk/", "https://www.irs.gov/refunds",
    "https://data.go.jp/", "https://www.govtech.com/", "https://egov.example-test.com/", "https://army.mil/",
])
def test_government_suffixes_and_everyday_words_claim_nothing(url: str) -> None:
    """Names under government suffixes, and words that merely contain 'gov' (govtech, egov), are no claim."""
    assert all("government" not in finding.reason for finding in findings_for(url))


@pytest.mark.parametrize("url", ["https://www.hsbc.com.sg/", "https://www.paypal.com.au/", "https://amazon.com.mx/"])
def test_a_brand_domain_under_a_country_suffix_is_no_embedded_domain(url: str) -> None:
    """hsbc.com.sg is HSBC's own Singapore site far more often than a fake: it wears the brand's token (suspicious,
    never published on the name alone), not its official domain embedded in a foreign name (malicious)."""
    [finding] = findings_for(url)
    assert SUSPICIOUS <= finding.score < MALICIOUS and "inside" not in " ".join(finding.evidence)
    [embedded] = findings_for(url.replace("https://www.", "https://").rstrip("/") + ".verify-acct.top/")
    assert embedded.score >= MALICIOUS and any("inside" in line for line in embedded.evidence)


@pytest.mark.parametrize("host", ["netbank-commbank.com.au.secure-id.net", "login.bank-online.co.uk.verify-account.info",
                                  "secure.mybank.com.account-review.net"])
def test_a_whole_domain_worn_as_the_subdomain_is_a_throw_away_shape(host: str) -> None:
    """A subdomain that ends in a domain of its own under a suffix readers trust reads as the site's name: a
    throw-away shape, whichever brand it names."""
    (finding,) = findings_for(f"https://{host}/")
    assert finding.score >= 0.3 and any("a domain of its own" in line for line in finding.evidence)


@pytest.mark.parametrize("host", ["shop.app.example.com", "en.m.wikipedia.org", "api.dev.example.net",
                                  "www.example.com", "static.news.example.org"])
def test_subdomains_named_after_everyday_suffixes_are_not_dressed_domains(host: str) -> None:
    """New generic suffixes are everyday words real subdomains use (shop, app, dev, news): no finding for them."""
    assert not [line for f in findings_for(f"https://{host}/") for line in f.evidence if "a domain of its own" in line]


@pytest.mark.parametrize("host", ["dk668.oss-cn-hongkong.aliyuncs.com", "claims-2291.s3.amazonaws.com",
                                  "refund-desk.trycloudflare.com", "kefu88.duckdns.org"])
def test_a_tenant_of_an_unreviewed_platform_is_a_throw_away_shape(host: str) -> None:
    """Object storage, free hosts, dynamic DNS and tunnels publish a page at once, unreviewed: as cheap as a
    throw-away registration, so their tenants carry a weak throw-away shape even without fraud words."""
    (finding,) = findings_for(f"https://{host}/")
    assert finding.score >= url_heuristics.SHAPE_UNREVIEWED
    assert any("unreviewed" in line for line in finding.evidence)


@pytest.mark.parametrize("host", ["mysite.github.io", "team-blog.blogspot.com", "www.aliyuncs.com"])
def test_reviewed_platforms_and_operators_own_sites_carry_no_unreviewed_sign(host: str) -> None:
    """Blogs and app platforms, where real organisations publish, and the operator's own www, are no such sign."""
    assert not [line for f in findings_for(f"https://{host}/") for line in f.evidence if "unreviewed" in line]


def test_a_brands_domain_written_as_the_user_name_is_that_domain_embedded() -> None:
    """http://www.icbc.com.cn@pay-verify.top/: the reader sees the bank, the browser goes to pay-verify.top. The
    bank's official domain before the '@' counts as embedded in the name: brand impersonation, malicious with the
    name's own fraud words and TLD."""
    [finding] = findings_for("http://www.icbc.com.cn@pay-verify.top/login")
    assert finding.category == Category.BRAND_IMPERSONATION and finding.score >= MALICIOUS
    assert finding.subject == "pay-verify.top" and ("brand", "icbc") in finding.indicators
    assert any("written as the user name" in line for line in finding.evidence)


def test_another_domain_written_as_the_user_name_is_a_throw_away_shape() -> None:
    """A domain of no brand before the '@' is a domain worn before the real one: it adds what a domain worn as
    the subdomain adds. A user name that is no domain (user:pass, admin) adds nothing, nor does a brand's own
    domain in front of its own host."""
    plain = score_of("http://pay-verify.top/")
    assert score_of("http://secure-login.com@pay-verify.top/") == pytest.approx(
        min(url_heuristics.SHAPE_MAX, plain + url_heuristics.SHAPE_DRESSED))
    assert score_of("http://secure-login.com@shop-mall.top/") > score_of("http://shop-mall.top/")
    assert score_of("http://user:pass@pay-verify.top/") == plain == score_of("http://admin@pay-verify.top/")
    assert findings_for("http://www.icbc.com.cn@www.icbc.com.cn/") == []
