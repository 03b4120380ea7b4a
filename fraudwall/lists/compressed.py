"""gzip, bzip2 and xz files decompressed so that damage ends the data without losing any of it.

The standard library's readers (:class:`gzip.GzipFile`, :class:`bz2.BZ2File`,
:class:`lzma.LZMAFile`) raise at damage from inside a read, and the layers above
them drop what that read had gathered: :class:`io.TextIOWrapper` up to a whole
read's worth of text. :class:`DecompressingReader` drives the decompressors
itself: every byte they give before the damage is read out, the damage reads as
the end of the data, and :attr:`DecompressingReader.damage` keeps what went
wrong, for the reader of the text to raise once it has used up that text.

Before the damage means what ``zcat``, ``bzcat`` and ``xzcat`` write before they
stop. A file cut short gives all its bytes decode to (bzip2 in whole blocks of up
to 900 kB: it cannot decode less). A checksum is checked after the data it covers
were given out (a gzip member's, an xz block's, a bzip2 block's), so data that
fail it have been read, as those tools write them. A decompressor that refuses a
byte gives nothing of what it decoded in that same call, which can be the last
kilobytes before the damage; so the member is then decoded again from its start,
and the compressed bytes of the call that failed are given one at a time, until
the decompressor refuses the same byte again, having given everything before it.
That costs a second decoding of the member, once, and only for a damaged file.

Concatenated members (gzip) or streams (bzip2, xz) are read one after the other,
as ``zcat`` reads them; zero bytes after a member are padding (xz pads streams
so, and gzip skips them too). Anything else after a complete member is damage.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Compressed bytes read from the file at a time, and the most a decompressor is given at once:
#: the damaged call's bytes are given again one at a time, so this bounds that work.
READ_BYTES = 16 * 1024
#: What damage in a compressed file raises: cut short (:class:`EOFError`), bytes a decompressor
#: refuses (:class:`zlib.error`, :class:`OSError` from bzip2, :class:`lzma.LZMAError`), or a failed read.
DAMAGE_ERRORS = (EOFError, OSError, zlib.error, lzma.LZMAError)
#: Bytes at the start of a file that tell its compression.
MAGIC_BYTES = 10
# The message gzip.GzipFile, bz2.BZ2File and lzma.LZMAFile give a file cut short.
_CUT_SHORT = "Compressed file ended before the end-of-stream marker was reached"


class _Decompressor(Protocol):
    """One member's decompressor, as :class:`bz2.BZ2Decompressor` and :class:`lzma.LZMADecompressor` are."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _GzipMember:
    """zlib decompressing one gzip member, behind the interface of bz2's and lzma's decompressors.

    Those keep the input a limited output left unused, and say when more output
    is pending (``needs_input``); zlib hands that input back
    (``unconsumed_tail``) and says neither, so this keeps the input and tells
    output may be pending when the last call filled its limit.
    """

    __slots__ = ("_zlib", "_tail", "_filled")

    def __init__(self) -> None:
        # 16 + 15: a gzip header and trailer (CRC-32 and length checked) around the deflate data. Not
        # 32 + 15, which would also take a zlib stream for a next member, where zcat sees garbage.
        self._zlib = zlib.decompressobj(wbits=31)
        self._tail = b""
        self._filled = False

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def needs_input(self) -> bool:
        return not self._tail and not self._filled

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._zlib.decompress(self._tail + data, max(max_length, 0))  # for zlib, 0 is no limit
        self._tail = self._zlib.unconsumed_tail
        self._filled = len(out) == max_length
        return out


def _is_bzip2(magic: bytes) -> bool:
    """bzip2: ``BZh``, a block-size digit, then a block or end-of-stream marker."""
    return magic[:3] == b"BZh" and magic[3:4].isdigit() and magic[4:10] in (b"1AY&SY", b"\x17rE8P\x90")


_FORMATS: tuple[tuple[Callable[[bytes], bool], Callable[[], _Decompressor]], ...] = (
    (lambda magic: magic[:2] == b"\x1f\x8b", _GzipMember),
    (_is_bzip2, bz2.BZ2Decompressor),
    (lambda magic: magic[:6] == b"\xfd7zXZ\x00", lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ)),
)


def decompressing(compressed: io.BufferedReader) -> DecompressingReader | None:
    """A reader of ``compressed`` decompressed, if its first bytes are gzip's, bzip2's or xz's; else ``None``."""
    magic = compressed.peek(MAGIC_BYTES)[:MAGIC_BYTES]
    for matches, new_decompressor in _FORMATS:
        if matches(magic):
            return DecompressingReader(compressed, new_decompressor)
    return None


class DecompressingReader(io.RawIOBase):
    """The decompressed bytes of a gzip, bzip2 or xz file, member after member; damage reads as their end.

    :attr:`damage` is then what went wrong: :class:`EOFError` for a file cut
    short, else the decompressor's error. Reading starts at the file's position;
    to find what a failing call had decoded, a seekable file is sought back to
    the start of the member (see the module's notes).
    """

    def __init__(self, compressed: io.BufferedReader, new_decompressor: Callable[[], _Decompressor]) -> None:
        super().__init__()
        #: What ended the data before its end, or ``None``.
        self.damage: Exception | None = None
        self._file = compressed
        self._new_decompressor = new_decompressor
        self._decompressor: _Decompressor | None = new_decompressor()
        self._buffer = b""  # compressed bytes read from the file
        self._pos = 0  # how many of them the decompressor has been given
        self._buffer_at = compressed.tell()  # the file offset of _buffer[0]
        self._member_at = self._buffer_at  # the file offset the member being decoded starts at
        self._member_out = 0  # bytes of the member read out
        self._given = (0, 0)  # file offsets of the bytes last given to the decompressor
        self._bytewise = (0, 0)  # file offsets of the bytes to give one at a time
        self._skip = 0  # bytes of output to drop: read out before the member was decoded again
        self._again = False  # whether the member is being decoded again

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as out:
            if not out:  # zlib would take a limit of 0 for none
                return 0
            data = self._read(len(out))
            out[:len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        """Up to ``size`` decompressed bytes; ``b""`` at the end of the file or at damage."""
        while (decompressor := self._decompressor) is not None:
            if decompressor.eof:
                self._next_member(len(decompressor.unused_data))
                continue
            data = b""
            if decompressor.needs_input:
                data = self._compressed_bytes()
                if not data:
                    self._end(EOFError(_CUT_SHORT))
                    continue
            try:
                out = decompressor.decompress(data, size)
            except DAMAGE_ERRORS as exc:
                self._decode_again_or_end(exc)
                continue
            if self._skip:
                dropped = min(self._skip, len(out))
                self._skip -= dropped
                out = out[dropped:]
            if out:
                self._member_out += len(out)
                return out
        return b""

    def _compressed_bytes(self) -> bytes:
        """The next compressed bytes for the decompressor (one, where damage is sought); ``b""`` at the end."""
        if self._pos == len(self._buffer):
            self._refill()
        at = self._buffer_at + self._pos
        start, end = self._bytewise
        size = start - at if at < start else 1 if at < end else READ_BYTES
        data = self._buffer[self._pos:self._pos + size]
        self._pos += len(data)
        self._given = (at, at + len(data))
        return data

    def _refill(self) -> None:
        self._buffer_at += len(self._buffer)
        self._buffer, self._pos = self._file.read(READ_BYTES), 0

    def _next_member(self, unused: int) -> None:
        """After a complete member: start the next, past zero-byte padding, or end at the end of the file."""
        # What the decompressor left unused is the end of what it was given last, which came from _buffer.
        self._pos -= unused
        while True:
            if self._pos == len(self._buffer):
                self._refill()
                if not self._buffer:
                    self._decompressor = None
                    return
            rest = self._buffer[self._pos:].lstrip(b"\0")
            self._pos = len(self._buffer) - len(rest)
            if rest:
                break
        self._member_at = self._buffer_at + self._pos
        self._member_out = 0
        self._again = False
        self._bytewise = (0, 0)
        self._decompressor = self._new_decompressor()

    def _decode_again_or_end(self, error: Exception) -> None:
        """After the decompressor raised: decode the member again from its start, or end the data at ``error``.

        Again, the output already read out is dropped, and the bytes given in the
        failing call are given one at a time: the decompressor then raises in a call
        that decoded nothing but the refused byte, so what came before it is read.
        Decoding is deterministic, so nothing before those bytes raises the second time.
        """
        if self._again or not self._file.seekable():
            self._end(error)
            return
        self._again = True
        self._bytewise = self._given
        self._skip = self._member_out
        self._file.seek(self._member_at)
        self._buffer, self._pos, self._buffer_at = b"", 0, self._member_at
        self._decompressor = self._new_decompressor()

    def _end(self, damage: Exception) -> None:
        self.damage = damage
        self._decompressor = None
