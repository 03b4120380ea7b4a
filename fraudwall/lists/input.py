"""A list file as bounded input: decompressed, capped, decoded, and cut into lines of bounded length.

A file is opened as bytes; gzip, bzip2 and xz are recognised by their magic
bytes and decompressed on the fly (:mod:`fraudwall.lists.compressed`). A
UTF-8, UTF-16 or UTF-32 byte-order mark is honoured; CRLF line ends read as LF.

A hostile file costs bounded time and memory: reading stops, keeping the whole
lines read before, past :data:`MAX_LIST_BYTES` after decompression
(``input-too-large``) and when a compressed file expands more than
:data:`MAX_COMPRESSION_RATIO` times (``compression-bomb``); a line longer
than :data:`MAX_LINE_CHARS` is skipped without being held whole
(``line-too-long``). A damaged compressed file gives every whole line
decompressed before the damage, then raises the damage where that text runs
out; the line the damage cut is never read.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

from fraudwall.exceptions import InputError
from fraudwall.lists.compressed import DAMAGE_ERRORS, DecompressingReader, decompressing
from fraudwall.lists.tally import ReadLimitExceeded, Rejector, Tally

#: Bytes read to recognise a file's format.
SNIFF_BYTES = 64 * 1024
#: Longest line read: eight times the longest URL a gateway rule carries (2 KiB).
MAX_LINE_CHARS = 16 * 1024
#: Most bytes read from one file, after decompression: six times a national list of two million
#: names. Reading stops there (``input-too-large``); the items before it are kept.
MAX_LIST_BYTES = 256 * 1024 * 1024
#: Most a compressed file may expand: text lists compress five to ten times; a bomb a thousand.
#: Checked once :data:`COMPRESSION_CHECK_BYTES` are out, so small files never trip it.
MAX_COMPRESSION_RATIO = 100
COMPRESSION_CHECK_BYTES = 16 * 1024 * 1024
#: Characters read from a text stream at a time.
CHUNK_CHARS = 64 * 1024
# Bytes utf8_fault checks at a time.
_CHECK_BYTES = 64 * 1024


class _CappedStream(io.BufferedIOBase):
    """The bytes of ``inner``, counted: :class:`ReadLimitExceeded` past ``max_bytes`` or the expansion limit.

    ``compressed`` is the file under a decompressor; its position is how much
    of it has been used, against which :data:`MAX_COMPRESSION_RATIO` is checked.
    """

    def __init__(self, inner: IO[bytes], compressed: IO[bytes] | None, max_bytes: int) -> None:
        super().__init__()
        self._inner = inner
        self._compressed = compressed
        self._max_bytes = max_bytes
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._counted(self._inner.read(-1 if size is None else size))

    def read1(self, size: int = -1) -> bytes:
        return self._counted(self._inner.read1(size))  # type: ignore[attr-defined]

    def _counted(self, data: bytes) -> bytes:
        self.count += len(data)
        if self.count > self._max_bytes:
            raise ReadLimitExceeded("input-too-large", f"more than {self._max_bytes} bytes; read up to there")
        if self._compressed is not None and self.count > COMPRESSION_CHECK_BYTES:
            used = self._compressed.tell()
            if self.count > MAX_COMPRESSION_RATIO * max(used, 1):
                raise ReadLimitExceeded(
                    "compression-bomb",
                    f"{used} compressed bytes expanded to over {self.count}, more than {MAX_COMPRESSION_RATIO} times",
                )
        return data


@contextmanager
def _open_bytes(path: Path, max_bytes: int = MAX_LIST_BYTES) -> Iterator[tuple[IO[bytes], DecompressingReader | None]]:
    """``path`` as a stream of (decompressed) bytes, capped, with its decompressor (``None`` if not compressed).

    A damaged compressed file's bytes end at the damage, which the decompressor
    then holds. :class:`InputError` (``unreadable-file``) if the file cannot be opened.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError("unreadable-file", f"{path}: {exc.strerror or exc}") from exc
    with raw:
        decompressed = decompressing(raw)
        if decompressed is None:
            yield _CappedStream(raw, None, max_bytes), None
            return
        with io.BufferedReader(decompressed) as stream:
            yield _CappedStream(stream, raw, max_bytes), decompressed


class _TextBeforeDamage(io.TextIOBase):
    """The text of a compressed file, read up to its damage, which is raised once that text is used up.

    Raised from under :class:`io.TextIOWrapper`, the damage would lose the text
    gathered by the read it ended; the decompressor ends the bytes instead, and
    the damage comes from here, where the text runs out. A last line the damage
    cut (no line end) is never returned, so never read as a name or a row:
    ``bank.com.evil.top`` cut to ``bank.co`` must not be blocked.
    """

    def __init__(self, text: IO[str], decompressed: DecompressingReader) -> None:
        super().__init__()
        self._text = text
        self._decompressed = decompressed

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        text = self._text.read(size)
        if not text:
            self._raise_damage()
        return text

    def readline(self, size: int | None = -1) -> str:
        line = self._text.readline(-1 if size is None else size)
        if not line.endswith("\n") and (size is None or size < 0 or len(line) < size):
            self._raise_damage()  # the text has ended: this is a last line the damage may have cut
        return line

    def _raise_damage(self) -> None:
        if self._decompressed.damage is not None:
            raise self._decompressed.damage


class Head(NamedTuple):
    """A file's first :data:`SNIFF_BYTES` (decompressed), decoded to recognise its format; how its text decodes."""

    text: str
    encoding: str
    errors: str


def read_head(path: Path) -> Head:
    """The start of ``path``, read through an opening of its own: sniffing never pushes bytes back into a decompressor.

    Raises :class:`InputError` (``unreadable-file``) if the file cannot be opened.
    """
    with _open_bytes(path) as (stream, _):
        head_bytes = stream.read(SNIFF_BYTES)  # up to any damage, which the reading of the text meets again
    if head_bytes.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16, whose LE mark it starts with
        encoding, errors = "utf-32", "replace"
    elif head_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, errors = "utf-16", "replace"
    else:
        # surrogateescape keeps invalid UTF-8 visible (as lone surrogates) so the line
        # it is on can be rejected as invalid-utf8 instead of turning into other text.
        encoding, errors = "utf-8-sig", "surrogateescape"
    return Head(head_bytes.decode(encoding, errors="replace"), encoding, errors)


@contextmanager
def open_text(path: Path, head: Head, max_bytes: int = MAX_LIST_BYTES) -> Iterator[IO[str]]:
    """``path`` as text decoded as its ``head`` says, at most ``max_bytes`` of it after decompression.

    Reading raises :class:`ReadLimitExceeded` at a limit, and for a damaged
    compressed file the damage (one of
    :data:`~fraudwall.lists.compressed.DAMAGE_ERRORS`) once the text before it
    is used up.
    """
    with (_open_bytes(path, max_bytes) as (stream, decompressed),
          io.TextIOWrapper(stream, encoding=head.encoding, errors=head.errors, newline=None) as text):
        yield text if decompressed is None else _TextBeforeDamage(text, decompressed)


def utf8_fault(path: Path, max_bytes: int = MAX_LIST_BYTES) -> str | None:
    """Why ``path`` (decompressed) is not UTF-8 text: where its first NUL or undecodable byte is; else ``None``.

    For inputs that must be text as a whole rather than line by line. Reads at
    most ``max_bytes``, and what a compressed file gives before any damage:
    the limits, the damage and a failing read are left to the reading of the
    list, which counts them. Raises :class:`InputError` (``unreadable-file``)
    if the file cannot be opened.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes checked before this chunk
    with _open_bytes(path, max_bytes) as (stream, decompressed):
        try:
            while chunk := stream.read(_CHECK_BYTES):
                nul = chunk.find(b"\0")
                if nul >= 0:
                    return f"a NUL byte at byte {offset + nul}, not a text file"
                pending = len(decoder.getstate()[0])  # the start of a character the last chunk cut
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return f"not UTF-8 text ({exc.reason} at byte {offset - pending + exc.start})"
                offset += len(chunk)
        except (ReadLimitExceeded, *DAMAGE_ERRORS):
            return None
        if decompressed is not None and decompressed.damage is not None:
            return None  # the damage may have cut the last character
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return f"not UTF-8 text ({exc.reason} at byte {offset - len(exc.object) + exc.start})"
    return None


def lines(stream: IO[str], reject: Rejector, tally: Tally) -> Iterator[tuple[int, str]]:
    """Numbered lines of ``stream``, each at most :data:`MAX_LINE_CHARS` long.

    A longer line is rejected as ``line-too-long`` and skipped piece by piece,
    so a 10 MB line never sits in memory whole.
    """
    readline = stream.readline
    lineno = 0
    try:
        while line := readline(MAX_LINE_CHARS):
            lineno += 1
            if len(line) == MAX_LINE_CHARS and line[-1] != "\n":
                while (rest := readline(MAX_LINE_CHARS)) and rest[-1] != "\n":
                    pass
                reject(lineno, line[:80], "line-too-long")
                continue
            yield lineno, line
    finally:  # also when a corrupt file stops the reading
        tally.lines = lineno


def blocks(stream: IO[str], reject: Rejector, tally: Tally) -> Iterator[tuple[int, str]]:
    """``(number of its first line, text)`` for runs of whole lines of ``stream``, each line ending in ``\\n``.

    Read :data:`CHUNK_CHARS` at a time. A line that reaches
    :data:`MAX_LINE_CHARS` before its end is rejected as ``line-too-long`` and
    skipped unread, so a 10 MB line never sits in memory whole; a shorter one
    that is still too long arrives whole, for the reader of the lines to reject.
    """
    lineno = 0  # lines before the text yielded next
    # The start of a line that the last read cut. Where a compressed file's damage cut it, the next
    # read raises and it is dropped, never read: only whole lines before the damage count.
    carry = ""
    try:
        while block := stream.read(CHUNK_CHARS):
            text = carry + block
            cut = text.rfind("\n") + 1
            carry = text[cut:]
            if cut:
                yield lineno + 1, text[:cut]
                lineno += text.count("\n", 0, cut)
            if len(carry) >= MAX_LINE_CHARS:
                lineno += 1
                reject(lineno, carry[:80], "line-too-long")
                carry = _after_line_end(stream)
        if carry:  # what followed a skipped line, or a last line without a line end
            text = carry if carry.endswith("\n") else carry + "\n"
            yield lineno + 1, text
            lineno += text.count("\n")
    finally:  # also when a corrupt file stops the reading
        tally.lines = lineno


def _after_line_end(stream: IO[str]) -> str:
    """Skip the rest of the current line of ``stream``; what follows its line end in the last read."""
    while block := stream.read(CHUNK_CHARS):
        end = block.find("\n")
        if end >= 0:
            return block[end + 1:]
    return ""
