"""dnsmasq configuration lines: ``local=/name/``, ``server=/name/`` or ``address=/name/#``.

Loaded with ``conf-file=`` (or dropped into a ``conf-dir``). Style ``server``
writes only ``server=`` lines, so it also loads as a ``servers-file=``, which
dnsmasq re-reads on SIGHUP without a restart: a servers-file takes nothing but
``server=`` lines (dnsmasq 2.90 logs "illegal option" for any other and ignores it).

Matching: a pattern ``/name/`` covers the name and every name below it;
``/*.name/`` covers the names below it only; the most specific pattern wins,
and for a name below ``name``, ``*.name`` is more specific than ``name``. So
each listed name gets one line for itself and, where the names below it must
be treated differently, a ``*.name`` line for them:

- BLOCK, SUBTREE: one block line, the name and its subtree.
- BLOCK, EXACT: the block line plus ``server=/*.name/#`` (``#`` means "the usual
  upstream servers"), so the names below resolve as before. The ``*.`` pattern
  needs dnsmasq 2.86 or later: 2.85 and older accept the line but never match
  it, which would silently block the whole subtree. For those, option
  ``exact=skip`` leaves such entries out and ``exact=widen`` blocks their
  subtree; both write no ``*.`` line, and the header counts what they changed.
- ALLOW: ``server=/name/#``, forwarded as usual. An exact allow whose subtree
  stays blocked (below a blocked subtree, or beside a subtree block of the same
  name) adds a block line for ``*.name``; without ``*.`` lines (``exact=skip``
  or ``widen``) the exception covers the subtree, and the header counts it.
- An exact entry whose subdomains are blocked anyway (below a blocked subtree)
  needs no ``*.`` line: its subtree line agrees with the parent.

``exact=precise`` is the default: ``skip`` misses listed names, and ``widen``
blocks names nobody listed (every host below a fraud host, which on an ISP's
resolver means customers' working sites). In no mode does an exception turn
into a block.

Block lines by ``style``: ``local`` (default) answers NXDOMAIN and never
forwards; ``server`` is the same line spelt ``server=/name/`` (identical
meaning in every dnsmasq version); ``address`` answers 0.0.0.0 and ``::``
(``address=/name/#``) and adds ``local=/name/``: since 2.86 dnsmasq forwards
every other query type (MX, TXT, HTTPS ...) for an ``address=`` name upstream,
and the ``local=`` line keeps them local (no data).

Underscores are allowed: dnsmasq matches them like any other character in a label.

Verification runs ``dnsmasq --test`` on the file. It parses options only: it
takes ``local=/a..b/`` as well, so the strict line guard is what keeps names
valid, and it does not read a servers-file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import Exporter, ExportMeta, line_blocks, name_regex
from fraudwall.exporters.policy_tree import policy_nodes
from fraudwall.exporters.validation import PreparedEntries, uniform_scope
from fraudwall.exporters.verify import run_checker
from fraudwall.models import Scope

STYLES = ("local", "server", "address")
EXACT_MODES = ("precise", "skip", "widen")

_PATTERN = rf"(?:\*\.)?{name_regex(allow_underscore=True)}"


@dataclass(frozen=True, slots=True)
class DnsmasqOptions:
    """How blocked names are answered (``style``) and what to do where dnsmasq needs ``*.`` (``exact``)."""

    style: str = "local"
    exact: str = "precise"

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ExportError(f"dnsmasq style must be one of {', '.join(STYLES)}, got {self.style!r}")
        if self.exact not in EXACT_MODES:
            raise ExportError(f"dnsmasq exact must be one of {', '.join(EXACT_MODES)}, got {self.exact!r}")


@dataclass(frozen=True, slots=True)
class _Plan:
    """The lines to write, as (pattern, blocks) pairs, and what the exact mode changed."""

    rules: Iterable[tuple[str, bool]]  # made as they are read for a uniform list: iterate once
    kept_exact: int  # entries that needed a "*." line to stay exact
    skipped: int  # exact blocks left out (exact=skip)
    widened: int  # exact blocks written as subtree blocks (exact=widen)
    widened_allows: int  # exact allows whose exception covers the subtree (no "*." lines)


def _plan(prepared: PreparedEntries, exact: str) -> _Plan:
    """Turn the policy nodes into dnsmasq patterns under the ``exact`` mode."""
    scope = uniform_scope(prepared)
    if scope is not None:
        return _uniform_plan(prepared.blocked.names, scope, exact)
    rules: list[tuple[str, bool]] = []
    kept_exact = skipped = widened = widened_allows = 0
    for node in policy_nodes(prepared):
        if node.blocks_self == node.blocks_below:
            rules.append((node.name, node.blocks_self))
        elif exact == "precise":
            rules += [(node.name, node.blocks_self), (f"*.{node.name}", node.blocks_below)]
            kept_exact += 1
        elif not node.blocks_self:
            # An exception must never turn into a block: let it cover the subtree.
            rules.append((node.name, False))
            widened_allows += 1
        elif exact == "widen":
            rules.append((node.name, True))
            widened += 1
        else:
            skipped += 1
    return _Plan(tuple(rules), kept_exact, skipped, widened, widened_allows)


def _uniform_plan(names: list[str], scope: Scope, exact: str) -> _Plan:
    """:func:`_plan` for blocks of one scope and no exceptions: every name gets the same lines.

    A subtree block's line covers its subtree. An exact block has no subtree
    block above it (there is none), so the names below it resolve as usual.
    The rules are made from the name column as they are read: a national
    list is millions of names.
    """
    blocks = itertools.repeat(True)
    if scope is Scope.SUBTREE:
        return _Plan(zip(names, blocks), 0, 0, 0, 0)
    if exact == "precise":
        below = zip(map("*.".__add__, names), itertools.repeat(False))
        return _Plan(itertools.chain.from_iterable(zip(zip(names, blocks), below)), len(names), 0, 0, 0)
    if exact == "widen":
        return _Plan(zip(names, blocks), 0, 0, len(names), 0)
    return _Plan((), 0, len(names), 0, 0)


class DnsmasqExporter(Exporter[DnsmasqOptions]):
    """dnsmasq ``local=``/``server=``/``address=`` lines; subtree matching, ``*.`` for exact entries."""

    name = "dnsmasq"
    render_cost = 3
    description = "dnsmasq config; 'local=/name/' (or server/address style) blocks a name and its subtree"
    subtree_capable = True
    allow_underscore = True
    comment_prefix = "#"
    options_type = DnsmasqOptions
    # The owner is on the local=/server= line of each pattern; an address= line
    # always comes with a local= line for the same pattern, which carries it.
    # Only server= lines forward ("#"); local=/x/# would mean the same, but nothing here writes it.
    data_line = re.compile(
        rf"(?!local=.*#$)(?:local|server)=/(?P<owner>{_PATTERN})/#?"
        rf"|address=/{_PATTERN}/#"
    )

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Scope and exceptions, with the counts that do not depend on the options."""
        plan = _plan(prepared, "precise")
        return [
            f"scope: a name's line covers its subtree; exact entries that need a '*.name' line"
            f" to stay exact: {plan.kept_exact}",
            f"allow: forwarded to the usual servers; allow entries: {len(prepared.allowed)}",
        ]

    def header(self, prepared: PreparedEntries, meta: ExportMeta) -> list[str]:
        """The base header plus what this export's options did (notes() cannot see options)."""
        options = self.options(meta)
        plan = _plan(prepared, options.exact)
        answer = "0.0.0.0 and :: for A/AAAA, no data for other types" if options.style == "address" else "NXDOMAIN"
        exact = {
            "precise": "'*.name' lines written (dnsmasq 2.86 or later)",
            "skip": f"no '*.name' lines; exact blocks left out: {plan.skipped}",
            "widen": f"no '*.name' lines; exact blocks widened to their subtree: {plan.widened}",
        }[options.exact]
        if options.exact != "precise":
            exact += f"; exact allows widened to their subtree: {plan.widened_allows}"
        lines = super().header(prepared, meta)
        extra = [f"style: {options.style}; blocked names get {answer}", f"exact: {options.exact}; {exact}"]
        # Before the closing "generated by fraudwall" line, with the other notes.
        return lines[:-1] + [f"{self.comment_prefix} {text}" for text in extra] + lines[-1:]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[list[str]]:
        """One or two lines per pattern, in name order."""
        return line_blocks(self._lines(prepared, meta))

    def _lines(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        options = self.options(meta)
        for pattern, blocks in _plan(prepared, options.exact).rules:
            if not blocks:
                yield f"server=/{pattern}/#"
            elif options.style == "address":
                yield f"address=/{pattern}/#"
                yield f"local=/{pattern}/"
            else:
                yield f"{options.style}=/{pattern}/"

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The strict re-read, then dnsmasq's own parser (``--test``) on the file alone."""
        super().verify(path, meta)
        verify_dnsmasq(path)


def verify_dnsmasq(path: Path) -> None:
    """``dnsmasq --test --conf-file=path``: parses the file as a configuration, starts nothing.

    ``--conf-file`` replaces /etc/dnsmasq.conf, so only this file is read.
    """
    run_checker("dnsmasq", "dnsmasq-base", ["--test", f"--conf-file={path}"], path)
