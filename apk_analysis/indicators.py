"""Network and contact indicators in an APK's strings: URLs, hosts, IPs, wallets, chat handles, phones.

The text comes from the DEX string tables (one string a line) and the
text-like assets. The rules are conservative: a false host or phone number
would end up on a blocklist or link unrelated campaigns, a missed one only
weakens one finding.

* **URLs**: ``http``, ``https``, ``ws`` and ``wss``, in ASCII (Chinese text
  around a URL is not part of it), trailing punctuation trimmed; the host must
  be an IP address or a valid name with a real public suffix.
* **Hosts**: every URL's host, and bare names that pass every rule of
  ``data/indicators.toml`` (lowercase, a TLD from its list, which leaves out
  file extensions such as ``.so`` and words such as ``.id``; not a Java
  package such as ``com.example.app`` or ``androidx.core.app``).
  Schema and namespace hosts (``schemas.android.com``, ``www.w3.org``) are
  dropped everywhere.
* **IPs**: URL hosts, and bare IPv4 addresses standing alone (not after
  ``/``, a letter or a dot, so ``Chrome/1.2.3.4`` and ``v1.2.3.4.5`` are not
  read) and not after a version word (``version 1.2.3.4``, ``ver:``,
  ``build``, ``版本``); bare IPv6 only as a whole string of at least four
  groups. Private addresses are kept as found; the unspecified, loopback,
  multicast, reserved and ``0.x`` / ``255.x`` (netmask) ranges are not.
* **Wallets**: :func:`fraudwall.wallets.addresses` (checksums hold).
* **Handles**: chat links (``t.me/``, ``wa.me/``, ``line.me/ti/p/``,
  ``tencent://``, ``weixin://``...) and an ID written after a channel's name
  (``QQ号: 12345``, ``微信: abc_123``), the channel words being those of
  ``fraudwall/data/page_signals.toml``; kinds and forms as the page detector
  writes them (``("telegram", "@name")``).
* **Phones**: Chinese mobiles (``1[3-9]`` and nine digits, optionally ``+86``
  or ``0086``) and ``+`` E.164 numbers, standing alone, as ``+8613812345678``;
  runs of six equal digits and of seven counted digits are placeholders, not numbers.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fraudwall import chat_ids, reference
from fraudwall.exceptions import InvalidName
from fraudwall.names import is_public_suffix, normalize_name, registrable_domain, split_url
from fraudwall.wallets import addresses

DATA_FILE = Path(__file__).resolve().parent / "data" / "indicators.toml"
MAX_URL_LENGTH = 2048

_URL = re.compile(r"(?i)(?<![A-Za-z0-9+.\-])(?:https?|wss?)://[!#-&(-;=?-\[\]_a-z~]+")
_TRAILING = ".,;:!?'\""
_BARE_NAME = re.compile(
    r"(?<![A-Za-z0-9_.\-/\\])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)"
    r"(?!\.?[A-Za-z0-9_\-])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![A-Za-z0-9_.\-/\\])({_OCTET}(?:\.{_OCTET}){{3}})(?![A-Za-z0-9_]|\.\d)")
_VERSION_BEFORE = re.compile(r"(?i)(?:(?<![a-z])(?:version|ver|v|build|sdk)|版本)[ \t:=：_-]*$")
_IPV6_TEXT = re.compile(r"[0-9A-Fa-f:]{7,39}")
_CN_MOBILE = re.compile(r"(?<![A-Za-z0-9_+./=\-])(?:(?:\+|00)86[ -]?)?(1[3-9]\d{9})(?![A-Za-z0-9_])")
_E164 = re.compile(r"(?<![A-Za-z0-9_+./=\-])\+([1-9](?:[ -]?\d){7,14})(?![A-Za-z0-9_])")
_PLACEHOLDER_DIGITS = re.compile(r"(\d)\1{5}|0123456|1234567|2345678|3456789|9876543")
# Cheap anchors: literal-led patterns the regex engine finds at memory speed (see Collector.scan).
_SCHEME_SEPARATOR = re.compile("://")
_DOT_LETTER = re.compile(r"\.[a-z]")
_DOT_DIGIT = re.compile(r"\.\d")
_COLON_HEX = re.compile(r":[0-9A-Fa-f:]")
_WALLET_ANCHORS = tuple(re.compile(pattern) for pattern in (
    r"T[1-9A-HJ-NP-Za-km-z]{33}", r"1[1-9A-HJ-NP-Za-km-z]{25}", r"3[1-9A-HJ-NP-Za-km-z]{25}", "0x", "bc1", "BC1",
))
_CHAT_ANCHORS = tuple(re.compile(re.escape(anchor)) for anchor in (  # searched in lowercased text
    "t.me/", "telegram.", "wa.me/", "line.me/", "whatsapp", "wpa.qq.com", "tencent://", "mqqwpa://", "weixin://",
    "tg://",
))
_PHONE_ANCHORS = (re.compile(r"1[3-9]\d{9}"), re.compile(r"\+\d"))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Where a link that opens a chat starts in a string; fraudwall.chat_ids.CHAT_LINKS then reads its ID.
_CHAT_LINK = re.compile(
    r"(?i)(?<![A-Za-z0-9_.\-])(?:(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog|wa\.me|line\.me)/|"
    r"(?:tg|whatsapp|tencent|mqqwpa|weixin)://|https?://(?:api|web)\.whatsapp\.com/|https?://wpa\.qq\.com/)"
    r"[!#-&(-;=?-\[\]_a-z~]*"
)


@dataclass(frozen=True, slots=True)
class Indicators:
    """Everything :class:`Collector` found, each kind in order of first appearance."""

    urls: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    wallets: tuple[tuple[str, str], ...] = ()
    handles: tuple[tuple[str, str], ...] = ()
    phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rules:
    skip_hosts: frozenset[str]
    bare_tlds: frozenset[str]
    package_roots: frozenset[str]


@functools.cache
def rules() -> _Rules:
    """The host rules of ``data/indicators.toml``."""
    data = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    return _Rules(
        skip_hosts=frozenset(data["skip"]["hosts"]),
        bare_tlds=frozenset(data["bare"]["tlds"]),
        package_roots=frozenset(data["bare"]["package_roots"]),
    )


class Collector:
    """Gathers indicators over several texts, at most ``limit`` values of each kind."""

    def __init__(self, limit: int, ignored_addresses: Iterable[str] = ()) -> None:
        """``ignored_addresses`` are dotted quads that are no address here (the app's own version name)."""
        self.limit = limit
        self.ignored_addresses = frozenset(ignored_addresses)
        self._urls: dict[str, None] = {}
        self._hosts: dict[str, None] = {}
        self._ips: dict[str, None] = {}
        self._wallets: dict[tuple[str, str], None] = {}
        self._handles: dict[tuple[str, str], None] = {}
        self._phones: dict[str, None] = {}

    def _put(self, found: dict[Any, None], value: Any) -> None:
        if len(found) < self.limit:
            found.setdefault(value, None)

    def scan(self, text: str) -> None:
        """Find every kind of indicator in ``text`` (one DEX string a line, or one asset).

        Most of an APK's strings are identifiers that hold no indicator. Each
        kind is first located by a cheap literal anchor (``://``, a dot before
        a letter, ``+`` before a digit...), which the regex engine finds at
        memory speed, and its full pattern runs only on the lines around them.
        """
        for line in _lines(text, _SCHEME_SEPARATOR):
            for match in _URL.finditer(line):
                self.add_url(match.group(0))
        lowered = text.lower()
        for line in _lines(lowered, *_CHAT_ANCHORS):
            for match in _CHAT_LINK.finditer(line):
                self._chat_link(match.group(0))
        for line in _lines(text, _DOT_LETTER):
            self._bare_names(line)
        for line in _lines(text, _DOT_DIGIT):
            self._bare_ipv4(line)
        for line in _lines(text, _COLON_HEX):
            self._bare_ipv6(line)
        for line in _lines(text, *_WALLET_ANCHORS):
            for wallet in addresses(line):
                self._put(self._wallets, wallet)
        anchors = _channel_anchors() if lowered.isascii() else (*_channel_anchors(), _NON_ASCII)
        for line in _lines(lowered, *anchors):
            self._channel_ids(line)
        for line in _lines(text, *_PHONE_ANCHORS):
            self._phone_numbers(line)

    def add_url(self, raw: str) -> bool:
        """Take ``raw`` as a URL (its host into hosts or ips); ``False`` when it has no acceptable host."""
        url = _trim(raw)
        if len(url) > MAX_URL_LENGTH or len(self._urls) >= self.limit or url in self._urls:
            return False
        try:
            split = split_url(url)
        except InvalidName:
            return False
        if split.is_ip:
            if not _keep_address(split.host):
                return False
            self._put(self._ips, split.host)
        elif not registrable_domain(split.host) or _skipped(split.host):
            return False
        else:
            self._put(self._hosts, split.host)
        self._put(self._urls, url)
        return True

    def result(self) -> Indicators:
        """What was found so far."""
        return Indicators(
            urls=tuple(self._urls), hosts=tuple(self._hosts), ips=tuple(self._ips),
            wallets=tuple(self._wallets), handles=tuple(self._handles), phones=tuple(self._phones),
        )

    # -- per kind -----------------------------------------------------------------

    def _bare_names(self, line: str) -> None:
        for match in _BARE_NAME.finditer(line):
            name = match.group(1)
            if len(self._hosts) >= self.limit:
                return
            if name not in self._hosts and bare_host(name):
                self._put(self._hosts, name)

    def _bare_ipv4(self, line: str) -> None:
        for match in _IPV4.finditer(line):
            if _VERSION_BEFORE.search(line, max(0, match.start() - 16), match.start()):
                continue
            if match.group(1) not in self.ignored_addresses and _keep_address(match.group(1)):
                self._put(self._ips, match.group(1))

    def _bare_ipv6(self, line: str) -> None:
        candidate = line.strip()
        if not _IPV6_TEXT.fullmatch(candidate) or sum(1 for group in candidate.split(":") if group) < 4:
            return
        try:
            address = str(ipaddress.IPv6Address(candidate))
        except ValueError:
            return
        if _keep_address(address):
            self._put(self._ips, address)

    def _chat_link(self, link: str) -> None:
        opened = chat_ids.chat_link(_trim(link))
        if opened:
            self._put(self._handles, opened)

    def _channel_ids(self, lowered: str) -> None:
        for kind, words, pattern in chat_ids.channel_patterns(r"[ \t]"):
            if not any(word in lowered for word in words):
                continue  # the channel is not named at all: skip the regex
            for match in pattern.finditer(lowered):
                self._put(self._handles, chat_ids.handle(kind, next(value for value in match.groups() if value)))

    def _phone_numbers(self, line: str) -> None:
        for match in _CN_MOBILE.finditer(line):
            number = match.group(1)
            if not _PLACEHOLDER_DIGITS.search(number):
                self._put(self._phones, "+86" + number)
        for match in _E164.finditer(line):
            digits = re.sub(r"[ -]", "", match.group(1))
            if not _PLACEHOLDER_DIGITS.search(digits):
                self._put(self._phones, "+" + digits)


def bare_host(name: str) -> bool:
    """True when ``name``, met outside any URL, reads as a host (see ``data/indicators.toml``)."""
    rule = rules()
    labels = name.split(".")
    if labels[-1] not in rule.bare_tlds or labels[0] in rule.package_roots or is_public_suffix(labels[0]):
        return False
    try:
        normalize_name(name)
    except InvalidName:
        return False
    return bool(registrable_domain(name)) and not _skipped(name)


def _skipped(host: str) -> bool:
    skip = rules().skip_hosts
    labels = host.split(".")
    return any(".".join(labels[index:]) in skip for index in range(len(labels) - 1))


def _keep_address(text: str) -> bool:
    """False for addresses no app reaches anyone through: unspecified, loopback, multicast, masks."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if address.is_unspecified or address.is_loopback or address.is_multicast or address.is_reserved:
        return False
    return not (address.version == 4 and text.split(".")[0] in ("0", "255"))


def _trim(url: str) -> str:
    """``url`` without the punctuation a sentence or a string literal puts after it."""
    url = url.rstrip(_TRAILING)
    while url and url[-1] in ")]" and url.count("(" if url[-1] == ")" else "[") < url.count(url[-1]):
        url = url[:-1].rstrip(_TRAILING)
    return url


def _lines(text: str, *anchors: re.Pattern[str]) -> list[str]:
    """The lines of ``text`` holding a match of any of ``anchors``, each once, in order."""
    spans: dict[int, int] = {}
    for anchor in anchors:
        last_end = -1
        for match in anchor.finditer(text):
            if match.start() < last_end:
                continue
            start = text.rfind("\n", 0, match.start()) + 1
            end = text.find("\n", match.end())
            last_end = len(text) if end < 0 else end
            spans[start] = last_end
    return [text[start:spans[start]] for start in sorted(spans)]


@functools.cache
def _channel_anchors() -> tuple[re.Pattern[str], ...]:
    """Where a channel ID can be: after a colon, or after a channel word whose ID needs none (ASCII words).

    Chinese channel words are found through any non-ASCII character instead (rare in DEX strings).
    """
    words = {word for kind, words in reference.page_signals().channel_words.items() if kind in chat_ids.ID_AFTER_COLON
             for word in words if word not in chat_ids.NEEDS_COLON and word.isascii()}
    return (re.compile(":"), re.compile("："), *(re.compile(re.escape(word)) for word in sorted(words)))


