"""Squid specifics: the real ``squid -k parse`` and a real Squid proxy on loopback.

``squid -k parse`` must accept both files and must complain about what Squid
refuses (a parent/child overlap, a broken regex), proving the check is real. A
Squid started on a free loopback port then answers requests for probe URLs, and
its decisions must agree with the contract test's consumer models. Every request
is denied one way or another (``http_access deny all`` ends the list and Squid
resolves names only at 127.0.0.1), so nothing leaves the machine.
"""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fraudwall.exceptions import VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.squid import find_overlaps, squid_parse
from fraudwall.models import Action, BlockEntry, Scope
from tests.exporters.test_export_contract import CONSUMERS

# Status codes Squid is told to answer with, so a probe says which ACL denied it.
BY_NAME, BY_URL, BY_DEFAULT = 451, 452, 403
URL_ENTRIES = [
    BlockEntry("sites.example.com", url="http://sites.example.com/view/fraud"),
    BlockEntry("sites.example.com", url="https://sites.example.com/view/%e4%b8%ad?id=7"),
    BlockEntry("pay.example.com", url="http://pay.example.com:8080/a.b(c)*"),
]
PROBES = [
    "http://kefu-refund.example.com/",
    "http://www.kefu-refund.example.com/",
    "http://usdt-invest.example.net/x",
    "http://a.b.usdt-invest.example.net/",
    "http://help.usdt-invest.example.net/",
    "http://loan-unfreeze.example.org/",
    "http://www.loan-unfreeze.example.org/",
    "http://xn---kefu-mk0i282cg63fw2xa.top/",
    "http://_task.rebate.example.com/",
    "http://icbc-verify.github.io/login.html?step=2",
    "http://icbc-verify.github.io:80/login.html?step=2",
    "http://icbc-verify.github.io/login.html",
    "http://icbc-verify.github.io/login.html?step=2&x=1",
    "http://icbc-verify.github.io/loginXhtml?step=2",
    "http://other.github.io/login.html?step=2",
    "http://sites.example.com/view/fraud",
    "http://sites.example.com/view/fraud?utm=sms",
    "http://sites.example.com/view/fraud/",
    "http://sites.example.com/view/fraudulent",
    "http://sites.example.com/View/fraud",
    "http://sites.example.com/view/%E4%B8%AD?id=7",
    "http://sites.example.com/view/%e4%b8%ad?id=7",
    "http://sites.example.com/view/%E4%B8%AD?id=77",
    "http://pay.example.com:8080/a.b(c)*",
    "http://pay.example.com/a.b(c)*",
    "http://pay.example.com:8080/aXb(c)*",
    "http://pay.example.com:8080/a.b(c)",
]


def _free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(port: int, url: str) -> int:
    """The status Squid on ``port`` answers to a proxy GET of ``url``, sent byte for byte."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", url, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", url.split("/")[2])
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def squid_proxy(tmp_path: Path) -> Iterator[Callable[[Path, Path], int]]:
    """Start a real Squid on loopback with a dstdomain and a url_regex list; yields a starter.

    The starter takes the two list files and returns the port. Each ACL gets its
    own deny status; the last rule denies everything else with 403.
    """
    processes: list[subprocess.Popen[bytes]] = []

    def start(domains: Path, urls: Path) -> int:
        port = _free_port()
        conf = tmp_path / "squid-run.conf"
        conf.write_text(
            "pid_filename none\ncache_log /dev/null\naccess_log none\nnetdb_filename none\n"
            "pinger_enable off\ncache deny all\ncache_mem 8 MB\nshutdown_lifetime 0 seconds\n"
            f"dns_nameservers 127.0.0.1\nhttp_port 127.0.0.1:{port}\n"
            f'acl fraud dstdomain "{domains}"\nacl fraudurl url_regex "{urls}"\n'
            f"deny_info {BY_NAME}:ERR_ACCESS_DENIED fraud\ndeny_info {BY_URL}:ERR_ACCESS_DENIED fraudurl\n"
            "http_access deny fraud\nhttp_access deny fraudurl\nhttp_access deny all\n"
        )
        process = subprocess.Popen(
            ["squid", "-N", "-f", str(conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, "squid exited during start-up"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.2)
        raise AssertionError("squid did not listen within 30 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def test_squid_is_installed() -> None:
    """The real checker must be there: ``make test`` installs the squid package, so a miss is a failure."""
    assert shutil.which("squid"), "squid missing: `make test` installs it (apt install squid)"


def test_squid_parse_accepts_both_files(
    tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """``squid -k parse`` loads the sample as dstdomain and url_regex ACLs without a complaint."""
    for name in ("squid", "squid-url"):
        path = tmp_path / f"list.{name}"
        result = export(sample_entries, name, path, title="t", verify=True, generated_at=meta.generated_at)
        assert result.verified


@pytest.mark.parametrize(
    ("lines", "complaint"),
    [
        (["example.com", ".example.com"], "FATAL"),
        ([".example.com", "example.com"], "FATAL"),
        ([".example.com", "www.example.com"], "subdomain of '.example.com'"),
        ([".a.example.com", ".example.com"], "subdomain of '.example.com'"),
    ],
)
def test_squid_parse_refuses_overlaps(tmp_path: Path, lines: list[str], complaint: str) -> None:
    """Squid itself complains about every overlap the exporter avoids: the check is real."""
    path = tmp_path / "overlap.acl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(VerificationError, match=re.escape(complaint)):
        squid_parse("dstdomain", path)
    assert find_overlaps(lines)


def test_squid_parse_refuses_a_broken_regex_that_squid_would_skip(tmp_path: Path) -> None:
    """Squid exits 0 on an invalid url_regex line (it skips it); its ERROR line still fails the check."""
    path = tmp_path / "broken.acl"
    path.write_text("^http://a\\.example\\.com/($\n")
    with pytest.raises(VerificationError, match="invalid regular expression"):
        squid_parse("url_regex", path)


def test_exact_names_below_each_other_do_not_overlap(tmp_path: Path) -> None:
    """Only a leading dot covers children: ``example.com`` and ``www.example.com`` may both be listed."""
    lines = ["example.com", "www.example.com"]
    path = tmp_path / "exact.acl"
    path.write_text("\n".join(lines) + "\n")
    squid_parse("dstdomain", path)
    assert find_overlaps(lines) == []


def test_covered_names_are_left_out_and_counted(meta: ExportMeta) -> None:
    """Below a written ``.parent`` nothing else is written, and the header says how many were dropped."""
    entries = [
        BlockEntry("example.com", scope=Scope.SUBTREE),
        BlockEntry("www.example.com"),
        BlockEntry("a.b.example.com", scope=Scope.SUBTREE),
        BlockEntry("other.example.net"),
    ]
    text = get_exporter("squid").render(entries, meta)
    assert [line for line in text.splitlines() if not line.startswith("#")] == [".example.com", "other.example.net"]
    assert "# covered: names left out because a listed '.parent' already matches them: 2" in text


def test_an_allowed_name_below_a_subtree_narrows_it(meta: ExportMeta) -> None:
    """dstdomain has no exceptions: the subtree shrinks to its apex, and names below it are still written."""
    entries = [
        BlockEntry("tree.example.com", scope=Scope.SUBTREE),
        BlockEntry("bad.tree.example.com"),
        BlockEntry("ok.tree.example.com", action=Action.ALLOW),
    ]
    text = get_exporter("squid").render(entries, meta)
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "tree.example.com", "bad.tree.example.com",
    ]
    assert "subtree entries narrowed to their apex because an allowed name lies below: 1" in text


@pytest.mark.parametrize(
    ("url", "matches", "misses"),
    [
        (
            "http://x.example.com/a.b",
            ["http://x.example.com/a.b", "https://x.example.com:443/a.b?q=1", "http://x.example.com/a%2eb"],
            ["http://x.example.com/aXb", "http://x.example.com/a.b/c", "http://y.x.example.com/a.b",
             "http://x.example.com.evil.test/a.b", "http://evil.test/?http://x.example.com/a.b",
             "http://x.example.com:8080/a.b", "http://x.example.com/A.b"],
        ),
        (
            "http://x.example.com/p?q=(1)*+$|^{2}[3]",
            ["http://x.example.com/p?q=(1)*+$|^{2}[3]", "http://x.example.com/p?q=%281%29*+$|^{2}[3]"],
            ["http://x.example.com/p?q=1", "http://x.example.com/p?q=(1)))*+$|^{2}[3]", "http://x.example.com/p",
             "http://x.example.com/p?q=(1)*+$"],
        ),
        (
            "https://x.example.com:8443/%E4%B8%AD/a%20b",
            ["https://x.example.com:8443/%e4%b8%ad/a%20b", "http://x.example.com:8443/%E4%b8%Ad/a%20b?z"],
            ["https://x.example.com/%E4%B8%AD/a%20b", "https://x.example.com:8443/%E4%B8%AE/a%20b",
             "https://x.example.com:8443/%E4%B8%AD/a"],
        ),
    ],
)
def test_url_patterns_match_exactly_their_url(
    url: str, matches: list[str], misses: list[str], meta: ExportMeta
) -> None:
    """Every metacharacter is escaped: a pattern matches its URL (and the documented variants) only."""
    host = url.split("/")[2].split(":")[0]
    text = get_exporter("squid-url").render([BlockEntry(host, url=url)], meta)
    blocked = CONSUMERS["squid-url"](text)
    for candidate in matches:
        assert blocked(candidate), candidate
    for candidate in misses:
        assert not blocked(candidate), candidate


def test_urls_no_line_can_hold_are_left_out_and_counted(tmp_path: Path, meta: ExportMeta) -> None:
    """An escaped newline or non-UTF-8 bytes would break the file or the pattern: such URLs are counted, not written."""
    entries = [
        BlockEntry("x.example.com", url="http://x.example.com/a%0A.%2A"),
        BlockEntry("x.example.com", url="http://x.example.com/q?name=%D6%D0"),
        BlockEntry("x.example.com", url="http://x.example.com/ok"),
    ]
    path = tmp_path / "list.squid-url"
    export(entries, "squid-url", path, title="t", verify=True, generated_at=meta.generated_at)
    text = path.read_text()
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        r"^https?://x\.example\.com(:(80|443))?/ok(\?.*)?$",
    ]
    assert "# urls: left out (control characters, non-UTF-8, pattern over 1000 characters): 2" in text


def test_url_format_writes_no_name_rules_and_dedupes(meta: ExportMeta) -> None:
    """Name-level entries stay out of url_regex; URLs differing only in scheme, default port or escaping
    share a line."""
    entries = [
        BlockEntry("fraud.example.com", scope=Scope.SUBTREE),
        BlockEntry("x.example.com", url="http://x.example.com/a"),
        BlockEntry("x.example.com", url="https://X.example.com:443/a"),
        BlockEntry("x.example.com", url="http://x.example.com/%61"),
        BlockEntry("工商银行-kefu.top", url="http://工商银行-kefu.top/登录"),
    ]
    text = get_exporter("squid-url").render(entries, meta)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        r"^https?://x\.example\.com(:(80|443))?/a(\?.*)?$",
        r"^https?://xn---kefu-mk0i282cg63fw2xa\.top(:(80|443))?/登录(\?.*)?$",
    ]
    assert "fraud.example.com" not in text


def test_real_squid_decides_like_the_consumer_models(
    tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry],
    squid_proxy: Callable[[Path, Path], int],
) -> None:
    """A running Squid denies exactly the probes the contract's models say each list blocks."""
    entries = sample_entries + URL_ENTRIES
    texts = {name: get_exporter(name).render(entries, meta) for name in ("squid", "squid-url")}
    domains, urls = tmp_path / "list.squid", tmp_path / "list.squid-url"
    domains.write_text(texts["squid"])
    urls.write_text(texts["squid-url"])
    by_name, by_url = CONSUMERS["squid"](texts["squid"]), CONSUMERS["squid-url"](texts["squid-url"])
    port = squid_proxy(domains, urls)
    for probe in PROBES:
        host = probe.split("/")[2].split(":")[0]
        expected = BY_NAME if by_name(host) else BY_URL if by_url(probe) else BY_DEFAULT
        assert _status(port, probe) == expected, probe
    # Squid lowercases the host before matching: the patterns need no -i for it.
    assert _status(port, "http://ICBC-Verify.GitHub.io/login.html?step=2") == BY_URL


def test_overlong_url_patterns_are_left_out_and_counted(tmp_path: Path) -> None:
    """A URL whose pattern Squid would cut or refuse to optimise is left out, said in the header; Squid accepts the rest."""
    from datetime import UTC, datetime

    from fraudwall.exporters import ExportMeta, get_exporter
    from fraudwall.exporters.squid import MAX_PATTERN_LENGTH
    from fraudwall.models import BlockEntry

    long_url = "http://phish.example.com/r?q=" + "%20" * 200  # each space is [[:blank:]] in the pattern
    entries = [BlockEntry("phish.example.com", url=long_url), BlockEntry("phish.example.com", url="http://phish.example.com/ok")]
    exporter = get_exporter("squid-url")
    meta = ExportMeta("t", datetime(2024, 1, 1, tzinfo=UTC))
    text = exporter.render(entries, meta)
    patterns = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(patterns) == 1 and "ok" in patterns[0]
    assert f"pattern over {MAX_PATTERN_LENGTH} characters): 1" in text
    path = tmp_path / "urls.txt"
    path.write_text(text)
    exporter.verify(path, meta)
