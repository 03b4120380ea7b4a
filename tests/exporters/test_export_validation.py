"""prepare(): re-validation, rejection counts, merge rules, allow entries and order."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fraudwall.exporters import EXPORTERS, export, get_exporter, prepare
from fraudwall.exporters.validation import SAMPLES_PER_REASON
from fraudwall.models import Action, BlockEntry, Scope


def test_merge_unites_metadata_and_never_widens_on_its_own(generated_at: datetime) -> None:
    """Same name merges: union of categories/sources, max confidence, widest dates; exact stays exact."""
    day = timedelta(days=1)
    prepared = prepare([
        BlockEntry("a.example.com", categories=("loan",), sources=("feed",), confidence=0.6,
                   first_seen=generated_at, last_seen=generated_at, expires=generated_at + day),
        BlockEntry("A.example.com.", categories=("fake_app", "loan"), sources=("crawl",), confidence=0.9,
                   first_seen=generated_at - day, last_seen=generated_at + day, expires=None),
    ])
    (entry,) = prepared.blocked
    assert entry == BlockEntry(
        "a.example.com", Scope.EXACT, Action.BLOCK, ("fake_app", "loan"), 0.9,
        generated_at - day, generated_at + day, None, ("crawl", "feed"),
    )
    assert prepared.merged == 1


def test_subtree_wins_only_when_an_entry_asked_for_it() -> None:
    """Exact + subtree for one name is subtree, because one input said so explicitly."""
    prepared = prepare([BlockEntry("a.example.com"), BlockEntry("a.example.com", scope=Scope.SUBTREE)])
    assert [entry.scope for entry in prepared.blocked] == [Scope.SUBTREE]


def test_block_and_allow_are_kept_apart() -> None:
    """A name both blocked and allowed appears in both lists; formats decide how to express it."""
    prepared = prepare([BlockEntry("a.example.com"), BlockEntry("a.example.com", action=Action.ALLOW)])
    assert [e.name for e in prepared.blocked] == [e.name for e in prepared.allowed] == ["a.example.com"]
    assert prepared.allowed_names == {"a.example.com"}


def test_sorted_by_reversed_labels() -> None:
    """Names of one zone sit together, parents before children."""
    names = ["b.example.org", "www.a.example.com", "a.example.com", "z.example.com", "example.net"]
    prepared = prepare([BlockEntry(name) for name in names])
    assert [e.name for e in prepared.blocked] == [
        "a.example.com", "www.a.example.com", "z.example.com", "example.net", "b.example.org",
    ]


def test_underscore_policy_has_its_own_reason() -> None:
    """A name refused only for its underscore says so; other bad names keep their real reason."""
    entries = [BlockEntry("_dmarc.example.com"), BlockEntry("*._x.example.com")]
    strict = prepare(entries)
    assert strict.rejections == {"underscore": 1, "bad-character": 1}
    relaxed = prepare(entries, allow_underscore=True)
    assert [e.name for e in relaxed.blocked] == ["_dmarc.example.com"]


def test_bad_scope_or_action_is_rejected() -> None:
    """A scope that is no Scope member (e.g. from a hand-written feed) is rejected, not guessed."""
    prepared = prepare([BlockEntry("a.example.com", scope="everything")])  # type: ignore[arg-type]
    assert prepared.rejections == {"bad-scope-or-action": 1}


def test_samples_are_capped_per_reason() -> None:
    """A flood of one bad input keeps a few samples and the full count."""
    prepared = prepare([BlockEntry(f"10.0.0.{i}") for i in range(20)] + [BlockEntry("com.cn")])
    assert prepared.rejections == {"ip-literal": 20, "public-suffix": 1}
    assert prepared.rejected == 21
    assert len(prepared.samples) == SAMPLES_PER_REASON + 1
    assert prepared.samples[-1] == ("com.cn", "public-suffix")


URL_FORMATS = sorted(name for name in EXPORTERS if get_exporter(name).url_capable)
ADDRESS_URLS = [
    BlockEntry("45.76.12.34", url="http://45.76.12.34:8080/login?x=1"),  # a public IPv4 address
    BlockEntry("45.76.12.34", url="https://45.76.12.34/"),
    BlockEntry("192.168.1.1", url="http://192.168.1.1/admin"),  # a router page: never blocked
    BlockEntry("127.0.0.1", url="http://127.0.0.1/"),
    BlockEntry("2001:db8::1", url="http://[2001:db8::1]/x"),
    BlockEntry("kefu-refund.top", url="http://kefu-refund.top/pay"),
]


@pytest.mark.parametrize("format_name", URL_FORMATS)
def test_urls_on_public_addresses_are_published_and_verified(format_name: str, tmp_path: Path) -> None:
    """A phishing URL on a public IPv4 address reaches every URL format and passes its consumer's
    checker; URLs on private, loopback or IPv6 addresses are rejected with their reason."""
    target = tmp_path / format_name
    result = export(ADDRESS_URLS, format_name, target, title="t", verify=True,
                    generated_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert result.verified
    report = json.loads(result.report_path.read_text())
    assert report["rejections"] == {"non-public-address": 2, "ip-literal": 1}
    text = "".join(path.read_text() for path in ([target] if target.is_file() else sorted(target.iterdir())))
    assert re.search(r"45\\?\.76\\?\.12\\?\.34", text), "the URL on the public address is missing"
    assert "192.168.1.1" not in text and "192\\.168" not in text


@pytest.mark.parametrize("format_name", URL_FORMATS)
def test_urls_no_consumer_reads_alike_are_rejected(format_name: str, tmp_path: Path) -> None:
    """A URL on port 0 is a ``bad-url`` rejection, and one whose backslash puts it on another host than its
    entry's (a browser reads ``\\`` as ``/``) a ``url-host-mismatch``, in every URL format; the export goes on
    and passes its consumer's checker."""
    entries = [
        BlockEntry("zero.top", url="https://zero.top:0/login"),
        BlockEntry("victim-shop.com", url="https://phish.top\\@victim-shop.com/login"),
        BlockEntry("kefu-refund.top", url="http://kefu-refund.top/pay"),
    ]
    target = tmp_path / format_name
    result = export(entries, format_name, target, title="t", verify=True, generated_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert result.verified
    assert json.loads(result.report_path.read_text())["rejections"] == {"bad-url": 1, "url-host-mismatch": 1}
