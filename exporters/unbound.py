"""Unbound: ``local-zone:`` statements (``unbound``) and a response policy zone for ``rpz:`` (``unbound-rpz``).

``unbound`` is an include file that starts with its own ``server:`` line, so it
can be included anywhere in unbound.conf, even after another clause::

    include: "/etc/unbound/fraudwall.conf"

Unbound answers from the closest enclosing ``local-zone``, so a zone always
covers its name and the whole subtree below it; ``local-data`` matches its own
name only.

- BLOCK, SUBTREE: ``local-zone: "name." always_nxdomain`` (option ``type``:
  any zone type that blocks, e.g. ``always_null`` or ``always_refuse``).
- BLOCK, EXACT: no zone type covers one name without its subtree. An exact
  block whose subdomains are blocked anyway (below a blocked subtree) gets a
  blocking zone; any other becomes a ``transparent`` zone with ``local-data``
  0.0.0.0 and ``::`` for the name: its A and AAAA queries get the null
  address, its other types no data, and the names below resolve as before.
  Exact blocks are therefore answered with null addresses, not NXDOMAIN (the
  header says how many); ``unbound-rpz`` answers them with NXDOMAIN.
  Option ``exact=skip`` leaves such entries out, ``exact=widen`` blocks their
  subtree instead; the header counts both.
- ALLOW: ``local-zone: "name." transparent``, resolved as usual. A transparent
  zone covers the subtree too, so an exact exception whose subdomains should
  stay blocked unblocks them as well (an exception never becomes a block); the
  header counts them. ``unbound-rpz`` keeps such exceptions exact.

``unbound-rpz`` is the ``rpz`` zone of :mod:`fraudwall.exporters.rpz`, record
for record, for an ``rpz:`` clause (module-config ``"respip validator iterator"``)::

    rpz:
        name: "fraudwall.rpz"
        zonefile: "/etc/unbound/fraudwall.rpz"

The ``rpz`` zone spells out every wildcard its policy needs, which Unbound's
RPZ lookup requires (see :mod:`fraudwall.exporters.policy_tree`); the format
stays under its own name for configurations that load it, and is verified by
``unbound-checkconf`` loading it through an ``rpz:`` clause.

Underscores are allowed in both: Unbound takes any DNS name.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters.base import Exporter, ExportMeta, line_blocks, name_regex
from fraudwall.exporters.policy_tree import policy_nodes
from fraudwall.exporters.rpz import RpzExporter
from fraudwall.exporters.validation import PreparedEntries, uniform_scope
from fraudwall.exporters.verify import run_checker
from fraudwall.models import Scope

# Zone types that block the names they cover (unbound.conf(5)). Not here:
# transparent, typetransparent, inform and always_transparent resolve normally;
# redirect and inform_redirect need local-data this file does not write; noview
# and nodefault only matter for views and default zones.
BLOCKING_TYPES = (
    "always_nxdomain", "always_null", "always_nodata", "always_refuse", "always_deny",
    "static", "refuse", "deny", "inform_deny",
)
EXACT_MODES = ("precise", "skip", "widen")
NULL_DATA = ("A 0.0.0.0", "AAAA ::")
# unbound-checkconf exits 0 after some complaints (a duplicate local-zone is only a warning).
_COMPLAINT = re.compile(r"\b(?:warning|error|fatal error):", re.IGNORECASE)

_NAME = name_regex(allow_underscore=True)


@dataclass(frozen=True, slots=True)
class UnboundOptions:
    """The zone type for blocked subtrees, and what to do with exact blocks (see the module docstring)."""

    type: str = "always_nxdomain"
    exact: str = "precise"

    def __post_init__(self) -> None:
        if self.type not in BLOCKING_TYPES:
            raise ExportError(
                f"unbound type must be a blocking zone type ({', '.join(BLOCKING_TYPES)}), got {self.type!r}"
            )
        if self.exact not in EXACT_MODES:
            raise ExportError(f"unbound exact must be one of {', '.join(EXACT_MODES)}, got {self.exact!r}")


@dataclass(frozen=True, slots=True)
class _Plan:
    """Zones to write as (name, blocks, null_data) and what the exact mode changed."""

    zones: Iterable[tuple[str, bool, bool]]
    null_exact: int  # exact blocks answered with null addresses (exact=precise)
    skipped: int  # exact blocks left out (exact=skip)
    widened: int  # exact blocks written as subtree blocks (exact=widen)
    widened_allows: int  # exact allows whose transparent zone also unblocks their subtree
    # For a uniform list: (blocks, null_data) of every zone, one per blocked name, instead of zones.
    alike: tuple[bool, bool] | None = None


def _plan(prepared: PreparedEntries, exact: str) -> _Plan:
    """One zone per listed name under the ``exact`` mode."""
    scope = uniform_scope(prepared)
    if scope is not None:
        return _uniform_plan(prepared.blocked.names, scope, exact)
    zones: list[tuple[str, bool, bool]] = []
    null_exact = skipped = widened = widened_allows = 0
    for node in policy_nodes(prepared):
        if node.blocks_self == node.blocks_below:
            zones.append((node.name, node.blocks_self, False))
        elif not node.blocks_self:
            # No zone type passes a name but blocks below it; an exception never becomes a block.
            zones.append((node.name, False, False))
            widened_allows += 1
        elif exact == "precise":
            zones.append((node.name, False, True))
            null_exact += 1
        elif exact == "widen":
            zones.append((node.name, True, False))
            widened += 1
        else:
            skipped += 1
    return _Plan(tuple(zones), null_exact, skipped, widened, widened_allows)


def _uniform_plan(names: list[str], scope: Scope, exact: str) -> _Plan:
    """:func:`_plan` for blocks of one scope and no exceptions: every name gets the same zone.

    A subtree block is a blocking zone. An exact block has no subtree block
    above it (there is none), so its subdomains must resolve.
    """
    if scope is Scope.SUBTREE:
        return _Plan((), 0, 0, 0, 0, alike=(True, False))
    if exact == "precise":
        return _Plan((), len(names), 0, 0, 0, alike=(False, True))
    if exact == "widen":
        return _Plan((), 0, 0, len(names), 0, alike=(True, False))
    return _Plan((), 0, len(names), 0, 0)


def _line_makers(zone_type: str) -> dict[tuple[bool, bool], list[Callable[[str], str]]]:
    """For each kind of zone (blocks, null_data): what makes its lines from its name."""
    makers = {}
    for blocks in (True, False):
        zone = f'local-zone: "{{}}." {zone_type if blocks else "transparent"}'.format
        makers[blocks, False] = [zone]
        makers[blocks, True] = [zone, *(f'local-data: "{{}}. {record}"'.format for record in NULL_DATA)]
    return makers


class UnboundExporter(Exporter[UnboundOptions]):
    """``local-zone:`` statements under their own ``server:`` line, for ``include:``."""

    name = "unbound"
    render_cost = 5
    description = "Unbound include; a local-zone per name blocks the name and its subtree"
    subtree_capable = True
    allow_underscore = True
    comment_prefix = "#"
    options_type = UnboundOptions
    data_line = re.compile(
        r"server:"
        rf"|local-zone: \"(?P<owner>{_NAME})\.\" (?:{'|'.join(BLOCKING_TYPES)}|transparent)"
        rf"|local-data: \"{_NAME}\. (?:{'|'.join(NULL_DATA)})\""
    )

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Scope and exceptions, with the counts that do not depend on the options."""
        plan = _plan(prepared, "precise")
        return [
            f"scope: a local-zone covers its subtree; exact blocks whose subdomains must still"
            f" resolve: {plan.null_exact}",
            f"allow: transparent zones; allow entries: {len(prepared.allowed)}, exact ones whose"
            f" exception also covers their subtree: {plan.widened_allows}",
        ]

    def header(self, prepared: PreparedEntries, meta: ExportMeta) -> list[str]:
        """The base header plus what this export's options did (notes() cannot see options)."""
        options = self.options(meta)
        plan = _plan(prepared, options.exact)
        exact = {
            "precise": f"answered 0.0.0.0/:: by local-data, subdomains resolve: {plan.null_exact}",
            "skip": f"left out: {plan.skipped}",
            "widen": f"widened to their subtree: {plan.widened}",
        }[options.exact]
        lines = super().header(prepared, meta)
        extra = [f"type: {options.type} for blocked subtrees", f"exact: {options.exact}; such exact blocks {exact}"]
        # Before the closing "generated by fraudwall" line, with the other notes.
        return lines[:-1] + [f"{self.comment_prefix} {text}" for text in extra] + lines[-1:]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[list[str]]:
        """``server:``, then each zone in name order (its local-data right after it)."""
        return line_blocks(self._lines(prepared, meta))

    def _lines(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        options = self.options(meta)
        plan = _plan(prepared, options.exact)
        makers = _line_makers(options.type)
        yield "server:"
        if plan.alike is not None:  # from the name column, without a Python step per name
            columns = (map(make, prepared.blocked.names) for make in makers[plan.alike])
            yield from itertools.chain.from_iterable(zip(*columns))
        for name, blocks, null_data in plan.zones:
            for make in makers[blocks, null_data]:
                yield make(name)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then ``unbound-checkconf`` on a minimal config that includes the file."""
        super().verify(path, meta)
        verify_unbound(path, lambda included: f'include: "{included}"\n')


class UnboundRpzExporter(RpzExporter):
    """The ``rpz`` zone under the name Unbound configurations load it by, checked by Unbound's own checker."""

    name = "unbound-rpz"
    description = "RPZ zone for Unbound's rpz: clause; the same records as 'rpz', checked by unbound-checkconf."

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then ``unbound-checkconf`` loading the zone through an ``rpz:`` clause."""
        self.verify_lines(path, meta)
        zone = self.options(meta).zone
        verify_unbound(
            path,
            lambda included: f'server:\n    module-config: "respip validator iterator"\n'
            f'rpz:\n    name: "{zone}."\n    zonefile: "{included}"\n',
        )


def verify_unbound(path: Path, config_for: Callable[[Path], str]) -> None:
    """Run ``unbound-checkconf`` on a throw-away config that loads ``path``.

    ``config_for`` gets the path to load and returns the config's clauses for
    it. The file is linked into a private temp dir under a fixed name, so the
    config never quotes a caller's path (which could hold a quote itself). Any
    warning or error fails, not only the exit code.
    """
    with tempfile.TemporaryDirectory(prefix="fraudwall-unbound-") as tmp:
        directory = Path(tmp)
        included = directory / "list"
        included.symlink_to(path.resolve())
        config = directory / "unbound.conf"
        config.write_text(
            f'server:\n    chroot: ""\n    username: ""\n    directory: "{directory}"\n    pidfile: ""\n'
            + config_for(included),
            encoding="utf-8",
        )
        output = run_checker("unbound-checkconf", "unbound", [str(config)], path)
        if _COMPLAINT.search(output):
            raise VerificationError(f"unbound-checkconf complained about {path}:\n{output}")
