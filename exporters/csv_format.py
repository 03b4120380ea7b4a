"""CSV threat-intel export: one row per entry and per indicator, for spreadsheets and scripts.

A header row, then one row per entry, name-level and URL-level, then one per
indicator (address, APK or certificate hash, wallet, handle), with the same
fields (columns) as the JSON export: ``type, value, name, scope, action,
categories, confidence, first_seen, last_seen, expires, sources, addresses,
evidence, context`` (see :mod:`~fraudwall.exporters.json_format` for what they
mean, how allow rows act as exceptions, and why an indicator's ``name`` is
empty). The file is pure CSV (RFC 4180 quoting, LF
line ends, UTF-8 without BOM): no comment lines, which CSV does not have. The
title, the generation time and the counts are in the JSON report that
:func:`~fraudwall.exporters.publish.publish` writes beside the file.

Lists (categories, sources, addresses, evidence, context) are joined with ``;``; inside
an item, ``\\`` and ``;`` are escaped with a backslash, so every item comes back
whole. :func:`read_records` reads a file back into the JSON export's records.

Spreadsheet formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (and tab or carriage return, which
some strip first) as a formula. Names and URLs never start so, but sources and
categories are free text, and so are wallets, handles (``@fzzx_kefu``) and
the context of an indicator (an app's label). So, following OWASP and ASVS 1.2.10:

- every cell is quoted, so a ``,`` or ``;`` in a value cannot start a new cell,
  even in a spreadsheet whose locale splits on ``;``;
- a cell, and every list item, that starts with ``= + - @``, tab, CR, LF or NUL
  gets a leading ``'``, which spreadsheets take as "text" and do not show. A
  value that starts with ``'`` itself gets one too, so the guard is reversible:
  a reader drops one leading ``'`` from any cell or item that has one.

The guard runs over every value; :meth:`CsvExporter.check`, run before a file is
written and again on the written file, refuses any cell or item that starts
with a formula character.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters.base import DocumentChecker, DocumentExporter, ExportMeta, NoOptions
from fraudwall.exporters.templates import CheckedLines, safe_name_pattern
from fraudwall.exporters.json_format import (
    FIELDS,
    LIST_FIELDS,
    TIME_FIELDS,
    RECORD_TYPES,
    RecordSequence,
    check_record,
    indicator_note,
    indicator_records,
    record,
    record_lines,
)
from fraudwall.exporters.validation import PreparedEntries

#: First characters that make a spreadsheet evaluate a cell (OWASP, ASVS 1.2.10).
FORMULA_STARTS = frozenset("=+-@\t\r\n\0")
# The guard itself; values starting with it are guarded too, so reading back is unambiguous.
GUARD = "'"
SEPARATOR = ";"
ESCAPE = "\\"


def guard(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet could take it for a formula (or it starts with ``'``)."""
    return GUARD + value if value[:1] in FORMULA_STARTS or value.startswith(GUARD) else value


def unguard(value: str) -> str:
    """The value :func:`guard` was given."""
    return value.removeprefix(GUARD)


def join_items(items: Sequence[str]) -> str:
    """A list as one cell: each item guarded, ``\\`` and ``;`` escaped, joined with ``;``."""
    return SEPARATOR.join(
        guard(item).replace(ESCAPE, ESCAPE * 2).replace(SEPARATOR, ESCAPE + SEPARATOR) for item in items
    )


def split_items(cell: str) -> list[str]:
    """The raw (still guarded) items of a list cell written by :func:`join_items`."""
    if not cell:
        return []
    if ESCAPE not in cell:  # the common case, and a fast one
        return cell.split(SEPARATOR)
    items, current, chars = [], [], iter(cell)
    for char in chars:
        if char == ESCAPE:
            current.append(next(chars, ""))
        elif char == SEPARATOR:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def cells(item: dict[str, Any]) -> list[str]:
    """A record as the row's cells, in :data:`~fraudwall.exporters.json_format.FIELDS` order."""
    row = []
    for key in FIELDS:
        value = item[key]
        if key in LIST_FIELDS:
            row.append(join_items(value))
        elif value is None:
            row.append("")
        else:
            row.append(guard(str(value)))
    return row


class RowWriter:
    """Formats rows as CSV records, every cell quoted, without the line end (a quoted cell may hold newlines)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def line(self, row: Sequence[str]) -> str:
        """One record."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(row)
        return self._buffer.getvalue()[:-1]


def parse_row(row: Sequence[str]) -> dict[str, Any]:
    """A data row back as the record it was written from; :class:`ExportError` if a cell could run as a formula."""
    if len(row) != len(FIELDS):
        raise ExportError(f"row has {len(row)} cells, expected {len(FIELDS)}: {list(row)[:3]!r}")
    parsed: dict[str, Any] = {}
    for key, cell in zip(FIELDS, row, strict=True):
        raw = split_items(cell) if key in LIST_FIELDS else [cell]
        if any(part[:1] in FORMULA_STARTS for part in raw):
            raise ExportError(f"{key} cell {cell[:40]!r} starts with a formula character")
        if key in LIST_FIELDS:
            parsed[key] = [unguard(part) for part in raw]
        elif key in TIME_FIELDS:
            parsed[key] = cell or None
        elif key == "confidence":
            try:
                parsed[key] = float(cell)
            except ValueError as exc:
                raise ExportError(f"confidence {cell!r} is not a number") from exc
        else:
            parsed[key] = unguard(cell)
    return parsed


def parse_line(text: str) -> list[str]:
    """The one CSV record in ``text`` (which may span lines inside quotes)."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ExportError(f"not CSV: {exc}: {text[:120]!r}") from exc
    if len(rows) != 1:
        raise ExportError(f"expected one CSV record, got {len(rows)}: {text[:120]!r}")
    return rows[0]


def read_records(text: str) -> list[dict[str, Any]]:
    """The records of a CSV export (the JSON export's entries), after checking the header row."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ExportError(f"not CSV: {exc}") from exc
    if not rows or rows[0] != list(FIELDS):
        raise ExportError(f"the header row must be {','.join(FIELDS)}")
    return [parse_row(row) for row in rows[1:]]


def check_row(row: Sequence[str], *, allow_underscore: bool) -> dict[str, Any]:
    """A data row parsed (:func:`parse_row`) and checked as a record."""
    item = parse_row(row)
    check_record(item, allow_underscore=allow_underscore)
    return item


class CsvChecker(DocumentChecker):
    """The CSV export record by record: the header row, then valid records in export order."""

    def __init__(self, *, allow_underscore: bool) -> None:
        self.allow_underscore = allow_underscore
        self.header = False
        self.order = RecordSequence()

    def line(self, line: str) -> None:
        """One rendered record (a row, possibly spanning lines inside quotes)."""
        self.row(parse_line(line))

    def row(self, row: Sequence[str]) -> None:
        """One parsed row."""
        if not self.header:
            if list(row) != list(FIELDS):
                raise ExportError(f"the header row must be {','.join(FIELDS)}")
            self.header = True
            return
        self.order.add(check_row(row, allow_underscore=self.allow_underscore))

    def checked(self, lines: CheckedLines) -> None:
        """Rows from a checked template."""
        if not self.header:
            raise ExportError("rows before the header row")
        self.order.skip()

    def end(self) -> None:
        """A CSV export has at least its header row."""
        if not self.header:
            raise ExportError("the file has no header row")


class CsvExporter(DocumentExporter[NoOptions]):
    """Every entry and every indicator as one CSV row, formula-safe."""

    name = "csv"
    description = ("CSV, one row per entry (names and URLs) and indicator (addresses, hashes, wallets, handles),"
                   " formula-injection safe; metadata in the report")
    subtree_capable = True  # the scope is a column: the consumer applies it
    url_capable = True
    indicator_kinds = frozenset(RECORD_TYPES)
    allow_underscore = True  # data, as in the JSON export
    options_type = NoOptions

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """How scope and allow entries are expressed, and where the metadata went."""
        return [
            "scope: kept as data, column scope (exact or subtree)",
            f"allow: rows with action allow, exceptions to blocks; allow entries: {len(prepared.allowed)}",
            f"urls: URL-level entries, type url: {len(prepared.urls)}",
            indicator_note(prepared),
            "metadata: CSV has no comments; title, time and counts are in this report",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | CheckedLines]:
        """The header row, then one row per entry, then one per indicator."""
        writer = RowWriter()
        yield writer.line(FIELDS)
        yield from record_lines(
            prepared, lambda entry: writer.line(cells(record(entry))),
            lambda line: check_row(parse_line(line), allow_underscore=self.allow_underscore),
            safe_name_pattern(allow_underscore=self.allow_underscore),
        )
        yield from (writer.line(cells(item)) for item in indicator_records(prepared))

    def checker(self, meta: ExportMeta) -> CsvChecker:
        """Header row and records, one by one."""
        return CsvChecker(allow_underscore=self.allow_underscore)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Re-read the file as CSV, record by record (a record may span lines inside quotes)."""
        checker = self.checker(meta)
        try:
            with path.open("rb") as raw:
                if raw.seek(0, 2) == 0 or (raw.seek(-1, 2), raw.read(1))[1] != b"\n":
                    raise ExportError("the file must end with a line end")
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle, strict=True):
                    checker.row(row)
            checker.end()
        except (OSError, UnicodeDecodeError) as exc:
            raise VerificationError(f"{path}: cannot read as UTF-8: {exc}") from exc
        except csv.Error as exc:
            raise VerificationError(f"{path}: not CSV: {exc}") from exc
        except ExportError as exc:
            raise VerificationError(f"{path}: {exc}") from exc
