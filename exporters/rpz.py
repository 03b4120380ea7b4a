"""Response Policy Zone (RPZ): one zone file for BIND, Knot Resolver, PowerDNS Recursor and Unbound.

Layout: ``$TTL``, an SOA with the serial, an NS, then the policy records in
name order, owner names *relative* (no ``$ORIGIN``), so the same file loads
under whatever zone name the resolver's configuration gives it.

- ``name CNAME .`` answers NXDOMAIN for a blocked listed name,
  ``name CNAME rpz-passthru.`` resolves an allowed one as usual. When one name
  is both blocked and allowed, the exception wins for that owner (and one
  owner never gets two CNAMEs, which would make the whole zone fail to load).
- ``*.name`` states what the names below a listed name get (``.`` or
  ``rpz-passthru.``), written whenever that subtree is blocked, allowed or
  inherited from a blocked parent: so an exact allow below a blocked subtree
  gets ``*.name CNAME .`` and stays exact.
- A blocked name below a blocked subtree, with no exception below it, gets no
  record: the subtree's wildcard answers it and its subtree the same way, and
  spelling out the names between them would cost a line per label (a hostile
  list of deep names multiplied the zone a hundredfold).
- ``between CNAME .`` and ``*.between CNAME .`` for every unlisted name between
  a blocked subtree and an exception (or a name above one) below it. An
  exception more than :data:`MAX_EXCEPTION_DEPTH` labels below the blocked
  subtree it excepts from is rejected (``exception-too-deep-for-rpz``, in the
  report): the zone's size stays within a few records per input line. The first
  because, with records below it, ``between`` exists in the zone as an empty
  non-terminal, and BIND
  applies no wildcard to a name that exists (measured on BIND 9.18: without it,
  ``b.x.tree`` resolved under a blocked ``x.tree`` with ``c.a.b.x.tree`` listed).

Why every wildcard is spelt out (:mod:`fraudwall.exporters.policy_tree` has
the details): BIND, Knot and PowerDNS take the wildcard of the closest
ancestor that has one, but Unbound tries only one wildcard, that of the name
the query shares with the owner sorting just before it, and applies no rule
when it is missing. With every wildcard the policy needs in the zone, both
pick a record that says what the closest listed name decides, so one zone
gives the same answers everywhere. Plain blocks (exact, with no subtree
entry or exception on them or above them), most of a big list, need no
wildcard: one record each, written straight from the name column.

Underscores are allowed: RPZ owners are DNS names, not host names, and
named-checkzone accepts them on CNAME owners. Every owner plus ``.zone`` must
still fit 253 characters; names are limited to ``253 - len(zone) - 3`` for
exact and subtree entries alike, so whether a name is published never depends
on its scope.

Serial: secondaries only transfer a zone whose serial grew (RFC 1982 serial
arithmetic, 32 bits). Each export uses the generation time in seconds since the
epoch, unless that would not be greater than the serial of the file being
replaced; then it uses that serial + 1 (mod 2**32, which RFC 1982 counts as
greater). So ``serial = max(previous + 1, timestamp)`` in practice, and it stays
increasing after a clock step back, several exports in one second, or a file
that used YYYYMMDDnn serials.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from fraudwall.exceptions import ExportError, InvalidName
from fraudwall.exporters.base import Exporter, ExportMeta, line_blocks, name_regex
from fraudwall.exporters.policy_tree import PolicyRow, policy_rows, policy_spans
from fraudwall.exporters.validation import SAMPLES_PER_REASON, PreparedEntries
from fraudwall.models import BlockEntry
from fraudwall.exporters.verify import verify_rpz
from fraudwall.names import MAX_NAME_LENGTH, normalize_name, parent_names

SERIAL_MODULUS = 2**32
MAX_TTL = 2**31 - 1  # RFC 2181 section 8
NXDOMAIN = "."
PASSTHRU = "rpz-passthru."
# SOA timers for secondaries: refresh hourly, retry every 10 minutes, and keep
# serving (blocking) for 4 weeks if the primary is gone (RFC 1912 suggests 2-4).
REFRESH, RETRY, EXPIRE = 3600, 600, 2419200

#: Labels an exception may lie below the blocked subtree it excepts from. Each label between costs the
#: zone two records (module docstring); deeper exceptions are rejected (EXCEPTION_TOO_DEEP), so a
#: hostile list of deep exceptions cannot multiply the zone a hundredfold.
MAX_EXCEPTION_DEPTH = 8
EXCEPTION_TOO_DEEP = "exception-too-deep-for-rpz"

_SOA = re.compile(r"@ IN SOA localhost\. hostmaster\.localhost\. (\d+) ")


def _is_int(value: object) -> bool:
    """True for a real int (bool is an int to Python, not to a zone file)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class RpzOptions:
    """RPZ options: the zone name, the records' TTL and an optional fixed serial."""

    zone: str = "fraudwall.rpz"
    ttl: int = 300
    serial: int | None = None

    def __post_init__(self) -> None:
        try:
            zone = normalize_name(self.zone)
        except InvalidName as exc:
            raise ExportError(f"rpz zone {self.zone!r} is not a valid name: {exc}") from exc
        object.__setattr__(self, "zone", zone)
        if not (_is_int(self.ttl) and 0 <= self.ttl <= MAX_TTL):
            raise ExportError(f"rpz ttl must be an integer in [0, {MAX_TTL}], got {self.ttl!r}")
        if self.serial is not None and not (_is_int(self.serial) and 0 <= self.serial < SERIAL_MODULUS):
            raise ExportError(f"rpz serial must be an integer in [0, 2**32), got {self.serial!r}")


def serial_is_greater(new: int, old: int) -> bool:
    """RFC 1982 comparison of two 32-bit serials: is ``new`` after ``old``?"""
    return 0 < (new - old) % SERIAL_MODULUS < 2**31


def next_serial(previous: int | None, generated_at: datetime) -> int:
    """The serial for a zone generated at ``generated_at`` replacing one with ``previous``."""
    candidate = int(generated_at.timestamp()) % SERIAL_MODULUS
    if previous is None or serial_is_greater(candidate, previous):
        return candidate
    return (previous + 1) % SERIAL_MODULUS


def read_serial(path: Path) -> int | None:
    """The serial of the RPZ file fraudwall wrote at ``path``; ``None`` if there is none.

    Only the top of the file is read: the SOA follows the comments and ``$TTL``.
    A file that exists but was not written by fraudwall raises
    :class:`ExportError`, because guessing its serial could send it backwards.
    """
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                match = _SOA.match(line)
                if match is not None and int(match.group(1)) < SERIAL_MODULUS:
                    return int(match.group(1))
                if not line.startswith((";", "$TTL ")):
                    break
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ExportError(f"cannot read the previous zone {path}: {exc}") from exc
    raise ExportError(f"{path} has no fraudwall SOA record; pass serial= to continue its numbering")


def policy_records(prepared: PreparedEntries) -> Iterator[str]:
    """The policy records, one line each, in name order (the layout of the module docstring)."""
    for span in policy_spans(prepared):
        # A plain block is one record and needs no wildcard: made from the name column
        # without a Python step per name, which is most of a list of millions.
        yield from map(operator.add, span.plain, itertools.repeat(f" CNAME {NXDOMAIN}"))
        yield from _tree_records(span.tree)


def record_counts(prepared: PreparedEntries) -> tuple[int, int]:
    """How many ``*.`` records :func:`policy_records` writes (plain blocks have none), and how many
    blocked names it leaves to a blocked parent's wildcard; one walk of the tree."""
    covered = [0]
    wildcards = sum(line.startswith("*.") for span in policy_spans(prepared)
                    for line in _tree_records(span.tree, covered))
    return wildcards, covered[0]


def exceptions_too_deep(prepared: PreparedEntries) -> list[int]:
    """The rows of ``prepared.allowed`` more than :data:`MAX_EXCEPTION_DEPTH` labels below the blocked
    subtree whose policy they except (their closest ancestor with a subtree entry)."""
    allowed = prepared.allowed
    if not allowed.names:
        return []
    subtrees: dict[str, bool] = {}  # name -> True for a blocked subtree, False for an allowed one
    for table, blocks in ((prepared.blocked, True), (allowed, False)):  # an allowed subtree wins
        for row in table.subtree_rows():
            subtrees[table.names[row]] = blocks
    deep = []
    for row, name in enumerate(allowed.names):
        # The closest ancestor with a subtree entry, and how many labels above the name it is.
        depth, origin = next(((depth, parent) for depth, parent in enumerate(parent_names(name), start=1)
                              if parent in subtrees), (0, ""))
        if depth > MAX_EXCEPTION_DEPTH and subtrees[origin]:
            deep.append(row)
    return deep


def _with_exceptions_below(prepared: PreparedEntries) -> set[str]:
    """The names that have an allowed name somewhere below them."""
    return {parent for name in prepared.allowed.names for parent in parent_names(name)}


def _is_covered(row: PolicyRow, excepted: set[str]) -> bool:
    """True for a blocked name below a blocked subtree with no exception below it: the parent's
    wildcard already answers it and every name below it, so it needs no record of its own."""
    return row.inherited and row.allow < 0 and row.name not in excepted


def _tree_records(prepared: PreparedEntries, covered: list[int] | None = None) -> Iterator[str]:
    """The records of the names in ``prepared``, name by name from the policy tree.

    ``covered[0]``, when given, counts the blocked names left to a parent's wildcard.
    """
    spelt: set[str] = set()  # unlisted names whose "*." record is written already
    excepted = _with_exceptions_below(prepared)
    for row in policy_rows(prepared):
        if _is_covered(row, excepted):
            # Its records, and those of every unlisted name between it and its blocked parent,
            # would only repeat the parent's wildcard: one deep name could cost a hundred lines.
            if covered is not None:
                covered[0] += 1
            continue
        if row.inherited and row.parent is not None:
            # Below a blocked subtree: the unlisted names between the parent and this
            # name, outermost first. Each sorts right before its first listed
            # descendant, so the records stay in name order.
            labels = row.name.removesuffix(f".{row.parent}").split(".")
            for cut in range(len(labels) - 1, 0, -1):
                between = ".".join([*labels[cut:], row.parent])
                if between not in spelt:
                    spelt.add(between)
                    # The name itself too: with only records below it, it is an empty
                    # non-terminal, which BIND matches to no wildcard, not even its parent's.
                    yield f"{between} CNAME {NXDOMAIN}"
                    yield f"*.{between} CNAME {NXDOMAIN}"
        yield f"{row.name} CNAME {NXDOMAIN if row.allow < 0 else PASSTHRU}"
        if row.blocks_below or row.subtree:
            # Blocked below (by a subtree entry or from a blocked parent), or an allowed
            # subtree. Without it Unbound applies no rule below the name, BIND the parent's.
            yield f"*.{row.name} CNAME {NXDOMAIN if row.blocks_below else PASSTHRU}"


class RpzExporter(Exporter[RpzOptions]):
    """A BIND-syntax response policy zone (NXDOMAIN policy, passthru exceptions), every wildcard spelt out."""

    name = "rpz"
    render_cost = 2
    description = (
        "DNS response policy zone for BIND, Knot, PowerDNS and Unbound; 'name CNAME .',"
        " every '*.name' the policy needs, rpz-passthru."
    )
    subtree_capable = True
    allow_underscore = True
    comment_prefix = ";"
    options_type = RpzOptions
    data_line = re.compile(
        r"\$TTL \d+"
        r"|@ IN SOA localhost\. hostmaster\.localhost\. \d+ \d+ \d+ \d+ \d+"
        r"|@ IN NS localhost\."
        rf"|(?P<owner>(?:\*\.)?{name_regex(allow_underscore=True)}) CNAME (?:\.|rpz-passthru\.)"
    )

    def max_name_length(self, options: RpzOptions) -> int:
        """Room for ``*.`` in front and ``.zone`` behind (see the module docstring)."""
        return MAX_NAME_LENGTH - len(options.zone) - 3

    def continue_from(self, previous: Path, meta: ExportMeta) -> ExportMeta:
        """Set the serial from the zone being replaced, unless one was given."""
        if meta.options.get("serial") is not None:
            return meta
        serial = next_serial(read_serial(previous), meta.generated_at)
        return replace(meta, options={**meta.options, "serial": serial})

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate as every format does, then reject the exceptions too deep below a blocked subtree."""
        prepared = super().prepare(entries, meta)
        deep = exceptions_too_deep(prepared)
        if not deep:
            return prepared
        names = [prepared.allowed.names[row] for row in deep[:SAMPLES_PER_REASON]]
        return replace(
            prepared,
            allowed=prepared.allowed.without(deep),
            rejections=prepared.rejections + Counter({EXCEPTION_TOO_DEEP: len(deep)}),
            samples=prepared.samples + tuple((name, EXCEPTION_TOO_DEEP) for name in names),
        )

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count the wildcard records, the names a blocked parent covers and the exceptions."""
        wildcards, covered = record_counts(prepared)
        return [
            "scope: '*.name' for every blocked, allowed or inherited subtree and every name between a blocked"
            f" subtree and an exception below it: {wildcards}",
            "covered: blocked names below a blocked subtree with no exception below them, answered by its"
            f" wildcard and written no record: {covered}",
            f"allow: rpz-passthru, exact allows stay exact; allow entries: {len(prepared.allowed)}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | list[str]]:
        """SOA, NS, then the policy records in name order."""
        options = self.options(meta)
        serial = options.serial if options.serial is not None else next_serial(None, meta.generated_at)
        yield f"$TTL {options.ttl}"
        yield f"@ IN SOA localhost. hostmaster.localhost. {serial} {REFRESH} {RETRY} {EXPIRE} {options.ttl}"
        yield "@ IN NS localhost."
        yield from line_blocks(policy_records(prepared))

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then BIND's ``named-checkzone`` under the export's zone name."""
        super().verify(path, meta)
        verify_rpz(path, self.options(meta).zone)
