"""Name validation and URL splitting: the one definition of a valid name."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudwall.exceptions import InvalidName
from fraudwall.names import is_ip_literal, is_public_suffix, normalize_name, parse_url, registrable_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("ＩＣＢＣ-kefu．top", "icbc-kefu.top"),  # full-width letters and dot (UTS-46)
        ("工商银行-kefu.top", "xn---kefu-mk0i282cg63fw2xa.top"),  # stdlib punycode agrees
        ("xn--fiqs8s.xn--fiqs8s", "xn--fiqs8s.xn--fiqs8s"),
    ],
)
def test_normalize_to_a_labels(raw: str, expected: str) -> None:
    """Names come out as lowercase A-labels."""
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"), ("a..com", "empty-label"), ("-a.com", "bad-character"), ("a_b.com", "bad-character"),
        ("1.2.3.4", "ip-literal"), ("::1", "ip-literal"), ("com", "single-label"), ("a.com\nlocal=/x/", "bad-character"),
        ("a.com\x00", "bad-character"), ('a".com', "bad-character"), ("x" * 64 + ".com", "label-too-long"),
        (".".join(["a" * 60] * 5), "name-too-long"), ("xn--zz-.com", "bad-idna"), ("*.example.com", "bad-character"),
        ("example.123", "numeric-tld"),
        ("0x7f.0x1", "numeric-tld"),  # a browser's 127.0.0.1
        ("1.2.3.0x4", "numeric-tld"),
        ("evil.0xa", "numeric-tld"),
    ],
)
def test_invalid_names_are_rejected_with_reason(raw: str, reason: str) -> None:
    """Every kind of bad name raises InvalidName with a countable reason."""
    with pytest.raises(InvalidName) as caught:
        normalize_name(raw)
    assert caught.value.reason == reason


def test_underscore_policy_is_explicit() -> None:
    """Underscores are refused unless the caller's format allows them."""
    assert normalize_name("_dmarc.example.com", allow_underscore=True) == "_dmarc.example.com"


def test_public_suffix_list_is_offline_and_includes_private_suffixes() -> None:
    """Registered domains follow the bundled PSL, private suffixes such as github.io included."""
    assert registrable_domain("a.b.example.com.cn") == "example.com.cn"
    assert registrable_domain("scam.github.io") == "scam.github.io"
    assert registrable_domain("com.cn") == ""
    assert is_public_suffix("github.io") and is_public_suffix("com.cn")
    assert not is_public_suffix("example.com")


def test_parse_url_splits_host_and_domain() -> None:
    """A URL's host is normalised and split into subdomain, domain and suffix."""
    parts = parse_url("HTTP://WWW.工商银行-Kefu.com.cn:8080/login?x=1")
    assert parts.host == "www." + normalize_name("工商银行-kefu.com.cn")
    assert parts.unicode_host == "www.工商银行-kefu.com.cn"
    assert parts.registrable_domain == normalize_name("工商银行-kefu.com.cn")
    assert (parts.subdomain, parts.suffix, parts.port, parts.path, parts.query) == ("www", "com.cn", 8080, "/login", "x=1")
    ip = parse_url("http://[::1]:81/")
    assert ip.is_ip and ip.host == "::1" and ip.registrable_domain == ""
    with pytest.raises(InvalidName):
        parse_url("http:///nohost")


def test_parse_url_finds_the_host_a_browser_visits() -> None:
    """A backslash is ``/`` to a browser, so the host is before it; port 0 is no URL a client opens."""
    parts = parse_url("https://phish.top\\@bank.example/login")
    assert (parts.host, parts.path) == ("phish.top", "/@bank.example/login")
    for url in ("https://zero.top:0/", "https://zero.top:00/"):
        with pytest.raises(InvalidName, match="port 0"):
            parse_url(url)


def test_suffix_list_never_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """tldextract works from its bundled snapshot: no socket is ever opened for the suffix list."""
    import socket

    from fraudwall.names import suffix_extractor

    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)  # recorded, because tldextract would swallow the error and fall back
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    suffix_extractor.cache_clear()
    assert registrable_domain("scam.example.co.uk") == "example.co.uk"
    assert registrable_domain("fraud.pages.dev") == "fraud.pages.dev"
    assert attempts == []


def _parses_as_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", [
    "1.2.3.4", "[::1]", "::", "fe80::1%eth0", "2001:db8::8a2e:370:7334", "::ffff:1.2.3.4", "0.0.0.0",
    "1.2.3", "01.2.3.4", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "a.b", "１.２.３.４", "١.٢.٣.٤", "", "[]", ":", "x:y",
])
def test_ip_literal_check_agrees_with_ipaddress(text: str) -> None:
    """The quick refusal of text that cannot be an address never changes ipaddress's answer."""
    assert is_ip_literal(text) == _parses_as_address(text)


@settings(max_examples=500, derandomize=True)
@given(st.text(alphabet="0123456789abcdef.:[]%x ", max_size=45))
def test_ip_literal_check_agrees_with_ipaddress_on_generated_text(text: str) -> None:
    """Generated address-like text: the quick refusal agrees with ipaddress everywhere."""
    assert is_ip_literal(text) == _parses_as_address(text)
