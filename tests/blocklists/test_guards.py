"""Publishing guards decide name by name, with a stable reason for every refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.list_compiler import compile_lists


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
    ("internal.top", None),  # a special-use word as an ordinary label is an ordinary name
    ("test-kefu.top", None),
    ("shop.example.com", None),  # example.com is an ordinary delegated domain to a resolver
])
def test_refusal_reasons(name: str, reason: str | None) -> None:
    """Each guard names its reason; names that merely contain a reserved word pass."""
    assert PublishGuard.from_files().refusal(name) == reason


def test_special_use_names_in_a_list_are_refused_and_counted(tmp_path: Path) -> None:
    """A list naming hosts under .local, .onion or .home.arpa blocks none of those names, and says so;
    a feed URL on such a host stays a URL-level entry, as for any refused host."""
    listing = tmp_path / "list.txt"
    listing.write_text("evil.local\nhttp://kefu.onion/pay\nprinter.home.arpa\nloan-fast.top\n", encoding="utf-8")
    selection = compile_lists([str(listing)], PublishGuard.from_files())
    assert [(entry.name, entry.url) for entry in selection.entries] == [
        ("kefu.onion", "http://kefu.onion/pay"), ("loan-fast.top", "")]
    assert selection.refused.counts["special-use"] == 3
