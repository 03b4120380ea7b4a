"""A sanity walk over the chunks of a binary XML (AXML) or resource table (ARSC) file.

androguard's parsers trust the counts in these files: a string pool that
claims four billion strings makes them loop for hours. Before handing bytes
to androguard, this walk checks every chunk header against its parent and
every string pool and type table against its own size. It answers with the
problems it met (tamper signs, such as the zero-size END_NAMESPACE chunk
packers write) and whether the file is safe to parse at all.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

XML_TYPE = 0x0003
TABLE_TYPE = 0x0002
STRING_POOL_TYPE = 0x0001
PACKAGE_TYPE = 0x0200
TABLE_TYPE_TYPE = 0x0201
CHUNK_HEADER_SIZE = 8
STRING_POOL_HEADER_SIZE = 28
FLAG_OFFSET16 = 0x02
#: Chunk types whose body holds more chunks.
_CONTAINERS = {XML_TYPE, TABLE_TYPE, PACKAGE_TYPE}
#: Chunks visited before the walk gives up (a real manifest has a few hundred).
MAX_CHUNKS = 500_000
#: Problems reported per file.
MAX_PROBLEMS = 5


@dataclass(frozen=True, slots=True)
class ChunkCheck:
    """What the walk found: problems worth reporting, and whether androguard may parse the file."""

    problems: tuple[str, ...]
    safe: bool


def check_chunks(data: bytes, expected_type: int) -> ChunkCheck:
    """Walk the chunks of ``data``, a file whose outer chunk should be of ``expected_type``."""
    walker = _Walker(data)
    if len(data) < CHUNK_HEADER_SIZE:
        return ChunkCheck(("file too short for a resource chunk",), False)
    chunk_type, header_size, size = struct.unpack_from("<HHI", data, 0)
    if chunk_type != expected_type:
        walker.problem(f"outer chunk type 0x{chunk_type:04x} (expected 0x{expected_type:04x})")
    if size != len(data):
        walker.problem(f"outer chunk declares {size} bytes, file has {len(data)}")
    if header_size < CHUNK_HEADER_SIZE or header_size > len(data):
        walker.problem(f"outer chunk header size {header_size}")
        return walker.result(safe=False)
    walker.walk(header_size, min(max(size, header_size), len(data)))
    return walker.result(safe=walker.safe)


class _Walker:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.problems: list[str] = []
        self.safe = True
        self.visited = 0

    def problem(self, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)

    def result(self, *, safe: bool) -> ChunkCheck:
        return ChunkCheck(tuple(self.problems), safe)

    def walk(self, start: int, end: int) -> None:
        position = start
        while position + CHUNK_HEADER_SIZE <= end:
            self.visited += 1
            if self.visited > MAX_CHUNKS:
                self.problem(f"more than {MAX_CHUNKS} chunks")
                self.safe = False
                return
            chunk_type, header_size, size = struct.unpack_from("<HHI", self.data, position)
            if size < CHUNK_HEADER_SIZE or header_size < CHUNK_HEADER_SIZE or header_size > size:
                # Packers write zero-size chunks (END_NAMESPACE) that Android skips over.
                self.problem(f"bogus chunk 0x{chunk_type:04x} of size {size} at offset {position}")
                return
            if position + size > end:
                self.problem(f"chunk 0x{chunk_type:04x} at offset {position} runs past its parent")
                size = end - position
            if chunk_type == STRING_POOL_TYPE:
                self._string_pool(position, size)
            elif chunk_type == TABLE_TYPE_TYPE:
                self._type_table(position, header_size, size)
            elif chunk_type in _CONTAINERS:
                self.walk(position + header_size, position + size)
            position += size

    def _string_pool(self, position: int, size: int) -> None:
        if size < STRING_POOL_HEADER_SIZE:
            self.problem(f"string pool at offset {position} is too small")
            self.safe = False
            return
        strings, styles, _, strings_start, styles_start = struct.unpack_from("<IIIII", self.data, position + 8)
        # androguard derives the string count from strings_start: both must fit the chunk.
        if (strings + styles) * 4 + STRING_POOL_HEADER_SIZE > size or strings_start > size or styles_start > size:
            self.problem(f"string pool at offset {position} declares more than it holds")
            self.safe = False

    def _type_table(self, position: int, header_size: int, size: int) -> None:
        if header_size < 20:
            self.problem(f"type table at offset {position} has a short header")
            self.safe = False
            return
        flags, entries, _ = struct.unpack_from("<xBxxII", self.data, position + 8)
        width = 2 if flags & FLAG_OFFSET16 else 4
        if header_size + entries * width > size:
            self.problem(f"type table at offset {position} declares more entries than it holds")
            self.safe = False
