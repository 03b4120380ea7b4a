"""Read blocklists and threat feeds, whatever their format, into listed names and URLs.

``fraudwall export --input FILE...`` compiles any common list or feed, so each
file's format is recognised by its content, never by its name. A file is opened
as bytes; gzip, bzip2 and xz are recognised by their magic bytes and
decompressed on the fly; a UTF-8, UTF-16 or UTF-32 byte-order mark is honoured; CRLF
line ends read as LF. The first 64 KiB then decide, in this order:

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
lines           anything else; each line is recognised on its own, so one   see below
                file may mix plain, hosts, ABP and URL lines
==============  ==========================================================  ===============================

Line syntaxes, tried in this order on each line (``#``, ``!``, ``;`` and ``[``
start comments and list headers):

- ABP/AdGuard network rules: ``||a.example^`` blocks the subtree,
  ``|a.example^`` the name only, ``@@`` in front makes an allow entry. The
  options ``important``, ``all`` and ``document`` keep the rule whole; any other
  option narrows it to some requests and the rule is rejected (``abp-option``),
  as are wildcards, paths, unanchored, regex and element-hiding rules.
- URLs (``https://a.example/login``, one a line as in OpenPhish): a URL-level item.
- hosts lines (``0.0.0.0 a.example b.example # note``): every name, exact. Only
  blocking addresses (``0.0.0.0``, ``127.0.0.1``, ``::``, ``::1``) count; a line
  pointing a name at any other address is a redirect (``hosts-redirect``), and
  the ``localhost`` boilerplate is ``local-name``.
- plain names (``a.example``: exact; ``.a.example``, as in Squid and Surge: the
  subtree).
- resolver syntax that is not a list is rejected by name: ``$INCLUDE``/``$ORIGIN``
  (``zone-directive``), ``server=/x/`` (``dnsmasq-directive``), ``local-zone:``
  (``unbound-directive``).

A URL-level item keeps the feed's URL (spaces sent as ``%20``) and is named by
its host; only http(s) URLs are items. A URL on a public IPv4 address is named
by the address and stays URL-level only (never a name block, never an IP-set
entry); on an IPv6 address it is rejected as ``ip-literal``, on a private or
reserved one as ``non-public-address`` (:func:`~fraudwall.names.url_address`).

Metadata kept from feeds: ``first_seen`` (URLhaus ``dateadded``, in UTC;
PhishTank ``submission_time``; JPCERT ``date``, in Japan time), ``target`` (the
brand a phishing page spoofs: PhishTank ``target``, JPCERT ``description``),
``categories`` (URLhaus ``threat``), ``tags`` (URLhaus ``tags``). PhishTank
records with ``verified`` ``no`` are rejected (``unverified``).

Bad input is normal input: a line or record that is not a usable name or URL is
rejected with a stable reason (``line-too-long``, ``nul-byte``, ``invalid-utf8``,
``csv-column-count``, ``bad-json``, the reasons of
:func:`~fraudwall.names.normalize_name`...), counted in
:class:`~fraudwall.rejections.Rejections` with a sample ``file:line: text``, and
reading goes on. A damaged compressed file (cut short, bytes its decompressor
refuses, garbage after its last member) is one ``corrupt-file`` rejection after
every whole line decompressed before the damage, as ``zcat`` writes them; a line
the damage cut is dropped (:mod:`fraudwall.crawler.compressed`). Reading a file
also stops, keeping the whole lines read before, past :data:`MAX_LIST_BYTES`
after decompression (``input-too-large``), when a compressed file expands more
than :data:`MAX_COMPRESSION_RATIO` times (``compression-bomb``), and after
:data:`MAX_REJECTED_LINES` rejections in a file that gave fewer items
(``mostly-rejected``): a hostile file costs bounded time and memory. Only a
file that cannot be opened raises.

Reading streams: :func:`iter_lists` yields items as it reads, a line longer
than :data:`MAX_LINE_CHARS` is skipped without being held whole, JSON is decoded
one record at a time, and line files are read 64 KiB at a time: a run of
lines that are plain names is checked by one regex and comes out as one
:class:`PlainNames` (:func:`iter_list_items`), so a 2-million-line list reads in
about a second; other lines go through the full path one by one.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import urlsplit

from fraudwall.crawler.compressed import DAMAGE_ERRORS, DecompressingReader, decompressing
from fraudwall.exceptions import InputError
from fraudwall.models import Action, Scope
from fraudwall.names import (
    MAX_NAME_LENGTH,
    browser_slashes,
    is_ip_literal,
    normalize_name,
    plain_name_run,
    url_address,
)
from fraudwall.rejections import Rejections, readable

#: Bytes read to recognise a file's format.
SNIFF_BYTES = 64 * 1024
#: Longest line read: eight times the longest URL a gateway rule carries (2 KiB).
MAX_LINE_CHARS = 16 * 1024
#: Largest JSON record read; a PhishTank record is well under 2 KiB.
MAX_JSON_RECORD_CHARS = 1024 * 1024
#: Share of control characters above which a file is binary, not a list.
BINARY_CONTROL_SHARE = 0.05
#: Most bytes read from one file, after decompression: six times a national list of two million
#: names. Reading stops there (``input-too-large``); the items before it are kept.
MAX_LIST_BYTES = 256 * 1024 * 1024
#: Rejected lines after which a file that gave fewer items than that is no list: reading stops
#: (``mostly-rejected``), so a file of junk lines costs seconds, not hours.
MAX_REJECTED_LINES = 1_000_000
#: Most a compressed file may expand: text lists compress five to ten times; a bomb a thousand.
#: Checked once :data:`COMPRESSION_CHECK_BYTES` are out, so small files never trip it.
MAX_COMPRESSION_RATIO = 100
COMPRESSION_CHECK_BYTES = 16 * 1024 * 1024

_CHUNK_CHARS = 64 * 1024
# Lines _line_items reads nothing from: blank (ASCII whitespace that str.strip removes) or a
# comment, each shorter than MAX_LINE_CHARS (a longer one is rejected), any number in a row.
_SKIPPED_LINES = re.compile(rf"(?:(?=[^\n]{{0,{MAX_LINE_CHARS - 1}}}\n)[ \t\r\x0b\x0c\x1c-\x1f]*(?:[#!;\[][^\n]*)?\n)+")
_UTC = timezone.utc
# JPCERT/CC gives local times without a zone: they cluster in Japanese office hours.
_JST = timezone(timedelta(hours=9), "JST")
_EARLIEST_FEED_DATE = datetime(1995, 1, 1, tzinfo=_UTC)

# Addresses a hosts line points a name at to block it; any other address is a redirect.
_HOSTS_BLOCK_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "0", "::0"})
# The boilerplate at the top of every hosts file: never names to block.
_LOCAL_NAMES = frozenset({
    "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost", "ip6-loopback",
    "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",
})
# ABP options that do not narrow a rule to some requests, so the rule still means "this domain".
_ABP_WHOLE_DOMAIN_OPTIONS = frozenset({"important", "all", "document", "doc"})
_DNSMASQ_KEYS = ("server=", "address=", "local=", "ipset=", "nftset=", "rebind-domain-ok=")
_COMMENT_STARTS = frozenset("#!;[")
_ABP_COSMETIC_MARKS = frozenset("#@?$%")
_CONTROL_CHARS = tuple(chr(code) for code in range(0x20) if chr(code) not in "\t\n\r\f\v")
_JSON_GAPS = frozenset(" \t\r\n,")
# A whole LDH name (underscores allowed, as list files carry them) in one match: the
# common case skips normalize_name's per-label checks. Anything it does not match, or
# that needs more care (xn--, a numeric last label), goes through normalize_name.
_LDH_NAME = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


class ListedName(NamedTuple):
    """One name or URL read from a list or feed, with what its line or record said.

    A URL-level item has ``url`` set and ``name`` is the URL's host (IDNA
    A-labels, lowercase); otherwise ``name`` is the listed name and ``scope``
    the extent its syntax asked for. A NamedTuple rather than a frozen
    dataclass: one is built per line, and it costs a third as much.
    """

    name: str
    scope: Scope
    source: str
    url: str = ""
    action: Action = Action.BLOCK
    first_seen: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    target: str = ""


class PlainNames(NamedTuple):
    """A run of names read from one line file, each a plain name: exact scope, a block, no metadata.

    Each is what a :class:`ListedName` with only ``name``, ``scope=EXACT`` and
    ``source`` would say; the names are lowercase A-labels needing no IDNA care.
    """

    names: list[str]
    source: str


#: What the readers yield: one item, or a run of plain names.
Item = ListedName | PlainNames


@dataclass(frozen=True, slots=True)
class FileRead:
    """What reading one file gave: its format and the counts behind it.

    ``format`` is ``urlhaus-csv``, ``phishtank-json``, ``jpcert-csv``, ``csv``,
    ``json``, ``binary``, or for line files the syntaxes met, most frequent
    first (``hosts``, ``abp+plain``...). ``lines`` counts lines read (records,
    for JSON); ``accepted`` and ``rejected`` count items, and a hosts line may
    hold several. Comments, blank lines and headers are neither.
    """

    path: str
    format: str
    lines: int
    accepted: int
    rejected: int


@dataclass
class ListRead:
    """Items read from one or more files, the rejections by reason, and a summary per file."""

    names: list[ListedName] = field(default_factory=list)
    rejected: Rejections = field(default_factory=Rejections)
    files: list[FileRead] = field(default_factory=list)


def read_lists(paths: Iterable[str | Path], *, max_bytes: int = MAX_LIST_BYTES) -> ListRead:
    """Read every file into one :class:`ListRead`; names are lowercase A-labels; ``max_bytes`` per file."""
    result = ListRead()
    # Millions of small items trigger the cycle collector again and again, and it
    # then walks every item read so far: half the time of a 2-million-line read.
    # Items hold no cycles, so collection waits until the list is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result.names.extend(iter_lists(paths, result, max_bytes=max_bytes))
    finally:
        if collecting:
            gc.enable()
    return result


def iter_lists(paths: Iterable[str | Path], into: ListRead, *, max_bytes: int = MAX_LIST_BYTES) -> Iterator[ListedName]:
    """Yield the items of every file as they are read, without keeping them.

    Rejections and the per-file summaries are recorded in ``into`` (its
    ``names`` are left alone). Raises :class:`InputError` (``unreadable-file``)
    only for a file that cannot be opened.
    """
    for item in iter_list_items(paths, into, max_bytes=max_bytes):
        if isinstance(item, PlainNames):
            exact, source = Scope.EXACT, item.source
            for name in item.names:
                yield ListedName(name, exact, source)
        else:
            yield item


def iter_list_items(paths: Iterable[str | Path], into: ListRead, *, max_bytes: int = MAX_LIST_BYTES) -> Iterator[Item]:
    """As :func:`iter_lists`, but a run of plain names comes as one :class:`PlainNames`.

    For compiling lists of millions: a run costs one object, not one per name.
    ``max_bytes`` caps what is read of each file (:data:`MAX_LIST_BYTES`).
    """
    for path in paths:
        yield from _read_file(Path(path), into, max_bytes)


# -- one file ------------------------------------------------------------------


class _Tally:
    """Counts kept while one file is read."""

    __slots__ = ("lines", "accepted", "kinds", "format")

    def __init__(self) -> None:
        self.lines = 0
        self.accepted = 0
        self.kinds: Counter[str] = Counter()
        self.format = ""


class _Rejector:
    """Records a rejected line of one file as ``file:line: text`` under its reason.

    Raises :class:`ReadLimitExceeded` once :data:`MAX_REJECTED_LINES` are
    rejected and the file has given fewer items than that.
    """

    __slots__ = ("count", "rejections", "tally", "where")

    def __init__(self, rejections: Rejections, where: str, tally: _Tally) -> None:
        self.rejections = rejections
        self.where = where
        self.tally = tally
        self.count = 0

    def __call__(self, lineno: int, text: str, reason: str) -> None:
        self.record(lineno, text, reason)
        self.count += 1
        if self.count % MAX_REJECTED_LINES == 0 and self.tally.accepted < self.count:
            raise ReadLimitExceeded(
                "mostly-rejected", f"{self.count} lines rejected and {self.tally.accepted} read; stopped at line {lineno}")

    def record(self, lineno: int, text: str, reason: str) -> None:
        """Count a rejection, with no limit: for what ends the file."""
        self.rejections.add(f"{self.where}:{lineno}: {text}", reason)


def _read_file(path: Path, into: ListRead, max_bytes: int = MAX_LIST_BYTES) -> Iterator[Item]:
    """Yield one file's items, recording its rejections and summary in ``into``."""
    before = into.rejected.total
    tally = _Tally()
    # A file name is bytes on POSIX: an undecodable one must not reach the outputs as a lone surrogate.
    shown_name = readable(path.name)
    reject = _Rejector(into.rejected, shown_name, tally)
    source = f"list:{shown_name}"
    try:
        with _open_text(path, max_bytes) as (stream, head):
            if head is None:
                tally.format = "binary"
                reject(0, f"over {BINARY_CONTROL_SHARE:.0%} control characters in its first bytes", "binary-file")
            else:
                yield from _read_stream(stream, head, source, reject, tally)
    except DAMAGE_ERRORS as exc:
        # A truncated or corrupt compressed file (or one failing to read): the whole lines
        # read before the damage are kept; the damage is one rejection.
        reject.record(tally.lines, str(exc), "corrupt-file")
    except ReadLimitExceeded as exc:
        # As for a damaged file, the items read before the limit are kept.
        reject.record(tally.lines, exc.detail, exc.reason)
    if not tally.format:
        kinds = sorted((-count, kind) for kind, count in tally.kinds.items() if count)
        tally.format = "+".join(kind for _, kind in kinds) or "empty"
    into.files.append(FileRead(readable(str(path)), tally.format, tally.lines, tally.accepted, into.rejected.total - before))


def _read_stream(stream: IO[str], head: str, source: str, reject: _Rejector, tally: _Tally) -> Iterator[Item]:
    """Dispatch on the format ``head`` shows."""
    start = head.lstrip()
    if start.startswith("{") or (start.startswith("[") and start[1:].lstrip()[:1] in ('{', '"', "]")):
        return _read_json(stream, source, reject, tally)
    header = _csv_header(head)
    if header is not None:
        return _read_csv(_lines(stream, reject, tally), header, source, reject, tally)
    return _read_list_text(stream, source, reject, tally)


# -- opening: compression, encoding, binary files ------------------------------


class ReadLimitExceeded(Exception):  # noqa: N818 (a reason to stop reading, like StopIteration)
    """Reading one file went past a limit: ``input-too-large``, ``compression-bomb`` or ``mostly-rejected``.

    Not an :class:`InputError`, so that no reader mistakes it for one bad record
    and reads on: it ends the file.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


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
    then holds. :class:`InputError` if the file cannot be opened.
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


@contextmanager
def _open_text(path: Path, max_bytes: int = MAX_LIST_BYTES) -> Iterator[tuple[IO[str], str | None]]:
    """``path`` as text and its first :data:`SNIFF_BYTES` decoded; ``None`` for a binary file.

    The head is read through a first opening and the text through a second, so
    sniffing never has to push bytes back into a decompressor.
    """
    with _open_bytes(path) as (stream, _):
        head_bytes = stream.read(SNIFF_BYTES)  # up to any damage, which the reading below meets again
    if head_bytes.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16, whose LE mark it starts with
        encoding, errors = "utf-32", "replace"
    elif head_bytes.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, errors = "utf-16", "replace"
    else:
        # surrogateescape keeps invalid UTF-8 visible (as lone surrogates) so the line
        # it is on can be rejected as invalid-utf8 instead of turning into other text.
        encoding, errors = "utf-8-sig", "surrogateescape"
    head = head_bytes.decode(encoding, errors="replace")
    controls = sum(map(head.count, _CONTROL_CHARS))
    if head and controls > BINARY_CONTROL_SHARE * len(head):
        yield io.StringIO(), None
        return
    with (_open_bytes(path, max_bytes) as (stream, decompressed),
          io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline=None) as text):
        yield (text if decompressed is None else _TextBeforeDamage(text, decompressed)), head


def _lines(stream: IO[str], reject: _Rejector, tally: _Tally) -> Iterator[tuple[int, str]]:
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


def _blocks(stream: IO[str], reject: _Rejector, tally: _Tally) -> Iterator[tuple[int, str]]:
    """``(number of its first line, text)`` for runs of whole lines of ``stream``, each line ending in ``\\n``.

    Read :data:`_CHUNK_CHARS` at a time. A line that reaches
    :data:`MAX_LINE_CHARS` before its end is rejected as ``line-too-long`` and
    skipped unread, so a 10 MB line never sits in memory whole; a shorter one
    that is still too long arrives whole and is rejected by :func:`_line_items`.
    """
    lineno = 0  # lines before the text yielded next
    # The start of a line that the last read cut. Where a compressed file's damage cut it, the next
    # read raises and it is dropped, never read: only whole lines before the damage count.
    carry = ""
    try:
        while block := stream.read(_CHUNK_CHARS):
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
    while block := stream.read(_CHUNK_CHARS):
        end = block.find("\n")
        if end >= 0:
            return block[end + 1:]
    return ""


def _text_fault(text: str) -> str | None:
    """The reason ``text`` cannot be read at all (NUL, invalid UTF-8), or ``None``."""
    if "\x00" in text:
        return "nul-byte"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the bytes were not UTF-8
            return "invalid-utf8"
    return None


# -- names and URLs ------------------------------------------------------------


def _plain_ldh(raw: str) -> str | None:
    """``raw`` lowercased when it is a valid LDH name needing no IDNA care, else ``None``.

    What this accepts, :func:`normalize_name` accepts unchanged but for case;
    what it declines (``xn--``, a last label starting with a digit, non-ASCII, a trailing dot,
    hosts-file boilerplate) is left to the full path.
    """
    if not raw.isascii():
        return None
    name = raw.lower()
    if (len(name) <= MAX_NAME_LENGTH and _LDH_NAME.fullmatch(name) and not name[name.rfind(".") + 1].isdigit()
            and "xn--" not in name and name not in _LOCAL_NAMES):
        return name
    return None


def _checked_name(raw: str) -> str:
    """``raw`` as a lowercase A-label name, exactly as :func:`normalize_name` would give it.

    Raises :class:`~fraudwall.exceptions.InvalidName` or, for hosts-file
    boilerplate such as ``localhost``, :class:`InputError` (``local-name``).
    """
    name = _plain_ldh(raw)
    if name is not None:
        return name
    if raw.lower() in _LOCAL_NAMES:
        raise InputError("local-name", raw)
    return normalize_name(raw, allow_underscore=True)


def _url_item(raw: str, source: str, **meta: Any) -> ListedName:
    """A URL-level item for ``raw``: http(s) only, on a valid DNS name."""
    # Feeds copy URLs from address bars, spaces and all; a client sends a space as %20
    # (one in the host still fails below, as a bad character).
    url = raw.strip().replace(" ", "%20")
    if not url.isprintable():
        raise InputError("bad-url", url)
    scheme, separator, _ = url.partition(":")
    if not (separator and scheme.isascii() and scheme.isalpha()):
        raise InputError("url-without-scheme", url)
    if scheme.lower() not in ("http", "https"):
        raise InputError("unsupported-scheme", url)
    url = browser_slashes(url)
    try:
        split = urlsplit(url)
        port = split.port  # raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise InputError("bad-url", f"{url}: {exc}") from exc
    if port == 0:  # no client connects to port 0, and Squid's and Suricata's grammars refuse it
        raise InputError("bad-url", f"{url}: port 0")
    if not split.hostname:
        raise InputError("no-host", url)
    host = url_address(split.hostname) if is_ip_literal(split.hostname) else _checked_name(split.hostname)
    return ListedName(host, Scope.EXACT, source, url, **meta)


# -- line formats: plain, hosts, ABP/AdGuard, URLs -----------------------------


class _Candidate(NamedTuple):
    """A name or URL a line states, before validation."""

    text: str
    scope: Scope = Scope.EXACT
    action: Action = Action.BLOCK
    is_url: bool = False


def _read_list_text(stream: IO[str], source: str, reject: _Rejector, tally: _Tally) -> Iterator[Item]:
    """Items of a line file; every line is recognised on its own.

    The common case, runs of lines that each hold just a name needing no IDNA
    care, is taken a run at a time: one regex over the run, and one
    :class:`PlainNames` for it. Any other line goes through :func:`_line_items`.
    """
    for lineno, text in _blocks(stream, reject, tally):
        start, end = 0, len(text)
        # Most lists are ASCII: matched lowercase, a block at once. Other lines keep their case.
        ascii_text = text.isascii()
        matched = text.lower() if ascii_text else text
        while start < end:
            stop = plain_name_run(matched, start, lowercase=ascii_text)
            if stop > start:
                run = matched[start:stop] if ascii_text else text[start:stop].lower()
                names = run.split("\n")
                names.pop()  # the run ends with a line end
                # What the run's regex leaves to check; hosts-file boilerplate takes the full path.
                if max(map(len, names)) <= MAX_NAME_LENGTH and "xn--" not in run and _LOCAL_NAMES.isdisjoint(names):
                    tally.kinds["plain"] += len(names)
                    tally.accepted += len(names)
                    yield PlainNames(names, source)
                else:
                    yield from _split_run(names, text[start:stop - 1].split("\n"), lineno, source, reject, tally)
                lineno += len(names)
                start = stop
                continue
            elif skipped := _SKIPPED_LINES.match(text, start):
                # Blank lines and comments, read nothing from: a run of them at once, not one line each.
                lineno += text.count("\n", start, skipped.end())
                start = skipped.end()
                continue
            else:
                stop = text.index("\n", start) + 1
            for line in text[start:stop - 1].split("\n"):
                yield from _line_items(line, lineno, source, reject, tally)
                lineno += 1
            start = stop


def _split_run(
    names: list[str], lines: list[str], lineno: int, source: str, reject: _Rejector, tally: _Tally,
) -> Iterator[Item]:
    """A run of plain-looking lines holding a few that need the full path (an IDN, an overlong or a local name).

    Only those few go through :func:`_line_items`; the names between them stay
    :class:`PlainNames`, in reading order, so one IDN does not send thousands
    of lines down the slow path.
    """
    full_path = [index for index, name in enumerate(names)
                 if len(name) > MAX_NAME_LENGTH or "xn--" in name or name in _LOCAL_NAMES]
    done = 0
    for index in [*full_path, len(names)]:
        if index > done:
            tally.kinds["plain"] += index - done
            tally.accepted += index - done
            yield PlainNames(names[done:index], source)
        if index < len(names):
            yield from _line_items(lines[index], lineno + index, source, reject, tally)
        done = index + 1


def _line_items(line: str, lineno: int, source: str, reject: _Rejector, tally: _Tally) -> Iterator[ListedName]:
    """Items of one line of a line file (without its line end)."""
    if len(line) >= MAX_LINE_CHARS:
        reject(lineno, line[:80], "line-too-long")
        return
    text = line.strip()
    if not text or text[0] in _COMMENT_STARTS:
        return
    # The two common cases first, without building candidates: "a.example"
    # and "0.0.0.0 a.example", with a name that needs no IDNA care.
    name = _plain_ldh(text)
    if name is not None:
        tally.kinds["plain"] += 1
        tally.accepted += 1
        yield ListedName(name, Scope.EXACT, source)
        return
    fields = text.split()
    if len(fields) == 2 and fields[0] in _HOSTS_BLOCK_ADDRESSES:
        name = _plain_ldh(fields[1])
        if name is not None:
            tally.kinds["hosts"] += 1
            tally.accepted += 1
            yield ListedName(name, Scope.EXACT, source)
            return
    for item in _text_items(text, lineno, source, reject, tally.kinds):
        tally.accepted += 1
        yield item


def _text_items(text: str, lineno: int, source: str, reject: _Rejector, kinds: Counter[str]) -> Iterator[ListedName]:
    """Items of one stripped, non-comment line (or JSON string), rejecting what is unusable."""
    fault = _text_fault(text)
    if fault:
        reject(lineno, text, fault)
        return
    try:
        kind, candidates = _line_candidates(text)
    except InputError as exc:
        reject(lineno, text, exc.reason)
        return
    kinds[kind] += 1
    for candidate in candidates:
        try:
            if candidate.is_url:
                yield _url_item(candidate.text, source)
            else:
                yield ListedName(_checked_name(candidate.text), candidate.scope, source, action=candidate.action)
        except InputError as exc:
            reject(lineno, text if len(candidates) == 1 else candidate.text, exc.reason)


def _line_candidates(text: str) -> tuple[str, list[_Candidate]]:
    """The syntax of one line and the names or URLs it states, or :class:`InputError`."""
    first = text[0]
    if first == "|":
        return "abp", [_abp_rule(text, Action.BLOCK)]
    if first == "@":
        if text.startswith("@@"):
            return "abp", [_abp_rule(text[2:], Action.ALLOW)]
        raise InputError("unrecognised-line")
    if first == "$":  # $INCLUDE, $ORIGIN, $TTL: a zone file, not a list
        raise InputError("zone-directive")
    if first == "/":
        raise InputError("abp-regex" if len(text) > 2 and text.endswith("/") else "unrecognised-line")
    if "://" in text:
        fields = text.split()
        if len(fields) > 1 and not fields[1].startswith("#"):
            raise InputError("unrecognised-line")
        return "urls", [_Candidate(fields[0], is_url=True)]
    hash_at = text.find("#")
    if hash_at > 0:
        if text[hash_at - 1] not in " \t":  # a.example##.banner is element hiding, not a comment
            raise InputError("abp-cosmetic" if text[hash_at + 1:hash_at + 2] in _ABP_COSMETIC_MARKS else "bad-character")
        text = text[:hash_at].rstrip()
    fields = text.split()
    if len(fields) == 1:
        return "plain", [_plain_name(fields[0])]
    head = fields[0]
    if head in _HOSTS_BLOCK_ADDRESSES:
        return "hosts", [_Candidate(name) for name in fields[1:]]
    if head.endswith(":"):  # local-zone:, local-data:, forward-zone: ...
        raise InputError("unbound-directive")
    if is_ip_literal(head):
        raise InputError("hosts-redirect")  # a name pointed at a real address is not a block
    raise InputError("unrecognised-line")


def _plain_name(token: str) -> _Candidate:
    """The name a one-token line states; a leading dot (Squid, Surge) means the subtree."""
    if "=" in token:
        raise InputError("dnsmasq-directive" if token.startswith(_DNSMASQ_KEYS) else "unrecognised-line")
    if "^" in token or "$" in token:
        raise InputError("abp-unanchored")
    if "*" in token:
        raise InputError("wildcard")
    if "/" in token:
        raise InputError("url-without-scheme")
    if token.startswith(".") and not token.startswith(".."):
        return _Candidate(token[1:], Scope.SUBTREE)
    return _Candidate(token)


def _abp_rule(rule: str, action: Action) -> _Candidate:
    """The name an ABP/AdGuard network rule blocks (or allows, for ``@@`` rules)."""
    body, dollar, options = rule.partition("$")
    if dollar and not _ABP_WHOLE_DOMAIN_OPTIONS.issuperset(o.strip().lower() for o in options.split(",")):
        raise InputError("abp-option")  # $third-party, $script, $dnstype...: only some requests
    if body.startswith("||"):
        host, scope = body[2:], Scope.SUBTREE
    elif body.startswith("|"):  # AdGuard: |a.example^ matches that name only
        host, scope = body[1:], Scope.EXACT
    else:
        raise InputError("abp-unanchored")
    host = host.removesuffix("|")
    if not host.endswith("^"):
        raise InputError("abp-no-separator")  # ||a.example alone also matches a.example.evil.top
    host = host[:-1]
    if "*" in host:
        raise InputError("wildcard")
    if "/" in host or ":" in host:
        raise InputError("abp-path")
    return _Candidate(host, scope, action)


# -- record formats: CSV and JSON feeds ----------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """A feed known by its column (or key) names, and where its metadata is."""

    feed: str
    signature: frozenset[str]
    date: str = ""
    zone: tzinfo = _UTC
    target: str = ""
    threat: str = ""
    tags: str = ""
    verified: str = ""


_LAYOUTS = (
    _Layout("urlhaus", frozenset({"dateadded", "url", "urlhaus_link"}), date="dateadded", threat="threat", tags="tags"),
    _Layout("phishtank", frozenset({"phish_id", "url", "submission_time"}), date="submission_time",
            target="target", verified="verified"),
    _Layout("jpcert", frozenset({"date", "url", "description"}), date="date", zone=_JST, target="description"),
)
_GENERIC = _Layout("", frozenset())
_NAME_KEYS = ("domain", "host", "hostname")


def _layout(keys: Iterable[str]) -> _Layout:
    """The known feed whose columns ``keys`` include, else the generic layout."""
    present = frozenset(keys)
    return next((layout for layout in _LAYOUTS if layout.signature <= present), _GENERIC)


def _header_columns(text: str) -> tuple[str, ...] | None:
    """``text`` as a CSV header (lowercase column names) if it looks like one."""
    if "," not in text or "://" in text:
        return None
    columns = tuple(column.strip().strip('"').lower() for column in text.split(","))
    if not all(c and c.isascii() and c[0].isalpha() and c.replace("_", "").replace("-", "").replace(" ", "").isalnum()
               for c in columns):
        return None
    return columns if "url" in columns or any(key in columns for key in _NAME_KEYS) else None


def _csv_fields(text: str) -> list[str]:
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
            commented = _header_columns(text.lstrip("#").strip()) or commented
            continue
        header = _header_columns(text)
        if header:
            return header
        if commented and len(_csv_fields(text)) == len(commented):
            return commented
        return None
    return None


def _read_csv(
    lines: Iterator[tuple[int, str]], header: tuple[str, ...], source: str, reject: _Rejector, tally: _Tally,
) -> Iterator[ListedName]:
    """Items of a CSV feed, one per row, by column name."""
    layout = _layout(header)
    tally.format = f"{layout.feed}-csv" if layout.feed else "csv"
    width = len(header)
    accepted = 0
    try:
        for lineno, line in lines:
            text = line.strip()
            if not text or text[0] == "#":
                continue
            # The header row, also where concatenated files repeat it.
            if "://" not in text and _header_columns(text) == header:
                continue
            fault = _text_fault(text)
            if fault:
                reject(lineno, text, fault)
                continue
            try:
                fields = _csv_fields(text)
            except csv.Error:
                reject(lineno, text, "bad-csv")
                continue
            if len(fields) != width:
                reject(lineno, text, "csv-column-count")
                continue
            try:
                item = _record_item(layout, dict(zip(header, fields)), source)
            except InputError as exc:
                reject(lineno, text, exc.reason)
                continue
            accepted += 1
            yield item
    finally:
        tally.accepted += accepted


def _read_json(stream: IO[str], source: str, reject: _Rejector, tally: _Tally) -> Iterator[ListedName]:
    """Items of a JSON array of records (PhishTank), or of JSON Lines; strings are read as lines.

    Rejections name the line the record starts on; ``tally.lines`` counts records.
    """
    layout: _Layout | None = None
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
                    layout = _layout(value)
                    tally.format = f"{layout.feed}-json" if layout.feed else "json"
                try:
                    item = _record_item(layout, value, source)
                except InputError as exc:
                    reject(line, readable(str(value.get("url", value))), exc.reason)
                    continue
                tally.accepted += 1
                yield item
            elif isinstance(value, str):
                text = value.strip()
                if text and text[0] not in _COMMENT_STARTS:
                    for item in _text_items(text, line, source, reject, tally.kinds):
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
        chunk = stream.read(_CHUNK_CHARS)
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
        chunk = stream.read(_CHUNK_CHARS)
        eof = not chunk
        buffer, pos = buffer[keep:] + chunk, 0


def _record_item(layout: _Layout, record: Mapping[str, Any], source: str) -> ListedName:
    """The item one feed record (a CSV row or a JSON object) describes."""
    if layout.verified and str(record.get(layout.verified, "")).strip().lower() in ("no", "false"):
        raise InputError("unverified")
    meta: dict[str, Any] = {}
    if layout.date:
        meta["first_seen"] = _moment(record.get(layout.date), layout.zone)
    if layout.target:
        meta["target"] = _text(record.get(layout.target))
    if layout.threat and _text(record.get(layout.threat)):
        meta["categories"] = (_text(record.get(layout.threat)),)
    if layout.tags:
        meta["tags"] = tuple(tag.strip() for tag in _text(record.get(layout.tags)).split(",") if tag.strip())
    url = _text(record.get("url"))
    if url:
        return _url_item(url, source, **meta)
    name = next((_text(record.get(key)) for key in _NAME_KEYS if _text(record.get(key))), "")
    if not name:
        raise InputError("no-url")
    return ListedName(_checked_name(name), Scope.EXACT, source, **meta)


def _text(value: object) -> str:
    """A record's field as stripped text; empty for a missing or non-text value.

    Raises :class:`InputError` (``nul-byte``, ``invalid-utf8``) for text no output
    may carry: JSON escapes such as ``\\ud800`` give lone surrogates.
    """
    if not isinstance(value, str):
        return ""
    fault = _text_fault(value)
    if fault:
        raise InputError(fault, readable(value))
    return value.strip()


def _moment(value: object, zone: tzinfo) -> datetime | None:
    """A feed's timestamp (ISO 8601, or ``2019/01/04 10:12:00``) as an aware datetime.

    A date that cannot be read, or lies before 1995 or after tomorrow, leaves
    ``first_seen`` unknown; the item itself is still good.
    """
    if not isinstance(value, str) or _text_fault(value):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("/", "-"))
        if not moment.tzinfo:
            moment = moment.replace(tzinfo=zone)
        # Every output writes UTC: 0001-01-01 in Japan time has no UTC equivalent.
        in_utc = moment.astimezone(_UTC)
    except (ValueError, OverflowError):
        return None
    # Before the first phishing feeds, or later than tomorrow: a placeholder or a broken clock.
    if not _EARLIEST_FEED_DATE <= in_utc <= datetime.now(_UTC) + timedelta(days=1):
        return None
    return moment
