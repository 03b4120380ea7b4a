"""Feed and list reading: every format recognised by content, bad lines counted, real feeds read whole."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fraudwall.crawler import feeds
from fraudwall.crawler.feeds import MAX_LINE_CHARS, ListRead, iter_lists, read_lists
from fraudwall.exceptions import InputError, InvalidName
from fraudwall.models import Action, Scope
from fraudwall.names import normalize_name
from tests.conftest import SHARED_DATA

UTC = timezone.utc
JST = timezone(timedelta(hours=9))
FEEDS = SHARED_DATA / "feeds"

# The layout of the URLhaus CSV dumps (csv_recent, csv_online): a banner of comments,
# the header as the last comment, every field quoted.
URLHAUS_CSV = """\
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs only)      #
# Last updated: 2025-11-20 06:06:09 (UTC)                      #
#                                                              #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3821497","2025-11-20 06:02:21","http://shuadan-fanli.top/bin.sh","online","2025-11-20 06:02:21","malware_download","32-bit,elf,mips,Mozi","https://urlhaus.abuse.ch/url/3821497/","geenensp"
"3821496","2025-11-20 06:02:19","https://app-xiazai-vip.top/apk/kefu.apk","online","2025-11-20 06:02:19","malware_download","apk","https://urlhaus.abuse.ch/url/3821496/","anonymous"
"3821495","2025-11-20 06:00:19","","online","","malware_download","","https://urlhaus.abuse.ch/url/3821495/","geenensp"
"3821494","2025-11-20 05:59:01","http://61.54.253.89:37352/i","online","2025-11-20 05:59:01","malware_download","elf","https://urlhaus.abuse.ch/url/3821494/","geenensp"
"""

PHISHTANK_RECORD = {
    "phish_id": 8512345,
    "url": "https://usdt-licai.vip/login.php?id=1",
    "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8512345",
    "submission_time": "2025-11-19T22:14:03+00:00",
    "verified": "yes",
    "verification_time": "2025-11-19T22:30:11+00:00",
    "online": "yes",
    "details": [{"ip_address": "203.0.113.7", "cidr_block": "203.0.113.0/24", "country": "CN"}],
    "target": "Industrial and Commercial Bank of China",
}

JPCERT_CSV = """\
date,URL,description
2025/03/03 10:47:00,https://suill.cn/aeondsjkJKFD9834jkhKJ/,イオンカード
2019/10/03 11:55:00,"http://arrow.razor.jp/special/,v/crypt/crypt/index.php",OneDrive
 ,https://www.etc-noreply.aibnwfgcdu.com/,ETC利用照会サービス
2025/04/01 07:47:00,https://47.238.159.31/,マネックス証券
2021/12/16 09:22:00,ttps://www.jaccss.co.jp-service.gotobed.cn/,Amazon
date,URL,description
2019/07/03 14:42:00,http://marikitpark.com/chameleon page/hotmail/,Microsoft
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _one(path: Path) -> ListRead:
    """Read a single file, checking the summary agrees with what was returned."""
    read = read_lists([path])
    (summary,) = read.files
    assert summary.accepted == len(read.names)
    assert summary.rejected == read.rejected.total
    return read


# -- the feed formats ----------------------------------------------------------


def test_urlhaus_csv(tmp_path: Path) -> None:
    """URLhaus's CSV dump: the commented header is found, rows become URL-level items with date, threat and tags."""
    read = _one(_write(tmp_path / "urlhaus.csv", URLHAUS_CSV))
    assert read.files[0].format == "urlhaus-csv"
    first, second, on_address = read.names
    assert (first.name, first.url, first.scope, first.action) == (
        "shuadan-fanli.top", "http://shuadan-fanli.top/bin.sh", Scope.EXACT, Action.BLOCK)
    assert first.first_seen == datetime(2025, 11, 20, 6, 2, 21, tzinfo=UTC)
    assert first.categories == ("malware_download",)
    assert first.tags == ("32-bit", "elf", "mips", "Mozi")
    assert first.source == "list:urlhaus.csv"
    assert second.url == "https://app-xiazai-vip.top/apk/kefu.apk"
    # A URL on a public IPv4 address is a URL-level item named by the address.
    assert (on_address.name, on_address.url) == ("61.54.253.89", "http://61.54.253.89:37352/i")
    assert dict(read.rejected.counts) == {"no-url": 1}
    assert read.rejected.samples[0][0].startswith("urlhaus.csv:11: ")


def test_phishtank_json_read_record_by_record(tmp_path: Path) -> None:
    """PhishTank's JSON array, pretty-printed and larger than the read buffer: every record, with its metadata."""
    records = [dict(PHISHTANK_RECORD, phish_id=n, url=f"https://kefu-{n}.jd-tuikuan.top/refund?n={n}") for n in range(3000)]
    records[0] = PHISHTANK_RECORD
    records[1] = dict(PHISHTANK_RECORD, verified="no")
    records[2] = dict(PHISHTANK_RECORD, url="mailto:kefu@jd-tuikuan.top")
    path = tmp_path / "online-valid.json"
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    assert path.stat().st_size > 3 * 64 * 1024  # the records straddle several reads
    read = _one(path)
    assert read.files[0].format == "phishtank-json"
    assert read.files[0].lines == 3000
    item = read.names[0]
    assert (item.name, item.url) == ("usdt-licai.vip", "https://usdt-licai.vip/login.php?id=1")
    assert item.first_seen == datetime(2025, 11, 19, 22, 14, 3, tzinfo=UTC)
    assert item.target == "Industrial and Commercial Bank of China"
    assert [n.name for n in read.names[-2:]] == ["kefu-2998.jd-tuikuan.top", "kefu-2999.jd-tuikuan.top"]
    assert dict(read.rejected.counts) == {"unverified": 1, "unsupported-scheme": 1}


def test_phishtank_csv_and_json_lines(tmp_path: Path) -> None:
    """PhishTank's CSV variant (header row, quoted URL with a comma) and JSON Lines read like the JSON array."""
    csv_path = _write(tmp_path / "online-valid.csv", (
        "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
        '1,"https://evil.test/a,b/login",http://x,2025-01-01T00:00:00+00:00,yes,2025-01-01T00:10:00+00:00,yes,Other\n'
        "2,https://gone.test/old,http://x,2025-01-01T00:00:00+00:00,no,2025-01-01T00:10:00+00:00,no,Other\n"))
    read = _one(csv_path)
    assert read.files[0].format == "phishtank-csv"
    assert [(n.name, n.url, n.target) for n in read.names] == [("evil.test", "https://evil.test/a,b/login", "Other")]
    assert dict(read.rejected.counts) == {"unverified": 1}
    lines_path = _write(tmp_path / "records.ndjson", "\n".join(json.dumps(r) for r in (PHISHTANK_RECORD, {"url": 7}, [1])))
    read = _one(lines_path)
    assert read.files[0].format == "phishtank-json"
    assert [n.name for n in read.names] == ["usdt-licai.vip"]
    assert dict(read.rejected.counts) == {"no-url": 1, "not-a-record": 1}


def test_openphish_url_list(tmp_path: Path) -> None:
    """One URL a line (OpenPhish): URL-level items named by their host; other schemes are rejected."""
    read = _one(_write(tmp_path / "feed.txt", (
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


def test_jpcert_csv(tmp_path: Path) -> None:
    """JPCERT/CC's date,URL,description: Japan time, spoofed brand as target, quoted URLs, repeated headers."""
    read = _one(_write(tmp_path / "202503.csv", JPCERT_CSV))
    assert read.files[0].format == "jpcert-csv"
    assert read.files[0].lines == 8
    assert [(n.name, n.target) for n in read.names] == [
        ("suill.cn", "イオンカード"), ("arrow.razor.jp", "OneDrive"),
        ("www.etc-noreply.aibnwfgcdu.com", "ETC利用照会サービス"), ("47.238.159.31", "マネックス証券"),
        ("marikitpark.com", "Microsoft")]
    assert read.names[0].first_seen == datetime(2025, 3, 3, 10, 47, tzinfo=JST)
    assert read.names[1].url == "http://arrow.razor.jp/special/,v/crypt/crypt/index.php"
    assert read.names[2].first_seen is None  # an empty date leaves it unknown; the URL still counts
    assert read.names[3].url == "https://47.238.159.31/"
    assert read.names[4].url == "http://marikitpark.com/chameleon%20page/hotmail/"
    assert dict(read.rejected.counts) == {"unsupported-scheme": 1}


def test_abp_rules_with_allow_rules_and_options(tmp_path: Path) -> None:
    """ABP/AdGuard: || is the subtree, | one name, @@ an allow entry; narrowing options and non-network rules are rejected."""
    read = _one(_write(tmp_path / "filters.txt", (
        "[Adblock Plus 2.0]\n! Title: fraud domains\n||shuadan.top^\n|exact.usdt-licai.vip^\n"
        "||important.top^$important\n@@||kefu.jd.com^\n@@|www.icbc.com.cn^$important\n||pipe.top^|\n"
        "||third.top^$third-party\n||wild.top^$dnstype=AAAA\n||*^\n||*.star.top^\n||path.top/login^\n"
        "||nocaret.top\nad.top^\nad.top##.banner\n/banner[0-9]+/\n||例え.jp^\n")))
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
    read = _one(_write(tmp_path / "hosts", (
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
    read = _one(_write(tmp_path / "mixed.txt", (
        "plain.top\n0.0.0.0 hosts.top\n||abp.top^\nhttps://url.top/x\n.squid-style.top\nplain2.top # note\n")))
    assert [(n.name, n.scope, n.url) for n in read.names] == [
        ("plain.top", Scope.EXACT, ""), ("hosts.top", Scope.EXACT, ""), ("abp.top", Scope.SUBTREE, ""),
        ("url.top", Scope.EXACT, "https://url.top/x"), ("squid-style.top", Scope.SUBTREE, ""),
        ("plain2.top", Scope.EXACT, "")]
    assert read.files[0].format == "plain+abp+hosts+urls"  # most frequent first, then by name
    assert not read.rejected


# -- detection, compression, encodings ------------------------------------------


def test_detection_by_content_not_by_name(tmp_path: Path) -> None:
    """Misleading names change nothing: the content decides the format."""
    files = [
        _write(tmp_path / "phishtank.json", "0.0.0.0 hosts-in-json.top\n"),
        _write(tmp_path / "hosts.txt", json.dumps([PHISHTANK_RECORD])),
        _write(tmp_path / "feed.csv", "||abp-in-csv.top^\n"),
        _write(tmp_path / "list.abp", JPCERT_CSV),
        _write(tmp_path / "jpcert.csv", URLHAUS_CSV),
        _write(tmp_path / "urlhaus.txt", "https://url-in-urlhaus.top/\n"),
    ]
    read = read_lists(files)
    assert [f.format for f in read.files] == ["hosts", "phishtank-json", "abp", "jpcert-csv", "urlhaus-csv", "urls"]
    assert {"hosts-in-json.top", "usdt-licai.vip", "abp-in-csv.top", "suill.cn", "shuadan-fanli.top",
            "url-in-urlhaus.top"} <= {n.name for n in read.names}


def test_generic_csv_and_json_strings(tmp_path: Path) -> None:
    """An unknown CSV with a url or domain column, and a JSON array of strings, are read too."""
    read = read_lists([
        _write(tmp_path / "a.csv", "first_seen,domain,note\n2025-01-01,csv-domain.top,x\n"),
        _write(tmp_path / "b.csv", "URL,Brand\nhttps://csv-url.top/a,ICBC\n"),
        _write(tmp_path / "c.json", '["json-name.top", "https://json-url.top/p", "# not a comment in JSON", 5]'),
    ])
    assert [f.format for f in read.files] == ["csv", "csv", "json"]
    assert [(n.name, n.url) for n in read.names] == [
        ("csv-domain.top", ""), ("csv-url.top", "https://csv-url.top/a"), ("json-name.top", ""),
        ("json-url.top", "https://json-url.top/p")]
    assert dict(read.rejected.counts) == {"not-a-record": 1}


def test_compressed_inputs(tmp_path: Path) -> None:
    """gzip, bzip2 and xz are recognised by their magic bytes, whatever the file is called."""
    payload = URLHAUS_CSV.encode()
    (tmp_path / "plain.txt").write_bytes(gzip.compress(payload))
    (tmp_path / "b.csv").write_bytes(bz2.compress(payload))
    (tmp_path / "c.json").write_bytes(lzma.compress(payload))
    read = read_lists(sorted(tmp_path.iterdir()))
    assert [f.format for f in read.files] == ["urlhaus-csv"] * 3
    assert len(read.names) == 9


def test_corrupt_compressed_file_keeps_what_was_read(tmp_path: Path) -> None:
    """A truncated gzip file is a rejection, not a crash; the lines before the damage count."""
    payload = "".join(f"name-{n}.shuadan.top\n" for n in range(20000)).encode()
    (tmp_path / "cut.gz").write_bytes(gzip.compress(payload)[:-200])
    read = _one(tmp_path / "cut.gz")
    assert read.rejected.counts["corrupt-file"] == 1
    assert len(read.names) > 15000


def test_bom_crlf_and_utf16(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark and CRLF line ends are invisible; UTF-16 and UTF-32 files (with their BOM) read too."""
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfbom.top\r\n||crlf.top^\r\n")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + JPCERT_CSV.replace("\n", "\r\n").encode())
    (tmp_path / "utf16.txt").write_text("0.0.0.0 utf16.top\r\n0.0.0.0 工商银行.top\r\n", encoding="utf-16")
    (tmp_path / "utf32.txt").write_text("utf32.top\nevil.top。\n", encoding="utf-32")
    read = read_lists([tmp_path / name for name in ("bom.txt", "bom.csv", "utf16.txt", "utf32.txt")])
    assert [f.format for f in read.files] == ["abp+plain", "jpcert-csv", "hosts", "plain"]
    names = [n.name for n in read.names]
    assert names[:2] == ["bom.top", "crlf.top"]
    # An ideographic full stop at the end is the root's dot, as "." is.
    assert names[-4:] == ["utf16.top", "xn--czr93rq40bruk.top", "utf32.top", "evil.top"]
    assert read.names[2].url == "https://suill.cn/aeondsjkJKFD9834jkhKJ/"


# -- hostile input --------------------------------------------------------------


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
    read = _one(path)
    assert [n.name for n in read.names] == ["good-1.top", "xn--czr93r.top", "good-2.top"]
    assert dict(read.rejected.counts) == {
        "nul-byte": 1, "zone-directive": 2, "dnsmasq-directive": 2, "unbound-directive": 1, "wildcard": 2,
        "line-too-long": 1, "invalid-utf8": 1, "unrecognised-line": 1}
    assert read.files[0].lines == 14
    long_sample = next(value for value, reason in read.rejected.samples if reason == "line-too-long")
    assert long_sample.startswith("hostile.txt:10: aaaa")


def test_line_just_under_the_limit_is_read(tmp_path: Path) -> None:
    """The line limit rejects only what is over it: a long URL under the limit is an item."""
    url = "https://long.top/" + "p" * (MAX_LINE_CHARS - 40)
    read = _one(_write(tmp_path / "long.txt", url + "\n" + "q" * MAX_LINE_CHARS + "\n"))
    assert [n.url for n in read.names] == [url]
    assert dict(read.rejected.counts) == {"line-too-long": 1}


def test_binary_file_is_one_rejection(tmp_path: Path) -> None:
    """Random bytes or an image are recognised as binary and rejected whole, not line by line."""
    rng = random.Random(7)
    (tmp_path / "list.txt").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64) + b"\n||x.top^\n")
    read = read_lists([tmp_path / "list.txt", tmp_path / "logo.png"])
    assert read.names == []
    assert dict(read.rejected.counts) == {"binary-file": 2}
    assert [f.format for f in read.files] == ["binary", "binary"]


def test_broken_json_stops_that_file_only(tmp_path: Path) -> None:
    """JSON cut off mid-record or broken mid-file is rejected; records before it and other files still count."""
    whole = json.dumps([PHISHTANK_RECORD, dict(PHISHTANK_RECORD, url="https://second.top/")])
    cut = _write(tmp_path / "cut.json", whole[:-40])
    broken = _write(tmp_path / "broken.json", whole.replace('"target"', "target", 1) + "\n")
    after = _write(tmp_path / "after.txt", "after.top\n")
    read = read_lists([cut, broken, after])
    assert [n.name for n in read.names] == ["usdt-licai.vip", "after.top"]
    assert dict(read.rejected.counts) == {"bad-json": 2}


def test_json_lines_go_on_after_a_broken_record(tmp_path: Path) -> None:
    """In JSON Lines one undecodable record (bad syntax, an integer over Python's digit limit) is rejected; the rest are read."""
    path = _write(tmp_path / "feed.jsonl", "\n".join([
        json.dumps({"url": "https://first.top/"}),
        '{"url": "https://broken.top/", }',
        '{"url": "https://bignum.top/", "n": ' + "9" * 5000 + "}",
        json.dumps({"url": "https://last.top/"}),
        '{"url": "https://cut-off.top/"',
    ]))
    read = _one(path)
    assert [n.name for n in read.names] == ["first.top", "last.top"]
    assert dict(read.rejected.counts) == {"bad-json": 3}
    assert [sample.split(":")[1] for sample, _ in read.rejected.samples] == ["2", "3", "5"]


def test_lines_of_a_broken_multi_line_record_are_never_read_on_their_own(tmp_path: Path) -> None:
    """A pretty-printed JSON Lines record that is broken is skipped whole, up to the next line starting with
    ``{``: the strings inside it (an ``@@`` rule, a host) never become list lines; samples name the right line."""
    path = _write(tmp_path / "feed.jsonl", (
        '{"url": "https://phish-b.top/x"}\n'
        '{"url": "https://phish-c.top/x",\n'
        ' "notes": [\n'
        '  "@@||phish-b.top^",\n'
        '  "cdn.legit-shop.com"\n'
        ' ],\n'
        ' "x": 01}\n'
        '{\n'
        '  "url": "https://phish-d.top/y"\n'
        '}\n'
    ))
    read = _one(path)
    assert [(n.name, n.action) for n in read.names] == [("phish-b.top", Action.BLOCK), ("phish-d.top", Action.BLOCK)]
    assert dict(read.rejected.counts) == {"bad-json": 1}
    assert read.rejected.samples[0][0].startswith("feed.jsonl:2: ")


def test_json_lines_resume_after_a_broken_record_across_reads(tmp_path: Path) -> None:
    """The next record after a broken one is found wherever the read buffer ends, and keeps its line number."""
    good = json.dumps({"url": "https://after.top/"})
    for padding in range(64 * 1024 - 40, 64 * 1024 + 4):
        broken = '{"url": "https://broken.top/", ' + '"p": "' + "x" * padding + '", }'
        path = _write(tmp_path / "feed.jsonl", broken + "\n" + good + "\n")
        read = read_lists([path])
        assert [n.name for n in read.names] == ["after.top"], padding
        assert dict(read.rejected.counts) == {"bad-json": 1}


def test_json_array_with_an_oversized_integer_is_bad_json(tmp_path: Path) -> None:
    """An integer over Python's digit limit in a JSON array ends that file as ``bad-json``, not with a traceback."""
    path = _write(tmp_path / "feed.json", '[{"url": "https://first.top/"}, {"n": ' + "1" * 5000 + "}]")
    read = _one(path)
    assert [n.name for n in read.names] == ["first.top"]
    assert dict(read.rejected.counts) == {"bad-json": 1}


def test_feed_dates_are_utc_and_out_of_range_dates_unknown(tmp_path: Path) -> None:
    """A date that has no UTC equivalent (year 1 in Japan time, year 9999 west of UTC) leaves first_seen unknown."""
    path = _write(tmp_path / "jpcert.csv", (
        "date,URL,description\n"
        "0001-01-01 00:00:00,https://too-early.top/,Amazon\n"
        "2025/04/01 09:00:00,https://in-range.top/,Amazon\n"))
    early, in_range = _one(path).names
    assert early.first_seen is None
    assert in_range.first_seen == datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
    assert in_range.first_seen.utcoffset() == timedelta(hours=9)  # JPCERT/CC writes Japan time
    late = _write(tmp_path / "late.jsonl", "\n".join(json.dumps({"url": url, "urlhaus_link": "x", "dateadded": date}) for url, date in (
        ("https://too-late.top/", "9999-12-31T23:59:59-10:00"), ("https://on-time.top/", "2025-11-20 06:02:21"))))
    too_late, on_time = _one(late).names
    assert too_late.name == "too-late.top" and too_late.first_seen is None
    assert on_time.first_seen == datetime(2025, 11, 20, 6, 2, 21, tzinfo=UTC)


def test_feed_metadata_no_output_can_carry_is_rejected(tmp_path: Path) -> None:
    """A record whose metadata holds a lone surrogate or a NUL is rejected with the reason a line would get."""
    path = _write(tmp_path / "feed.jsonl", "\n".join([
        '{"url": "https://surrogate.top/", "urlhaus_link": "x", "dateadded": "", "threat": "caf\\ud800"}',
        '{"url": "https://nul.top/", "urlhaus_link": "x", "tags": "a,\\u0000b"}',
        '{"url": "https://host\\udcff.top/", "urlhaus_link": "x"}',
        '{"url": "https://fine.top/", "urlhaus_link": "x", "threat": "\u6740\u732a\u76d8"}',
    ]))
    read = _one(path)
    assert [(n.name, n.categories) for n in read.names] == [("fine.top", ("杀猪盘",))]
    assert dict(read.rejected.counts) == {"invalid-utf8": 2, "nul-byte": 1}
    for sample, _ in read.rejected.samples:
        sample.encode("utf-8")  # samples are always writable


def test_backslash_in_a_url_reads_as_a_browser_reads_it(tmp_path: Path) -> None:
    """``https://phish.top\\@bank.example/`` is on phish.top, where a browser goes; never on the bank."""
    path = _write(tmp_path / "urls.txt", (
        "https://phish.top\\@victim-shop.com/login\nhttp://evil.top\\path\\x?next=C:\\pay#a\\b\n"))
    read = _one(path)
    # In the query and the fragment a browser keeps the backslash.
    assert [(n.name, n.url) for n in read.names] == [
        ("phish.top", "https://phish.top/@victim-shop.com/login"), ("evil.top", "http://evil.top/path/x?next=C:\\pay#a\\b")]


def test_url_on_port_zero_is_a_bad_url(tmp_path: Path) -> None:
    """Port 0 (``:0``, ``:00``) is no port a client connects to: ``bad-url``, not an output a checker refuses."""
    read = _one(_write(tmp_path / "urls.txt", "https://zero.top:0/\nhttps://zeros.top:00/a\nhttps://ok.top:8443/\n"))
    assert [n.url for n in read.names] == ["https://ok.top:8443/"]
    assert dict(read.rejected.counts) == {"bad-url": 2}


def test_names_a_browser_reads_as_addresses_are_numeric_tlds(tmp_path: Path) -> None:
    """``0x7f.0x1`` and ``evil.0xa`` end in a number to a browser (an IPv4 address): ``numeric-tld``."""
    read = _one(_write(tmp_path / "list.txt", "0x7f.0x1\nevil.0xa\nhttp://0x7f.0x1/x\nevil.0xg\n"))
    assert [n.name for n in read.names] == ["evil.0xg"]
    assert dict(read.rejected.counts) == {"numeric-tld": 3}


def test_undecodable_file_name_is_escaped_in_sources(tmp_path: Path) -> None:
    """A file name that is not UTF-8 shows as ``\\xNN`` in sources and samples, never as a lone surrogate."""
    path = tmp_path / os.fsdecode(b"list\xff.txt")
    path.write_text("named.top\nbad..name\n", encoding="utf-8")
    read = _one(path)
    assert read.names[0].source == "list:list\\xff.txt"
    assert read.rejected.samples[0][0].startswith("list\\xff.txt:2: ")
    assert read.files[0].path.endswith("list\\xff.txt")


def test_huge_json_record_is_rejected(tmp_path: Path) -> None:
    """A JSON value larger than the record limit is rejected without reading the document whole."""
    path = tmp_path / "huge.json"
    path.write_text(json.dumps([dict(PHISHTANK_RECORD, padding="x" * 2_000_000)]), encoding="utf-8")
    read = _one(path)
    assert read.names == []
    assert dict(read.rejected.counts) == {"record-too-long": 1}


def test_deeply_nested_json_is_one_rejection(tmp_path: Path) -> None:
    """JSON nested deeper than Python's parser recurses is ``bad-json`` for that file, not a crash."""
    deep = _write(tmp_path / "deep.json", '{"a":' * 100_000 + "1" + "}" * 100_000)
    nested = _write(tmp_path / "nested.json", json.dumps([PHISHTANK_RECORD])[:-1] + ", " + "[" * 100_000 + "]" * 100_001)
    read = read_lists([deep, nested, _write(tmp_path / "after.txt", "after.top\n")])
    assert [n.name for n in read.names] == ["usdt-licai.vip", "after.top"]
    assert dict(read.rejected.counts) == {"bad-json": 2}
    assert any("nested too deeply" in value for value, _ in read.rejected.samples)


def test_compression_bomb_stops_with_what_came_before(tmp_path: Path) -> None:
    """A gzip file expanding a thousand times stops as one ``compression-bomb`` soon after it starts expanding."""
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"before-the-bomb.top\n")
        for _ in range(64):  # 64 MiB of line ends, 64 KiB compressed
            out.write(b"\n" * (1024 * 1024))
        out.write(b"after-the-bomb.top\n")
    started = time.perf_counter()
    read = _one(path)
    assert time.perf_counter() - started < 10
    assert [n.name for n in read.names] == ["before-the-bomb.top"]
    assert dict(read.rejected.counts) == {"compression-bomb": 1}
    assert "more than 100 times" in read.rejected.samples[0][0]


def test_ordinary_compressed_list_is_not_a_bomb(tmp_path: Path) -> None:
    """A real list compresses five to ten times: 30 MB of names in gzip read whole, with no rejection."""
    rng = random.Random(3)
    words = ["kefu", "usdt", "dai", "licai", "fanli", "shuadan", "app", "xiazai", "gongan", "jiancha"]
    names = [f"{rng.choice(words)}-{rng.choice(words)}-{rng.randrange(10**12)}.{rng.choice(['top', 'vip', 'cn'])}"
             for _ in range(1_000_000)]
    path = tmp_path / "big.txt.gz"
    path.write_bytes(gzip.compress(("\n".join(names) + "\n").encode(), compresslevel=9))
    read = _one(path)
    assert len(read.names) == len(names)
    assert not read.rejected


def test_list_over_the_size_limit_keeps_what_was_read(tmp_path: Path) -> None:
    """Reading stops at ``max_bytes`` with one ``input-too-large``; whole names before it are kept, other files read.

    No name is ever cut short at the limit (``paypal.com.evil.top`` must not become ``paypal.com``).
    """
    listed = [f"name-{n:05d}.top" for n in range(10_000)]  # 15 bytes a line
    big = _write(tmp_path / "big.txt", "".join(f"{name}\n" for name in listed))
    small = _write(tmp_path / "small.txt", "small.top\n")
    read = read_lists([big, small], max_bytes=100_000)
    assert dict(read.rejected.counts) == {"input-too-large": 1}
    kept = [n.name for n in read.names[:-1]]
    assert 0 < len(kept) <= 100_000 // 15
    assert kept == listed[:len(kept)]
    assert read.names[-1].name == "small.top"
    assert "more than 100000 bytes" in read.rejected.samples[0][0]


def test_file_of_junk_lines_stops_after_many_rejections(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A file rejecting more lines than it accepts stops at the limit (``mostly-rejected``); a good list never does."""
    monkeypatch.setattr(feeds, "MAX_REJECTED_LINES", 1000)
    junk = _write(tmp_path / "junk.txt", "ok-1.top\n" + "x\n" * 5000 + "ok-2.top\n")
    mostly_good = _write(tmp_path / "good.txt", "".join(f"n{n}.top\nx\n" for n in range(3000)))
    read = read_lists([junk, mostly_good])
    assert dict(read.rejected.counts) == {"single-label": 4000, "mostly-rejected": 1}
    assert len(read.names) == 1 + 3000
    assert read.names[0].name == "ok-1.top"


def test_blank_and_comment_runs_keep_line_numbers(tmp_path: Path) -> None:
    """Blank lines and comments are skipped a run at a time: line numbers after them stay right, long ones still count."""
    text = ("# comment\n\n   \n\t! abp header\n[Adblock Plus]\n" * 1000 + "bad line here\n"
            + "#" + "c" * MAX_LINE_CHARS + "\n" + "\n" * 10 + "x\n" + "fine.top\n")
    read = _one(_write(tmp_path / "comments.txt", text))
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
    read = _one(_write(tmp_path / "run.txt", "\n".join(lines) + "\n"))
    expected = [name.lower() for number, name in enumerate(lines, start=1) if number not in (100, 400, 401)]
    assert [n.name for n in read.names] == expected
    assert dict(read.rejected.counts) == {"bad-idna": 1, "name-too-long": 1, "local-name": 1}
    assert sorted(value.split(": ")[0] for value, _ in read.rejected.samples) == [
        "run.txt:100", "run.txt:400", "run.txt:401"]


def test_samples_of_hostile_bytes_are_escaped(tmp_path: Path) -> None:
    """Invalid UTF-8, terminal escapes and line separators in a rejected line are escaped in its sample."""
    path = tmp_path / "bytes.txt"
    path.write_bytes(b"\x85evil-a.top\n\x1b[2Jevil-b.top\nevil\xe2\x80\xa8c.top\n")
    read = _one(path)
    assert [value for value, _ in read.rejected.samples] == [
        "bytes.txt:1: \\x85evil-a.top", "bytes.txt:2: \\x1b[2Jevil-b.top", "bytes.txt:3: evil\\u2028c.top"]
    assert all(value.isprintable() for value, _ in read.rejected.samples)


def test_unreadable_file_raises(tmp_path: Path) -> None:
    """A file that cannot be opened is an input error for the caller, not a silent empty list."""
    with pytest.raises(InputError) as caught:
        read_lists([tmp_path / "missing.txt"])
    assert caught.value.reason == "unreadable-file"


def test_empty_file(tmp_path: Path) -> None:
    """An empty file reads as nothing, without rejections."""
    read = _one(_write(tmp_path / "empty.txt", ""))
    assert (read.files[0].format, read.files[0].lines, read.names) == ("empty", 0, [])


# -- API --------------------------------------------------------------------------


def test_iter_lists_streams_and_records_summaries(tmp_path: Path) -> None:
    """iter_lists yields items as it reads and leaves the rejections and per-file summaries in the ListRead given."""
    first = _write(tmp_path / "one.txt", "a.top\nbad..top\n")
    second = _write(tmp_path / "two.txt", "b.top\n")
    into = ListRead()
    items = iter_lists([first, second], into)
    assert next(items).name == "a.top"
    assert into.files == []  # nothing is summarised before the file is done
    assert [item.name for item in items] == ["b.top"]
    assert [(f.path, f.accepted, f.rejected) for f in into.files] == [(str(first), 1, 1), (str(second), 1, 0)]
    assert into.names == []


def test_names_match_normalize_name(tmp_path: Path) -> None:
    """Whatever path a name takes through the reader, it comes out exactly as normalize_name gives it, or is rejected."""
    raw = [
        "Example.COM", "a_b.example.com", "-lead.top", "trail-.top", "x" * 63 + ".top", "x" * 64 + ".top",
        ".".join(["a" * 61] * 4) + ".top", ".".join(["a" * 61] * 4) + ".ab", "trailing.dot.top.", "double..dot.top",
        "xn--r8jz45g.jp", "xn--zz.top", "ＦＵＬＬ.top", "工商银行.top", "1.2.3.4", "1.2.3.top", "a.123", "a.b1",
        "under_.top", "_dmarc.example.com", "A.B",
    ]
    read = _one(_write(tmp_path / "names.txt", "\n".join(raw) + "\n"))
    expected = []
    for name in raw:
        try:
            expected.append(normalize_name(name, allow_underscore=True))
        except InvalidName:
            continue
    assert [n.name for n in read.names] == expected
    assert len(read.names) + read.rejected.total == len(raw)


# -- the real feeds in ../shared/data ------------------------------------------------

needs_feeds = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"real feeds not found at {FEEDS}")
# Rejections a real feed line may earn: its URL, not the file's structure, is at fault.
CONTENT_REASONS = {"ip-literal", "unsupported-scheme", "bad-url", "no-host", "bad-character", "numeric-tld",
                   "empty-label", "bad-idna", "label-too-long", "name-too-long", "single-label"}


def _report(title: str, read: ListRead, seconds: float) -> None:
    lines = sum(f.lines for f in read.files)
    accepted = sum(f.accepted for f in read.files)
    print(f"\n{title}: {len(read.files)} files, {lines} lines, {accepted} accepted, "
          f"{read.rejected.total} rejected in {seconds:.2f}s")
    for reason, count in read.rejected.counts.most_common():
        print(f"  {reason}: {count}")


@pytest.mark.corpus
@needs_feeds
def test_corpus_jpcert_every_file() -> None:
    """Every JPCERT/CC monthly CSV reads as jpcert-csv, every row accounted for, over 99% accepted overall."""
    files = sorted((FEEDS / "jpcert-phishurl").glob("*/*.csv"))
    assert len(files) >= 80
    started = time.perf_counter()
    read = read_lists(files)
    _report("JPCERT/CC phishing URLs", read, time.perf_counter() - started)
    for path, summary in zip(files, read.files):
        rows = path.read_bytes().count(b"\n")
        assert summary.format == "jpcert-csv", path
        assert summary.lines == rows, path
        assert summary.accepted + summary.rejected == rows - 1, path  # all but the header row
    accepted = len(read.names)
    assert accepted / (accepted + read.rejected.total) > 0.99
    assert set(read.rejected.counts) <= CONTENT_REASONS, read.rejected.counts
    assert all(item.url for item in read.names)
    assert all(item.first_seen is None or item.first_seen.utcoffset() == timedelta(hours=9) for item in read.names)


@pytest.mark.corpus
@needs_feeds
def test_corpus_openphish_snapshot() -> None:
    """The OpenPhish snapshot reads as a URL list, every line a URL-level item or a counted rejection."""
    path = FEEDS / "openphish" / "feed.txt"
    started = time.perf_counter()
    read = read_lists([path])
    _report("OpenPhish snapshot", read, time.perf_counter() - started)
    (summary,) = read.files
    assert summary.format == "urls"
    assert summary.accepted + summary.rejected == summary.lines
    assert summary.accepted / summary.lines > 0.99
    assert all(item.url.startswith(("http://", "https://")) for item in read.names)
    assert set(read.rejected.counts) <= CONTENT_REASONS, read.rejected.counts


# -- damaged compressed files --------------------------------------------------

# One member's decompressor, as zcat, bzcat and xzcat decode it.
DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: zlib.decompressobj(wbits=31),
    "bzip2": bz2.BZ2Decompressor,
    "xz": lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ),
}
# bzip2 at level 1 has blocks of 100 kB, so a few hundred kB make several.
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "bzip2": lambda data: bz2.compress(data, 1), "xz": lzma.compress}
CUT_SHORT = "Compressed file ended before the end-of-stream marker was reached"


def _fraud_names(count: int) -> list[str]:
    """Names random enough that xz and bzip2 do not squeeze a few hundred kB into one chunk or block."""
    rng = random.Random(5)
    return [f"kefu-{rng.randrange(10**9)}.shuadan{rng.randrange(100)}.top" for _ in range(count)]


def _listing(names: list[str]) -> bytes:
    return "".join(f"{name}\n" for name in names).encode()


def _decoded_before_damage(data: bytes, kind: str) -> bytes:
    """What ``kind``'s decompressor gives from ``data`` fed a byte at a time, member after member, before it
    refuses a byte or the data end: what zcat, bzcat or xzcat writes before it stops (but for data that
    fail a checksum, which those write before the check)."""
    new = DECOMPRESSORS[kind]
    decompressor, out, at = new(), [], 0
    while at < len(data):
        if decompressor.eof:
            data, at = (decompressor.unused_data + data[at:]).lstrip(b"\0"), 0
            decompressor = new()
            continue
        try:
            out.append(decompressor.decompress(data[at:at + 1]))
        except (OSError, EOFError, zlib.error, lzma.LZMAError):
            break
        at += 1
    return b"".join(out)


def _whole_lines(data: bytes) -> list[str]:
    """The lines of ``data`` that reach their line end; a line the damage cut is none."""
    return data[:data.rfind(b"\n") + 1].decode().splitlines()


def _read_damaged(path: Path, data: bytes, expected: list[str]) -> ListRead:
    """Write ``data`` to ``path`` and read it: exactly ``expected``, then one ``corrupt-file`` sample at the line after."""
    path.write_bytes(data)
    read = _one(path)
    assert [n.name for n in read.names] == expected
    assert dict(read.rejected.counts) == {"corrupt-file": 1}
    ((sample, _),) = read.rejected.samples
    assert sample.startswith(f"{path.name}:{len(expected)}: ")
    return read


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
@pytest.mark.parametrize("count", [2_000, 10_000])
def test_compressed_file_cut_short_keeps_every_whole_line(tmp_path: Path, kind: str, count: int) -> None:
    """A compressed file cut in the middle gives every whole line its decompressor yields before the cut,
    as zcat, bzcat and xzcat write them, then one ``corrupt-file``; that holds when the cut falls in the
    first 64 KiB read to recognise the format too. bzip2 decodes whole blocks only: a cut in its first
    block leaves nothing."""
    names = _fraud_names(count)
    packed = COMPRESS[kind](_listing(names))
    cut = packed[:len(packed) * 3 // 5]
    expected = _whole_lines(_decoded_before_damage(cut, kind))
    assert expected == names[:len(expected)] and len(expected) < count
    read = _read_damaged(tmp_path / "cut.list", cut, expected)
    assert read.rejected.samples[0][0].endswith(CUT_SHORT)
    assert read.files[0].lines == len(expected)


@pytest.mark.parametrize(("kind", "size"), [("gzip", 2), ("gzip", 10), ("bzip2", 10), ("bzip2", 14), ("xz", 6), ("xz", 12)])
def test_compressed_file_damaged_before_any_line_is_one_rejection(tmp_path: Path, kind: str, size: int) -> None:
    """A file that is only the magic bytes its compression is recognised by, or is cut right after the header,
    holds no line: it reads as one ``corrupt-file`` (not as a list of its bytes) and the next file is read."""
    path = tmp_path / "damaged.list"
    path.write_bytes(COMPRESS[kind](_listing(_fraud_names(100)))[:size])
    read = read_lists([path, _write(tmp_path / "after.txt", "after.top\n")])
    assert [n.name for n in read.names] == ["after.top"]
    assert dict(read.rejected.counts) == {"corrupt-file": 1}
    assert read.rejected.samples == [(f"damaged.list:0: {CUT_SHORT}", "corrupt-file")]


def test_gzip_garbage_mid_stream_keeps_every_line_before_it(tmp_path: Path) -> None:
    """Garbage where a deflate block should start (a data error, ``invalid block type``) keeps every line
    decoded before it, the end of the data included, though the garbage comes in the same read."""
    names = _fraud_names(10_000)
    before, after = _listing(names[:6_000]), _listing(names[6_000:])
    deflate = zlib.compressobj(wbits=31)
    # A full flush ends the data of the first 6000 lines on a byte, where the garbage then starts a block.
    data = deflate.compress(before) + deflate.flush(zlib.Z_FULL_FLUSH) + b"\xff" * 64 + deflate.compress(after) + deflate.flush()
    assert _whole_lines(_decoded_before_damage(data, "gzip")) == names[:6_000]
    read = _read_damaged(tmp_path / "garbage.gz", data, names[:6_000])
    assert read.rejected.samples[0][0].endswith("invalid block type")


def test_gzip_crc_error_keeps_every_line(tmp_path: Path) -> None:
    """A gzip member whose data decode whole but whose CRC-32 does not match gives every line, then one ``corrupt-file``."""
    names = _fraud_names(10_000)
    packed = bytearray(gzip.compress(_listing(names)))
    packed[-8] ^= 0xFF  # the trailer: CRC-32, then the length
    assert _whole_lines(_decoded_before_damage(bytes(packed), "gzip")) == names
    read = _read_damaged(tmp_path / "crc.gz", bytes(packed), names)
    assert read.rejected.samples[0][0].endswith("incorrect data check")


def test_bzip2_damaged_block_keeps_the_blocks_before_it(tmp_path: Path) -> None:
    """A bzip2 block whose header is garbage keeps every whole line of the blocks before it, though
    the garbage comes in the same read as their end."""
    names = _fraud_names(10_000)
    packed = bz2.compress(_listing(names), 1)
    # Blocks start on any bit, each with the 48-bit magic 0x314159265359; break the second block's.
    bits = format(int.from_bytes(packed, "big"), f"0{len(packed) * 8}b")
    second = bits.index(format(0x314159265359, "048b"), 32 + 48)
    flipped = second + 47
    data = bytearray(packed)
    data[flipped // 8] ^= 0x80 >> flipped % 8
    expected = _whole_lines(_decoded_before_damage(bytes(data), "bzip2"))
    assert 0 < len(expected) < len(names) and expected == names[:len(expected)]
    _read_damaged(tmp_path / "block.bz2", bytes(data), expected)


def _lzma2_chunks(packed: bytes) -> list[tuple[int, int]]:
    """``(offset, uncompressed size)`` of each LZMA2 chunk of a one-block xz file, as written by :func:`lzma.compress`."""
    at = 12 + (packed[12] + 1) * 4  # the stream header, then the block header
    chunks = []
    while (control := packed[at]) != 0:
        assert control >= 0x80  # an LZMA chunk: sizes less one, then the properties byte after a reset
        chunks.append((at, ((control & 0x1F) << 16 | packed[at + 1] << 8 | packed[at + 2]) + 1))
        at += (6 if control >= 0xC0 else 5) + (packed[at + 3] << 8 | packed[at + 4]) + 1
    return chunks


def test_xz_damaged_chunk_keeps_the_chunks_before_it(tmp_path: Path) -> None:
    """An xz file whose second LZMA2 chunk starts with an invalid control byte keeps every whole line of the first."""
    names = _fraud_names(20_000)  # chunks hold at most 64 KiB compressed: this makes two
    listing = _listing(names)
    data = bytearray(lzma.compress(listing))
    (_, first_size), (second, _), *_ = _lzma2_chunks(bytes(data))
    data[second] = 0x03  # 0x03 to 0x7f are no chunk
    expected = _whole_lines(listing[:first_size])
    assert 0 < len(expected) < len(names)
    assert _whole_lines(_decoded_before_damage(bytes(data), "xz")) == expected
    read = _read_damaged(tmp_path / "chunk.xz", bytes(data), expected)
    assert read.rejected.samples[0][0].endswith("Corrupt input data")


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_garbage_after_a_complete_member_is_damage_and_zero_padding_is_not(tmp_path: Path, kind: str) -> None:
    """Bytes after the last complete member that are no member keep every line and count one ``corrupt-file``
    (bzip2 and xz once dropped them silently); zero bytes there are padding, no damage."""
    names = _fraud_names(10_000)
    packed = COMPRESS[kind](_listing(names))
    _read_damaged(tmp_path / "trailing.list", packed + b"trailing garbage, no member\n", names)
    padded = tmp_path / "padded.list"
    padded.write_bytes(packed + bytes(8))
    read = _one(padded)
    assert [n.name for n in read.names] == names
    assert not read.rejected


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
@pytest.mark.parametrize("last_cut", [False, True])
def test_concatenated_members_are_all_read(tmp_path: Path, kind: str, last_cut: bool) -> None:
    """Members (gzip) or streams (bzip2, xz) one after the other are all read, as zcat reads them; a last
    one cut right after its header keeps all before it, then one ``corrupt-file``."""
    names = _fraud_names(9_000)
    members = [COMPRESS[kind](_listing(names[start:start + 3_000])) for start in range(0, 9_000, 3_000)]
    data = b"".join(members) + (members[0][:14] if last_cut else b"")
    if last_cut:
        _read_damaged(tmp_path / "members.list", data, names)
        return
    path = tmp_path / "members.list"
    path.write_bytes(data)
    read = _one(path)
    assert [n.name for n in read.names] == names
    assert not read.rejected


@pytest.mark.parametrize("csv", [False, True])
def test_line_cut_by_damage_is_never_read(tmp_path: Path, csv: bool) -> None:
    """The last line the damage cut is dropped, not read: ``bank.com.evil.top`` cut to ``bank.co`` blocks
    nothing, in a list or as a CSV row; the whole lines before it count."""
    header, first, cut = ("brand,url\n", "PayPal,https://paypal.com.evil.top/login\n", "Bank,https://bank.co") if csv else (
        "", "paypal.com.evil.top\n", "bank.co")
    deflate = zlib.compressobj(wbits=31)
    # A sync flush writes out all the data given so far: the file ends right after "bank.co".
    data = deflate.compress((header + first + cut).encode()) + deflate.flush(zlib.Z_SYNC_FLUSH)
    assert _decoded_before_damage(data, "gzip").endswith(cut.encode())
    path = tmp_path / "cut.gz"
    path.write_bytes(data)
    read = _one(path)
    assert [n.name for n in read.names] == ["paypal.com.evil.top"]
    assert dict(read.rejected.counts) == {"corrupt-file": 1}
    assert read.rejected.samples[0][0] == f"cut.gz:{2 if csv else 1}: {CUT_SHORT}"


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_limits_hold_for_every_compression(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    """The expansion limit (``compression-bomb``) and the byte cap (``input-too-large``) stop bzip2 and xz
    files as they stop gzip ones, keeping the whole names read before; neither is damage."""
    monkeypatch.setattr(feeds, "COMPRESSION_CHECK_BYTES", 1024 * 1024)  # a bomb of a few MiB trips it
    bomb = tmp_path / "bomb.list"
    bomb.write_bytes(COMPRESS[kind](b"before-the-bomb.top\n" + b"\n" * (4 * 1024 * 1024) + b"after-the-bomb.top\n"))
    read = _one(bomb)
    assert [n.name for n in read.names] == ["before-the-bomb.top"]
    assert dict(read.rejected.counts) == {"compression-bomb": 1}
    names = _fraud_names(10_000)
    big = tmp_path / "big.list"
    big.write_bytes(COMPRESS[kind](_listing(names)))
    read = read_lists([big], max_bytes=100_000)
    assert dict(read.rejected.counts) == {"input-too-large": 1}
    assert 0 < len(read.names) and [n.name for n in read.names] == names[:len(read.names)]
