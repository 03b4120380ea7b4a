"""Response Policy Zone (RPZ): a zone file loaded by BIND, Knot Resolver, PowerDNS Recursor and Unbound.

Layout: ``$TTL``, an SOA with the serial, an NS, then one policy record per
rule, owner names *relative* (no ``$ORIGIN``), so the same file loads under
whatever zone name the resolver's configuration gives it.

- ``name CNAME .`` answers NXDOMAIN for the name itself;
- a SUBTREE entry adds ``*.name CNAME .``: RPZ wildcards cover every name below;
- an ALLOW entry is ``name CNAME rpz-passthru.`` (plus ``*.name`` if subtree).
  RPZ prefers an exact owner to a wildcard, so an allowed name under a blocked
  subtree stays reachable; when one name is both blocked and allowed, the
  exception wins for that owner (and one owner never gets two CNAMEs, which
  would make the whole zone fail to load).

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

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from fraudwall.entries import SUBTREE, union
from fraudwall.exceptions import ExportError, InvalidName
from fraudwall.exporters.base import Exporter, ExportMeta, name_regex
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.exporters.verify import verify_rpz
from fraudwall.names import MAX_NAME_LENGTH, normalize_name

SERIAL_MODULUS = 2**32
MAX_TTL = 2**31 - 1  # RFC 2181 section 8
NXDOMAIN = "."
PASSTHRU = "rpz-passthru."
# SOA timers for secondaries: refresh hourly, retry every 10 minutes, and keep
# serving (blocking) for 4 weeks if the primary is gone (RFC 1912 suggests 2-4).
REFRESH, RETRY, EXPIRE = 3600, 600, 2419200

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


class RpzExporter(Exporter[RpzOptions]):
    """A BIND-syntax response policy zone (NXDOMAIN policy, passthru exceptions)."""

    name = "rpz"
    description = "DNS response policy zone; 'name CNAME .', '*.name' for subtrees, rpz-passthru."
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

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count the wildcard and passthru rules."""
        subtree = prepared.blocked.subtree_count() + prepared.allowed.subtree_count()
        return [
            f"scope: subtree entries written as name and *.name: {subtree}",
            f"allow: rpz-passthru (exact owners beat wildcards); allow entries: {len(prepared.allowed)}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """SOA, NS, then the policy records in name order."""
        options = self.options(meta)
        serial = options.serial if options.serial is not None else next_serial(None, meta.generated_at)
        yield f"$TTL {options.ttl}"
        yield f"@ IN SOA localhost. hostmaster.localhost. {serial} {REFRESH} {RETRY} {EXPIRE} {options.ttl}"
        yield "@ IN NS localhost."
        # From the name columns: a national list is millions of names.
        block_scopes, allow_scopes = prepared.blocked.scopes, prepared.allowed.scopes
        for name, block, allow in union(prepared.blocked, prepared.allowed):
            yield f"{name} CNAME {PASSTHRU if allow >= 0 else NXDOMAIN}"
            if allow >= 0 and allow_scopes[allow] == SUBTREE:
                yield f"*.{name} CNAME {PASSTHRU}"
            elif block >= 0 and block_scopes[block] == SUBTREE:
                yield f"*.{name} CNAME {NXDOMAIN}"

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then BIND's ``named-checkzone`` under the export's zone name."""
        super().verify(path, meta)
        verify_rpz(path, self.options(meta).zone)
