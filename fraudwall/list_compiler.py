"""The list compiler: list and feed files in, guarded block entries out.

Orchestration, like the CLI and the pipelines: it wires the feed readers
(:mod:`fraudwall.lists`) to the publishing guards
(:mod:`fraudwall.blocklists.guards`), so that ``fraudwall export --input``
works without a database.

Built for national lists of millions of names: the name-level blocks go into
one :class:`~fraudwall.entries.EntryTable` (a name list sorted once, not an
object per name) and the guards look up the few names they concern by binary
search; exceptions and URL-level entries, usually few, stay entries of their own.
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from fraudwall.blocklists.guards import PublishGuard
from fraudwall.blocklists.selection import Selection, guard_selection
from fraudwall.entries import EXACT, SUBTREE, Details, EntryTable, ordered_table
from fraudwall.lists import MAX_LIST_BYTES, Item, ListedName, ListRead, PlainNames, iter_list_items
from fraudwall.models import Action, BlockEntry, Scope


def compile_lists(
    paths: Sequence[str], guard: PublishGuard, *, max_bytes: int = MAX_LIST_BYTES, trusted: Collection[str] = (),
) -> Selection:
    """Block entries from list and feed files, guarded.

    A feed URL yields a URL-level entry (for URL-matching formats) and a block of
    its host, unless the guards refuse the host: fraud on a shared platform or
    an allowlisted site is then published by URL only, and on an allowlisted
    site only a URL naming one page (:meth:`PublishGuard.url_refusal`). A URL on an address is
    published by URL only. The first item for a name (or URL) and action gives
    its details; later ones are dropped, but a name any list blocks as a subtree
    is blocked as a subtree: each list's request is kept, none narrowed. Only
    the guards narrow: a subtree with a public suffix below it
    (:data:`~fraudwall.blocklists.guards.SUBTREE_REFUSAL`) is blocked as the
    name alone, and counted. The guard path is the store's own
    (:func:`~fraudwall.blocklists.selection.guard_selection`): the same names
    and URLs give the same entries and refusals either way.
    """
    # A feed of URLs makes several objects an item, which would set off the cycle collector again and
    # again, each time walking every entry made so far; they hold no cycles (as in fraudwall.lists), so
    # collection waits until the selection is made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        listed = ListRead()
        blocks, others = _read_entries(iter_list_items(paths, listed, max_bytes=max_bytes, trusted_exceptions=trusted))
        selection = guard_selection(blocks.table(), others, guard)
    finally:
        if collecting:
            gc.enable()
    selection.refused.merge(listed.rejected)
    return selection


def _read_entries(items: Iterable[Item]) -> tuple[_NameBlocks, list[BlockEntry]]:
    """The name-level blocks of ``items``, and their exceptions and URL-level entries, each once."""
    blocks = _NameBlocks()
    others: list[BlockEntry] = []
    seen: set[tuple[str, str, Action]] = set()
    shared = _SharedDetails()
    for item in items:
        if isinstance(item, PlainNames):
            blocks.add_plain(item.names, item.source)
            continue
        plain = shared.plain(item.source)
        details = shared.of(item, plain)
        if item.url:
            key = (item.name, item.url, item.action)
            if key in seen:
                continue
            seen.add(key)
            # The host is a block like any other; the guards refuse an address (ip-literal), and its URL stays.
            others.append(BlockEntry(item.name, Scope.EXACT, Action.BLOCK, item.categories,
                                     first_seen=item.first_seen, sources=plain.sources, url=item.url))
        if item.action is Action.ALLOW:
            key = (item.name, "", item.action)
            if key not in seen:
                seen.add(key)
                others.append(BlockEntry(item.name, item.scope, Action.ALLOW, *details))
        else:
            blocks.add(item, details, plain)
    return blocks, others


class _SharedDetails:
    """The :class:`~fraudwall.entries.Details` of items, shared between items alike.

    Each source has one for its plain names, and items in a row with the same
    metadata (a feed's URLs of one submission, one timestamp) share one: a
    feed's hundreds of thousands of rows then make a fraction of the objects.
    """

    __slots__ = ("_last", "_plain")

    def __init__(self) -> None:
        self._plain: dict[str, Details] = {}
        self._last = Details()

    def plain(self, source: str) -> Details:
        """The details of a plain name from ``source``: the source alone (its tuple shared by all its items)."""
        details = self._plain.get(source)
        if details is None:
            details = self._plain[source] = Details(sources=(source,))
        return details

    def of(self, item: ListedName, plain: Details) -> Details:
        """The details of ``item``, from its source's ``plain`` ones."""
        last = self._last
        # The same timestamp object (feed_records caches the parsing), not an equal one: an equal
        # time in another zone is another value to keep.
        if last.first_seen is item.first_seen and last.sources is plain.sources and last.categories == item.categories:
            return last
        self._last = Details(categories=item.categories, first_seen=item.first_seen, sources=plain.sources)
        return self._last


@dataclass
class _NameBlocks:
    """The name-level blocks read so far, in reading order, before ordering and de-duplication.

    Runs of plain names (exact, only a source) are kept as name lists, one
    per run of the same source; any other block (a subtree, feed metadata, a
    URL's host) is a ``variant``, with ``position``: how many plain names were
    read before it, which decides which comes first when both name one host.
    """

    runs: list[tuple[Details, list[str]]] = field(default_factory=list)
    variants: dict[str, tuple[int, int, Details]] = field(default_factory=dict)  # name -> (position, scope, details)
    plain_count: int = 0

    def add_plain(self, names: list[str], source: str) -> None:
        """A run of plain names from ``source``."""
        if self.runs and self.runs[-1][0].sources == (source,):
            self.runs[-1][1].extend(names)
        else:
            self.runs.append((Details(sources=(source,)), list(names)))
        self.plain_count += len(names)

    def add(self, item: ListedName, details: Details, plain: Details) -> None:
        """One block item; a plain one (exact, ``details`` equal to ``plain``: a source alone) joins the runs.

        A subtree item widens an exact one read before.
        """
        if item.scope is Scope.EXACT and details == plain:
            self.add_plain([item.name], item.source)
        elif item.name not in self.variants:
            scope = SUBTREE if item.scope is Scope.SUBTREE else EXACT
            self.variants[item.name] = (self.plain_count, scope, details)
        elif item.scope is Scope.SUBTREE:
            position, _, first = self.variants[item.name]
            self.variants[item.name] = (position, SUBTREE, first)

    def table(self) -> EntryTable:
        """Every block once, the first read for each name, in export order; a subtree where any asked for one."""
        if len(self.runs) == 1 and not self.variants:
            details, names = self.runs.pop()
            return ordered_table(names, bytearray(len(names)), [details] * len(names), Action.BLOCK)
        names: list[str] = []
        details_column: list[Details] = []
        for details, run in self.runs:
            names.extend(run)
            details_column.extend([details] * len(run))
        self.runs.clear()
        scopes = bytearray(len(names))
        first_plain = self._first_plain(names)
        # A name both plain and a variant: whichever was read first wins.
        dropped = {name for name, (position, _, _) in self.variants.items()
                   if name in first_plain and first_plain[name] >= position}
        # Read plain first and as a subtree later: the plain row keeps its details and takes the subtree.
        widened = {name for name, (position, scope, _) in self.variants.items()
                   if scope == SUBTREE and name in first_plain and first_plain[name] < position}
        if dropped:
            keep = [index for index, name in enumerate(names) if name not in dropped]
            names = [names[i] for i in keep]
            details_column = [details_column[i] for i in keep]
            scopes = bytearray(len(names))
        if widened:
            for index, name in enumerate(names):
                if name in widened:
                    scopes[index] = SUBTREE
        for name, (position, scope, details) in self.variants.items():
            if name in dropped or name not in first_plain:
                names.append(name)
                scopes.append(scope)
                details_column.append(details)
        return ordered_table(names, scopes, details_column, Action.BLOCK)

    def _first_plain(self, names: list[str]) -> dict[str, int]:
        """Where each variant's name first appears among the plain ``names``, if it does."""
        first: dict[str, int] = {}
        if self.variants:
            for index, name in enumerate(names):
                if name in self.variants and name not in first:
                    first[name] = index
        return first
