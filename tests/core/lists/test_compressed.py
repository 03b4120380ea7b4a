"""Damaged gzip, bzip2 and xz files: every whole line before the damage, as zcat, bzcat and xzcat give it, then one
rejection."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fraudwall.lists import ListRead, read_lists
from fraudwall.lists import input as lists_input
from tests.core.lists.samples import read_one, write_file


def test_corrupt_compressed_file_keeps_what_was_read(tmp_path: Path) -> None:
    """A truncated gzip file is a rejection, not a crash; the lines before the damage count."""
    payload = "".join(f"name-{n}.shuadan.top\n" for n in range(20000)).encode()
    (tmp_path / "cut.gz").write_bytes(gzip.compress(payload)[:-200])
    read = read_one(tmp_path / "cut.gz")
    assert read.rejected.counts["corrupt-file"] == 1
    assert len(read.names) > 15000


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
    read = read_one(path)
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
    read = read_lists([path, write_file(tmp_path / "after.txt", "after.top\n")])
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
    read = read_one(padded)
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
    read = read_one(path)
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
    read = read_one(path)
    assert [n.name for n in read.names] == ["paypal.com.evil.top"]
    assert dict(read.rejected.counts) == {"corrupt-file": 1}
    assert read.rejected.samples[0][0] == f"cut.gz:{2 if csv else 1}: {CUT_SHORT}"


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz"])
def test_limits_hold_for_every_compression(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    """The expansion limit (``compression-bomb``) and the byte cap (``input-too-large``) stop bzip2 and xz
    files as they stop gzip ones, keeping the whole names read before; neither is damage."""
    monkeypatch.setattr(lists_input, "COMPRESSION_CHECK_BYTES", 1024 * 1024)  # a bomb of a few MiB trips it
    bomb = tmp_path / "bomb.list"
    bomb.write_bytes(COMPRESS[kind](b"before-the-bomb.top\n" + b"\n" * (4 * 1024 * 1024) + b"after-the-bomb.top\n"))
    read = read_one(bomb)
    assert [n.name for n in read.names] == ["before-the-bomb.top"]
    assert dict(read.rejected.counts) == {"compression-bomb": 1}
    names = _fraud_names(10_000)
    big = tmp_path / "big.list"
    big.write_bytes(COMPRESS[kind](_listing(names)))
    read = read_lists([big], max_bytes=100_000)
    assert dict(read.rejected.counts) == {"input-too-large": 1}
    assert 0 < len(read.names) and [n.name for n in read.names] == names[:len(read.names)]
