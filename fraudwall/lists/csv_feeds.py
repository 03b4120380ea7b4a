"""CSV feeds: URLhaus, PhishTank and JPCERT/CC dumps, or any CSV with a ``url`` or ``domain`` column, read row by row.

Rows are read by column name (:mod:`fraudwall.lists.feed_records`); the header
row is skipped wherever it repeats, as in concatenated monthly files. A row is
rejected whole when it cannot be read (``nul-byte``, ``invalid-utf8``,
``bad-csv``) or has the wrong number of fields (``csv-column-count``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from fraudwall.exceptions import InputError
from fraudwall.lists.detect import csv_fields, header_columns
from fraudwall.lists.feed_records import feed_layout, record_item
from fraudwall.lists.input import lines
from fraudwall.lists.items import ListedName
from fraudwall.lists.tally import Rejector, Tally
from fraudwall.lists.validate import text_fault


def read_csv(
    stream: IO[str], header: tuple[str, ...], source: str, reject: Rejector, tally: Tally,
) -> Iterator[ListedName]:
    """Items of a CSV feed whose header is ``header``, one per row, by column name."""
    layout = feed_layout(header)
    tally.format = f"{layout.feed}-csv" if layout.feed else "csv"
    width = len(header)
    accepted = 0
    try:
        for lineno, line in lines(stream, reject, tally):
            text = line.strip()
            if not text or text[0] == "#":
                continue
            # The header row, also where concatenated files repeat it.
            if "://" not in text and header_columns(text) == header:
                continue
            fault = text_fault(text)
            if fault:
                reject(lineno, text, fault)
                continue
            try:
                fields = csv_fields(text)
            except csv.Error:
                reject(lineno, text, "bad-csv")
                continue
            if len(fields) != width:
                reject(lineno, text, "csv-column-count")
                continue
            try:
                item = record_item(layout, dict(zip(header, fields)), source)
            except InputError as exc:
                reject(lineno, text, exc.reason)
                continue
            accepted += 1
            yield item
    finally:
        tally.accepted += accepted

