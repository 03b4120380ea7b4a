"""A list file's format, recognised by its content, never by its name.

The first 64 KiB (decompressed and decoded: :func:`fraudwall.lists.input.read_head`)
decide, in this order:

==============  ==========================================================  ===============================
format          recognised by                                               yields
==============  ==========================================================  ===============================
binary          over 5% control characters (NUL...) in the first 64 KiB:    one ``binary-file`` rejection
                an image, an archive, UTF-16 without a byte-order mark
JSON            first character ``{`` (JSON Lines, or one object), or       an item per record, read one
                ``[`` followed by ``{``, ``"`` or ``]``; PhishTank when     record at a time: ``url`` (or
                the first record has ``phish_id``, ``url`` and              ``domain``) plus metadata;
                ``submission_time``                                         strings are read as lines
CSV             a header naming a ``url`` (or ``domain``) column among      an item per row, by column name
                identifier-like columns: the first line that is not a
                ``#`` comment, or a ``#`` comment just above a row of as
                many fields (where URLhaus puts it). The columns name the
                feed: URLhaus (``dateadded``, ``url``, ``urlhaus_link``),
                PhishTank (``phish_id``, ``url``, ``submission_time``),
                JPCERT/CC (``date``, ``URL``, ``description``); any other
                header is read generically
lines           anything else; each line is recognised on its own, so one   :mod:`fraudwall.lists.lines`
                file may mix plain, hosts, ABP and URL lines
==============  ==========================================================  ===============================

A line file is moreover an ABP/AdGuard list when its first 64 KiB show that
syntax (:func:`is_abp_list`): the only kind of file whose ``@@`` exceptions
may count, and then only when its source is trusted for allowing
(:func:`fraudwall.lists.read_lists`).
"""

from __future__ import annotations

import csv
import re
from enum import Enum
from typing import NamedTuple

from fraudwall.lists.feed_records import NAME_KEYS

#: Share of control characters above which a file is binary, not a list.
BINARY_CONTROL_SHARE = 0.05

_CONTROL_CHARS = tuple(chr(code) for code in range(0x20) if chr(code) not in "\t\n\r\f\v")
# What only an ABP/AdGuard list holds at a line start: its header ([Adblock Plus 2.0], [AdGuard]) or a
# network rule (||x^, |x^, @@||x^). "!" comments are no sign: other lists use them too.
_ABP_SYNTAX = re.compile(r"^[ \t]*(?:\[(?:adblock|adguard)|\||@@)", re.IGNORECASE | re.MULTILINE)


class Shape(Enum):
    """How a file is read: not at all, record by record, row by row, or line by line."""

    BINARY = "binary"
    JSON = "json"
    CSV = "csv"
    LINES = "lines"


class Detected(NamedTuple):
    """A file's shape and, for CSV, its header (lowercase column names)."""

    shape: Shape
    header: tuple[str, ...] = ()


def detect(head: str) -> Detected:
    """The shape of a file that starts with ``head``."""
    controls = sum(map(head.count, _CONTROL_CHARS))
    if head and controls > BINARY_CONTROL_SHARE * len(head):
        return Detected(Shape.BINARY)
    start = head.lstrip()
    if start.startswith("{") or (start.startswith("[") and start[1:].lstrip()[:1] in ('{', '"', "]")):
        return Detected(Shape.JSON)
    header = _csv_header(head)
    if header is not None:
        return Detected(Shape.CSV, header)
    return Detected(Shape.LINES)


def is_abp_list(head: str) -> bool:
    """True when a line file starting with ``head`` shows ABP/AdGuard syntax: a header or a network rule."""
    return _ABP_SYNTAX.search(head) is not None


def header_columns(text: str) -> tuple[str, ...] | None:
    """``text`` as a CSV header (lowercase column names) if it looks like one."""
    if "," not in text or "://" in text:
        return None
    columns = tuple(column.strip().strip('"').lower() for column in text.split(","))
    if not all(c and c.isascii() and c[0].isalpha() and c.replace("_", "").replace("-", "").replace(" ", "").isalnum()
               for c in columns):
        return None
    return columns if "url" in columns or any(key in columns for key in NAME_KEYS) else None


def csv_fields(text: str) -> list[str]:
    """The fields of one CSV line; the csv module only when quotes need it."""
    if '"' not in text:
        return text.split(",")
    return next(csv.reader((text,)))


def _csv_header(head: str) -> tuple[str, ...] | None:
    """The header of a CSV feed, from its first line or the comment just above its first row."""
    commented: tuple[str, ...] | None = None
    for line in head.splitlines()[:100]:
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            commented = header_columns(text.lstrip("#").strip()) or commented
            continue
        header = header_columns(text)
        if header:
            return header
        if commented and len(csv_fields(text)) == len(commented):
            return commented
        return None
    return None
