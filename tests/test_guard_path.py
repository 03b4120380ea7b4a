"""One guard path: a store's verdicts and a list file naming the same things publish the same entries,
and refuse the same things for the same reasons, reported the same way."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.scoring import score_findings
from fraudwall.blocklists.selection import Selection, scope_for, select_entries
from fraudwall.blocklists.store import Store
from fraudwall.list_compiler import compile_lists
from fraudwall.models import Finding, Judgement, Scope, SubjectKind
from fraudwall.names import parse_url
from fraudwall.pages import parse_page
from fraudwall.settings import Settings

#: Names as a crawl judges them alone (kind host), and as a list names them.
NAMES = [
    "www.icbc.com.cn",  # an allowlisted site
    "bit.ly",  # a shared platform's apex (a link shortener)
    "com.cn",  # a public suffix
    "shop.test", "printer.local",  # special-use domains: no public site lives there
    "amazonaws.com",  # its subtree holds public suffixes (s3.amazonaws.com): blocked alone
    "loan-fast.top",  # a plain fraud name: its registered domain, blocked with its subtree
    "pay.fraud-mall.com",  # a fraud name below someone's registered domain: blocked exactly
]
#: Fraudulent pages, each on a host the guards refuse, so that both paths publish them by URL.
URLS = [
    "http://45.76.12.34/login",  # on a public IP address: by URL only, never by the address
    "https://bit.ly/3xYzAb",  # on a shared platform
    "https://github.io/scam",  # on a shared platform that is a public suffix too
    "http://kefu.test/pay",  # on a special-use name: a URL-matching format may still carry it
    "https://www.icbc.com.cn/upload/notice/kefu.html",  # on an allowlisted site, naming one page: kept
    "https://www.icbc.com.cn/login",  # on an allowlisted site, naming much of it: refused
]


def _from_store(tmp_path: Path) -> Selection:
    """Select from a store holding a malicious verdict for each name and each page, recorded as judged."""
    settings = Settings()
    judgements = []
    for name in NAMES:
        finding = Finding(name, "lexicon", "1", "loan", 0.95, "fraud name")
        verdict = score_findings(name, [finding], settings, kind=SubjectKind.HOST)
        judgements.append(Judgement(parse_url(f"http://{name}/"), (finding,), verdict, name, (("lexicon", "1"),)))
    for url in URLS:
        finding = Finding(url, "lexicon", "1", "loan", 0.95, "fraud page")
        verdict = score_findings(url, [finding], settings)
        page = parse_page(url, b"<p>fraud</p>")
        judgements.append(Judgement(page, (finding,), verdict, parse_url(url).host, (("lexicon", "1"),)))
    with Store.open(tmp_path / "f.db") as store:
        store.record(judgements)
        return select_entries(store, PublishGuard.from_files())


def _from_list(tmp_path: Path) -> Selection:
    """Compile a list naming the same things, each name with the scope the store gives it (``||name^`` for a
    registered domain), each page by its URL."""
    lines = [f"||{name}^" if scope_for(name) is Scope.SUBTREE else name for name in NAMES]
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(lines + URLS) + "\n", encoding="utf-8")
    return compile_lists([str(listing)], PublishGuard.from_files())


@pytest.fixture
def both(tmp_path: Path) -> tuple[Selection, Selection]:
    """The store's selection and the list's, of the same names and URLs."""
    return _from_store(tmp_path), _from_list(tmp_path)


def _shape(selection: Selection) -> list[tuple[str, Scope, str, str]]:
    """What a blocklist publishes of each entry: name, scope, action and URL (details differ by source)."""
    return sorted((entry.name, entry.scope, str(entry.action), entry.url) for entry in selection.entries)


def test_same_entries_either_way(both: tuple[Selection, Selection]) -> None:
    """Both paths publish the same entries: the plain fraud names, amazonaws.com narrowed to the name alone,
    and the pages on refused hosts by URL, the one on a special-use name included."""
    store, listed = both
    assert _shape(store) == _shape(listed) == [
        ("45.76.12.34", Scope.EXACT, "block", "http://45.76.12.34/login"),
        ("amazonaws.com", Scope.EXACT, "block", ""),
        ("bit.ly", Scope.EXACT, "block", "https://bit.ly/3xYzAb"),
        ("github.io", Scope.EXACT, "block", "https://github.io/scam"),
        ("kefu.test", Scope.EXACT, "block", "http://kefu.test/pay"),
        ("loan-fast.top", Scope.SUBTREE, "block", ""),
        ("pay.fraud-mall.com", Scope.EXACT, "block", ""),
        ("www.icbc.com.cn", Scope.EXACT, "block", "https://www.icbc.com.cn/upload/notice/kefu.html"),
    ]


def test_same_refusals_either_way(both: tuple[Selection, Selection]) -> None:
    """Both paths refuse the same things, counted by the same reasons and named the same way: a narrowed subtree
    as ``||name^``, a host by its name, a URL by itself."""
    store, listed = both
    assert store.refused.counts == listed.refused.counts == Counter({
        "special-use": 3, "allowlisted": 1, "shared-platform-apex": 1, "public-suffix": 2, "ip-literal": 1,
        "subtree-over-public-suffix": 1, "broad-url-on-allowlisted-site": 1})
    assert sorted(store.refused.samples) == sorted(listed.refused.samples)
    assert ("||amazonaws.com^", "subtree-over-public-suffix") in store.refused.samples
    assert ("https://www.icbc.com.cn/login", "broad-url-on-allowlisted-site") in store.refused.samples
