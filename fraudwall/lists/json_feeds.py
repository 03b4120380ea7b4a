"""JSON feeds: a PhishTank array of records, JSON Lines, or an array of strings, read one record at a time.

A record is read by its keys (:mod:`fraudwall.lists.feed_records`); a string
is read as a line would be (:func:`fraudwall.lists.lines.text_items`), but a
JSON file is no ABP/AdGuard list, so an ``@@`` string is never an exception.
Only one record is held beyond the read buffer: one over
:data:`MAX_JSON_RECORD_CHARS` is rejected (``record-too-long``) without the
document being read whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any, NamedTuple

from fraudwall.exceptions import InputError
from fraudwall.lists.feed_records import Layout, feed_layout, record_item
from fraudwall.lists.input import CHUNK_CHARS
from fraudwall.lists.items import ListedName
from fraudwall.lists.lines import COMMENT_STARTS, text_items
from fraudwall.lists.tally import Rejector, Tally
from fraudwall.rejections import readable

#: Largest JSON record read; a PhishTank record is well under 2 KiB.
MAX_JSON_RECORD_CHARS = 1024 * 1024

_JSON_GAPS = frozenset(" \t\r\n,")


def read_json(stream: IO[str], source: str, reject: Rejector, tally: Tally) -> Iterator[ListedName]:
    """Items of a JSON array of records (PhishTank), or of JSON Lines; strings are read as lines.

    Rejections name the line the record starts on; ``tally.lines`` counts records.
    """
    layout: Layout | None = None
    index = line = 0
    tally.format = "json"
    try:
        for line, value in _json_values(stream):
            index += 1
            tally.lines = index
            if isinstance(value, _BrokenRecord):
                reject(line, value.detail, value.reason)
            elif isinstance(value, dict):
                if layout is None:
                    layout = feed_layout(value)
                    tally.format = f"{layout.feed}-json" if layout.feed else "json"
                try:
                    item = record_item(layout, value, source)
                except InputError as exc:
                    reject(line, readable(str(value.get("url", value))), exc.reason)
                    continue
                tally.accepted += 1
                yield item
            elif isinstance(value, str):
                text = value.strip()
                if text and text[0] not in COMMENT_STARTS:
                    for item in text_items(text, line, source, reject, tally.kinds, exceptions=False):
                        tally.accepted += 1
                        yield item
            else:
                reject(line, readable(repr(value)), "not-a-record")
    except InputError as exc:
        reject(line, exc.detail, exc.reason)


class _BrokenRecord(NamedTuple):
    """A JSON Lines record that cannot be decoded: rejected, and reading resumes at the next record."""

    reason: str
    detail: str


def _json_values(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """The top-level values of ``stream`` (the elements, for an array), one at a time, with their line numbers.

    Only one record is held beyond the read buffer. In JSON Lines a record that
    cannot be decoded comes out as a :class:`_BrokenRecord`, and reading goes
    on at the next line that starts with ``{``: the lines of a broken record
    that spans several (pretty-printed) are never read as records or list lines
    of their own. In an array, where no line marks the next element,
    :class:`InputError` (``bad-json``, ``record-too-long``) ends the document.
    """
    decode = json.JSONDecoder().raw_decode
    buffer, pos, eof = "", 0, False
    line, counted = 1, 0  # the line number at buffer[counted]
    in_array: bool | None = None
    while True:
        while pos < len(buffer) and buffer[pos] in _JSON_GAPS:
            pos += 1
        complete = False
        broken: InputError | None = None
        if pos < len(buffer):
            if in_array is None:
                in_array = buffer[pos] == "["
                pos += in_array
                continue
            if in_array and buffer[pos] == "]":
                return
            try:
                value, end = decode(buffer, pos)
                # A number at the very end of the buffer may go on in the next chunk.
                complete = end < len(buffer) or eof
            except json.JSONDecodeError as exc:
                # Cut off by the end of the buffer (an open string, or an error within a
                # token's length of the end) rather than broken: read on and try again.
                cut_off = exc.pos >= len(buffer) - 8 or exc.msg.startswith("Unterminated string")
                if eof or not cut_off:
                    broken = InputError("bad-json", str(exc))
                elif len(buffer) - pos > MAX_JSON_RECORD_CHARS:
                    broken = InputError("record-too-long", f"a JSON value over {MAX_JSON_RECORD_CHARS} characters")
            except RecursionError:  # json's scanner recurses once per level of nesting
                broken = InputError("bad-json", "a value nested too deeply to read")
            except ValueError as exc:  # an integer over Python's digit limit, among others
                broken = InputError("bad-json", str(exc))
            if complete or broken is not None:
                line += buffer.count("\n", counted, pos)
                counted = pos
            if broken is not None:
                if in_array:
                    raise broken
                yield line, _BrokenRecord(broken.reason, broken.detail)
                skipped, buffer, eof = _next_record(buffer, pos, stream, eof)
                line += skipped
                pos = counted = 0
                continue
            if complete:
                pos = end
                yield line, value
                continue
        elif eof:
            return
        chunk = stream.read(CHUNK_CHARS)
        eof = not chunk
        line += buffer.count("\n", counted, pos)
        buffer, pos, counted = buffer[pos:] + chunk, 0, 0


def _next_record(buffer: str, pos: int, stream: IO[str], eof: bool) -> tuple[int, str, bool]:
    """Skip from ``buffer[pos]`` to the next line that starts with ``{``.

    Returns the line ends skipped, the buffer from that line on (empty at the
    end of the stream) and whether the stream has ended.
    """
    skipped = 0
    while True:
        start = buffer.find("\n{", pos)
        if start >= 0:
            return skipped + buffer.count("\n", pos, start + 1), buffer[start + 1:], eof
        if eof:
            return skipped, "", True
        # Keep a line end at the very end: the "{" after it may come in the next chunk.
        keep = len(buffer) - 1 if buffer.endswith("\n") else len(buffer)
        skipped += buffer.count("\n", pos, keep)
        chunk = stream.read(CHUNK_CHARS)
        eof = not chunk
        buffer, pos = buffer[keep:] + chunk, 0
