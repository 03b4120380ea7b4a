"""Block entries stored by column, for lists of millions of names.

A national blocklist holds millions of names that differ only by their name
(and sometimes their scope): one :class:`~fraudwall.models.BlockEntry` object
each costs about 2 µs and 150 bytes more than the name itself. An
:class:`EntryTable` keeps the names in one list, the scopes in a bytearray and
everything else in :class:`Details` objects shared between rows, and still
iterates as ``BlockEntry`` objects for code that wants them.

Every table is in **export order**: sorted by :func:`sort_key`, the labels
read from the root down (``com example www``), so a zone's names sit together
and a parent comes before its children. Sorted names let the few names a rule
concerns (an allowlisted site and what is below it, a public suffix) be found
by binary search instead of by looking at every name (:func:`find`,
:func:`subtree`).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple, overload

from fraudwall.models import Action, BlockEntry, Indicator, Scope

SCOPES = (Scope.EXACT, Scope.SUBTREE)  # a scope column holds the index into this
EXACT, SUBTREE = 0, 1


def sort_key(name: str) -> str:
    """The export order of names: labels from the root down (``com example www``).

    Labels joined by a space, which sorts before every character a name can
    hold, so comparing two keys compares their labels one by one, as tuples
    of labels would (``example`` before ``example-x``), at the cost of one string.
    """
    return " ".join(name.split(".")[::-1])


def keys_in_place(names: list[str], chunk: int = 65536) -> None:
    """Replace each name by its :func:`sort_key`, chunk by chunk.

    In place, so a list of millions never exists twice: each old string is
    freed as its replacement is stored, and the replacement, of the same
    length, fits the memory it left.
    """
    for start in range(0, len(names), chunk):
        names[start:start + chunk] = [" ".join(name.split(".")[::-1]) for name in names[start:start + chunk]]


def names_in_place(keys: list[str]) -> None:
    """Undo :func:`keys_in_place`, the names made whole before the keys go.

    Not chunk by chunk into the memory each key leaves, as the keys were made:
    sorted keys lie scattered, and names made in their place would too. Made at
    once, the names lie in memory in the list's order, so every later pass over
    millions of them (checks, ids, hashes, rendering) reads memory in order,
    about a third faster, for a second copy of the names while they are made.
    """
    keys[:] = [".".join(key.split(" ")[::-1]) for key in keys]


def find(names: Sequence[str], name: str) -> int | None:
    """The index of ``name`` in ``names`` (in export order), or ``None``."""
    key = sort_key(name)
    index = bisect.bisect_left(names, key, key=sort_key)
    return index if index < len(names) and names[index] == name else None


def subtree(names: Sequence[str], name: str) -> Iterator[int]:
    """The indexes of ``name`` and of every name below it in ``names`` (in export order)."""
    found = find(names, name)
    if found is not None:
        yield found
    prefix = sort_key(name) + " "
    index = bisect.bisect_left(names, prefix, key=sort_key)
    while index < len(names) and sort_key(names[index]).startswith(prefix):
        yield index
        index += 1


def union(first: EntryTable, second: EntryTable) -> Iterator[tuple[str, int, int]]:
    """``(name, row in first, row in second)`` for every name of either table, in export order; ``-1`` where it has none.

    The second table is expected to be the small one (the exceptions): its
    names are placed among the first's by binary search, and the runs between
    them pass through without a Python step per name.
    """
    names = first.names
    rest = iter(names)  # the first's names not yet given, shared by the runs
    start = 0
    for row, name in enumerate(second.names):
        at = bisect.bisect_left(names, sort_key(name), lo=start, key=sort_key)
        yield from zip(itertools.islice(rest, at - start), itertools.count(start), itertools.repeat(-1))
        if at < len(names) and names[at] == name:
            next(rest)
            yield name, at, row
            at += 1
        else:
            yield name, -1, row
        start = at
    yield from zip(rest, itertools.count(start), itertools.repeat(-1))


class Details(NamedTuple):
    """Everything a :class:`~fraudwall.models.BlockEntry` holds besides name, scope and action.

    Fields in ``BlockEntry`` order, so ``BlockEntry(name, scope, action, *details)``
    rebuilds an entry. Rows from the same list share one object.
    """

    categories: tuple[str, ...] = ()
    confidence: float = 1.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    expires: datetime | None = None
    sources: tuple[str, ...] = ()
    url: str = ""
    addresses: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: BlockEntry) -> Details:
        """The details of ``entry``."""
        return cls(entry.categories, entry.confidence, entry.first_seen, entry.last_seen, entry.expires,
                   entry.sources, entry.url, entry.addresses)


class EntryTable(Sequence[BlockEntry]):
    """Name-level entries of one action, at most one per name, in export order, stored by column.

    ``names`` are the names, ``scopes`` their scopes (``EXACT``/``SUBTREE``
    codes), ``details`` their :class:`Details` (shared objects). The columns
    are the table's own: code that reads them must not change them. Indexing
    and iteration build ``BlockEntry`` objects on the fly; formats that only
    need names read ``names`` directly.
    """

    __slots__ = ("names", "scopes", "details", "action")

    def __init__(self, names: list[str], scopes: bytearray, details: list[Details], action: Action) -> None:
        if not len(names) == len(scopes) == len(details):
            raise ValueError("an entry table's columns must have one row per name")
        self.names = names
        self.scopes = scopes
        self.details = details
        self.action = action

    @classmethod
    def uniform(cls, names: list[str], details: Details, action: Action = Action.BLOCK) -> EntryTable:
        """A table of exact entries that share ``details`` (``names`` already in export order, unique)."""
        return cls(names, bytearray(len(names)), [details] * len(names), action)

    @classmethod
    def from_entries(cls, entries: Iterable[BlockEntry], action: Action) -> EntryTable:
        """A table of ``entries`` (valid, of ``action``, in export order, one per name)."""
        names: list[str] = []
        scopes = bytearray()
        details: list[Details] = []
        shared: dict[Details, Details] = {}  # equal details stored once
        for entry in entries:
            names.append(entry.name)
            scopes.append(SUBTREE if entry.scope is Scope.SUBTREE else EXACT)
            detail = Details.of(entry)
            details.append(shared.setdefault(detail, detail))
        return cls(names, scopes, details, action)

    def without(self, rows: Iterable[int]) -> EntryTable:
        """This table without the rows at the indexes in ``rows``.

        Copies the runs of rows between the dropped ones, so dropping a few rows
        of millions costs a copy of the columns and nothing per row.
        """
        dropped = sorted(set(rows))
        if not dropped:
            return self
        spans = [slice(start + 1, end) for start, end in zip([-1, *dropped], [*dropped, len(self.names)])]
        return EntryTable(
            list(itertools.chain.from_iterable(self.names[span] for span in spans)),
            bytearray().join(self.scopes[span] for span in spans),
            list(itertools.chain.from_iterable(self.details[span] for span in spans)),
            self.action,
        )

    def subtree_count(self) -> int:
        """How many rows have the SUBTREE scope."""
        return self.scopes.count(SUBTREE)

    def subtree_rows(self) -> Iterator[int]:
        """The rows that have the SUBTREE scope, in order (found at C speed in the scope column)."""
        row = self.scopes.find(SUBTREE)
        while row >= 0:
            yield row
            row = self.scopes.find(SUBTREE, row + 1)

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, index: int) -> BlockEntry: ...

    @overload
    def __getitem__(self, index: slice) -> EntryTable: ...

    def __getitem__(self, index: int | slice) -> BlockEntry | EntryTable:
        if isinstance(index, slice):
            return EntryTable(self.names[index], self.scopes[index], self.details[index], self.action)
        return BlockEntry(self.names[index], SCOPES[self.scopes[index]], self.action, *self.details[index])

    def __iter__(self) -> Iterator[BlockEntry]:
        action, scopes = self.action, SCOPES
        for name, scope, details in zip(self.names, self.scopes, self.details):
            yield BlockEntry(name, scopes[scope], action, *details)

    def __repr__(self) -> str:
        return f"EntryTable({len(self.names)} {self.action} entries)"


def ordered_table(names: list[str], scopes: bytearray, details: list[Details], action: Action) -> EntryTable:
    """A table of the rows given in any order: put in export order, the first row per name kept.

    Takes over ``names`` (its strings are replaced by the ordered, unique
    names). Rows that are all alike (exact, one shared
    :class:`Details`), as a plain list gives, need no bookkeeping per row: the
    names alone are sorted, which is most of the time of compiling a list.
    """
    if not names:
        return EntryTable(names, bytearray(), [], action)
    keys_in_place(names)  # a plain sort of the keys is the export order
    if scopes.count(SUBTREE) == 0 and details.count(details[0]) == len(details):
        names.sort()
        _unique_names_in_place(names)
        return EntryTable.uniform(names, details[0], action)
    order = sorted(range(len(names)), key=names.__getitem__)  # stable: the first row of a name comes first
    kept: list[int] = []
    previous = None
    for index in order:
        if names[index] != previous:
            previous = names[index]
            kept.append(index)
    table = EntryTable([names[i] for i in kept], bytearray(scopes[i] for i in kept), [details[i] for i in kept], action)
    names.clear()
    names_in_place(table.names)
    return table


def _unique_names_in_place(keys: list[str]) -> None:
    """Sorted keys (:func:`keys_in_place`) back to their names, each name once (see :func:`names_in_place`)."""
    keys[:] = [".".join(key.split(" ")[::-1]) for key, last in zip(keys, itertools.chain((None,), keys)) if key != last]


class CompiledEntries(Sequence[BlockEntry]):
    """The entries of a compiled list: a table of the name-level blocks, and every other entry.

    What :func:`~fraudwall.list_compiler.compile_lists` produces and the
    exporters take whole: :func:`~fraudwall.exporters.validation.prepare`
    re-validates ``blocks`` by column, and ``others`` (exceptions, URL-level
    entries) one by one. Iterating gives ``others`` first, then ``blocks``.
    ``indicators`` ride beside the entries, not among them: the addresses,
    hashes, wallets and handles only IP sets and intelligence formats publish.
    """

    __slots__ = ("blocks", "indicators", "others")

    def __init__(
        self, blocks: EntryTable, others: Sequence[BlockEntry] = (), indicators: Sequence[Indicator] = (),
    ) -> None:
        self.blocks = blocks
        self.others = tuple(others)
        self.indicators = tuple(indicators)

    def __len__(self) -> int:
        return len(self.others) + len(self.blocks)

    @overload
    def __getitem__(self, index: int) -> BlockEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BlockEntry]: ...

    def __getitem__(self, index: int | slice) -> BlockEntry | Sequence[BlockEntry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("entry index out of range")
        return self.others[index] if index < len(self.others) else self.blocks[index - len(self.others)]

    def __iter__(self) -> Iterator[BlockEntry]:
        yield from self.others
        yield from self.blocks

    def __repr__(self) -> str:
        return f"CompiledEntries({len(self.blocks)} name-level blocks, {len(self.others)} others)"
