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
- Output is sorted by reversed labels (``com.example.www``), so a zone's names
  sit together and the order never depends on the input order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from fraudwall.exceptions import InvalidName
from fraudwall.models import Action, BlockEntry, Scope
from fraudwall.names import MAX_NAME_LENGTH, is_public_suffix, normalize_name, parse_url

# Enough to show what went wrong without letting one flood of bad input bloat the report.
SAMPLES_PER_REASON = 5
SAMPLE_LENGTH = 200
# Longer URLs are not phishing links a gateway should carry a rule for.
MAX_URL_LENGTH = 2048
# Characters left as they are when percent-encoding a URL's path and query.
_URL_SAFE = "/?&=%:@!$'()*+,;~-._"


@dataclass(frozen=True, slots=True)
class PreparedEntries:
    """Entries ready to render, and what was rejected on the way.

    ``blocked`` and ``allowed`` each hold at most one entry per name, sorted
    with :func:`name_sort_key`; ``urls`` holds the URL-level block entries, one
    per URL, sorted by host the same way and then by URL. ``samples`` are ``(input, reason)`` pairs.
    ``merged`` counts input entries folded into another one with the same name.
    """

    blocked: tuple[BlockEntry, ...]
    allowed: tuple[BlockEntry, ...]
    urls: tuple[BlockEntry, ...]
    rejections: Counter[str]
    samples: tuple[tuple[str, str], ...]
    merged: int

    @property
    def rejected(self) -> int:
        """How many input entries were rejected, whatever the reason."""
        return sum(self.rejections.values())

    @property
    def allowed_names(self) -> frozenset[str]:
        """The names of the allow entries."""
        return frozenset(entry.name for entry in self.allowed)


def name_sort_key(name: str) -> tuple[str, ...]:
    """Sort key grouping a zone's names: labels from the root down."""
    return tuple(reversed(name.split(".")))


def prepare(
    entries: Iterable[BlockEntry],
    *,
    allow_underscore: bool = False,
    max_length: int = MAX_NAME_LENGTH,
) -> PreparedEntries:
    """Validate, de-duplicate and sort ``entries`` (see the module docstring for the rules).

    Written for lists of millions: one pass, the first entry per key kept as
    is, and only keys that really repeat collect a group to merge.
    """
    first: dict[tuple[Action, str, str], BlockEntry] = {}
    repeats: dict[tuple[Action, str, str], list[BlockEntry]] = {}
    rejections: Counter[str] = Counter()
    samples: list[tuple[str, str]] = []
    for entry in entries:
        try:
            clean = _validated(entry, allow_underscore=allow_underscore, max_length=max_length)
        except InvalidName as exc:
            rejections[exc.reason] += 1
            if rejections[exc.reason] <= SAMPLES_PER_REASON:
                raw = entry.name if isinstance(entry.name, str) else repr(entry.name)
                samples.append((raw[:SAMPLE_LENGTH], exc.reason))
            continue
        key = (clean.action, clean.name, clean.url)
        if key in first:
            repeats.setdefault(key, [first[key]]).append(clean)
        else:
            first[key] = clean
    for key, group in repeats.items():
        first[key] = _merge(group)
    ordered = sorted(first.values(), key=_sort_key)
    del first  # the dictionary of millions is not needed past this point
    return PreparedEntries(
        blocked=tuple(entry for entry in ordered if entry.action is Action.BLOCK and not entry.url),
        allowed=tuple(entry for entry in ordered if entry.action is Action.ALLOW),
        urls=tuple(entry for entry in ordered if entry.url),
        rejections=rejections,
        samples=tuple(samples),
        merged=sum(len(group) - 1 for group in repeats.values()),
    )


def _sort_key(entry: BlockEntry) -> tuple[str, str]:
    """Labels from the root down, as one string (cheaper to compare than a tuple), then the URL."""
    return ".".join(entry.name.split(".")[::-1]), entry.url


def _validated(entry: BlockEntry, *, allow_underscore: bool, max_length: int) -> BlockEntry:
    """``entry`` with a normalised name and real enum members, or :class:`InvalidName`."""
    # A URL-level entry's name is only the host of its URL: a URL on a shared
    # platform (s3.amazonaws.com) or with an underscore in its host is exactly
    # what URL-level blocking is for, so the name rules for blocking hosts do not apply.
    url_level = bool(entry.url)
    try:
        name = normalize_name(entry.name, allow_underscore=allow_underscore or url_level)
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


def _validated_url(raw: str, name: str) -> str:
    """``raw`` normalised (IDNA host, percent-encoded path, no fragment), or :class:`InvalidName`."""
    if not isinstance(raw, str) or any(ch.isspace() or not ch.isprintable() for ch in raw):
        raise InvalidName("bad-url", repr(raw)[:SAMPLE_LENGTH])
    parts = parse_url(raw)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidName("bad-url", f"{raw[:SAMPLE_LENGTH]}: not http(s)")
    if parts.host != name:
        raise InvalidName("url-host-mismatch", f"{raw[:SAMPLE_LENGTH]} is not on {name}")
    split = urlsplit(raw)
    netloc = parts.host if parts.port is None else f"{parts.host}:{parts.port}"
    url = urlunsplit((parts.scheme.lower(), netloc, quote(split.path or "/", safe=_URL_SAFE), quote(split.query, safe=_URL_SAFE), ""))
    if len(url) > MAX_URL_LENGTH:
        raise InvalidName("url-too-long", f"{len(url)} > {MAX_URL_LENGTH} characters")
    return url


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
