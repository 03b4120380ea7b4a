"""The tolerant zip reader: Android's reading of tampered archives, caps, and rejections."""

from __future__ import annotations

import struct
import zlib

import pytest

from fraudwall.apk_analysis.archive import Archive
from fraudwall.apk_analysis.budget import MIB, ApkBudget, Meter
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.apk_analysis.notes import Notes
from fraudwall.exceptions import InputError
from fraudwall.exit_codes import ExitCode
from tests.apk_analysis.apk_builders import (
    PNG_1X1, end_record, insert_before_end, make_dex, make_zip, make_zip64, prepend, set_method,
)

MANIFEST_BYTES = b"\x03\x00\x08\x00" + b"manifest body" * 10


def _open(data: bytes, budget: ApkBudget | None = None) -> tuple[Archive, Notes]:
    notes = Notes()
    return Archive.open(data, Meter(budget or ApkBudget()), notes), notes


def test_reads_members_like_zipfile() -> None:
    """Stored and deflated members read back byte for byte, in central directory order."""
    data = make_zip([("AndroidManifest.xml", MANIFEST_BYTES), ("assets/a.txt", b"hello " * 100)])
    archive, notes = _open(data)
    assert archive.names == ["AndroidManifest.xml", "assets/a.txt"]
    assert archive.read(archive.members[0]) == MANIFEST_BYTES
    assert archive.read(archive.members[1]) == b"hello " * 100
    assert notes.result() == ()


def test_unknown_compression_method_is_read_as_stored() -> None:
    """A stored member whose method says 30208 reads as stored, as Android reads it, and is noted."""
    data = set_method(make_zip([("AndroidManifest.xml", MANIFEST_BYTES)], method=0), "AndroidManifest.xml", 30208)
    archive, notes = _open(data)
    assert archive.read(archive.member("AndroidManifest.xml")) == MANIFEST_BYTES
    assert "invalid compression method 30208 on AndroidManifest.xml" in notes.result()


def test_garbage_between_directory_and_end_record() -> None:
    """Bytes between the central directory and its end record are tolerated and reported with their count."""
    data = insert_before_end(make_zip([("classes.dex", make_dex(["a"]))]), b"\xde\xad" * 64)
    archive, notes = _open(data)
    assert archive.member("classes.dex") is not None
    assert "128 bytes between the central directory and its end record" in notes.result()


def test_comment_after_end_record_is_fine() -> None:
    """A zip comment (even one holding an end-record signature) leaves the archive readable and unremarked."""
    data = bytearray(make_zip([("classes.dex", make_dex(["a"]))]))
    comment = b"channel=PK\x05\x06fake"
    struct.pack_into("<H", data, end_record(bytes(data)) + 20, len(comment))
    archive, notes = _open(bytes(data) + comment)
    assert archive.names == ["classes.dex"]
    assert notes.result() == ()


def test_zip64_records_and_extra_fields() -> None:
    """A zip64 archive (end record, locator, sizes and offset in the extra field) reads without notes."""
    dex = make_dex(["https://zip64.example.top/"])
    archive, notes = _open(make_zip64("classes.dex", dex))
    assert archive.names == ["classes.dex"]
    assert archive.read(archive.member("classes.dex")) == dex
    assert notes.result() == ()


def test_janus_dex_before_the_zip() -> None:
    """A DEX in front of the zip (offsets moved to match) is the Janus layout: readable, reported, kept as prefix."""
    dex = make_dex(["https://payload.example.top/"])
    data = prepend(dex, make_zip([("AndroidManifest.xml", MANIFEST_BYTES)]))
    archive, notes = _open(data)
    assert archive.read(archive.member("AndroidManifest.xml")) == MANIFEST_BYTES
    assert archive.prefix == dex
    assert "DEX before the zip (Janus, CVE-2017-13156)" in notes.result()


def test_data_prepended_without_moving_offsets() -> None:
    """Bytes prepended without fixing offsets (a self-extractor) are found from the end record, and noted."""
    data = b"MZ" + b"\0" * 98 + make_zip([("classes.dex", make_dex(["a"]))])
    archive, notes = _open(data)
    assert archive.read(archive.member("classes.dex")).startswith(b"dex\n")
    assert any("100 bytes off" in note for note in notes.result())


def test_zip_bomb_stops_at_the_member_cap() -> None:
    """A member that inflates past the per-member cap gives the cap's worth of bytes and a bomb note, no error."""
    zeros = 8 * MIB
    data = make_zip([("classes.dex", make_dex(["a"])), ("assets/data.bin", b"\0" * zeros)])
    archive, notes = _open(data, ApkBudget(member_bytes=1 * MIB))
    assert len(data) < zeros // 100
    content = archive.read(archive.member("assets/data.bin"))
    assert len(content) == 1 * MIB
    assert any(note.startswith("zip bomb: member assets/data.bin") for note in notes.result())


def test_total_cap_covers_all_members() -> None:
    """Members together stop at the total cap; reads after it give nothing and say so."""
    data = make_zip([(f"assets/{index}.bin", b"\1" * MIB) for index in range(4)])
    archive, notes = _open(data, ApkBudget(member_bytes=4 * MIB, total_bytes=2 * MIB))
    sizes = [len(archive.read(member)) for member in archive.members]
    assert sizes == [MIB, MIB, 0, 0]
    assert any("total decompression cap" in note for note in notes.result())


def test_declared_bomb_is_noted_without_reading() -> None:
    """A member whose central directory declares more than the cap is a bomb before anything is inflated."""
    data = bytearray(make_zip([("classes.dex", make_dex(["a"])), ("assets/big.bin", b"x" * 1000)]))
    position = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)
    struct.pack_into("<I", data, position + 24, 2**31)
    _, notes = _open(bytes(data))
    assert any("zip bomb: member assets/big.bin declares" in note for note in notes.result())


def test_path_traversal_and_duplicate_names_are_listed_not_refused() -> None:
    """Names escaping the folder and duplicated names are noted; the first of a duplicated name is the one read."""
    data = make_zip([("../../evil.sh", b"x"), ("/etc/cron.d/x", b"y"), ("classes.dex", b"first"),
                     ("classes.dex", b"second")])
    archive, notes = _open(data)
    assert archive.read(archive.member("classes.dex")) == b"first"
    assert set(notes.result()) >= {
        "path-traversal member name ../../evil.sh", "path-traversal member name /etc/cron.d/x",
        "duplicate entry classes.dex",
    }


def test_symbolic_link_members_are_noted() -> None:
    """A member zipped on Unix as a symbolic link (an extracting tool follows it off the disk) is noted; a plain
    file with Unix permissions is not."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("assets/conf")
        link.create_system, link.external_attr = 3, (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
        plain = zipfile.ZipInfo("classes.dex")
        plain.create_system, plain.external_attr = 3, (0o100644 << 16)
        archive.writestr(plain, b"dex\n035\0")
    _, notes = _open(out.getvalue())
    assert notes.result() == ("symbolic link member assets/conf",)


def test_zero_local_sizes_use_the_central_directory() -> None:
    """Zeroed sizes in a stored member's local header (a trick against stream readers) do not matter."""
    data = bytearray(make_zip([("AndroidManifest.xml", MANIFEST_BYTES)], method=0))
    struct.pack_into("<II", data, 18, 0, 0)
    archive, _ = _open(bytes(data))
    assert archive.read(archive.member("AndroidManifest.xml")) == MANIFEST_BYTES


def test_bogus_compressed_size_lets_the_deflate_stream_end_itself() -> None:
    """A deflated member whose central compressed size is zero still inflates completely."""
    data = bytearray(make_zip([("assets/a.txt", b"abc" * 1000)]))
    struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 20, 0)
    archive, _ = _open(bytes(data))
    assert archive.read(archive.member("assets/a.txt")) == b"abc" * 1000


def test_misaligned_directory_entry_is_resynchronised() -> None:
    """An entry whose extra length is one short (so the next entry starts a byte late) is read all the same."""
    data = bytearray(make_zip([("AndroidManifest.xml", MANIFEST_BYTES), ("classes.dex", make_dex(["a"]))]))
    directory = data.find(b"PK\x01\x02")
    name_length = struct.unpack_from("<H", data, directory + 28)[0]
    data[directory + 46 + name_length:directory + 46 + name_length] = b"\0"  # one more byte than declared
    end = end_record(bytes(data))
    struct.pack_into("<I", data, end + 12, struct.unpack_from("<I", data, end + 12)[0] + 1)
    archive, notes = _open(bytes(data))
    assert archive.names == ["AndroidManifest.xml", "classes.dex"]
    assert "central directory entry 1 misaligned by 1 bytes" in notes.result()


def test_encrypted_flag_is_ignored_like_android() -> None:
    """The encryption flag, which stops desktop tools but not Android, is noted and the member still read."""
    data = bytearray(make_zip([("classes.dex", b"dex\n035\0")], method=0))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        struct.pack_into("<H", data, position + flag_at, 1)
    archive, notes = _open(bytes(data))
    assert archive.read(archive.member("classes.dex")) == b"dex\n035\0"
    assert "classes.dex flagged as encrypted (Android ignores the flag)" in notes.result()


def test_corrupt_deflate_data_is_noted() -> None:
    """Deflate data that does not inflate gives nothing for that member and a note, never an exception."""
    data = bytearray(make_zip([("assets/a.txt", b"abc" * 1000)]))
    start = 30 + len("assets/a.txt")
    data[start:start + 8] = b"\xff" * 8
    archive, notes = _open(bytes(data))
    assert archive.read(archive.member("assets/a.txt")) == b""
    assert "assets/a.txt: corrupt deflate data" in notes.result()


def test_partial_read_stops_early_without_notes() -> None:
    """A deliberate partial read (the first bytes of a member) is not a cap reached."""
    data = make_zip([("assets/big.bin", zlib.compress(b"") + b"\0" * MIB)])
    archive, notes = _open(data)
    assert len(archive.read(archive.member("assets/big.bin"), limit=4)) == 4
    assert notes.result() == ()


def test_notes_are_capped_per_kind() -> None:
    """Thousands of duplicate names give a few notes and a count, not thousands of lines."""
    data = make_zip([("x", b"")] * 1000)
    _, notes = _open(data)
    assert len(notes.result()) < 10
    assert notes.result()[-1] == "... and 994 more duplicate signs"


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty file"),
    (PNG_1X1, "not a zip archive (starts with 89504e47)"),
    (b"PK\x05\x06" + b"\0" * 18, "zip archive has no entries"),
    (make_zip([("AndroidManifest.xml", MANIFEST_BYTES)])[:40],
     "truncated zip archive (no end of central directory record)"),
    (make_dex(["a"]), "not a zip archive (starts with 6465780a)"),
], ids=["empty", "png", "no-entries", "truncated", "bare-dex"])
def test_rejections(data: bytes, reason: str) -> None:
    """Input with no zip in it is rejected with a short English reason, as a data error (exit code 3)."""
    with pytest.raises(ApkRejected) as caught:
        _open(data)
    assert caught.value.reason == reason
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == ExitCode.DATA == 3


def test_end_record_pointing_nowhere_is_rejected() -> None:
    """An end record whose directory offset and size point at no directory is a corrupt archive."""
    data = bytearray(make_zip([("classes.dex", make_dex(["a"]))]))
    end = end_record(bytes(data))
    struct.pack_into("<II", data, end + 12, 5, 3)
    with pytest.raises(ApkRejected, match="corrupt zip archive"):
        _open(bytes(data))
