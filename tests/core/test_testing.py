"""fraudwall.testing: building observations, running one plugin through the real host, asserting findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fraudwall.hookspecs import hookimpl
from fraudwall.models import Category, Finding, PageObservation, UrlParts
from fraudwall.settings import Settings
from fraudwall.testing import (
    DEFAULT_URL,
    PluginRunError,
    assert_finding,
    assert_no_finding,
    make_page,
    make_url,
    run_plugin,
)


class UnfreezeFee:
    """A small page and URL plugin: 解冻费 on a page, and hosts ending in .top."""

    name, version = "unfreeze_fee", "2.1"

    @hookimpl
    def analyze_page(self, page: PageObservation) -> list[Finding]:
        if "解冻费" not in page.text:
            return []
        return [Finding(page.final_url, self.name, self.version, "loan", 0.6, "asks for an unfreezing fee",
                        evidence=("text: 请缴纳解冻费",))]

    @hookimpl
    def analyze_url(self, url: UrlParts, settings: Settings) -> list[Finding]:
        if not url.host.endswith(settings.get("TEST_SUFFIX", ".top")):
            return []
        return [Finding(url.host, self.name, self.version, "suspicious_url", 0.2, "cheap suffix")]


class Raises:
    """A plugin whose page hook always fails."""

    name, version = "raises", "1"

    @hookimpl
    def analyze_page(self) -> list[Finding]:
        raise ValueError("detector bug")


class ReturnsJunk:
    """A plugin that returns strings instead of findings."""

    name, version = "junk", "1"

    @hookimpl
    def analyze_page(self) -> list[str]:
        return ["not a finding"]


def test_make_page_builds_the_crawler_observation() -> None:
    """make_page parses HTML the way the crawler does: text, title, forms, absolute links."""
    page = make_page("<title>贷款</title><p>请缴纳 解冻费</p><a href='/pay'>去支付</a><form><input name=card></form>",
                     url="http://loan.example-test.top/a/")
    assert page.title == "贷款" and page.text == "请缴纳 解冻费 去支付"
    assert page.links[0].url == "http://loan.example-test.top/pay"
    assert page.forms[0].fields[0].name == "card"
    assert page.final_url == "http://loan.example-test.top/a/"


def test_make_page_decodes_other_encodings() -> None:
    """Bytes are decoded as the crawler decodes them: a GBK page with its meta charset reads as Chinese."""
    body = "<meta charset='gbk'><p>解冻费</p>".encode("gbk")
    assert make_page(body).text == "解冻费"


def test_make_page_passes_observation_fields() -> None:
    """Keyword arguments reach parse_page: a redirect's final URL, the status."""
    page = make_page("<p>x</p>", url="http://a.example-test.top/", final_url="http://b.example-test.top/", status=302)
    assert (page.url, page.final_url, page.status) == ("http://a.example-test.top/", "http://b.example-test.top/", 302)


def test_make_url_normalises_like_the_hooks_see_it() -> None:
    """make_url gives the IDNA-normalised UrlParts that analyze_url receives."""
    parts = make_url("http://工商银行.example-test.top/login")
    assert parts.host.startswith("xn--") and parts.unicode_host.startswith("工商银行")
    assert parts.registrable_domain == "example-test.top"


def test_run_plugin_on_a_page_runs_url_and_page_hooks() -> None:
    """With a page, the plugin sees the final URL's analyze_url and then analyze_page, as in a crawl."""
    findings = run_plugin(UnfreezeFee(), page="<p>请缴纳解冻费</p>")
    assert [(f.category, f.subject) for f in findings] == [
        ("suspicious_url", "example-test.top"),
        ("loan", DEFAULT_URL),
    ]


def test_run_plugin_with_url_only_runs_url_hook_with_settings() -> None:
    """With a URL alone, only analyze_url runs, and it receives the given settings."""
    assert run_plugin(UnfreezeFee(), url="http://shop.example-test.top/") != []
    assert run_plugin(UnfreezeFee(), url="http://shop.example-test.top/", settings={"TEST_SUFFIX": ".xyz"}) == []
    assert run_plugin(UnfreezeFee(), url=make_url("http://shop.example-test.xyz/"), settings={"TEST_SUFFIX": ".xyz"})


def test_run_plugin_loads_a_plugin_file(tmp_path: Path) -> None:
    """A path is loaded the way --plugin loads a scratch file."""
    file = tmp_path / "scratch.py"
    file.write_text(textwrap.dedent("""\
        from fraudwall import Finding, hookimpl
        name = "scratch"
        version = "0.1"

        @hookimpl
        def analyze_page(page):
            if "USDT" in page.text:
                return [Finding(page.final_url, name, version, "investment", 0.5, "USDT", evidence=("USDT",))]
    """))
    assert_finding(run_plugin(file, page="<p>充值 USDT</p>"), detector="scratch", category="investment")


def test_run_plugin_raises_when_the_plugin_raises() -> None:
    """A plugin exception fails the test, chained, instead of being counted and hidden as in a crawl."""
    with pytest.raises(PluginRunError, match="plugin 'raises' failed: error x1") as raised:
        run_plugin(Raises(), page="<p>x</p>")
    assert isinstance(raised.value.__cause__, ValueError)
    assert "detector bug" in str(raised.value.__cause__)


def test_run_plugin_raises_on_junk_results() -> None:
    """Returning something other than findings fails the test with the host's reason."""
    with pytest.raises(PluginRunError, match="bad-result x1.*other than Finding"):
        run_plugin(ReturnsJunk(), page="<p>x</p>")


def test_run_plugin_needs_something_to_analyse() -> None:
    """Neither page nor URL is a usage error; so is a URL beside a ready observation."""
    with pytest.raises(TypeError):
        run_plugin(UnfreezeFee())
    with pytest.raises(TypeError):
        run_plugin(UnfreezeFee(), page=make_page("<p>x</p>"), url="http://other.example-test.top/")


FINDINGS = [
    Finding("http://x.example-test.top/", "d1", "1", "loan", 0.6, "r", evidence=("text: 解冻费",)),
    Finding("x.example-test.top", "d2", "1", "suspicious_url", 0.2, "r"),
]


def test_assert_finding_returns_the_match() -> None:
    """All criteria must hold on one finding, which is returned; Category members work as categories."""
    assert assert_finding(FINDINGS, category=Category.LOAN, min_score=0.5, evidence_contains="解冻").detector == "d1"
    assert assert_finding(FINDINGS, detector="d2", max_score=0.3).category == "suspicious_url"
    assert assert_finding(FINDINGS) is FINDINGS[0]


def test_assert_finding_failure_explains_itself() -> None:
    """The failure message lists the findings and what the closest ones miss."""
    with pytest.raises(AssertionError) as raised:
        assert_finding(FINDINGS, category="loan", min_score=0.9, evidence_contains="保证金")
    message = str(raised.value)
    assert "no finding with category='loan', score>=0.9, evidence containing '保证金'" in message
    assert "d1 1 loan score=0.6" in message and "evidence: text: 解冻费" in message
    assert "misses score>=0.9, evidence containing '保证金'" in message
    with pytest.raises(AssertionError, match=r"\(no findings\)"):
        assert_finding([], category="loan")


def test_assert_no_finding() -> None:
    """assert_no_finding fails on any finding meeting all criteria, and passes otherwise."""
    assert_no_finding(FINDINGS, category="investment")
    assert_no_finding(FINDINGS, category="loan", min_score=0.7)
    assert_no_finding([])
    with pytest.raises(AssertionError, match="expected no finding with category='loan', got:\n  - d1 1 loan score=0.6"):
        assert_no_finding(FINDINGS, category="loan")
    with pytest.raises(AssertionError, match="expected no finding with no criteria"):
        assert_no_finding(FINDINGS)
