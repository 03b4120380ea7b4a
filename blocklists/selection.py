"""Choose what to publish: fraudulent hosts (or URLs), guarded, with their scope.

Verdicts are per subject (a page's URL, a host, an address); blocklists carry
names. A host is selected when a verdict on it passes the filters (statuses,
minimum score, categories, since) and is of a kind blocklists carry
(:attr:`~fraudwall.models.SubjectKind.blocklistable`): an APK's hash, a
certificate, a wallet or a chat handle never becomes a name or a URL entry.
The store filters in SQL and hands hosts over in export order, so a store of
millions is selected as it streams past (:meth:`Store.selected_verdicts`).

Scope is decided here, once, and every exporter renders it faithfully:

* a host that *is* its registered domain (``task-rebate.top``) is blocked as a
  subtree: throw-away fraud domains put every subdomain to the same use;
* a host below its registered domain (``shop.example.com``) is blocked exactly,
  because its parent may be someone else's legitimate site.

Entries from the store and from list files (:mod:`fraudwall.list_compiler`)
pass the same guard path, :func:`guard_selection`: one table of name-level
blocks and the URL-level entries beside it, the same refusals, reported the
same way. A host the guards refuse (allowlisted, a shared platform's apex, a
public suffix, a special-use name, an address) is not silently dropped: its
fraudulent URLs are published as URL-level entries, which only URL-matching
formats (Squid, Suricata, threat intel) carry; on an allowlisted site, only
URLs that name one page (:meth:`~fraudwall.blocklists.guards.PublishGuard.url_refusal`).
"""

from __future__ import annotations

import gc
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial

from fraudwall.blocklists.guards import SUBTREE_REFUSAL, PublishGuard
from fraudwall.blocklists.store import IndicatorRow, SelectionFilter, Store, UrlVerdict, VerdictRow
from fraudwall.entries import EXACT, SUBTREE, CompiledEntries, Details, EntryTable
from fraudwall.models import Action, BlockEntry, Indicator, Scope, SubjectKind
from fraudwall.names import is_public_suffix, public_suffix_indexes
from fraudwall.rejections import Rejections

__all__ = ["Selection", "SelectionFilter", "guard_selection", "scope_for", "select_entries"]

#: URL-level entries standing in for the refused hosts (name -> reason) they are on.
UrlFallback = Callable[[Mapping[str, str]], Iterable[BlockEntry]]


@dataclass
class Selection:
    """Entries to publish, and the candidates refused with their reasons.

    ``entries`` is a :class:`~fraudwall.entries.CompiledEntries` whichever
    path made it: the name-level blocks as a column table in export order,
    the URL-level entries and exceptions beside them.
    """

    entries: Sequence[BlockEntry] = field(default_factory=list)
    refused: Rejections = field(default_factory=Rejections)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """The addresses, hashes, wallets and handles published beside the entries."""
        return getattr(self.entries, "indicators", ())


def scope_for(name: str) -> Scope:
    """Subtree for a registered domain itself, exact for anything below it (or for a public suffix).

    A name is its registered domain when it is no public suffix and its parent
    holds registered domains (:func:`_holds_registered_domains`): set lookups,
    the parent's cached, where splitting the name with the suffix list costs
    microseconds, for millions of names.
    """
    parent = name.partition(".")[2]
    return Scope.SUBTREE if parent and _holds_registered_domains(parent) and not is_public_suffix(name) else Scope.EXACT


def _scopes(names: Sequence[str]) -> bytearray:
    """:func:`scope_for` of each of ``names`` (in export order) as a scope column, for millions: the test of
    the parent (cached, as parents repeat) per name, and the public suffixes among them found all at once."""
    holds = _holds_registered_domains
    scopes = bytearray(SUBTREE if holds(name.partition(".")[2]) else EXACT for name in names)
    for index in public_suffix_indexes(names):
        scopes[index] = EXACT
    return scopes


@lru_cache(maxsize=65536)
def _holds_registered_domains(parent: str) -> bool:
    """True when the names right below ``parent`` are registered domains: ``parent`` is a public suffix, or
    an exception to a wildcard rule sits below it (``www.ck`` under ``*.ck``: its sibling ``-.ck``, a label no
    exception names, is a suffix)."""
    return is_public_suffix(parent) or is_public_suffix(f"-.{parent}")


def guard_selection(
    blocks: EntryTable, others: Sequence[BlockEntry], guard: PublishGuard, url_fallback: UrlFallback | None = None,
    indicators: Sequence[Indicator] = (),
) -> Selection:
    """The one guard path of every selection: name-level ``blocks`` and ``others`` through ``guard``.

    ``blocks`` (taken over: its scopes may be narrowed) are the candidate
    names in export order, IP addresses included; ``others`` are the
    URL-level entries and the exceptions. A refused name is left out and
    counted under its reason; a subtree refused for holding public suffixes
    (:data:`~fraudwall.blocklists.guards.SUBTREE_REFUSAL`) is narrowed to the
    name alone and counted as ``||name^``. A URL-level entry on a refused host
    (from ``others``, or from ``url_fallback`` given the refused hosts) is
    published unless :meth:`PublishGuard.url_refusal` refuses it.
    ``indicators`` pass through: each format checks the values it can carry.
    """
    names = blocks.names
    refused = dict(guard.refusals(names, blocks.scopes))
    narrowed = [index for index, reason in refused.items() if reason == SUBTREE_REFUSAL]
    for index in narrowed:  # the subtree is refused; the name itself may still be blocked
        blocks.scopes[index] = EXACT
        del refused[index]
    refused_hosts = {names[index]: reason for index, reason in refused.items()}
    urls = list(others)
    if url_fallback is not None and refused_hosts:
        urls.extend(url_fallback(refused_hosts))
    kept: list[BlockEntry] = []
    urls_refused = Rejections()
    for entry in urls:
        reason = guard.url_refusal(entry.url, refused_hosts.get(entry.name)) if entry.url else None
        if reason is None:
            kept.append(entry)
        else:
            urls_refused.add(entry.url, reason)
    selection = Selection(entries=CompiledEntries(blocks.without(refused), kept, indicators))
    for index, reason in refused.items():
        selection.refused.add(names[index], reason)
    for index in narrowed:
        selection.refused.add(f"||{names[index]}^", SUBTREE_REFUSAL)
    selection.refused.merge(urls_refused)
    return selection


def select_entries(store: Store, guard: PublishGuard, wanted: SelectionFilter = SelectionFilter()) -> Selection:
    """Block entries for every host with a verdict that passes ``wanted``, after the guards.

    A host's entry gathers all its selected verdicts: their categories and
    detectors, the highest score as confidence, the earliest first seen and
    the latest update, and every address they were seen at. Built by column
    as the rows stream, for stores of millions (one name, one scope byte and
    one :class:`~fraudwall.entries.Details` a host, sharing every repeated value).
    """
    read = _Reader()
    categories_of, sources_of, addresses_of = read.categories, read.sources, read.addresses
    parse_time = datetime.fromisoformat
    details_of = partial(tuple.__new__, Details)  # Details(...) is a Python function: this is the C one
    names: list[str] = []
    details: list[Details] = []
    held: VerdictRow | None = None  # the host being read: its verdicts so far, folded into one row
    # Millions of small objects would set off the cycle collector again and again, each time walking
    # every entry made so far (as reading lists does, see fraudwall.lists): they hold no cycles, so
    # collection waits until the table is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # The loop body is the whole cost of selecting millions, so it is written out: no call per
        # host but the caches and the constructors. _END, no host, closes the last one.
        for row in itertools.chain(store.selected_verdicts(wanted), (_END,)):
            if held is not None:
                if row[0] == held[0]:
                    held = _fold(held, row)
                    continue
                host, first_seen, updated_at, score, categories, detectors, addresses = held
                first = parse_time(first_seen)
                names.append(host)
                details.append(details_of((
                    categories_of(categories), score, first,
                    first if updated_at == first_seen else parse_time(updated_at),
                    None, sources_of(detectors), "", addresses_of(addresses))))
            held = row
    finally:
        if collecting:
            gc.enable()
    table = EntryTable(names, _scopes(names), details, Action.BLOCK)

    def urls_on(hosts: Mapping[str, str]) -> Iterable[BlockEntry]:
        return (_url_entry(row, read) for row in store.url_verdicts(hosts, wanted))

    indicators = [_indicator(row, read) for row in store.selected_indicators(wanted)]
    return guard_selection(table, (), guard, urls_on, indicators)


#: The row after the last: no host, so the last host's row is closed.
_END: VerdictRow = (None, "", "", 0.0, "", "", "")  # type: ignore[assignment]


def _fold(held: VerdictRow, row: VerdictRow) -> VerdictRow:
    """Two verdicts on one host as one: the earliest first seen, the latest update, the highest score, and
    the lists of both joined by ``\\x1f`` (ISO times in UTC compare as text)."""
    return (held[0], min(held[1], row[1]), max(held[2], row[2]), max(held[3], row[3]), f"{held[4]}\x1f{row[4]}",
            f"{held[5]}\x1f{row[5]}", f"{held[6]} {row[6]}")


def _url_entry(row: UrlVerdict, read: _Reader) -> BlockEntry:
    return BlockEntry(
        name=row.host, scope=Scope.EXACT, categories=read.categories(row.categories), confidence=row.score,
        first_seen=datetime.fromisoformat(row.first_seen), last_seen=datetime.fromisoformat(row.updated_at),
        sources=read.sources(row.detectors),
        url=row.url,
    )


def _indicator(row: IndicatorRow, read: _Reader) -> Indicator:
    return Indicator(
        kind=SubjectKind(row.kind), value=row.subject, categories=read.categories(row.categories),
        confidence=row.score, first_seen=datetime.fromisoformat(row.first_seen),
        last_seen=datetime.fromisoformat(row.updated_at), sources=read.sources(row.detectors),
        context=tuple((str(key), str(value)) for key, value in json.loads(row.context or "[]")),
    )


class _Reader:
    """Stored text to entry values, each distinct text read once: rows of millions repeat a few
    category lists, detector sets and address sets, and sharing one tuple per value keeps them small."""

    def __init__(self) -> None:
        self.categories = lru_cache(maxsize=65536)(_categories)
        self.sources = lru_cache(maxsize=65536)(_sources)
        self.addresses = lru_cache(maxsize=65536)(_addresses)


def _categories(joined: str) -> tuple[str, ...]:
    """The categories of JSON lists joined by ``\\x1f``, each once, sorted."""
    return tuple(sorted({category for part in joined.split("\x1f") for category in json.loads(part)}))


def _sources(joined: str) -> tuple[str, ...]:
    """``detector:NAME`` for each detector of JSON lists joined by ``\\x1f``, sorted."""
    return tuple(sorted({f"detector:{name}" for part in joined.split("\x1f") for name in json.loads(part)}))


def _addresses(joined: str) -> tuple[str, ...]:
    """Every address of space-separated lists, each once, sorted."""
    if " " not in joined:  # one address or none: most hosts
        return (joined,) if joined else ()
    return tuple(sorted(set(joined.split())))
