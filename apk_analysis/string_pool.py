"""The strings of a resource string pool, read directly: every text a compiled XML or resource table holds.

Indicator search needs the text of ``res/xml/*.xml``, the manifest and
``resources.arsc`` (where every string resource lives, in every locale: the
chat IDs and URLs of a fake app's screens), not their structure. The first
string pool chunk of such a file holds it all and reads in one pass, far
faster than a full parse. Offsets and lengths are checked against the chunk;
a string that does not fit is skipped.
"""

from __future__ import annotations

import struct

STRING_POOL_TYPE = 0x0001
HEADER_SIZE = 28
UTF8_FLAG = 0x100
#: Strings read from one pool at most.
MAX_STRINGS = 1_000_000


def pool_strings(data: bytes) -> list[str]:
    """The strings of the first string pool in ``data`` (an AXML or ARSC file); [] when there is none."""
    if len(data) < 8:
        return []
    _, header_size, _ = struct.unpack_from("<HHI", data, 0)
    position = header_size
    if position + HEADER_SIZE > len(data):
        return []
    chunk_type, pool_header, size, count, _, flags, strings_start, _ = struct.unpack_from("<HHIIIIII", data, position)
    if chunk_type != STRING_POOL_TYPE or pool_header < HEADER_SIZE:
        return []
    end = min(position + size, len(data))
    count = min(count, MAX_STRINGS, max(0, (end - position - pool_header) // 4))
    offsets = struct.unpack_from(f"<{count}I", data, position + pool_header)
    base = position + strings_start
    read = _utf8 if flags & UTF8_FLAG else _utf16
    strings = []
    for offset in offsets:
        text = read(data, base + offset, end)
        if text is not None:
            strings.append(text)
    return strings


def _length(data: bytes, position: int, width: int) -> tuple[int, int]:
    """A pool length field (one unit, or two when the high bit is set) and the position after it."""
    fmt, high = ("<B", 0x80) if width == 1 else ("<H", 0x8000)
    (first,) = struct.unpack_from(fmt, data, position)
    if first & high:
        (second,) = struct.unpack_from(fmt, data, position + width)
        return ((first & (high - 1)) << (8 * width)) | second, position + 2 * width
    return first, position + width


def _utf8(data: bytes, position: int, end: int) -> str | None:
    if position + 4 > end:
        return None
    _, position = _length(data, position, 1)  # the length in UTF-16 units
    length, position = _length(data, position, 1)
    if position + length > end:
        return None
    return data[position:position + length].decode("utf-8", "replace")


def _utf16(data: bytes, position: int, end: int) -> str | None:
    if position + 4 > end:
        return None
    length, position = _length(data, position, 2)
    if position + 2 * length > end:
        return None
    return data[position:position + 2 * length].decode("utf-16-le", "replace")
