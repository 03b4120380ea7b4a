"""Selection: filters, guards, scope, and URL-level fallback for guarded hosts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.selection import SelectionFilter, select_entries
from fraudwall.blocklists.store import Store
from fraudwall.exceptions import ConfigError
from fraudwall.models import Finding, Scope
from fraudwall.pages import parse_page
from fraudwall.settings import Settings


def _save(store: Store, url: str, host: str, score: float, category: str, ip: str | None = None) -> None:
    page = parse_page(url, f"<p>{url}</p>".encode(), ip=ip)
    finding = Finding(url, "lexicon", "1", category, score, "r")
    store.save_page(page, host, [finding], score_findings(url, [finding], Settings()))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store with fraud on throw-away domains, a subdomain, a shared platform and a bank."""
    with Store.open(tmp_path / "f.db") as opened:
        _save(opened, "http://loan-fast.top/", "loan-fast.top", 0.95, "loan", ip="203.0.113.5")
        _save(opened, "http://loan-fast.top/apply", "loan-fast.top", 0.9, "loan", ip="203.0.113.6")
        _save(opened, "http://shop.example-mall.com/pay", "shop.example-mall.com", 0.8, "customer_service")
        _save(opened, "https://icbc-kefu.github.io/login", "icbc-kefu.github.io", 0.97, "brand_impersonation")
        _save(opened, "https://github.io/scam", "github.io", 0.9, "investment")
        _save(opened, "https://www.icbc.com.cn/fake", "www.icbc.com.cn", 0.9, "brand_impersonation")
        _save(opened, "https://www.icbc.com.cn/upload/notice/kefu.html", "www.icbc.com.cn", 0.9, "customer_service")
        _save(opened, "http://198.51.100.7/x", "198.51.100.7", 0.9, "loan")
        _save(opened, "http://maybe.top/", "maybe.top", 0.5, "task_rebate")
        yield opened


def test_scope_guards_and_addresses(store: Store) -> None:
    """Registered domains block their subtree, subdomains exactly; guarded hosts fall back to URLs."""
    selection = select_entries(store, PublishGuard.from_files())
    by_key = {(e.name, e.url): e for e in selection.entries}
    loan = by_key[("loan-fast.top", "")]
    assert loan.scope is Scope.SUBTREE and loan.addresses == ("203.0.113.5", "203.0.113.6")
    assert by_key[("shop.example-mall.com", "")].scope is Scope.EXACT
    assert by_key[("icbc-kefu.github.io", "")].scope is Scope.SUBTREE  # a tenant is its own registered domain
    # The platform apex and the bank are never blocked by name, only their fraudulent URLs are published.
    assert ("github.io", "") not in by_key and ("github.io", "https://github.io/scam") in by_key
    # On an allowlisted site only a URL naming one page: /fake would block a path of the bank for everyone.
    assert ("www.icbc.com.cn", "https://www.icbc.com.cn/upload/notice/kefu.html") in by_key
    assert ("www.icbc.com.cn", "https://www.icbc.com.cn/fake") not in by_key
    assert dict(selection.refused.counts) == {
        "allowlisted": 1, "broad-url-on-allowlisted-site": 1, "ip-literal": 1, "public-suffix": 1}
    assert ("maybe.top", "") not in by_key  # suspicious is not published by default


def test_filters(store: Store) -> None:
    """Statuses, minimum score, categories and since narrow the selection."""
    guard = PublishGuard.from_files()
    names = lambda wanted: sorted({e.name for e in select_entries(store, guard, wanted).entries})  # noqa: E731
    assert "maybe.top" in names(SelectionFilter(statuses=("malicious", "suspicious")))
    assert names(SelectionFilter(min_score=0.96)) == ["icbc-kefu.github.io"]
    # The loan page on an address is published by URL (the exporters take public IPv4 addresses only).
    assert names(SelectionFilter(categories=("loan",))) == ["198.51.100.7", "loan-fast.top"]
    assert names(SelectionFilter(since=datetime.now(timezone.utc) + timedelta(hours=1))) == []


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
