"""The DEX string table reader: MUTF-8, hostile headers, the budget."""

from __future__ import annotations

import struct

from fraudwall.apk_analysis.budget import ApkBudget, Meter
from fraudwall.apk_analysis.dex_strings import StringAllowance, decode_mutf8, read_strings
from tests.apk_analysis.apk_builders import make_dex, mutf8


def _read(dex: bytes, strings: int = 1000, size: int = 1 << 20, seconds: float = 60.0):
    allowance = StringAllowance(strings, size)
    return read_strings(dex, allowance, Meter(ApkBudget(seconds=seconds))), allowance


def test_reads_every_string_in_order() -> None:
    """Every string of the table comes back, in table order, plain and non-ASCII alike."""
    strings = ["Lcom/example/Main;", "https://api.example.top/v1", "客服微信", ""]
    result, allowance = _read(make_dex(strings))
    assert result.strings == tuple(strings)
    assert result.problem == ""
    assert allowance.strings == 1000 - len(strings)


def test_modified_utf8_nul_and_supplementary_characters() -> None:
    """Java's modified UTF-8 (NUL as C0 80, emoji as two surrogates) decodes to the real characters."""
    result, _ = _read(make_dex(["a\0b", "pay 😀 now"]))
    assert result.strings == ("a\0b", "pay 😀 now")
    assert decode_mutf8(mutf8("😀")) == "😀"
    assert decode_mutf8(b"\xff\xfe ok") == "\ufffd\ufffd ok"


def test_not_a_dex() -> None:
    """Bytes that are no DEX give no strings and say so."""
    result, _ = _read(b"PK\x03\x04" + b"\0" * 200)
    assert result == result.__class__((), "not a DEX file")


def test_count_beyond_the_file_is_clamped() -> None:
    """A header claiming four billion strings reads the ones that fit, quickly, and reports the lie."""
    result, _ = _read(make_dex(["one", "two"], declared_count=0xFFFFFFFF), strings=10**9)
    assert result.problem == "string table runs past the end of the file"
    assert "one" in result.strings and "two" in result.strings


def test_offset_outside_the_file_is_skipped() -> None:
    """A string offset pointing past the file is skipped; the others are read."""
    result, _ = _read(make_dex(["lost", "kept"], bad_offset=0x7FFFFFFF))
    assert result.strings == ("kept",)


def test_unterminated_string_is_skipped() -> None:
    """A last string without its NUL terminator is not read past the end of the file."""
    dex = make_dex(["first", "last"])[:-1]
    result, _ = _read(dex)
    assert result.strings == ("first",)


def test_string_count_budget() -> None:
    """The count allowance stops the reader and is spent."""
    result, allowance = _read(make_dex([f"s{index}" for index in range(100)]), strings=10)
    assert len(result.strings) == 10
    assert result.problem == "string budget reached"
    assert allowance.strings == 0


def test_string_byte_budget() -> None:
    """The byte allowance stops the reader before a huge string is decoded."""
    result, _ = _read(make_dex(["small", "x" * 10_000, "after"]), size=100)
    assert result.strings == ("small",)
    assert result.problem == "string byte budget reached"


def test_deadline_stops_the_reader() -> None:
    """Past the deadline the reader stops at its next look at the clock and says why."""
    result, _ = _read(make_dex([f"s{index}" for index in range(10_000)]), strings=10**6, seconds=-1)
    assert result.problem == "time budget reached"
    assert len(result.strings) < 10_000


def test_uleb128_lengths_of_long_strings() -> None:
    """Strings longer than 127 characters (a two-byte uleb128 length) read whole."""
    long = "u" * 300
    result, _ = _read(make_dex([long, "next"]))
    assert result.strings == (long, "next")
    assert struct.unpack_from("<I", make_dex([long]), 0x38)[0] == 1
