"""The order records are written in, and the runs of rows that render alike.

Threat-intel documents list every prepared entry (blocks, allows, URLs) in
one deterministic order: by :func:`~fraudwall.entries.sort_key` of the name,
then URL (a name's own entry first), then action (``allow`` before
``block``). The blocked names are a table already in that order and are most
of the entries; allows and URLs are few. So :func:`export_order` places the
few among the table by binary search and gives the table's rows between them
as ranges, never one Python step per blocked name; :func:`uniform_runs` cuts a
range where a row's scope or details change, so each run renders from one
:class:`~fraudwall.exporters.templates.LineTemplate`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fraudwall.entries import SUBTREE, EntryTable, find, sort_key
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry


def record_key(entry: BlockEntry) -> tuple[str, str, str]:
    """An entry's place among the records."""
    return sort_key(entry.name), entry.url, str(entry.action)


def export_order(prepared: PreparedEntries) -> Iterator[range | BlockEntry]:
    """Every prepared entry in record order: ranges of ``prepared.blocked`` rows, and the other entries one by one."""
    names = prepared.blocked.names
    start = 0
    for entry in sorted((*prepared.allowed, *prepared.urls), key=record_key):
        key = sort_key(entry.name)
        # A blocked row (key, "", "block") comes before a URL entry of its name, after an allow entry of it.
        find = bisect.bisect_right if entry.url else bisect.bisect_left
        at = find(names, key, lo=start, key=sort_key)
        if at > start:
            yield range(start, at)
        yield entry
        start = at
    if start < len(names):
        yield range(start, len(names))


def uniform_runs(table: EntryTable, rows: range) -> Iterator[range]:
    """``rows`` cut into runs of rows that share scope and details."""
    details, scopes = table.details, table.scopes
    start, stop = rows.start, rows.stop
    # A whole list read from one file is one run: found at C speed, not row by row (equal details
    # render alike, whether or not they are the same object).
    if stop - start > 1 and scopes.count(scopes[start], start, stop) == stop - start and (
            details[start:stop].count(details[start]) == stop - start):
        yield rows
        return
    while start < stop:
        first, scope = details[start], scopes[start]
        end = start + 1
        while end < stop and details[end] is first and scopes[end] == scope:
            end += 1
        yield range(start, end)
        start = end


@dataclass(frozen=True, slots=True)
class AllowedRows:
    """Where the allow entries touch the blocked table, found by binary search per allowed name.

    ``equal``: blocked rows whose name an allow entry has. ``above``: blocked
    subtree rows (not in ``equal``) with allowed names below them, and those
    allow entries, nearest first per allowed name's ancestors.
    """

    equal: frozenset[int]
    above: dict[int, list[BlockEntry]]


def allowed_rows(prepared: PreparedEntries) -> AllowedRows:
    """The blocked rows the allow entries concern (see :class:`AllowedRows`)."""
    table = prepared.blocked
    equal: set[int] = set()
    above: dict[int, list[BlockEntry]] = {}
    for allow in prepared.allowed:
        row = find(table.names, allow.name)
        if row is not None:
            equal.add(row)
        labels = allow.name.split(".")
        for cut in range(1, len(labels)):
            row = find(table.names, ".".join(labels[cut:]))
            if row is not None and table.scopes[row] == SUBTREE:
                above.setdefault(row, []).append(allow)
    for row in equal:
        above.pop(row, None)
    return AllowedRows(frozenset(equal), above)


def cut_at(length: int, rows: Iterable[int]) -> Iterator[tuple[range, int | None]]:
    """Rows ``0..length`` cut at ``rows``: each range before one of them with that row, then the rest with ``None``."""
    start = 0
    for row in sorted(rows):
        yield range(start, row), row
        start = row + 1
    yield range(start, length), None
