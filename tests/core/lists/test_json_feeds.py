"""JSON feeds: PhishTank arrays and JSON Lines read record by record; broken, huge and deep JSON costs one file at most."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fraudwall.lists import read_lists
from fraudwall.models import Action
from tests.core.lists.samples import PHISHTANK_RECORD, UTC, read_one, write_file


def test_phishtank_json_read_record_by_record(tmp_path: Path) -> None:
    """PhishTank's JSON array, pretty-printed and larger than the read buffer: every record, with its metadata."""
    records = [dict(PHISHTANK_RECORD, phish_id=n, url=f"https://kefu-{n}.jd-tuikuan.top/refund?n={n}") for n in range(3000)]
    records[0] = PHISHTANK_RECORD
    records[1] = dict(PHISHTANK_RECORD, verified="no")
    records[2] = dict(PHISHTANK_RECORD, url="mailto:kefu@jd-tuikuan.top")
    path = tmp_path / "online-valid.json"
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    assert path.stat().st_size > 3 * 64 * 1024  # the records straddle several reads
    read = read_one(path)
    assert read.files[0].format == "phishtank-json"
    assert read.files[0].lines == 3000
    item = read.names[0]
    assert (item.name, item.url) == ("usdt-licai.vip", "https://usdt-licai.vip/login.php?id=1")
    assert item.first_seen == datetime(2025, 11, 19, 22, 14, 3, tzinfo=UTC)
    assert item.target == "Industrial and Commercial Bank of China"
    assert [n.name for n in read.names[-2:]] == ["kefu-2998.jd-tuikuan.top", "kefu-2999.jd-tuikuan.top"]
    assert dict(read.rejected.counts) == {"unverified": 1, "unsupported-scheme": 1}


def test_broken_json_stops_that_file_only(tmp_path: Path) -> None:
    """JSON cut off mid-record or broken mid-file is rejected; records before it and other files still count."""
    whole = json.dumps([PHISHTANK_RECORD, dict(PHISHTANK_RECORD, url="https://second.top/")])
    cut = write_file(tmp_path / "cut.json", whole[:-40])
    broken = write_file(tmp_path / "broken.json", whole.replace('"target"', "target", 1) + "\n")
    after = write_file(tmp_path / "after.txt", "after.top\n")
    read = read_lists([cut, broken, after])
    assert [n.name for n in read.names] == ["usdt-licai.vip", "after.top"]
    assert dict(read.rejected.counts) == {"bad-json": 2}


def test_json_lines_go_on_after_a_broken_record(tmp_path: Path) -> None:
    """In JSON Lines one undecodable record (bad syntax, an integer over Python's digit limit) is rejected; the rest are read."""
    path = write_file(tmp_path / "feed.jsonl", "\n".join([
        json.dumps({"url": "https://first.top/"}),
        '{"url": "https://broken.top/", }',
        '{"url": "https://bignum.top/", "n": ' + "9" * 5000 + "}",
        json.dumps({"url": "https://last.top/"}),
        '{"url": "https://cut-off.top/"',
    ]))
    read = read_one(path)
    assert [n.name for n in read.names] == ["first.top", "last.top"]
    assert dict(read.rejected.counts) == {"bad-json": 3}
    assert [sample.split(":")[1] for sample, _ in read.rejected.samples] == ["2", "3", "5"]


def test_lines_of_a_broken_multi_line_record_are_never_read_on_their_own(tmp_path: Path) -> None:
    """A pretty-printed JSON Lines record that is broken is skipped whole, up to the next line starting with
    ``{``: the strings inside it (an ``@@`` rule, a host) never become list lines; samples name the right line."""
    path = write_file(tmp_path / "feed.jsonl", (
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
    read = read_one(path)
    assert [(n.name, n.action) for n in read.names] == [("phish-b.top", Action.BLOCK), ("phish-d.top", Action.BLOCK)]
    assert dict(read.rejected.counts) == {"bad-json": 1}
    assert read.rejected.samples[0][0].startswith("feed.jsonl:2: ")


def test_json_lines_resume_after_a_broken_record_across_reads(tmp_path: Path) -> None:
    """The next record after a broken one is found wherever the read buffer ends, and keeps its line number."""
    good = json.dumps({"url": "https://after.top/"})
    for padding in range(64 * 1024 - 40, 64 * 1024 + 4):
        broken = '{"url": "https://broken.top/", ' + '"p": "' + "x" * padding + '", }'
        path = write_file(tmp_path / "feed.jsonl", broken + "\n" + good + "\n")
        read = read_lists([path])
        assert [n.name for n in read.names] == ["after.top"], padding
        assert dict(read.rejected.counts) == {"bad-json": 1}


def test_json_array_with_an_oversized_integer_is_bad_json(tmp_path: Path) -> None:
    """An integer over Python's digit limit in a JSON array ends that file as ``bad-json``, not with a traceback."""
    path = write_file(tmp_path / "feed.json", '[{"url": "https://first.top/"}, {"n": ' + "1" * 5000 + "}]")
    read = read_one(path)
    assert [n.name for n in read.names] == ["first.top"]
    assert dict(read.rejected.counts) == {"bad-json": 1}


def test_huge_json_record_is_rejected(tmp_path: Path) -> None:
    """A JSON value larger than the record limit is rejected without reading the document whole."""
    path = tmp_path / "huge.json"
    path.write_text(json.dumps([dict(PHISHTANK_RECORD, padding="x" * 2_000_000)]), encoding="utf-8")
    read = read_one(path)
    assert read.names == []
    assert dict(read.rejected.counts) == {"record-too-long": 1}


def test_deeply_nested_json_is_one_rejection(tmp_path: Path) -> None:
    """JSON nested deeper than Python's parser recurses is ``bad-json`` for that file, not a crash."""
    deep = write_file(tmp_path / "deep.json", '{"a":' * 100_000 + "1" + "}" * 100_000)
    nested = write_file(tmp_path / "nested.json", json.dumps([PHISHTANK_RECORD])[:-1] + ", " + "[" * 100_000 + "]" * 100_001)
    read = read_lists([deep, nested, write_file(tmp_path / "after.txt", "after.top\n")])
    assert [n.name for n in read.names] == ["usdt-licai.vip", "after.top"]
    assert dict(read.rejected.counts) == {"bad-json": 2}
    assert any("nested too deeply" in value for value, _ in read.rejected.samples)
