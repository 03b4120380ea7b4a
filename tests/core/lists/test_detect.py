"""Format detection: by content, never by name; binary files are one rejection."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from fraudwall.lists import read_lists
from fraudwall.lists.detect import is_abp_list
from tests.core.lists.samples import JPCERT_CSV, PHISHTANK_RECORD, URLHAUS_CSV, write_file


def test_detection_by_content_not_by_name(tmp_path: Path) -> None:
    """Misleading names change nothing: the content decides the format."""
    files = [
        write_file(tmp_path / "phishtank.json", "0.0.0.0 hosts-in-json.top\n"),
        write_file(tmp_path / "hosts.txt", json.dumps([PHISHTANK_RECORD])),
        write_file(tmp_path / "feed.csv", "||abp-in-csv.top^\n"),
        write_file(tmp_path / "list.abp", JPCERT_CSV),
        write_file(tmp_path / "jpcert.csv", URLHAUS_CSV),
        write_file(tmp_path / "urlhaus.txt", "https://url-in-urlhaus.top/\n"),
    ]
    read = read_lists(files)
    assert [f.format for f in read.files] == ["hosts", "phishtank-json", "abp", "jpcert-csv", "urlhaus-csv", "urls"]
    assert {"hosts-in-json.top", "usdt-licai.vip", "abp-in-csv.top", "suill.cn", "shuadan-fanli.top",
            "url-in-urlhaus.top"} <= {n.name for n in read.names}


def test_generic_csv_and_json_strings(tmp_path: Path) -> None:
    """An unknown CSV with a url or domain column, and a JSON array of strings, are read too."""
    read = read_lists([
        write_file(tmp_path / "a.csv", "first_seen,domain,note\n2025-01-01,csv-domain.top,x\n"),
        write_file(tmp_path / "b.csv", "URL,Brand\nhttps://csv-url.top/a,ICBC\n"),
        write_file(tmp_path / "c.json", '["json-name.top", "https://json-url.top/p", "# not a comment in JSON", 5]'),
    ])
    assert [f.format for f in read.files] == ["csv", "csv", "json"]
    assert [(n.name, n.url) for n in read.names] == [
        ("csv-domain.top", ""), ("csv-url.top", "https://csv-url.top/a"), ("json-name.top", ""),
        ("json-url.top", "https://json-url.top/p")]
    assert dict(read.rejected.counts) == {"not-a-record": 1}


def test_binary_file_is_one_rejection(tmp_path: Path) -> None:
    """Random bytes or an image are recognised as binary and rejected whole, not line by line."""
    rng = random.Random(7)
    (tmp_path / "list.txt").write_bytes(bytes(rng.randrange(256) for _ in range(200_000)))
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64) + b"\n||x.top^\n")
    read = read_lists([tmp_path / "list.txt", tmp_path / "logo.png"])
    assert read.names == []
    assert dict(read.rejected.counts) == {"binary-file": 2}
    assert [f.format for f in read.files] == ["binary", "binary"]


@pytest.mark.parametrize(("head", "abp"), [
    ("[Adblock Plus 2.0]\n! Title: fraud\n", True),
    ("! AdGuard DNS filter\n[AdGuard]\nplain.top\n", True),
    ("plain.top\n  ||subtree.top^\n", True),
    ("plain.top\n|exact.top^\n", True),
    ("@@||allowed.top^\n", True),
    ("! a comment in ABP style\nplain.top\n0.0.0.0 hosts.top\n", False),
    ("# hosts file\n0.0.0.0 a.top # @@ in a comment\nhttps://url.top/|x\n", False),
])
def test_abp_list_is_recognised_by_its_header_or_a_network_rule(head: str, abp: bool) -> None:
    """A line file is an ABP/AdGuard list (the only kind whose exceptions may count) when its head holds that
    header or a network rule at a line start; ``!`` comments and ``@@`` or ``|`` inside a line are no sign."""
    assert is_abp_list(head) is abp
