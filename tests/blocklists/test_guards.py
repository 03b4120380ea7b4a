"""Publishing guards decide name by name, with a stable reason for every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.list_compiler import compile_lists
from fraudwall.models import Scope


@pytest.mark.parametrize(("name", "reason"), [
    ("evil.local", "special-use"),  # mDNS names: blocking them breaks printers, not fraud
    ("kefu.onion", "special-use"),
    ("a.b.home.arpa", "special-use"),
    ("x.internal", "special-use"),
    ("shop.test", "special-use"),
    ("loan.example", "special-use"),
    ("com.cn", "public-suffix"),
    ("github.io", "public-suffix"),
    ("www.icbc.com.cn", "allowlisted"),
    ("www.gov.cn", "allowlisted"),  # government namespaces: only governments register there
    ("irs.gov", "allowlisted"),
    ("bit.ly", "shared-platform-apex"),  # a shortener: its scam links are published by URL
    ("www.hsbc.com.sg", "brand-country-site"),  # hsbc.com under Singapore's suffix: HSBC's own, unlisted
    ("paypal.com.au", "brand-country-site"),
    ("hsbc-secure.com.sg", None),  # the brand's name in another name is no country site
    ("gov-cn-jingcha.top", None),  # impersonating the police is no government name
    ("internal.top", None),  # a special-use word as an ordinary label is an ordinary name
    ("test-kefu.top", None),
    ("shop.example.com", None),  # example.com is an ordinary delegated domain to a resolver
])
def test_refusal_reasons(name: str, reason: str | None) -> None:
    """Each guard names its reason; names that merely contain a reserved word pass."""
    assert PublishGuard.from_files().refusal(name) == reason


@pytest.mark.parametrize(("name", "reason"), [
    ("amazonaws.com", "subtree-over-public-suffix"),  # s3.amazonaws.com and the rest are public suffixes
    ("core.windows.net", "subtree-over-public-suffix"),  # blob.core.windows.net
    ("compute.amazonaws.com", "subtree-over-public-suffix"),  # *.compute.amazonaws.com
    ("com.cn", "public-suffix"),
    ("loan-fast.top", None),
])
def test_subtree_over_a_public_suffix_is_refused(name: str, reason: str | None) -> None:
    """A subtree block may not hold a public suffix below it: every customer site of the platform would go.
    The same name blocked alone is an ordinary name."""
    guard = PublishGuard.from_files()
    assert guard.refusal(name, subtree=True) == reason
    assert guard.refusal(name) == (reason if reason == "public-suffix" else None)


def test_a_subtree_over_public_suffixes_is_narrowed_to_the_name(tmp_path: Path) -> None:
    """``||amazonaws.com^`` blocks amazonaws.com alone, never the customer sites below it; the report counts it."""
    listing = tmp_path / "list.txt"
    listing.write_text("||amazonaws.com^\n||loan-fast.top^\n", encoding="utf-8")
    selection = compile_lists([str(listing)], PublishGuard.from_files())
    assert [(entry.name, entry.scope) for entry in selection.entries] == [
        ("amazonaws.com", Scope.EXACT), ("loan-fast.top", Scope.SUBTREE)]
    assert dict(selection.refused.counts) == {"subtree-over-public-suffix": 1}
    assert selection.refused.samples == [("||amazonaws.com^", "subtree-over-public-suffix")]


@pytest.mark.parametrize(("url", "reason"), [
    ("https://www.icbc.com.cn/", "broad-url-on-allowlisted-site"),
    ("https://www.icbc.com.cn/login", "broad-url-on-allowlisted-site"),
    ("https://www.icbc.com.cn/login?session=x1", None),
    ("https://www.icbc.com.cn/upload/notice/kefu.html", None),
])
def test_urls_on_allowlisted_sites_must_name_one_page(url: str, reason: str | None) -> None:
    """A URL-level entry on an allowlisted site is published only when it names one page."""
    guard = PublishGuard.from_files()
    assert guard.url_refusal(url, guard.refusal("www.icbc.com.cn")) == reason
    assert guard.url_refusal(url, None) is None
    # An allowlisted public suffix (gov.uk) is refused as a suffix first; its URLs are judged the same way.
    on_suffix = url.replace("www.icbc.com.cn", "gov.uk")
    assert guard.url_refusal(on_suffix, guard.refusal("gov.uk")) == reason


def test_urls_on_a_brands_country_site_must_name_one_page() -> None:
    """A brand's country site is guarded like an allowlisted one: a URL entry there must name one page."""
    guard = PublishGuard.from_files()
    refusal = guard.refusal("www.hsbc.com.sg")
    assert guard.url_refusal("https://www.hsbc.com.sg/", refusal) == "broad-url-on-allowlisted-site"
    assert guard.url_refusal("https://www.hsbc.com.sg/upload/notice/kefu.html", refusal) is None


def test_special_use_names_in_a_list_are_refused_and_counted(tmp_path: Path) -> None:
    """A list naming hosts under .local, .onion or .home.arpa blocks none of those names, and says so;
    a feed URL on such a host stays a URL-level entry, as for any refused host."""
    listing = tmp_path / "list.txt"
    listing.write_text("evil.local\nhttp://kefu.onion/pay\nprinter.home.arpa\nloan-fast.top\n", encoding="utf-8")
    selection = compile_lists([str(listing)], PublishGuard.from_files())
    assert [(entry.name, entry.url) for entry in selection.entries] == [
        ("kefu.onion", "http://kefu.onion/pay"), ("loan-fast.top", "")]
    assert selection.refused.counts["special-use"] == 3
