"""The exporter contract: what every output format is and must do.

A format is one subclass of :class:`Exporter` in its own module plus one line in
:mod:`fraudwall.exporters.registry`. The base class owns everything the formats
share, so each module only says how one entry becomes lines:

- validation and de-duplication of the entries (:func:`~fraudwall.exporters.validation.prepare`),
  with the format's own underscore policy and name-length limit;
- the comment header (title, UTC time, counts, format, scope notes), sanitised;
- a last guard over every rendered line: a comment, or a data line that fully
  matches the format's strict ``data_line`` pattern. Names are already LDH by
  then, so this should never fire; if a future bug lets something through, the
  export fails with :class:`ExportError` instead of writing a file that a
  resolver would refuse to load (or worse, obey).
- rendering in pieces (:meth:`Exporter.render_chunks`): a list of millions of
  names is written as it is rendered, never held whole as one string.

Threat-intel formats (CSV, JSON, STIX, MISP) are structured documents without
comment syntax: they subclass :class:`DocumentExporter`, whose guard is a
:class:`DocumentChecker` that reads the document record by record as its
consumer would, and a format published as a folder (a MISP feed) subclasses
:class:`FolderExporter`.
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Generic, TypeVar

from fraudwall.exceptions import ExportError, InvalidName, VerificationError
from fraudwall.exporters.templates import CheckedLines
from fraudwall.exporters.validation import PreparedEntries, prepare
from fraudwall.models import BlockEntry, SubjectKind
from fraudwall.names import MAX_NAME_LENGTH, label_regex, normalize_name

OptionsT = TypeVar("OptionsT")

# Long enough for any sensible title; a comment line is not a place for an essay.
MAX_COMMENT_LENGTH = 200
# Lines rendered, guarded and written at a time: a few megabytes, however long the list
# (and however long its lines: a STIX indicator is 600 bytes).
LINES_PER_CHUNK = 4096


class _Chunk:
    """Lines and filled batches (:class:`CheckedLines`) gathered into one piece of about :data:`LINES_PER_CHUNK` lines."""

    __slots__ = ("lines", "parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []  # texts of whole lines, in order
        self.lines: list[str] = []  # single lines after the last part, not yet joined
        self.size = 0

    def add_line(self, line: str) -> None:
        self.lines.append(line)
        self.size += 1

    def add_lines(self, lines: list[str]) -> None:
        self.lines += lines
        self.size += len(lines)

    def add_batch(self, batch: CheckedLines) -> None:
        self._join_lines()
        self.parts.append(batch.text)
        self.size += batch.lines

    @property
    def full(self) -> bool:
        return self.size >= LINES_PER_CHUNK

    def take(self) -> str:
        """The piece so far (a single batch is passed on without a copy); the chunk starts over."""
        self._join_lines()
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text

    def _join_lines(self) -> None:
        if self.lines:
            self.lines.append("")  # the last line's end
            self.parts.append("\n".join(self.lines))
            self.lines = []


def line_blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    """``lines`` in lists of :data:`LINES_PER_CHUNK`, for a :meth:`Exporter.body` of millions of lines."""
    pending = iter(lines)
    while block := list(itertools.islice(pending, LINES_PER_CHUNK)):
        yield block


def name_regex(*, allow_underscore: bool) -> str:
    """A regex for a whole lowercase LDH name (at least two labels), for line guards.

    Built from :func:`~fraudwall.names.label_regex`, which never backtracks
    inside a label: guards run over millions of lines. What follows the name
    in a line must not be a label character (it never is: a dot, space,
    quote, slash or the line end).
    """
    label = label_regex("a-z0-9_" if allow_underscore else "a-z0-9")
    return rf"(?:{label}\.)+{label}"


def comment_text(value: str) -> str:
    """``value`` made safe for a one-line comment.

    Every non-printable character (controls, newlines, U+2028/2029, bidi
    overrides, odd spaces) becomes a space and runs of spaces collapse, so a
    title can never end the comment and start a directive on a new line.
    """
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return " ".join(cleaned.split())[:MAX_COMMENT_LENGTH]


@dataclass(frozen=True, slots=True)
class ExportMeta:
    """What an export is about, beyond its entries.

    ``generated_at`` must be timezone-aware and is stored in UTC. ``options``
    are the format's own settings (e.g. ``zone``, ``ttl``, ``serial`` for RPZ);
    each exporter checks them against its ``options_type``.
    """

    title: str
    generated_at: datetime
    options: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.generated_at.utcoffset() is None:
            raise ExportError("generated_at must be timezone-aware (UTC)")
        object.__setattr__(self, "generated_at", self.generated_at.astimezone(UTC))
        # Read-only, so a frozen meta cannot be changed through its options either.
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True, slots=True)
class NoOptions:
    """The options of a format that takes none."""


class Exporter(abc.ABC, Generic[OptionsT]):
    """One output format.

    Subclasses set the class attributes and implement :meth:`body` and
    :meth:`notes`. ``subtree_capable`` says whether the target syntax can block
    a name and everything below it; formats that cannot must narrow subtree
    entries to their apex and say so in :meth:`notes`, never silently.
    ``data_line`` must fully match every non-comment line the format writes;
    its ``owner`` group (when present) is the name a line makes a rule for.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    subtree_capable: ClassVar[bool]
    #: Does the format match URLs? Formats that do not leave URL-level entries
    #: out and say how many in their header.
    url_capable: ClassVar[bool] = False
    #: Rough time to render an entry, relative to other formats: an export folder
    #: starts its costliest formats first, so no worker is left with a long one at the end.
    render_cost: ClassVar[int] = 1
    #: The indicator kinds the format publishes (``prepared.indicators``: addresses, hashes, wallets,
    #: handles). It leaves the others out and says how many in its notes (:meth:`indicator_notes`).
    indicator_kinds: ClassVar[frozenset[SubjectKind]] = frozenset()
    allow_underscore: ClassVar[bool] = False
    comment_prefix: ClassVar[str] = "#"
    data_line: ClassVar[re.Pattern[str]]
    options_type: type[OptionsT]
    _noted: tuple[PreparedEntries, list[str]] | None = None  # see notes_once()

    def options(self, meta: ExportMeta) -> OptionsT:
        """The format's options from ``meta``, validated by ``options_type``."""
        known = [f.name for f in dataclasses.fields(self.options_type)]  # type: ignore[arg-type]
        unknown = sorted(set(meta.options) - set(known))
        if unknown:
            raise ExportError(
                f"format {self.name!r} has no option {', '.join(unknown)}; "
                f"known options: {', '.join(known) or 'none'}"
            )
        return self.options_type(**meta.options)

    def max_name_length(self, options: OptionsT) -> int:
        """The longest name this format can write (formats that append a suffix lower it)."""
        return MAX_NAME_LENGTH

    def continue_from(self, previous: Path, meta: ExportMeta) -> ExportMeta:
        """``meta`` adjusted for the file the output will replace (which may not exist).

        Formats with state across versions (the RPZ serial) override this.
        """
        return meta

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate, merge and sort ``entries`` under this format's name policy."""
        return prepare(
            entries,
            allow_underscore=self.allow_underscore,
            max_length=self.max_name_length(self.options(meta)),
        )

    def entry_count(self, prepared: PreparedEntries) -> int:
        """How many entries this format publishes from ``prepared``.

        The report records it as ``entries``, and the collapse guard
        (:mod:`fraudwall.exporters.collapse`) compares it from one generation to
        the next. Blocked and allowed names, URL-level entries where the
        format matches URLs, and the indicators of the kinds it carries; a
        format that publishes something else (addresses, URLs only) says so
        here, without a pass over the entries that rendering does not share.
        """
        carried = sum(indicator.kind in self.indicator_kinds for indicator in prepared.indicators)
        return (len(prepared.blocked) + len(prepared.allowed) + (len(prepared.urls) if self.url_capable else 0)
                + carried)

    def render(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> str:
        """The whole output file for ``entries``."""
        return self.render_prepared(self.prepare(entries, meta), meta)

    def render_prepared(self, prepared: PreparedEntries, meta: ExportMeta) -> str:
        """The whole output file for entries already prepared by :meth:`prepare`."""
        return "".join(self.render_chunks(prepared, meta))

    def render_chunks(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """The output file in pieces of whole lines, for writing as they come.

        Every line passes the guard (:meth:`check_lines`) before its piece is
        yielded: a refused line raises before anything of its piece is written.
        Lines :meth:`body` gives as :class:`~fraudwall.exporters.templates.CheckedLines`
        (filled from a checked template) have passed it already.
        """
        unchecked = self.header(prepared, meta)
        chunk = _Chunk()
        chunk.add_lines(unchecked)
        for piece in self.body(prepared, meta):
            if isinstance(piece, CheckedLines):
                chunk.add_batch(piece)
            elif isinstance(piece, list):
                chunk.add_lines(piece)
                unchecked += piece
            else:
                chunk.add_line(piece)
                unchecked.append(piece)
            if chunk.full:
                self.check_lines(unchecked)
                yield chunk.take()
                unchecked = []
        self.check_lines(unchecked)
        if chunk.size:
            yield chunk.take()

    def check_lines(self, lines: Sequence[str]) -> None:
        """The guard over many lines: each must pass :meth:`parse_line`, or :class:`ExportError` is raised.

        Lines that all fully match ``data_line`` pass at C speed; otherwise (a
        comment, a bad line) each line goes through :meth:`parse_line`. A format
        that overrides ``parse_line`` gets its own checks, line by line.
        """
        if type(self).parse_line is Exporter.parse_line and all(map(self.data_line.fullmatch, lines)):
            return
        for line in lines:
            try:
                self.parse_line(line)
            except ExportError as exc:  # the same check verify runs, worded for the writer
                raise ExportError(f"{self.name}: refusing to write an invalid line: {line[:120]!r}") from exc

    def header(self, prepared: PreparedEntries, meta: ExportMeta) -> list[str]:
        """The comment block every file starts with."""
        texts = [
            f"title: {comment_text(meta.title) or 'fraudwall blocklist'}",
            f"generated: {meta.generated_at:%Y-%m-%dT%H:%M:%SZ}",
            f"format: {self.name} - {self.description}",
            f"entries: {len(prepared.blocked) + len(prepared.allowed)}"
            f" ({len(prepared.blocked)} block, {len(prepared.allowed)} allow)",
            f"rejected: {prepared.rejected}",
            *self.notes_once(prepared),
            *([] if self.url_capable or not prepared.urls else
              [f"urls: URL-level entries not expressible in this format, left out: {len(prepared.urls)}"]),
            "generated by fraudwall",
        ]
        return [f"{self.comment_prefix} {comment_text(text)}" for text in texts]

    def parse_line(self, line: str) -> str | None:
        """The owner name a line makes a rule for; ``None`` for comments and directives.

        Raises :class:`ExportError` for any line that is neither a clean
        comment nor a full match of ``data_line``.
        """
        if line.startswith(f"{self.comment_prefix} ") and line.isprintable():
            return None
        match = self.data_line.fullmatch(line)
        if match is None:
            raise ExportError(f"{self.name}: invalid line: {line[:120]!r}")
        return self.owner_of(match)

    def owner_of(self, match: re.Match[str]) -> str | None:
        """The owner name of a data line ``data_line`` matched: its ``owner`` group, if any."""
        return match.groupdict().get("owner")

    def verify_lines(self, path: Path, meta: ExportMeta) -> None:
        """Re-read ``path`` and check every line against this format's grammar.

        Every line must be a clean comment or a full match of ``data_line``, every
        owner a valid name within the format's length limit, and no owner may
        appear twice (PowerDNS, Unbound and BIND all choke on some duplicate).
        """
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VerificationError(f"{path}: cannot read as UTF-8: {exc}") from exc
        if "\r" in text or not text.endswith("\n"):
            raise VerificationError(f"{path}: lines must end with a single LF, including the last")
        limit = self.max_name_length(self.options(meta))
        seen: set[str] = set()
        for number, line in enumerate(text[:-1].split("\n"), start=1):
            where = f"{path}:{number}"
            try:
                owner = self.parse_line(line)
            except ExportError as exc:
                raise VerificationError(f"{where}: {exc}") from exc
            if owner is None:
                continue
            if owner in seen:
                raise VerificationError(f"{where}: duplicate owner {owner}")
            seen.add(owner)
            name = owner.removeprefix("*.")
            try:
                valid = normalize_name(name, allow_underscore=self.allow_underscore) == name
            except InvalidName:
                valid = False
            if not valid or len(name) > limit:
                raise VerificationError(f"{where}: invalid name {name!r}")

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Check a rendered file before it is published; raise :class:`VerificationError`.

        The default is the strict re-read; formats whose consumer ships a
        checker (named-checkzone, unbound-checkconf, dnsmasq --test, squid -k
        parse ...) run it as well.
        """
        self.verify_lines(path, meta)

    @abc.abstractmethod
    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Header lines on how scope and allow entries were rendered (with counts)."""

    def notes_once(self, prepared: PreparedEntries) -> list[str]:
        """:meth:`notes` for ``prepared``, worked out once: the header and the report both show them.

        Some formats count by walking every entry, which for millions of names
        is seconds each time.
        """
        if self._noted is None or self._noted[0] is not prepared:
            self._noted = (prepared, self.notes(prepared) + self.indicator_notes(prepared))
        return list(self._noted[1])

    def indicator_notes(self, prepared: PreparedEntries) -> list[str]:
        """A line counting the indicators this format does not carry (none when it carries them all)."""
        left_out = Counter(str(indicator.kind) for indicator in prepared.indicators
                           if indicator.kind not in self.indicator_kinds)
        if not left_out:
            return []
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(left_out.items()))
        return [f"indicators: not carried by this format, left out: {left_out.total()} ({kinds});"
                " csv, json, stix and misp publish them, ipset and nftables the addresses"]

    @abc.abstractmethod
    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterable[str | list[str] | CheckedLines]:
        """The lines after the header: directives and one or more lines per entry.

        A line at a time, a list of lines (see :func:`line_blocks`: millions of
        them then pass at C speed), or a batch filled from a checked template.
        """


class DocumentChecker(abc.ABC):
    """Checks one document record by record, as it is rendered or read back from disk.

    A document format's consumer parses the whole document; this checks the
    same things one line at a time, so neither rendering nor verifying a list
    of millions ever holds the document: :meth:`line` for a line rendered or
    read (the opening, a record, the closing), :meth:`checked` for a batch
    filled from a checked :class:`~fraudwall.exporters.templates.LineTemplate`,
    :meth:`end` once the document is complete. Each raises
    :class:`~fraudwall.exceptions.ExportError` on the first thing wrong.
    """

    @abc.abstractmethod
    def line(self, line: str) -> None:
        """Check the next line of the document."""

    @abc.abstractmethod
    def checked(self, lines: CheckedLines) -> None:
        """Account for a batch of records filled from a checked template (they need no parsing)."""

    @abc.abstractmethod
    def end(self) -> None:
        """Check that the document is complete (closed, and its counts right)."""


class DocumentExporter(Exporter[OptionsT]):
    """A format that is one structured document (CSV, JSON, STIX) rather than comment-headed lines.

    Such documents have no comment syntax, so there is no header: what it would
    say goes in the document's own fields where the format has them, and always
    in the JSON report that :func:`~fraudwall.exporters.publish.publish` writes
    beside the output. :meth:`body` yields the document's lines, one record
    each, so a diff between two exports shows the entries that changed, and a
    list of millions is written as it is rendered. The guard is the format's
    :class:`DocumentChecker` (:meth:`checker`): it checks every line the way a
    consumer would read it and refuses anything outside the format's schema, at
    render time and again on the written file in :meth:`verify`. Records that
    :meth:`body` fills from a checked template in batches
    (:class:`~fraudwall.exporters.templates.CheckedLines`) are checked by their
    names, at C speed.
    """

    def render_chunks(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """The document in pieces of whole records, each checked before its piece is yielded."""
        checker = self.checker(meta)
        chunk = _Chunk()
        try:
            for piece in self.body(prepared, meta):
                if isinstance(piece, CheckedLines):
                    checker.checked(piece)
                    chunk.add_batch(piece)
                else:
                    checker.line(piece)
                    chunk.add_line(piece)
                if chunk.full:
                    yield chunk.take()
            checker.end()
        except ExportError as exc:
            raise ExportError(f"{self.name}: refusing to write an invalid document: {exc}") from exc
        if chunk.size:
            yield chunk.take()

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Re-read ``path`` line by line through the format's :class:`DocumentChecker`."""
        self.verify_records(path, meta, self.checker(meta))

    def verify_records(self, path: Path, meta: ExportMeta, checker: DocumentChecker) -> None:
        """Feed every line of ``path`` to ``checker``; :class:`VerificationError` on the first problem."""
        number = 0
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                for number, line in enumerate(handle, start=1):  # noqa: B007 (reported below)
                    if not line.endswith("\n") or line.endswith("\r\n"):
                        raise ExportError("lines must end with a single LF, including the last")
                    checker.line(line[:-1])
            checker.end()
        except (OSError, UnicodeDecodeError) as exc:
            raise VerificationError(f"{path}: cannot read as UTF-8: {exc}") from exc
        except ExportError as exc:
            raise VerificationError(f"{path}:{number}: {exc}") from exc

    @abc.abstractmethod
    def checker(self, meta: ExportMeta) -> DocumentChecker:
        """A fresh checker for one document of this format."""


class FolderExporter(DocumentExporter[OptionsT]):
    """A format published as a folder of files (a MISP feed) rather than one file.

    :meth:`render_chunks` is still the main document, the one that carries
    every indicator; :meth:`render_files` is the whole folder, which
    :func:`~fraudwall.exporters.run.export` publishes with
    :func:`~fraudwall.exporters.publish.publish_directory`, and :meth:`verify`
    checks the folder.
    """

    @abc.abstractmethod
    def render_files(self, prepared: PreparedEntries, meta: ExportMeta) -> dict[str, Iterable[str]]:
        """Every file of the folder by name, as pieces rendered and checked as they are written."""

    @abc.abstractmethod
    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Re-read the folder at ``path`` and check its files, alone and against each other."""
