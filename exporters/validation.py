"""Validate, merge and order block entries right before they are rendered.

The store validated these names already; exporters validate them again because
one bad line can stop a resolver from loading the whole list (defence in depth).
Bad entries are never fatal: each is rejected with a stable reason, counted,
and a few samples per reason are kept for the report.

Rules:

- Names go through :func:`~fraudwall.names.normalize_name` (IDNA to A-labels,
  LDH, lengths); IP literals and public suffixes (``com.cn``, ``github.io``) are
  rejected. The underscore policy is the format's: a name that fails only
  because of an underscore is rejected as ``underscore`` so the report says why
  it is in one format and not another.
- A format may lower the length limit (RPZ appends its zone name); longer names
  are rejected as ``too-long-for-format``.
- Entries for the same name and action merge: categories and sources are
  united, confidence is the highest, first seen the earliest, last seen the
  latest, expiry the latest (no expiry wins). The scope is SUBTREE only if one
  of the entries asked for SUBTREE explicitly; nothing here ever widens a scope
  on its own.
- BLOCK and ALLOW entries are kept apart: how an exception is expressed (or
  that it cannot be) is each format's business.
- URL-level entries (``entry.url`` set) are kept apart too, in ``urls``: only
  formats that match URLs render them. The URL must be http(s), its host must
  be the entry's name, and it is normalised (IDNA host, percent-encoded
  non-ASCII, no fragment); entries for the same URL merge. Exceptions are
  name-level only, so an ALLOW entry with a URL is rejected.
- Output is sorted by reversed labels (``com example www``, compared label by
  label: :func:`fraudwall.entries.sort_key`), so a zone's names sit together,
  a parent comes right before its children, and the order never depends on
  the input order.
- Indicators (addresses, APK and certificate hashes, wallets, handles: what
  :class:`~fraudwall.entries.CompiledEntries` carries beside the entries) are
  checked by :func:`indicator_refusal`, an address under the same rule as
  every address a list carries (:func:`publishable_address`: global unicast,
  documentation ranges let through) and written one way; each (kind, value)
  is kept once, sorted by kind and value. Which formats publish which kinds
  is each format's ``indicator_kinds``.
- A compiled list's name-level blocks (an :class:`~fraudwall.entries.EntryTable`)
  are checked by column: the same rules, a chunk of names per regex.
"""

from __future__ import annotations

import gc
import ipaddress
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import overload
from urllib.parse import quote, urlunsplit

from fraudwall.entries import CompiledEntries, EntryTable, sort_key
from fraudwall.exceptions import InvalidName
from fraudwall.models import Action, BlockEntry, Indicator, Scope, SubjectKind
from fraudwall.names import (
    MAX_NAME_LENGTH,
    is_plain_name,
    is_public_suffix,
    normalize_name,
    public_suffix_indexes,
    split_url,
    unplain_name_indexes,
    url_host,
)

# Enough to show what went wrong without letting one flood of bad input bloat the report.
SAMPLES_PER_REASON = 5
SAMPLE_LENGTH = 200
# Longer URLs are not phishing links a gateway should carry a rule for.
MAX_URL_LENGTH = 2048
# Characters left as they are when percent-encoding a URL's path and query.
_URL_SAFE = "/?&=%:@!$'()*+,;~-._"
# Text quote() leaves as it is: ASCII letters and digits (always safe to it, like "_.-~") and _URL_SAFE.
_QUOTE_SAFE_TEXT = re.compile(f"[A-Za-z0-9{re.escape(_URL_SAFE)}]*")
# A URL in the form _validated_url gives, which it gives back as it is: http(s), a lowercase host, a
# port from 1 to 65535 without leading zeros, a path, maybe a query, no fragment, with nothing to
# percent-encode; or such a URL's scheme and host alone, which it gives the path "/". What the feeds
# give is mostly in one of these forms already.
_NORMAL_URL = re.compile(
    rf"https?://([a-z0-9._-]+)(?::([1-9][0-9]{{0,4}}))?"
    rf"(/[A-Za-z0-9{re.escape(_URL_SAFE.replace('?', ''))}]*(?:\?[A-Za-z0-9{re.escape(_URL_SAFE)}]+)?)?"
)
# Names checked by one regex pass at a time: large enough to make the per-chunk cost vanish.
_CHUNK = 65536


@dataclass(frozen=True, slots=True)
class PreparedEntries:
    """Entries ready to render, and what was rejected on the way.

    ``blocked`` and ``allowed`` are :class:`~fraudwall.entries.EntryTable`
    columns (any sequence of entries given here is turned into one): at most one
    entry per name, in export order (:func:`name_sort_key`). Formats that only
    need the names read ``blocked.names``; others iterate entries. ``urls``
    holds the URL-level block entries, one per URL, sorted by host the same way
    and then by URL. ``samples`` are ``(input, reason)`` pairs. ``merged``
    counts input entries folded into another one with the same name.
    """

    blocked: EntryTable
    allowed: EntryTable
    urls: tuple[BlockEntry, ...]
    rejections: Counter[str]
    samples: tuple[tuple[str, str], ...]
    merged: int
    #: Addresses, hashes, wallets and handles, checked and each once, by kind and value.
    indicators: tuple[Indicator, ...] = ()

    def __post_init__(self) -> None:
        for name, action in (("blocked", Action.BLOCK), ("allowed", Action.ALLOW)):
            column = getattr(self, name)
            if not isinstance(column, EntryTable):
                object.__setattr__(self, name, EntryTable.from_entries(column, action))
        object.__setattr__(self, "urls", tuple(self.urls))

    @property
    def rejected(self) -> int:
        """How many input entries were rejected, whatever the reason."""
        return sum(self.rejections.values())

    @property
    def allowed_names(self) -> frozenset[str]:
        """The names of the allow entries."""
        return frozenset(self.allowed.names)


def name_sort_key(name: str) -> str:
    """Sort key grouping a zone's names: labels from the root down (see :func:`fraudwall.entries.sort_key`)."""
    return sort_key(name)


def prepare(
    entries: Iterable[BlockEntry],
    *,
    allow_underscore: bool = False,
    max_length: int = MAX_NAME_LENGTH,
) -> PreparedEntries:
    """Validate, de-duplicate and sort ``entries`` (see the module docstring for the rules).

    Written for lists of millions. A compiled list
    (:class:`~fraudwall.entries.CompiledEntries`) brings its name-level blocks
    as a table already in order and unique: the table is checked by column
    (:func:`_checked_table`) and keeps its order. Every other entry takes one
    pass, the first entry per key kept as is, and only keys that really repeat
    collect a group to merge.
    """
    if isinstance(entries, SharedEntries):
        return entries.prepared(allow_underscore=allow_underscore, max_length=max_length)
    collector = _Collector(allow_underscore=allow_underscore, max_length=max_length)
    table = None
    if isinstance(entries, CompiledEntries):
        table = _checked_table(entries.blocks, collector)
        rest: Iterable[BlockEntry] = entries.others
        if table is None:  # a name the full check changed: its place in the order changes too
            rest = itertools.chain(entries.others, entries.blocks)
    else:
        rest = entries
    # A feed's hundreds of thousands of URL-level entries, and the keys that order them, would set off
    # the cycle collector again and again, each time walking every entry of the list; entries hold no
    # cycles, so collection waits until they are ordered (as reading and compiling lists do).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for entry in rest:
            collector.add(entry)
        if table is not None and collector.has_name_blocks():  # blocks on both sides: merge them entry by entry
            for entry in table:
                collector.add(entry)
            table = None
        ordered = collector.ordered()
    finally:
        if collecting:
            gc.enable()
    blocked = [entry for entry in ordered if entry.action is Action.BLOCK and not entry.url]
    indicators = collector.indicators(getattr(entries, "indicators", ()))
    return PreparedEntries(
        blocked=table if table is not None else EntryTable.from_entries(blocked, Action.BLOCK),
        allowed=EntryTable.from_entries((entry for entry in ordered if entry.action is Action.ALLOW), Action.ALLOW),
        urls=tuple(entry for entry in ordered if entry.url),
        rejections=collector.rejections,
        samples=tuple(collector.samples),
        merged=collector.merged,
        indicators=indicators,
    )


_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_INDICATOR_LENGTH = 256
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Documentation ranges route nowhere, so listing them cuts no one off; examples and tests use them.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def publishable_address(raw: str) -> tuple[str, Address | None]:
    """``("", address)`` for one global unicast address (or one of a documentation range), else ``(reason, None)``.

    What a blocklist may carry as an address: unspecified, loopback,
    multicast, link-local, private, shared (100.64/10), reserved and other
    non-global addresses would cut off a network of the user's own (or
    nothing), and a CIDR or a scoped address is not one address. An
    IPv4-mapped IPv6 address counts as the IPv4 one.
    """
    if not isinstance(raw, str) or "%" in raw:
        return "not-one-address", None
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "not-one-address", None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for reason, test in (
        ("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
        ("multicast", address.is_multicast), ("link-local", address.is_link_local),
    ):
        if test:
            return reason, None
    if address.is_global or any(address in net for net in _DOCUMENTATION):
        return "", address
    return "not-global", None


def indicator_refusal(indicator: Indicator) -> str | None:
    """Why ``indicator`` cannot be published (a stable reason), or ``None`` when it can.

    An address must be one a blocklist may carry (:func:`publishable_address`;
    :func:`prepare` then writes it one way, see :func:`_canonical`); hashes
    are lowercase SHA-256; a wallet or a handle is printable text without
    spaces.
    """
    value = indicator.value
    if indicator.kind is SubjectKind.IP:
        return publishable_address(value)[0] or None
    if indicator.kind in (SubjectKind.APK, SubjectKind.CERTIFICATE):
        return None if _SHA256.fullmatch(value) else "not-a-sha256"
    if indicator.kind in (SubjectKind.WALLET, SubjectKind.HANDLE):
        if not value or len(value) > MAX_INDICATOR_LENGTH:
            return "bad-length"
        return None if value.isprintable() and not any(ch.isspace() for ch in value) else "unprintable"
    return "not-an-indicator-kind"


def _canonical(indicator: Indicator) -> Indicator:
    """``indicator`` with its address written one way (``2001:db8::5``, an IPv4-mapped address as IPv4)."""
    if indicator.kind is not SubjectKind.IP:
        return indicator
    value = str(publishable_address(indicator.value)[1])
    return indicator if value == indicator.value else replace(indicator, value=value)


def uniform_scope(prepared: PreparedEntries) -> Scope | None:
    """The scope of every entry, when all blocks share one and nothing is allowed (a plain or ABP list).

    Then every name gets the same policy whatever names are above it, and
    formats render the lines straight from the name column instead of working
    out each name's policy; ``None`` otherwise.
    """
    if prepared.allowed:
        return None
    subtrees = prepared.blocked.subtree_count()
    if subtrees == 0:
        return Scope.EXACT
    return Scope.SUBTREE if subtrees == len(prepared.blocked) else None


class SharedEntries(Sequence[BlockEntry]):
    """Entries exported in several formats at once (an export folder): prepared once per name policy.

    :func:`prepare` given this wrapper returns the result for the format's
    policy (underscores, length limit), computing it on first use; formats
    share it read-only, so most of a folder's formats pay for one preparation.
    """

    def __init__(self, entries: Sequence[BlockEntry]) -> None:
        self.entries = entries
        self._prepared: dict[tuple[bool, int], PreparedEntries] = {}

    def prepared(self, *, allow_underscore: bool, max_length: int) -> PreparedEntries:
        """:func:`prepare` of the entries under this policy."""
        policy = (allow_underscore, max_length)
        if policy not in self._prepared:
            self._prepared[policy] = (self._already_within(allow_underscore, max_length)
                                      or prepare(self.entries, allow_underscore=allow_underscore, max_length=max_length))
        return self._prepared[policy]

    def _already_within(self, allow_underscore: bool, max_length: int) -> PreparedEntries | None:
        """A result under the same underscore rule and a longer limit that kept no name longer than ``max_length``.

        The shorter limit then keeps and rejects exactly the same entries, for
        the same reasons: a name is checked against the limit only once it is
        valid, so no rejection changes. An RPZ's limit (253 less its zone name)
        rarely removes anything, and so costs no second preparation.
        """
        for (underscore, limit), prepared in self._prepared.items():
            if underscore == allow_underscore and limit > max_length and _longest_name(prepared) <= max_length:
                return prepared
        return None

    def __len__(self) -> int:
        return len(self.entries)

    @overload
    def __getitem__(self, index: int) -> BlockEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BlockEntry]: ...

    def __getitem__(self, index: int | slice) -> BlockEntry | Sequence[BlockEntry]:
        return self.entries[index]

    def __iter__(self) -> Iterator[BlockEntry]:
        return iter(self.entries)


def _longest_name(prepared: PreparedEntries) -> int:
    """The length of the longest name ``prepared`` kept, URL hosts included."""
    return max(max(map(len, prepared.blocked.names), default=0), max(map(len, prepared.allowed.names), default=0),
               max((len(entry.name) for entry in prepared.urls), default=0))


class _Collector:
    """Validated entries by key (action, name, URL), the repeats to merge, and the rejections."""

    def __init__(self, *, allow_underscore: bool, max_length: int) -> None:
        self.allow_underscore = allow_underscore
        self.max_length = max_length
        self.first: dict[tuple[Action, str, str], BlockEntry] = {}
        self.repeats: dict[tuple[Action, str, str], list[BlockEntry]] = {}
        self.rejections: Counter[str] = Counter()
        self.samples: list[tuple[str, str]] = []
        self.merged = 0

    def reject(self, raw: object, reason: str) -> None:
        """Count a rejected input under ``reason``, keeping the first few as samples."""
        self.rejections[reason] += 1
        if self.rejections[reason] <= SAMPLES_PER_REASON:
            text = raw if isinstance(raw, str) else repr(raw)
            self.samples.append((text[:SAMPLE_LENGTH], reason))

    def add(self, entry: BlockEntry) -> None:
        """Validate ``entry`` and keep it, or count its rejection."""
        try:
            clean = _validated(entry, allow_underscore=self.allow_underscore, max_length=self.max_length)
        except InvalidName as exc:
            self.reject(entry.name, exc.reason)
            return
        key = (clean.action, clean.name, clean.url)
        if key in self.first:
            self.repeats.setdefault(key, [self.first[key]]).append(clean)
        else:
            self.first[key] = clean

    def indicators(self, indicators: Iterable[Indicator]) -> tuple[Indicator, ...]:
        """The publishable ``indicators``, each (kind, value) once, by kind and value; the rest counted."""
        kept: dict[tuple[str, str], Indicator] = {}
        for indicator in indicators:
            reason = indicator_refusal(indicator)
            if reason is not None:
                self.reject(f"{indicator.kind}:{indicator.value}", reason)
            else:
                indicator = _canonical(indicator)
                kept.setdefault((str(indicator.kind), indicator.value), indicator)
        return tuple(kept[key] for key in sorted(kept))

    def has_name_blocks(self) -> bool:
        """Whether a name-level block entry was kept."""
        return any(action is Action.BLOCK and not url for action, _, url in self.first)

    def ordered(self) -> list[BlockEntry]:
        """Every kept entry, repeats merged, in export order (then by URL); call once: the collector is emptied."""
        for key, group in self.repeats.items():
            self.first[key] = _merge(group)
        self.merged = sum(len(group) - 1 for group in self.repeats.values())
        self.repeats.clear()
        ordered = sorted(self.first.values(), key=_sort_key)
        self.first.clear()  # the dictionary of millions is not needed past this point
        return ordered


def _checked_table(table: EntryTable, collector: _Collector) -> EntryTable | None:
    """``table`` without the rows that fail validation, counted in ``collector``.

    The same rules as for single entries, checked a chunk of names at a time
    (:func:`~fraudwall.names.unplain_name_indexes`: one regex pass per chunk
    finds the names that need the full check, which are checked one by one),
    and the public suffixes among them all at once
    (:func:`~fraudwall.names.public_suffix_indexes`). ``None``, with nothing
    counted, when the full check changes a name (say, case): it then belongs
    elsewhere in the order, and the caller takes the rows one by one.
    """
    names = table.names
    rejected: dict[int, str] = {}
    for start in range(0, len(names), _CHUNK):
        unplain = unplain_name_indexes(names[start:start + _CHUNK], allow_underscore=collector.allow_underscore,
                                       max_length=collector.max_length)
        for index in (start + offset for offset in unplain):
            try:
                clean = _validated(table[index], allow_underscore=collector.allow_underscore,
                                   max_length=collector.max_length)
            except InvalidName as exc:
                rejected[index] = exc.reason
                continue
            if clean.name != names[index]:
                return None
    for index in sorted(public_suffix_indexes(names) - rejected.keys()):
        rejected[index] = "public-suffix"
    for index, reason in rejected.items():
        collector.reject(names[index], reason)
    return table.without(rejected)


def _sort_key(entry: BlockEntry) -> tuple[str, str]:
    """Labels from the root down, as one string (cheaper to compare than a tuple), then the URL."""
    return sort_key(entry.name), entry.url


def _validated(entry: BlockEntry, *, allow_underscore: bool, max_length: int) -> BlockEntry:
    """``entry`` with a normalised name and real enum members, or :class:`InvalidName`."""
    if entry.url:
        common = _common_url_entry(entry, max_length)
        if common is not None:
            return common
    # A URL-level entry's name is only the host of its URL: a URL on a shared
    # platform (s3.amazonaws.com) or with an underscore in its host is exactly
    # what URL-level blocking is for, so the name rules for blocking hosts do not apply.
    url_level = bool(entry.url)
    try:
        name = (url_host(entry.name) if url_level  # a name, or a public IPv4 address
                else normalize_name(entry.name, allow_underscore=allow_underscore))
    except InvalidName as exc:
        if allow_underscore or exc.reason != "bad-character":
            raise
        # Raises with the real reason when "_" is not the name's only fault.
        normalize_name(entry.name, allow_underscore=True)
        raise InvalidName("underscore", f"{entry.name!r}: this format allows no underscores") from exc
    if not url_level and is_public_suffix(name):
        raise InvalidName("public-suffix", name)
    if len(name) > max_length:
        raise InvalidName("too-long-for-format", f"{len(name)} > {max_length} characters")
    try:
        # Most entries already hold the enum members; converting them anyway costs seconds per million.
        scope = entry.scope if entry.scope.__class__ is Scope else Scope(entry.scope)
        action = entry.action if entry.action.__class__ is Action else Action(entry.action)
    except ValueError as exc:  # a str that is no member, e.g. from a hand-written feed
        raise InvalidName("bad-scope-or-action", str(exc)) from exc
    url = _validated_url(entry.url, name) if entry.url else ""
    if url and action is Action.ALLOW:
        raise InvalidName("url-allow", f"{url}: exceptions are name-level only")
    if name == entry.name and scope is entry.scope and action is entry.action and url == entry.url:
        return entry  # the common case: already clean, and copying millions of entries costs seconds
    return replace(entry, name=name, scope=scope, action=action, url=url)


def _common_url_entry(entry: BlockEntry, max_length: int) -> BlockEntry | None:
    """What :func:`_validated` makes of a feed's common URL-level entry, else ``None``.

    Hundreds of thousands a feed: a block on a plain host, its URL normal
    already or but for its path (:func:`_normal_url`). The full check would
    find the same name, scope and action, and this URL.
    """
    if entry.action is not Action.BLOCK or entry.scope.__class__ is not Scope:
        return None
    url = _normal_url(entry.url, entry.name)
    if url is None or len(entry.name) > max_length:
        return None
    return entry if url == entry.url else replace(entry, url=url)


def _validated_url(raw: str, name: str) -> str:
    """``raw`` normalised (IDNA host, percent-encoded path, no fragment), or :class:`InvalidName`."""
    normal = _normal_url(raw, name)
    if normal is not None:
        return normal
    # Only a space is both whitespace and printable.
    if not isinstance(raw, str) or not raw.isprintable() or " " in raw:
        raise InvalidName("bad-url", repr(raw)[:SAMPLE_LENGTH])
    # A backslash before the query is "/" to a browser, and so in the request it sends (see split_url).
    _, split, host, port, _ = split_url(raw)
    scheme = split.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidName("bad-url", f"{raw[:SAMPLE_LENGTH]}: not http(s)")
    if host != name:
        raise InvalidName("url-host-mismatch", f"{raw[:SAMPLE_LENGTH]} is not on {name}")
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((scheme, netloc, _quoted(split.path or "/"), _quoted(split.query), ""))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidName("url-too-long", f"{len(url)} > {MAX_URL_LENGTH} characters")
    return url


def _normal_url(raw: object, name: str) -> str | None:
    """What :func:`_validated_url` makes of ``raw`` on ``name``, when one match shows it; else ``None``.

    Most URLs a feed gives are normal already (:data:`_NORMAL_URL`), or all but the path "/".
    """
    normal = _NORMAL_URL.fullmatch(raw) if isinstance(raw, str) else None
    # The host must be ``name`` as the full check finds it: a plain name is its own normal form.
    # A URL one short of the longest leaves room for the "/" a URL without a path is given.
    if (normal is None or normal[1] != name or not is_plain_name(name, allow_underscore=True)
            or (normal[2] is not None and int(normal[2]) > 65535) or len(raw) >= MAX_URL_LENGTH):
        return None
    return raw if normal[3] else f"{raw}/"


def _quoted(text: str) -> str:
    """``quote(text, safe=_URL_SAFE)``: most paths and queries have nothing to encode, which one match finds."""
    return text if _QUOTE_SAFE_TEXT.fullmatch(text) else quote(text, safe=_URL_SAFE)


def _merge(group: list[BlockEntry]) -> BlockEntry:
    """One entry standing for several with the same name and action."""
    first = group[0]
    if len(group) == 1:
        return first
    expiries = [entry.expires for entry in group]
    return BlockEntry(
        name=first.name,
        # Widen only because an input entry asked for the subtree explicitly.
        scope=Scope.SUBTREE if any(e.scope is Scope.SUBTREE for e in group) else Scope.EXACT,
        action=first.action,
        categories=tuple(sorted({c for entry in group for c in entry.categories})),
        confidence=max(entry.confidence for entry in group),
        first_seen=_pick(min, [entry.first_seen for entry in group]),
        last_seen=_pick(max, [entry.last_seen for entry in group]),
        # No expiry means "until removed": it outlives any date.
        expires=None if None in expiries else _pick(max, expiries),
        sources=tuple(sorted({s for entry in group for s in entry.sources})),
        url=first.url,
        addresses=tuple(sorted({a for entry in group for a in entry.addresses})),
    )


def _pick(
    choose: Callable[[list[datetime]], datetime], values: list[datetime | None]
) -> datetime | None:
    """``choose`` over the known values; ``None`` when none is known."""
    known = [value for value in values if value is not None]
    return choose(known) if known else None
