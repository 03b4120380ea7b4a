"""Formats that list exact names, one per line (hosts files, plain domain lists).

They cannot express a subtree or an exception, so they render what they can
and say what they could not in the header:

- a SUBTREE entry is narrowed to its apex name, and the header counts them;
- ALLOW entries are not written; a blocked name equal to an allowed one is left
  out (the exception wins), and the header counts both. Blocked names *below*
  an allowed name stay: the more specific rule wins, as it does in RPZ.

Both forbid underscores: hosts(5) says host names hold only letters, digits,
minus signs and periods, and these lists are read as host names. Underscore
names are still published in formats that allow them (RPZ).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from fraudwall.entries import find
from fraudwall.exporters.base import Exporter, ExportMeta, NoOptions, line_blocks
from fraudwall.exporters.validation import PreparedEntries


class NameListExporter(Exporter[NoOptions]):
    """Base of the exact-name, one-line-per-name formats: each line is ``line_prefix`` and the name."""

    subtree_capable = False
    allow_underscore = False
    comment_prefix = "#"
    options_type = NoOptions
    line_prefix: ClassVar[str]

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Say how many subtree entries were narrowed and how many names were omitted."""
        omitted = self._omitted(prepared)
        scopes = prepared.blocked.scopes
        narrowed = prepared.blocked.subtree_count() - sum(scopes[index] for index in omitted)
        return [
            f"scope: exact names only; subtree entries narrowed to their apex name: {narrowed}",
            f"allow: not expressible; allow entries: {len(prepared.allowed)},"
            f" blocked names equal to one and omitted: {len(omitted)}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[list[str]]:
        """One line per blocked name that is not also allowed, straight from the name column."""
        names = prepared.blocked.names
        omitted = self._omitted(prepared)
        kept = (name for index, name in enumerate(names) if index not in omitted) if omitted else iter(names)
        return line_blocks(map(self.line_prefix.__add__, kept) if self.line_prefix else kept)

    @staticmethod
    def _omitted(prepared: PreparedEntries) -> set[int]:
        """The rows of the blocked names that are also allowed (the exception wins), found by binary search."""
        names = prepared.blocked.names
        return {index for name in prepared.allowed.names if (index := find(names, name)) is not None}
