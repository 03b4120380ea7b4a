"""Line templates: render and check a record once, then fill it with millions of names.

A threat-intel document (JSON, CSV, STIX, MISP) writes one record per entry,
and the records of a national list differ only by their name: the rows of an
:class:`~fraudwall.entries.EntryTable` share their details. Rendering each
record through the format's dict-and-``json.dumps`` path, and parsing it back
to check it, costs tens of microseconds a row. A :class:`LineTemplate` does
that once per kind of row instead:

- the format renders a record for two different placeholder names (and, where
  a record carries ids derived from the name, two sets of placeholder ids)
  through its ordinary code, and checks both lines with its ordinary checker;
- the first line is cut at its placeholders into a template, which must give
  the second line back exactly when filled with the second set: so the
  placeholders occur only where the name (or id) goes, and the line depends on
  the name in nothing else (a source text that happens to hold a placeholder,
  a field derived from the name in some other way, makes the template fail
  to build, and the format renders such rows one by one).

Filling a template with a name gives the line the format's own code would
have rendered for it, and that line passes the same check provided the name
cannot change the line's structure. Names were fully validated when the
entries were prepared; the guard here is the one that matters for structure:
every name must consist of the characters of :func:`safe_name_pattern`
(letters, digits, dot, hyphen, and underscore where the format allows it),
none of which can end a JSON string, a CSV cell or a STIX pattern literal.
:meth:`LineTemplate.fill` checks a whole batch of names at C speed and
returns :class:`CheckedLines`, the one kind of line a document's guard passes
without parsing it again.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from fraudwall.entries import EntryTable
from fraudwall.exceptions import ExportError

#: Placeholder names: valid under every name policy, and nothing a list holds (``.invalid``, RFC 2606).
#: They differ in length and in number of labels, so a field derived from either shows up as a difference.
PLACEHOLDER_NAMES = ("fraudwall-template-a.invalid", "second.fraudwall-template-bb.invalid")


def safe_name_pattern(*, allow_underscore: bool) -> re.Pattern[str]:
    """The characters a name filled into a template may have: none can end a string, cell or literal."""
    return re.compile(r"[a-z0-9._-]+" if allow_underscore else r"[a-z0-9.-]+")


def placeholder_ids(which: int, count: int) -> tuple[str, ...]:
    """``count`` distinct UUID-shaped placeholders, set ``which`` (0 or 1): ids look like ids to a checker."""
    return tuple(f"00000000-0000-5000-8000-{which:06d}{slot:06d}" for slot in range(count))


class CheckedLines:
    """Whole lines filled from a checked :class:`LineTemplate` with checked names: a guard passes them as they are.

    Held as one text (each line ending in ``\\n``), the way it is written:
    ``records`` is how many records were filled in, ``lines`` how many lines
    they make (a record may be several lines, a Suricata name's three rules).
    """

    __slots__ = ("lines", "records", "text")

    def __init__(self, text: str, records: int, lines: int) -> None:
        self.text = text
        self.records = records
        self.lines = lines

    def without_final_comma(self) -> CheckedLines:
        """The same lines with the comma that ends the last one removed (the last element of a JSON array)."""
        if not self.text.endswith(",\n"):
            raise ExportError(f"a separated line must end with a comma: {self.text[-120:]!r}")
        return CheckedLines(self.text[:-2] + "\n", self.records, self.lines)

    def __repr__(self) -> str:
        return f"CheckedLines({self.records} records, {self.lines} lines)"


class LineTemplate:
    """A record line with holes for the name and for ids derived from it; see the module docstring."""

    __slots__ = ("_name_check", "_pieces", "ids", "lines")

    def __init__(self, pieces: list[str | int], name_check: re.Pattern[str], ids: int, lines: int) -> None:
        # The record and its line end as literal texts and slots (0: the name, k: the k-th id), in
        # order: a batch is filled by one join over the columns zipped with the literals, at C speed.
        self._pieces = pieces
        self._name_check = name_check
        self.ids = ids
        self.lines = lines

    @classmethod
    def build(
        cls,
        render: Callable[..., str],
        check: Callable[[str], None],
        name_check: re.Pattern[str],
        *,
        ids: int = 0,
        placeholders: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    ) -> LineTemplate | None:
        """The template of ``render(name, *ids)``, or ``None`` if the line depends on the name otherwise.

        ``check`` is the format's checker of one rendered line: it raises
        :class:`~fraudwall.exceptions.ExportError` for a bad line, and then so
        does this. ``name_check`` is the pattern every name filled in must
        fully match. ``placeholders`` are two sets of ``ids`` placeholder ids,
        for ids that must look like something else than a UUID (a sid).
        """
        id_sets = placeholders or (placeholder_ids(0, ids), placeholder_ids(1, ids))
        if any(len(id_set) != ids for id_set in id_sets):
            raise ExportError(f"a template with {ids} id slot(s) needs that many placeholders per set")
        fills = [(name, *id_set) for name, id_set in zip(PLACEHOLDER_NAMES, id_sets, strict=True)]
        lines = [render(*fill) for fill in fills]
        for line in lines:
            check(line)
        slots = {value: index for index, value in enumerate(fills[0])}
        parts = re.split("(" + "|".join(map(re.escape, fills[0])) + ")", lines[0] + "\n")
        pieces: list[str | int] = [slots[part] if index % 2 else part for index, part in enumerate(parts) if part]
        template = cls(pieces, name_check, ids, lines[0].count("\n") + 1)
        # The second fill must come back exactly: the placeholders stand only where the name and ids go.
        if template.fill([fills[1][0]], [[uid] for uid in fills[1][1:]]).text != lines[1] + "\n":
            return None
        return template

    def fill(self, names: Sequence[str], ids: Sequence[Sequence[str]] = ()) -> CheckedLines:
        """The lines for ``names``, names checked first; ``ids`` are the id columns (``ids[k][i]`` for ``names[i]``)."""
        if not all(map(self._name_check.fullmatch, names)):
            bad = next(name for name in names if not self._name_check.fullmatch(name))
            raise ExportError(f"refusing to write a record for the invalid name {bad[:120]!r}")
        if len(ids) != self.ids or any(len(column) != len(names) for column in ids):
            raise ExportError(f"a template with {self.ids} id slot(s) needs that many columns, one id per name")
        columns = [names, *ids]
        zipped = zip(*(columns[piece] if isinstance(piece, int) else itertools.repeat(piece, len(names))
                       for piece in self._pieces))
        return CheckedLines("".join(itertools.chain.from_iterable(zipped)), len(names), len(names) * self.lines)


def table_lines(
    table: EntryTable,
    runs: Iterable[range],
    render: Callable[..., str],
    check: Callable[[str], None],
    name_check: re.Pattern[str],
    *,
    ids: Callable[[Sequence[str]], Sequence[Sequence[str]]] | None = None,
    id_count: int = 0,
    batch: int = 4096,
) -> Iterator[str | CheckedLines]:
    """The lines for the rows of ``table`` in ``runs`` (each run: rows of one scope and details).

    ``render(entry, *ids)`` renders one entry's line through the format's own
    code; a format that derives ids from names passes ``ids(names)``, the
    ``id_count`` columns of ids for a list of names. A run of one row is rendered as it is (a plain
    line, which the document's guard checks); a longer run builds one
    :class:`LineTemplate` from its first row and fills it with the run's
    names, ``batch`` at a time.
    """
    for run in runs:
        first = table[run.start]
        if len(run) > 1:
            template = LineTemplate.build(
                lambda name, *slots: render(dataclasses.replace(first, name=name), *slots),
                check, name_check, ids=id_count,
            )
        else:
            template = None
        if template is None:
            for row in run:
                entry = table[row]
                yield render(entry, *(column[0] for column in ids([entry.name]))) if ids else render(entry)
            continue
        for start in range(run.start, run.stop, batch):
            names = table.names[start:min(start + batch, run.stop)]
            yield template.fill(names, ids(names) if ids else ())


def comma_separated(pieces: Iterable[str | CheckedLines]) -> Iterator[str | CheckedLines]:
    """``pieces`` (lines, or batches of lines, each ending in ``,``) with the comma of the very last line removed.

    For JSON arrays written one element per line: every element is rendered
    with its separator, and the last one only becomes known at the end.
    """
    held: str | CheckedLines | None = None
    for piece in pieces:
        if isinstance(piece, CheckedLines) and not piece.records:
            continue
        if held is not None:
            yield held
        held = piece
    if isinstance(held, CheckedLines):
        yield held.without_final_comma()
    elif held is not None:
        if not held.endswith(","):
            raise ExportError(f"a separated line must end with a comma: {held[:120]!r}")
        yield held[:-1]
