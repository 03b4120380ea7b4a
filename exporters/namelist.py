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

import abc
from collections.abc import Iterator

from fraudwall.exporters.base import Exporter, ExportMeta, NoOptions
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry, Scope


class NameListExporter(Exporter[NoOptions]):
    """Base of the exact-name, one-line-per-name formats."""

    subtree_capable = False
    allow_underscore = False
    comment_prefix = "#"
    options_type = NoOptions

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Say how many subtree entries were narrowed and how many names were omitted."""
        rendered = self._rendered(prepared)
        narrowed = sum(entry.scope is Scope.SUBTREE for entry in rendered)
        omitted = len(prepared.blocked) - len(rendered)
        return [
            f"scope: exact names only; subtree entries narrowed to their apex name: {narrowed}",
            f"allow: not expressible; allow entries: {len(prepared.allowed)},"
            f" blocked names equal to one and omitted: {omitted}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """One line per blocked name that is not also allowed."""
        for entry in self._rendered(prepared):
            yield self.line_for(entry.name)

    @staticmethod
    def _rendered(prepared: PreparedEntries) -> list[BlockEntry]:
        """The blocked entries that make it into the file."""
        allowed = prepared.allowed_names
        return [entry for entry in prepared.blocked if entry.name not in allowed]

    @abc.abstractmethod
    def line_for(self, name: str) -> str:
        """The line that blocks ``name``."""
