"""Bounded input: compression recognised by magic bytes, encodings, the line, byte and expansion limits."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import time
from pathlib import Path

import pytest

from fraudwall.lists import MAX_LINE_CHARS, read_lists, utf8_fault
from tests.core.lists.samples import JPCERT_CSV, URLHAUS_CSV, read_one, write_file


def test_compressed_inputs(tmp_path: Path) -> None:
    """gzip, bzip2 and xz are recognised by their magic bytes, whatever the file is called."""
    payload = URLHAUS_CSV.encode()
    (tmp_path / "plain.txt").write_bytes(gzip.compress(payload))
    (tmp_path / "b.csv").write_bytes(bz2.compress(payload))
    (tmp_path / "c.json").write_bytes(lzma.compress(payload))
    read = read_lists(sorted(tmp_path.iterdir()))
    assert [f.format for f in read.files] == ["urlhaus-csv"] * 3
    assert len(read.names) == 9


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


def test_line_just_under_the_limit_is_read(tmp_path: Path) -> None:
    """The line limit rejects only what is over it: a long URL under the limit is an item."""
    url = "https://long.top/" + "p" * (MAX_LINE_CHARS - 40)
    read = read_one(write_file(tmp_path / "long.txt", url + "\n" + "q" * MAX_LINE_CHARS + "\n"))
    assert [n.url for n in read.names] == [url]
    assert dict(read.rejected.counts) == {"line-too-long": 1}


def test_compression_bomb_stops_with_what_came_before(tmp_path: Path) -> None:
    """A gzip file expanding a thousand times stops as one ``compression-bomb`` soon after it starts expanding."""
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"before-the-bomb.top\n")
        for _ in range(64):  # 64 MiB of line ends, 64 KiB compressed
            out.write(b"\n" * (1024 * 1024))
        out.write(b"after-the-bomb.top\n")
    started = time.perf_counter()
    read = read_one(path)
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
    read = read_one(path)
    assert len(read.names) == len(names)
    assert not read.rejected


def test_list_over_the_size_limit_keeps_what_was_read(tmp_path: Path) -> None:
    """Reading stops at ``max_bytes`` with one ``input-too-large``; whole names before it are kept, other files read.

    No name is ever cut short at the limit (``paypal.com.evil.top`` must not become ``paypal.com``).
    """
    listed = [f"name-{n:05d}.top" for n in range(10_000)]  # 15 bytes a line
    big = write_file(tmp_path / "big.txt", "".join(f"{name}\n" for name in listed))
    small = write_file(tmp_path / "small.txt", "small.top\n")
    read = read_lists([big, small], max_bytes=100_000)
    assert dict(read.rejected.counts) == {"input-too-large": 1}
    kept = [n.name for n in read.names[:-1]]
    assert 0 < len(kept) <= 100_000 // 15
    assert kept == listed[:len(kept)]
    assert read.names[-1].name == "small.top"
    assert "more than 100000 bytes" in read.rejected.samples[0][0]


@pytest.mark.parametrize(("data", "fault"), [
    (b"\xef\xbb\xbfplain.top\n\xe5\xb7\xa5\xe5\x95\x86.top\n", None),
    (b"good.top\n\x00\x01\x02ELF", "a NUL byte at byte 9, not a text file"),
    (b"a.top\n" * 20_000 + b"\xff.top\n", "not UTF-8 text (invalid start byte at byte 120000)"),
    # A character the 64 KiB read cuts in two is whole, and one the file's end cuts is not.
    (b"a" * (64 * 1024 - 1) + "工商".encode() + b"\n", None),
    (b"cut.top\n\xe5\xb7", "not UTF-8 text (unexpected end of data at byte 8)"),
])
def test_utf8_fault_says_where_a_file_stops_being_text(tmp_path: Path, data: bytes, fault: str | None) -> None:
    """A file is UTF-8 text as a whole, or the first NUL or undecodable byte is named with its offset."""
    path = tmp_path / "seeds.txt"
    path.write_bytes(data)
    assert utf8_fault(path) == fault


def test_utf8_fault_reads_compressed_files_decompressed(tmp_path: Path) -> None:
    """A compressed text file is text; the damage of one cut short is left to the reading of the list."""
    text = "".join(f"name-{n}.top\n" for n in range(50_000)).encode()
    whole, cut = tmp_path / "whole.gz", tmp_path / "cut.gz"
    whole.write_bytes(gzip.compress(text))
    cut.write_bytes(gzip.compress(text)[:-100])
    assert utf8_fault(whole) is None
    assert utf8_fault(cut) is None
    assert read_lists([cut]).rejected.counts["corrupt-file"] == 1
