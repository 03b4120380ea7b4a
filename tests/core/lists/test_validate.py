"""Names and URLs as items: exactly what normalize_name gives, URLs as a browser reads them."""

from __future__ import annotations

from pathlib import Path

from fraudwall.exceptions import InvalidName
from fraudwall.names import normalize_name
from tests.core.lists.samples import read_one, write_file


def test_backslash_in_a_url_reads_as_a_browser_reads_it(tmp_path: Path) -> None:
    """``https://phish.top\\@bank.example/`` is on phish.top, where a browser goes; never on the bank."""
    path = write_file(tmp_path / "urls.txt", (
        "https://phish.top\\@victim-shop.com/login\nhttp://evil.top\\path\\x?next=C:\\pay#a\\b\n"))
    read = read_one(path)
    # In the query and the fragment a browser keeps the backslash.
    assert [(n.name, n.url) for n in read.names] == [
        ("phish.top", "https://phish.top/@victim-shop.com/login"), ("evil.top", "http://evil.top/path/x?next=C:\\pay#a\\b")]


def test_url_on_port_zero_is_a_bad_url(tmp_path: Path) -> None:
    """Port 0 (``:0``, ``:00``) is no port a client connects to: ``bad-url``, not an output a checker refuses."""
    read = read_one(write_file(tmp_path / "urls.txt", "https://zero.top:0/\nhttps://zeros.top:00/a\nhttps://ok.top:8443/\n"))
    assert [n.url for n in read.names] == ["https://ok.top:8443/"]
    assert dict(read.rejected.counts) == {"bad-url": 2}


def test_names_a_browser_reads_as_addresses_are_numeric_tlds(tmp_path: Path) -> None:
    """``0x7f.0x1`` and ``evil.0xa`` end in a number to a browser (an IPv4 address): ``numeric-tld``."""
    read = read_one(write_file(tmp_path / "list.txt", "0x7f.0x1\nevil.0xa\nhttp://0x7f.0x1/x\nevil.0xg\n"))
    assert [n.name for n in read.names] == ["evil.0xg"]
    assert dict(read.rejected.counts) == {"numeric-tld": 3}


def test_names_match_normalize_name(tmp_path: Path) -> None:
    """Whatever path a name takes through the reader, it comes out exactly as normalize_name gives it, or is rejected."""
    raw = [
        "Example.COM", "a_b.example.com", "-lead.top", "trail-.top", "x" * 63 + ".top", "x" * 64 + ".top",
        ".".join(["a" * 61] * 4) + ".top", ".".join(["a" * 61] * 4) + ".ab", "trailing.dot.top.", "double..dot.top",
        "xn--r8jz45g.jp", "xn--zz.top", "ＦＵＬＬ.top", "工商银行.top", "1.2.3.4", "1.2.3.top", "a.123", "a.b1",
        "under_.top", "_dmarc.example.com", "A.B",
    ]
    read = read_one(write_file(tmp_path / "names.txt", "\n".join(raw) + "\n"))
    expected = []
    for name in raw:
        try:
            expected.append(normalize_name(name, allow_underscore=True))
        except InvalidName:
            continue
    assert [n.name for n in read.names] == expected
    assert len(read.names) + read.rejected.total == len(raw)
