"""Selection: filters in SQL, kinds, guards, scope, and URL-level fallback for guarded hosts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.selection import SelectionFilter, _scopes, scope_for, select_entries
from fraudwall.blocklists.store import Store, _selected_query
from fraudwall.exceptions import ConfigError
from fraudwall.entries import EXACT, SUBTREE
from fraudwall.models import (
    ApkObservation, DnsObservation, Finding, Judgement, Observation, Scope, SubjectKind,
)
from fraudwall.names import parse_url, registrable_domain
from fraudwall.pages import parse_page
from fraudwall.settings import Settings


def _judgement(observation: Observation, subject: str, host: str, score: float, category: str,
               kind: SubjectKind | None = None) -> Judgement:
    finding = Finding(subject, "lexicon", "1", category, score, "r", subject_kind=kind)  # type: ignore[arg-type]
    verdict = score_findings(subject, [finding], Settings(), kind=kind)
    return Judgement(observation, (finding,), verdict, host, (("lexicon", "1"),))


def _page(url: str, score: float, category: str, ip: str | None = None) -> Judgement:
    page = parse_page(url, f"<p>{url}</p>".encode(), ip=ip)
    return _judgement(page, url, parse_url(url).host, score, category)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store with fraud on throw-away domains, a subdomain, a shared platform, a bank, an address, and
    malicious verdicts of kinds no blocklist carries (an APK, a wallet)."""
    with Store.open(tmp_path / "f.db") as opened:
        opened.record([
            _page("http://loan-fast.top/", 0.95, "loan", ip="203.0.113.5"),
            _page("http://loan-fast.top/apply", 0.9, "loan", ip="203.0.113.6"),
            _page("http://shop.example-mall.com/pay", 0.8, "customer_service"),
            _page("https://icbc-kefu.github.io/login", 0.97, "brand_impersonation"),
            _page("https://github.io/scam", 0.9, "investment"),
            _page("https://www.icbc.com.cn/fake", 0.9, "brand_impersonation"),
            _page("https://www.icbc.com.cn/upload/notice/kefu.html", 0.9, "customer_service"),
            _page("http://198.51.100.7/x", 0.9, "loan"),
            _page("http://maybe.top/", 0.5, "task_rebate"),
            # A name judged alone (kind host) on the bank's site: refused, and no URL stands in for it.
            _judgement(parse_url("https://pay.icbc.com.cn/"), "pay.icbc.com.cn", "pay.icbc.com.cn", 0.9, "loan"),
            _judgement(DnsObservation("flux-kefu.top", "NOERROR"), "flux-kefu.top", "flux-kefu.top", 0.9,
                       "customer_service"),
            _judgement(ApkObservation("ab" * 32, 1000), "ab" * 32, "", 0.99, "fake_app", SubjectKind.APK),
            _judgement(ApkObservation("cd" * 32, 1000), "TXyz1111", "", 0.99, "diversion", SubjectKind.WALLET),
        ])
        yield opened


def test_scope_guards_and_addresses(store: Store) -> None:
    """Registered domains block their subtree, subdomains exactly; guarded hosts fall back to URLs."""
    selection = select_entries(store, PublishGuard.from_files())
    by_key = {(e.name, e.url): e for e in selection.entries}
    loan = by_key[("loan-fast.top", "")]
    assert loan.scope is Scope.SUBTREE and loan.addresses == ("203.0.113.5", "203.0.113.6")
    assert loan.confidence == 0.95 and loan.categories == ("loan",) and loan.sources == ("detector:lexicon",)
    assert by_key[("shop.example-mall.com", "")].scope is Scope.EXACT
    assert by_key[("icbc-kefu.github.io", "")].scope is Scope.SUBTREE  # a tenant is its own registered domain
    assert by_key[("flux-kefu.top", "")].scope is Scope.SUBTREE  # judged from a DNS answer: a host verdict
    # The platform apex and the bank are never blocked by name, only their fraudulent URLs are published.
    assert ("github.io", "") not in by_key and ("github.io", "https://github.io/scam") in by_key
    # On an allowlisted site only a URL naming one page: /fake would block a path of the bank for everyone.
    assert ("www.icbc.com.cn", "https://www.icbc.com.cn/upload/notice/kefu.html") in by_key
    assert ("www.icbc.com.cn", "https://www.icbc.com.cn/fake") not in by_key
    assert ("198.51.100.7", "http://198.51.100.7/x") in by_key and ("198.51.100.7", "") not in by_key
    assert not any(e.name == "pay.icbc.com.cn" for e in selection.entries)
    assert dict(selection.refused.counts) == {
        "allowlisted": 2, "broad-url-on-allowlisted-site": 1, "ip-literal": 1, "public-suffix": 1}
    assert ("maybe.top", "") not in by_key  # suspicious is not published by default


def test_kinds_no_blocklist_carries_never_become_entries(store: Store) -> None:
    """A malicious APK hash or wallet is in the store but never becomes a name or URL entry, whatever the filter."""
    everything = SelectionFilter(statuses=("malicious", "suspicious", "benign"))
    names = {e.name for e in select_entries(store, PublishGuard.from_files(), everything).entries}
    urls = {e.url for e in select_entries(store, PublishGuard.from_files(), everything).entries}
    assert {row["subject_kind"] for row in store.verdicts(["malicious"])} >= {"apk", "wallet"}
    assert not names & {"ab" * 32, "TXyz1111", ""} and not {url for url in urls if "ab" * 32 in url}


def test_filters(store: Store) -> None:
    """Statuses, minimum score, categories and since narrow the selection."""
    guard = PublishGuard.from_files()
    names = lambda wanted: sorted({e.name for e in select_entries(store, guard, wanted).entries})  # noqa: E731
    assert "maybe.top" in names(SelectionFilter(statuses=("malicious", "suspicious")))
    assert names(SelectionFilter(min_score=0.96)) == ["icbc-kefu.github.io"]
    # The loan page on an address is published by URL (the exporters take public IPv4 addresses only).
    assert names(SelectionFilter(categories=("loan",))) == ["198.51.100.7", "loan-fast.top"]
    assert names(SelectionFilter(categories=("fake_app",))) == []  # only the APK says fake_app
    assert names(SelectionFilter(since=datetime.now(timezone.utc) + timedelta(hours=1))) == []
    assert "loan-fast.top" in names(SelectionFilter(since=datetime.now(timezone.utc) - timedelta(hours=1)))


@pytest.mark.parametrize(("wanted", "index"), [
    (SelectionFilter(), "COVERING INDEX idx_verdicts_selection"),
    (SelectionFilter(statuses=("malicious", "suspicious"), min_score=0.5), "COVERING INDEX idx_verdicts_selection"),
    (SelectionFilter(categories=("loan",)), "idx_verdict_categories_category"),
])
def test_filters_run_on_indexes(store: Store, wanted: SelectionFilter, index: str) -> None:
    """SQLite answers a selection from the index that covers it, the default one in export order without a
    sort, and a category filter through the categories table's index."""
    sql, params = _selected_query(wanted)
    plan = " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert index in plan, plan
    if wanted == SelectionFilter():
        assert "TEMP B-TREE" not in plan, plan


def test_a_narrow_since_is_found_by_update_time(store: Store) -> None:
    """A --since that keeps few verdicts reads them through the update-time index; one that keeps most does not."""
    assert store._narrow_since(datetime.now(timezone.utc) + timedelta(hours=1))
    assert not store._narrow_since(datetime.now(timezone.utc) - timedelta(hours=1))
    sql, params = _selected_query(SelectionFilter(since=datetime.now(timezone.utc)), by_update=True)
    plan = " | ".join(row[3] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "idx_verdicts_updated_at" in plan, plan


@pytest.mark.parametrize("name", [
    "loan-fast.top", "shop.example-mall.com", "icbc-kefu.github.io", "github.io", "com.cn", "a.b.c.example.com.cn",
    "xn--fiqs8s", "xn--55qx5d.xn--fiqs8s", "kefu.xn--55qx5d.cn", "s3.amazonaws.com", "bucket.s3.amazonaws.com",
    "amazonaws.com", "www.ck", "x.www.ck", "a.b.ck", "198.51.100.7", "2001:db8::1", "localhost", "evil.local",
])
def test_scope_is_subtree_exactly_for_a_registered_domain(name: str) -> None:
    """The fast scope test (public-suffix lookups) answers as splitting the name with the suffix list does, and
    so does the scope column selection computes for millions of names at once."""
    assert (scope_for(name) is Scope.SUBTREE) == (registrable_domain(name) == name)
    assert _scopes([name]) == bytearray([SUBTREE if scope_for(name) is Scope.SUBTREE else EXACT])


def test_user_allowlist_files(tmp_path: Path, store: Store) -> None:
    """A plain or TOML allowlist keeps a name (and its subtree) out; a junk line is a clear error."""
    plain = tmp_path / "allow.txt"
    plain.write_text("# ours\nloan-fast.top\n")
    selection = select_entries(store, PublishGuard.from_files([plain]))
    assert "loan-fast.top" not in {e.name for e in selection.entries if not e.url}
    toml = tmp_path / "allow.toml"
    toml.write_text('domains = ["example-mall.com"]\n')
    selection = select_entries(store, PublishGuard.from_files([toml]))
    assert "shop.example-mall.com" not in {e.name for e in selection.entries if not e.url}
    bad = tmp_path / "bad.txt"
    bad.write_text("fine.com\nnot a name\n")
    with pytest.raises(ConfigError, match="bad.txt:2"):
        PublishGuard.from_files([bad])
