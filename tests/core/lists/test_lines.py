"""Line files: plain, hosts, ABP/AdGuard and URL lines, each recognised on its own; hostile lines counted by reason."""

from __future__ import annotations

from pathlib import Path

from fraudwall.lists import MAX_LINE_CHARS, read_lists
from fraudwall.models import Action, Scope
from tests.core.lists.samples import read_one, write_file


def test_openphish_url_list(tmp_path: Path) -> None:
    """One URL a line (OpenPhish): URL-level items named by their host; other schemes are rejected."""
    read = read_one(write_file(tmp_path / "feed.txt", (
        "https://api.msuto.com/\nhttp://send-usdt-9999.netlify.app/\n"
        "https://dau-ug-chi.vercel.app/?naps\nhttps://工商银行-kefu.top/登录\nftp://files.evil.test/x\n")))
    assert read.files[0].format == "urls"
    assert [(n.name, n.url) for n in read.names] == [
        ("api.msuto.com", "https://api.msuto.com/"),
        ("send-usdt-9999.netlify.app", "http://send-usdt-9999.netlify.app/"),
        ("dau-ug-chi.vercel.app", "https://dau-ug-chi.vercel.app/?naps"),
        ("xn---kefu-mk0i282cg63fw2xa.top", "https://工商银行-kefu.top/登录"),
    ]
    assert dict(read.rejected.counts) == {"unsupported-scheme": 1}


def test_abp_rules_with_allow_rules_and_options(tmp_path: Path) -> None:
    """ABP/AdGuard: || is the subtree, | one name, @@ an allow entry; narrowing options and non-network rules are rejected."""
    # Read as a list trusted for exceptions: in any other, an @@ rule is an untrusted-exception rejection.
    read = read_one(write_file(tmp_path / "filters.txt", (
        "[Adblock Plus 2.0]\n! Title: fraud domains\n||shuadan.top^\n|exact.usdt-licai.vip^\n"
        "||important.top^$important\n@@||kefu.jd.com^\n@@|www.icbc.com.cn^$important\n||pipe.top^|\n"
        "||third.top^$third-party\n||wild.top^$dnstype=AAAA\n||*^\n||*.star.top^\n||path.top/login^\n"
        "||nocaret.top\nad.top^\nad.top##.banner\n/banner[0-9]+/\n||例え.jp^\n")), trusted=True)
    assert read.files[0].format == "abp"
    assert [(n.name, n.scope, n.action) for n in read.names] == [
        ("shuadan.top", Scope.SUBTREE, Action.BLOCK),
        ("exact.usdt-licai.vip", Scope.EXACT, Action.BLOCK),
        ("important.top", Scope.SUBTREE, Action.BLOCK),
        ("kefu.jd.com", Scope.SUBTREE, Action.ALLOW),
        ("www.icbc.com.cn", Scope.EXACT, Action.ALLOW),
        ("pipe.top", Scope.SUBTREE, Action.BLOCK),
        ("xn--r8jz45g.jp", Scope.SUBTREE, Action.BLOCK),
    ]
    assert dict(read.rejected.counts) == {
        "abp-option": 2, "wildcard": 2, "abp-path": 1, "abp-no-separator": 1, "abp-unanchored": 1,
        "abp-cosmetic": 1, "abp-regex": 1}


def test_hosts_file_with_comments_and_several_names(tmp_path: Path) -> None:
    """Hosts lines: every name on the line, inline comments cut, boilerplate and redirects rejected."""
    read = read_one(write_file(tmp_path / "hosts", (
        "# StevenBlack-style header\n127.0.0.1 localhost\n127.0.0.1 localhost.localdomain\n::1 localhost ip6-localhost\n"
        "0.0.0.0 0.0.0.0\n\n# fraud\n0.0.0.0 a.shuadan.top\n0.0.0.0\tb.shuadan.top  c.shuadan.top # three names\n"
        "127.0.0.1 d.shuadan.top bad..name\n:: v6.shuadan.top\n10.1.2.3 redirected.top\n")))
    assert read.files[0].format == "hosts"
    assert [(n.name, n.scope) for n in read.names] == [
        ("a.shuadan.top", Scope.EXACT), ("b.shuadan.top", Scope.EXACT), ("c.shuadan.top", Scope.EXACT),
        ("d.shuadan.top", Scope.EXACT), ("v6.shuadan.top", Scope.EXACT)]
    assert dict(read.rejected.counts) == {"local-name": 4, "ip-literal": 1, "empty-label": 1, "hosts-redirect": 1}


def test_mixed_line_formats_in_one_file(tmp_path: Path) -> None:
    """A file mixing plain names, hosts lines, ABP rules and URLs is read line by line."""
    read = read_one(write_file(tmp_path / "mixed.txt", (
        "plain.top\n0.0.0.0 hosts.top\n||abp.top^\nhttps://url.top/x\n.squid-style.top\nplain2.top # note\n")))
    assert [(n.name, n.scope, n.url) for n in read.names] == [
        ("plain.top", Scope.EXACT, ""), ("hosts.top", Scope.EXACT, ""), ("abp.top", Scope.SUBTREE, ""),
        ("url.top", Scope.EXACT, "https://url.top/x"), ("squid-style.top", Scope.SUBTREE, ""),
        ("plain2.top", Scope.EXACT, "")]
    assert read.files[0].format == "plain+abp+hosts+urls"  # most frequent first, then by name
    assert not read.rejected


def test_hostile_lines_are_counted_by_reason(tmp_path: Path) -> None:
    """NUL, zone and resolver directives, wildcards, a 10 MB line and invalid UTF-8 are each rejected with a reason."""
    path = tmp_path / "hostile.txt"
    with path.open("wb") as out:
        out.write(b"good-1.top\n")
        out.write(b"nul\x00byte.top\n")
        out.write(b"$INCLUDE /etc/passwd\n$ORIGIN evil.\n")
        out.write(b"server=/x.com/1.2.3.4\naddress=/y.com/0.0.0.0\n")
        out.write(b'local-zone: "z.com." always_nxdomain\n')
        out.write(b"||*^\n*.wild.top\n")
        out.write(b"a" * (10 * 1024 * 1024) + b"\n")
        out.write(b"bad-\xff\xfe-utf8.top\n")
        out.write(b"\xe5\xb7\xa5\xe5\x95\x86.top\n")  # valid UTF-8 (工商) next to the invalid line
        out.write(b"x.top CNAME .\n")
        out.write(b"good-2.top")  # no final newline
    read = read_one(path)
    assert [n.name for n in read.names] == ["good-1.top", "xn--czr93r.top", "good-2.top"]
    assert dict(read.rejected.counts) == {
        "nul-byte": 1, "zone-directive": 2, "dnsmasq-directive": 2, "unbound-directive": 1, "wildcard": 2,
        "line-too-long": 1, "invalid-utf8": 1, "unrecognised-line": 1}
    assert read.files[0].lines == 14
    long_sample = next(value for value, reason in read.rejected.samples if reason == "line-too-long")
    assert long_sample.startswith("hostile.txt:10: aaaa")


def test_blank_and_comment_runs_keep_line_numbers(tmp_path: Path) -> None:
    """Blank lines and comments are skipped a run at a time: line numbers after them stay right, long ones still count."""
    text = ("# comment\n\n   \n\t! abp header\n[Adblock Plus]\n" * 1000 + "bad line here\n"
            + "#" + "c" * MAX_LINE_CHARS + "\n" + "\n" * 10 + "x\n" + "fine.top\n")
    read = read_one(write_file(tmp_path / "comments.txt", text))
    assert [n.name for n in read.names] == ["fine.top"]
    assert dict(read.rejected.counts) == {"unrecognised-line": 1, "line-too-long": 1, "single-label": 1}
    assert [value.split(": ")[0] for value, _ in read.rejected.samples] == [
        "comments.txt:5001", "comments.txt:5002", "comments.txt:5013"]
    assert read.files[0].lines == 5014


def test_a_few_full_path_names_in_a_long_run_keep_order_and_line_numbers(tmp_path: Path) -> None:
    """IDNs, an overlong name and hosts boilerplate inside a run of plain names take the full path alone.

    The names around them stay one fast run each; the result, order and line numbers included, is
    what reading every line on its own gives.
    """
    overlong = ".".join(["a" * 63] * 4) + ".top"  # labels fine, 259 characters in all
    special = {100: "xn--zz.top", 250: "xn--r8jz45g.jp", 400: overlong, 401: "localhost", 700: "XN--R8JZ45G.top"}
    lines = [special.get(number, f"name-{number}.top") for number in range(1, 1001)]
    read = read_one(write_file(tmp_path / "run.txt", "\n".join(lines) + "\n"))
    expected = [name.lower() for number, name in enumerate(lines, start=1) if number not in (100, 400, 401)]
    assert [n.name for n in read.names] == expected
    assert dict(read.rejected.counts) == {"bad-idna": 1, "name-too-long": 1, "local-name": 1}
    assert sorted(value.split(": ")[0] for value, _ in read.rejected.samples) == [
        "run.txt:100", "run.txt:400", "run.txt:401"]


def test_list_formats_and_scopes(tmp_path: Path) -> None:
    """Plain, hosts, ABP and URL lines are read with the scope, action and URL their syntax states."""
    listing = tmp_path / "list.txt"
    listing.write_text(
        "! abp comment\n# hosts comment\n0.0.0.0 hosts.top\n127.0.0.1 localhost\nplain.xyz\n||abp.vip^\n"
        "http://url.cyou/path\n@@||allowed.com^\n0.0.0.0 a.top b.top\nserver=/x.com/1.2.3.4\n工商银行.top\n",
        encoding="utf-8",
    )
    # Read as a list trusted for exceptions: in any other, @@||allowed.com^ is an untrusted-exception rejection.
    read = read_lists([listing], trusted_exceptions=[listing])
    assert [(n.name, n.scope, n.action, n.url) for n in read.names] == [
        ("hosts.top", Scope.EXACT, Action.BLOCK, ""), ("plain.xyz", Scope.EXACT, Action.BLOCK, ""),
        ("abp.vip", Scope.SUBTREE, Action.BLOCK, ""), ("url.cyou", Scope.EXACT, Action.BLOCK, "http://url.cyou/path"),
        ("allowed.com", Scope.SUBTREE, Action.ALLOW, ""), ("a.top", Scope.EXACT, Action.BLOCK, ""),
        ("b.top", Scope.EXACT, Action.BLOCK, ""), ("xn--czr93rq40bruk.top", Scope.EXACT, Action.BLOCK, "")]
    assert dict(read.rejected.counts) == {"local-name": 1, "dnsmasq-directive": 1}
