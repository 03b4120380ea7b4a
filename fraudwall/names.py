"""Domain names and URLs: IDNA normalisation, validation, public-suffix splitting.

One place decides what a valid name is, so the crawler, the detectors, the
guards and every exporter agree. The public suffix list is the snapshot that
ships inside tldextract, read offline: fraudwall never downloads it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit, urlunsplit

import idna
import tldextract

from fraudwall.entries import find, subtree
from fraudwall.exceptions import InvalidName
from fraudwall.models import UrlParts

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63

# LDH labels, optionally with underscores (allowed by the caller's policy).
_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_LDH_UNDERSCORE_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
# A whole valid lowercase name in one match: the fast path for the millions of
# plain ASCII names in national lists. Anything it does not match takes the
# full path, which also finds the precise reason for a rejection.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ULABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_FAST_NAME = re.compile(rf"(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?")
_FAST_UNDERSCORE_NAME = re.compile(rf"(?:{_ULABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?")
# Full stop, ideographic full stop, full-width full stop, half-width ideographic full stop.
_DOTS = frozenset(".\u3002\uff0e\uff61")
# A last label the WHATWG URL parser takes for a number: decimal, or 0x hexadecimal (octal is decimal digits).
_NUMBER_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def label_regex(chars: str, first: str = "") -> str:
    """A regex for a label of ``chars`` (a character class body) and inner hyphens, 63 at most.

    ``[c](?:[c-]{0,61}[c])?`` gives back a character at every label end; a
    possessive run checked by a lookbehind takes each character once, which
    makes a guard over millions of lines several times faster. A label always
    takes its whole run of label characters, so it must be followed by
    something else (a dot, a space, a quote, the end). ``first`` narrows the
    first character.
    """
    return rf"[{first or chars}](?:[{chars}-]{{0,62}}+(?<=[{chars}]))?"


def _name_lines(chars: str) -> str:
    """Lines (each ending in ``\\n``) of names with labels of ``chars`` and a last label starting with a letter."""
    return rf"(?:(?:{label_regex(chars)}\.)+{label_regex('a-z0-9', first='a-z')}\n)*+"


# Many names at once, one per line: a subset of what the fast path of
# normalize_name returns unchanged (no length limit on the whole name, and
# "xn--" is allowed here: plain_name_lines checks both).
_NAME_LINES = re.compile(_name_lines("a-z0-9"))
_UNDERSCORE_NAME_LINES = re.compile(_name_lines("a-z0-9_"))
# The same, any case (ASCII only), for reading lists: the reader lowercases what it takes.
_ANY_CASE_NAME_LINES = re.compile(_name_lines("a-z0-9_"), re.ASCII | re.IGNORECASE)


_IPV4_CHARACTERS = re.compile(r"[0-9.]+")


@functools.cache
def suffix_extractor() -> tldextract.TLDExtract:
    """The offline public-suffix splitter, private suffixes (github.io...) included."""
    return tldextract.TLDExtract(
        suffix_list_urls=(),  # never fetch: use the snapshot bundled with tldextract
        cache_dir=None,
        include_psl_private_domains=True,
    )


def is_ip_literal(value: str) -> bool:
    """True for IPv4/IPv6 literals, with or without IPv6 brackets."""
    text = value.strip("[]")
    # Most text asked about is a name: only an IPv6 literal has a colon, and an IPv4 one has
    # nothing but digits and dots. The rest is refused here, not by two failed parses.
    if ":" not in text and not _IPV4_CHARACTERS.fullmatch(text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def url_address(host: str) -> str:
    """The public IPv4 address a URL's ``host`` is written as, in canonical form, or :class:`InvalidName`.

    A URL on an address (``http://45.76.12.34/login``) is blocked as a URL, never by its
    address: a gateway matches it, an IP set does not take it. Reasons: ``ip-literal`` for an
    IPv6 host (its bracketed form is not yet written by every URL format), ``non-public-address``
    for an address that is not globally routable (a router page, a test range, loopback).
    """
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError as exc:
        raise InvalidName("ip-literal", f"{host!r}: not an IP address") from exc
    if address.version != 4:
        raise InvalidName("ip-literal", f"{host}: URLs on IPv6 addresses are not published")
    if not address.is_global:
        raise InvalidName("non-public-address", str(address))
    return str(address)


def url_host(raw: str, *, allow_underscore: bool = True) -> str:
    """The host of a URL-level entry as exporters write it: a normalised name, or :func:`url_address`."""
    if is_plain_name(raw, allow_underscore=allow_underscore):  # most hosts, in one match
        return raw
    return url_address(raw) if is_ip_literal(raw) else normalize_name(raw, allow_underscore=allow_underscore)


def is_plain_name(name: str, *, allow_underscore: bool = False) -> bool:
    """True when ``name`` is a lowercase LDH name needing no IDNA care, which :func:`normalize_name` returns as it is.

    One match: the fast path for the millions of plain ASCII names in national
    lists. Its top label starts with a letter, so no IP literal or numeric TLD
    passes; ``False`` says only that the name needs the full path.
    """
    pattern = _FAST_UNDERSCORE_NAME if allow_underscore else _FAST_NAME
    return len(name) <= MAX_NAME_LENGTH and "xn--" not in name and pattern.fullmatch(name) is not None


def normalize_name(raw: str, *, allow_underscore: bool = False) -> str:
    """Return ``raw`` as a lowercase A-label name, or raise :class:`InvalidName`.

    Applies UTS-46 mapping (full-width letters, case, dots such as ``。``), then
    checks label and name lengths and the allowed characters. IP literals,
    empty labels, wildcards and anything with spaces or control characters
    are rejected; a single trailing dot is accepted and removed.
    """
    if not isinstance(raw, str):
        raise InvalidName("not-text", repr(raw))
    if raw.isascii():
        fast = raw.lower()
        if fast.endswith("."):
            fast = fast[:-1]
        if is_plain_name(fast, allow_underscore=allow_underscore):
            return fast
    name = raw.strip()
    if not name:
        raise InvalidName("empty", "empty name")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise InvalidName("bad-character", repr(raw))
    if is_ip_literal(name):
        raise InvalidName("ip-literal", name)
    # One trailing dot is the root: any of the dots UTS-46 maps to "." (evil.top。 is evil.top.).
    if name[-1] in _DOTS and name[-2:-1] not in _DOTS:
        name = name[:-1]
    if name.isascii():
        name = name.lower()
        if "xn--" in name:
            try:  # an A-label must decode, or it is garbage dressed as punycode
                idna.decode(name)
            except idna.IDNAError as exc:
                raise InvalidName("bad-idna", f"{raw!r}: {exc}") from exc
    else:
        try:
            name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidName("bad-idna", f"{raw!r}: {exc}") from exc
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName("name-too-long", f"{len(name)} characters")
    labels = name.split(".")
    if len(labels) < 2:
        raise InvalidName("single-label", name)
    pattern = _LDH_UNDERSCORE_LABEL if allow_underscore else _LDH_LABEL
    for label in labels:
        if not label:
            raise InvalidName("empty-label", name)
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidName("label-too-long", f"{label[:20]}... is {len(label)} characters")
        if not pattern.match(label):
            raise InvalidName("bad-character", f"label {label!r} in {name!r}")
    if _NUMBER_LABEL.fullmatch(labels[-1]):
        # A browser reads a name ending in a number as an IPv4 address (WHATWG URL standard):
        # 0x7f.0x1 is 127.0.0.1, so it names no domain to block.
        raise InvalidName("numeric-tld", name)
    return name


def plain_name_lines(lines: Sequence[str], *, allow_underscore: bool = False) -> bool:
    """True when :func:`normalize_name` would return every name in ``lines`` unchanged.

    The bulk form of the check, for millions of names: one regex over the
    joined names instead of one call per name. ``False`` says only that some
    name needs the full path (or is invalid); callers then check name by name.
    """
    if not lines or max(map(len, lines)) > MAX_NAME_LENGTH:
        return not lines
    text = "\n".join(lines) + "\n"
    pattern = _UNDERSCORE_NAME_LINES if allow_underscore else _NAME_LINES
    # A name holding a line break would pass as two good lines.
    return "xn--" not in text and text.count("\n") == len(lines) and pattern.fullmatch(text) is not None


def unplain_name_indexes(lines: Sequence[str], *, allow_underscore: bool = False,
                         max_length: int = MAX_NAME_LENGTH) -> list[int]:
    """The indexes of the names in ``lines`` that :func:`plain_name_lines` would not pass on their own.

    Those are the names that need :func:`normalize_name`'s full path (an IDN,
    an underscore where none is allowed, upper case, a bad name), or are longer
    than ``max_length``; every other name would come back from it unchanged.
    One regex over the joined names finds the end of each run of good ones, so
    a few bad names among tens of thousands cost one pass, not one per name.
    """
    if not lines:
        return []
    text = "\n".join(lines) + "\n"
    if text.count("\n") != len(lines):  # a name holding a line break: lines and names no longer line up
        return [index for index, line in enumerate(lines)
                if not plain_name_lines([line], allow_underscore=allow_underscore) or len(line) > max_length]
    pattern = _UNDERSCORE_NAME_LINES if allow_underscore else _NAME_LINES
    found: set[int] = set()
    position = index = 0
    while True:
        end = pattern.match(text, position).end()  # type: ignore[union-attr]  # a possessive run always matches
        index += text.count("\n", position, end)
        if end == len(text):
            break
        found.add(index)  # the line at ``end`` breaks the run: skip it
        position = text.index("\n", end) + 1
        index += 1
    if "xn--" in text:
        found.update(index for index, line in enumerate(lines) if "xn--" in line)
    limit = min(max_length, MAX_NAME_LENGTH)
    if max(map(len, lines)) > limit:
        found.update(index for index, line in enumerate(lines) if len(line) > limit)
    return sorted(found)


def plain_name_run(text: str, start: int, *, lowercase: bool) -> int:
    """Where the run of plain-name lines (underscores allowed) beginning at ``start`` in ``text`` ends.

    Every line in ``text[start:end]`` ends in ``\\n`` and, lowercased, matches
    the fast path of ``normalize_name(..., allow_underscore=True)``, except for
    the name length and ``xn--``, which the caller checks on the lines it takes.
    ``lowercase`` says ``text`` is known to be lowercase, which makes the
    match about twice as fast; otherwise any ASCII case matches.
    """
    pattern = _UNDERSCORE_NAME_LINES if lowercase else _ANY_CASE_NAME_LINES
    match = pattern.match(text, start)
    return start if match is None else match.end()


def to_unicode(name: str) -> str:
    """The U-label form of an A-label name, for display and homoglyph checks."""
    try:
        return idna.decode(name)
    except (idna.IDNAError, UnicodeError):
        return name


def registrable_domain(name: str) -> str:
    """The registered domain of ``name`` (``a.b.example.com.cn`` -> ``example.com.cn``).

    Empty when ``name`` is itself a public suffix or has no known suffix.
    """
    parts = suffix_extractor()(name)
    if not parts.suffix or not parts.domain:
        return ""
    return f"{parts.domain}.{parts.suffix}"


@functools.cache
def _public_suffix_rules() -> frozenset[str]:
    """The bundled public suffix list's rules (private ones included), in A-label and U-label forms."""
    rules: set[str] = set()
    for rule in suffix_extractor()._get_tld_extractor().tlds_incl_private:
        rules.add(rule)
        if rule.isascii():  # already its own A-label form: most rules, and encoding 10,000 takes a while
            continue
        prefix = "!" if rule.startswith("!") else "*." if rule.startswith("*.") else ""
        try:
            rules.add(prefix + idna.encode(rule[len(prefix):], uts46=True).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            pass  # a rule idna cannot encode cannot match an A-label name either
    return frozenset(rules)


@functools.cache
def _plain_public_suffix_rules() -> frozenset[str]:
    """The rules that are a name themselves (neither a wildcard nor an exception)."""
    return frozenset(rule for rule in _public_suffix_rules() if rule[0] not in "*!")


def is_public_suffix(name: str) -> bool:
    """True when ``name`` is a public suffix (``com.cn``, ``github.io``, ``*.ck`` matches...).

    A set lookup over the PSL rules, because exports check millions of names:
    ``name`` is a suffix when it is a rule itself, or matches a wildcard rule
    without an exception rule for it.
    """
    rules = _public_suffix_rules()
    if name in rules:
        return True
    parent = name.partition(".")[2]
    return bool(parent) and f"*.{parent}" in rules and f"!{name}" not in rules


def parent_names(name: str) -> list[str]:
    """The proper parents of ``name``, closest first: ``a.b.c`` gives ``b.c`` and ``c``."""
    labels = name.split(".")
    return [".".join(labels[start:]) for start in range(1, len(labels))]


@functools.cache
def public_suffix_parents() -> frozenset[str]:
    """Names that are no public suffix but have one below them: ``amazonaws.com`` (``s3.amazonaws.com``),
    ``core.windows.net``, ``compute.amazonaws.com`` (``*.compute.amazonaws.com``).

    Blocking such a name's subtree blocks every site of the platform's customers.
    """
    parents: set[str] = set()
    for rule in _public_suffix_rules():
        if rule.startswith("!"):
            continue
        name = rule.removeprefix("*.")
        parents.update(parent_names(name))
        if name != rule:  # a wildcard rule's own base holds the suffixes below it
            parents.add(name)
    return frozenset(parent for parent in parents if not is_public_suffix(parent))


def public_suffix_indexes(names: Sequence[str]) -> set[int]:
    """The indexes of the public suffixes among ``names``, which are in export order.

    :func:`is_public_suffix` for a list of millions: the names equal to a rule
    are found by one set intersection at C speed, those below a wildcard rule
    by a binary search per rule (:mod:`fraudwall.entries`), and only those few
    are checked one by one.
    """
    rules = _public_suffix_rules()
    found = {index for name in _plain_public_suffix_rules().intersection(names)
             if (index := find(names, name)) is not None}
    for rule in rules:
        if rule.startswith("*."):
            found.update(index for index in subtree(names, rule[2:]) if is_public_suffix(names[index]))
    return found


#: Domains reserved for special use that never name a site on the public Internet: the top-level
#: names of IANA's Special-Use Domain Names registry (RFC 6761 ``example``, ``invalid``,
#: ``localhost``, ``test``; RFC 6762 ``local``; RFC 7686 ``onion``; RFC 9476 ``alt``), ICANN's
#: private-use ``internal``, and RFC 8375 ``home.arpa``. Blocking a name below them at a resolver
#: cannot stop fraud and can break local names (mDNS, home and corporate networks).
#: (``example.com`` and its siblings are in that registry too, but they are ordinary
#: delegated domains; they are not listed here.)
SPECIAL_USE_DOMAINS = frozenset({
    "alt", "example", "home.arpa", "internal", "invalid", "local", "localhost", "onion", "test",
})


def special_use_domain(name: str) -> str | None:
    """The special-use domain (:data:`SPECIAL_USE_DOMAINS`) that ``name`` is or lies below, if any."""
    labels = name.split(".")
    for depth in (1, 2):
        candidate = ".".join(labels[-depth:])
        if len(labels) >= depth and candidate in SPECIAL_USE_DOMAINS:
            return candidate
    return None


def without_user_info(url: str) -> str:
    """``url`` without the user information before its host (``http://a.com@b.top/x`` -> ``http://b.top/x``);
    ``url`` itself when it has none, or cannot be split."""
    if "@" not in url:
        return url
    try:
        split = urlsplit(url)
    except ValueError:
        return url
    if "@" not in split.netloc:
        return url  # an "@" in the path or query
    return urlunsplit(split._replace(netloc=split.netloc.rpartition("@")[2]))


def browser_slashes(url: str) -> str:
    """An http(s) ``url`` with each backslash before its query or fragment read as ``/``, as browsers do.

    The WHATWG URL standard treats ``\\`` as ``/`` in the authority and path of
    http(s) URLs, and leaves it in the query and fragment, while ``urlsplit``
    takes it literally: for ``https://phish.top\\@bank.example/`` a browser
    visits ``phish.top``, ``urlsplit`` names ``bank.example``.
    """
    if "\\" not in url:
        return url
    end = min((index for index in (url.find("?"), url.find("#")) if index >= 0), default=len(url))
    return url[:end].replace("\\", "/") + url[end:]


# The shape nearly every feed URL has: http(s)://, a host of ASCII letters, digits, dots,
# hyphens and underscores, maybe a port of digits, then a path, a query and a fragment. On it
# urlsplit cannot fail, and its parts are these groups. Neither an "@" (userinfo), a bracket
# (IPv6), a "%", a backslash nor anything non-ASCII can be part of the host, and no part holds
# a tab or a line break (which urlsplit deletes): such URLs take urlsplit itself.
_PLAIN_URL = re.compile(
    r"([Hh][Tt][Tt][Pp][Ss]?)://(([A-Za-z0-9._-]+)(?::([0-9]{1,5}))?)"
    r"(/[^?#\t\n\r]*)?(?:\?([^#\t\n\r]*))?(?:#([^\t\n\r]*))?"
)


def split_host_port(url: str) -> tuple[SplitResult, str, int | None]:
    """``urlsplit(url)`` with its ``hostname`` (``""`` for none) and ``port``, raising :class:`ValueError` as they do.

    Feeds carry hundreds of thousands of URLs, nearly all of one plain shape
    (:data:`_PLAIN_URL`), which one regex match splits at about a quarter of
    ``urlsplit``'s cost; anything else goes through ``urlsplit`` itself.
    """
    match = _PLAIN_URL.fullmatch(url)
    if match is not None:
        scheme, netloc, host, port_text, path, query, fragment = match.groups()
        port = None if port_text is None else int(port_text)
        if port is None or port <= 65535:  # out of range: urlsplit's port raises, and says so
            # tuple.__new__: SplitResult(...) is a Python function, and this is called once a URL.
            split = tuple.__new__(SplitResult, (scheme.lower(), netloc, path or "", query or "", fragment or ""))
            return split, host.lower(), port
    split = urlsplit(url)
    return split, split.hostname or "", split.port


class SplitUrl(NamedTuple):
    """A URL split as a browser reads it, with its host normalised (:func:`split_url`)."""

    url: str  # stripped, read as a browser reads it (browser_slashes)
    parts: SplitResult
    host: str  # lowercase A-labels, or the address of an IP literal
    port: int | None
    is_ip: bool


def split_url(url: str) -> SplitUrl:
    """Split ``url`` and normalise its host, raising :class:`InvalidName` for a bad one.

    The host is the one a browser visits (:func:`browser_slashes`), so
    ``https://phish.top\\@bank.example/`` is on ``phish.top``. Port 0 is no port a
    client connects to: ``bad-url``.
    """
    url = url.strip()
    if url[:8].lower().startswith(("http://", "https://")):
        url = browser_slashes(url)
    try:
        split, raw_host, port = split_host_port(url)
    except ValueError as exc:
        raise InvalidName("bad-url", f"{url!r}: {exc}") from exc
    if port == 0:
        raise InvalidName("bad-url", f"{url!r}: port 0")
    if not raw_host:
        raise InvalidName("no-host", url)
    if is_ip_literal(raw_host):
        return SplitUrl(url, split, str(ipaddress.ip_address(raw_host.strip("[]"))), port, True)
    return SplitUrl(url, split, normalize_name(raw_host, allow_underscore=True), port, False)


def parse_url(url: str) -> UrlParts:
    """Split ``url`` into :class:`UrlParts` (:func:`split_url`), with its registered domain and suffix."""
    url, split, host, port, is_ip = split_url(url)
    if is_ip:
        return UrlParts(
            url=url, scheme=split.scheme, host=host, unicode_host=host, port=port,
            path=split.path or "/", query=split.query, registrable_domain="",
            subdomain="", suffix="", is_ip=True,
        )
    parts = suffix_extractor()(host)
    registrable = f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else ""
    return UrlParts(
        url=url, scheme=split.scheme, host=host, unicode_host=to_unicode(host), port=port,
        path=split.path or "/", query=split.query, registrable_domain=registrable,
        subdomain=parts.subdomain, suffix=parts.suffix, is_ip=False,
    )
