"""CSV feeds: URLhaus, PhishTank and JPCERT/CC dumps read row by row, with their metadata."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fraudwall.models import Action, Scope
from tests.core.lists.samples import JPCERT_CSV, JST, PHISHTANK_RECORD, URLHAUS_CSV, UTC, read_one, write_file


def test_urlhaus_csv(tmp_path: Path) -> None:
    """URLhaus's CSV dump: the commented header is found, rows become URL-level items with date, threat and tags."""
    read = read_one(write_file(tmp_path / "urlhaus.csv", URLHAUS_CSV))
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


def test_phishtank_csv_and_json_lines(tmp_path: Path) -> None:
    """PhishTank's CSV variant (header row, quoted URL with a comma) and JSON Lines read like the JSON array."""
    csv_path = write_file(tmp_path / "online-valid.csv", (
        "phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target\n"
        '1,"https://evil.test/a,b/login",http://x,2025-01-01T00:00:00+00:00,yes,2025-01-01T00:10:00+00:00,yes,Other\n'
        "2,https://gone.test/old,http://x,2025-01-01T00:00:00+00:00,no,2025-01-01T00:10:00+00:00,no,Other\n"))
    read = read_one(csv_path)
    assert read.files[0].format == "phishtank-csv"
    assert [(n.name, n.url, n.target) for n in read.names] == [("evil.test", "https://evil.test/a,b/login", "Other")]
    assert dict(read.rejected.counts) == {"unverified": 1}
    lines_path = write_file(tmp_path / "records.ndjson", "\n".join(json.dumps(r) for r in (PHISHTANK_RECORD, {"url": 7}, [1])))
    read = read_one(lines_path)
    assert read.files[0].format == "phishtank-json"
    assert [n.name for n in read.names] == ["usdt-licai.vip"]
    assert dict(read.rejected.counts) == {"no-url": 1, "not-a-record": 1}


def test_jpcert_csv(tmp_path: Path) -> None:
    """JPCERT/CC's date,URL,description: Japan time, spoofed brand as target, quoted URLs, repeated headers."""
    read = read_one(write_file(tmp_path / "202503.csv", JPCERT_CSV))
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
