"""Adblock-style DNS filter list, for AdGuard Home, AdGuard DNS and other AdGuard products.

Rules follow AdGuard's DNS filtering syntax, where a pattern is matched against
the queried host name:

- ``||name^`` blocks the name and every name below it (SUBTREE);
- ``|name^`` blocks exactly the name: ``|`` anchors the start of the host name
  and ``^`` its end (EXACT; AdGuard Home writes its own exact hosts rules the same way);
- ``@@||name^`` and ``@@|name^`` are the exceptions (ALLOW), with the same scopes.

Adblock rules do not take the most specific rule: any matching exception beats
any matching block, ``$important`` on a block beats plain exceptions, and
``$important`` on an exception beats that. fraudwall means "the closest listed
name wins", so a block nested below an exception gets ``$important``, and an
exception below that gets ``@@...$important`` too. Nothing beats an important
exception, so a block nested deeper still (block, allow, block, allow, block)
cannot be written; it is left out and the header counts it. Without such
nesting no rule carries ``$important``.

Browser ad blockers (uBlock Origin, Adblock Plus) read ``||name^`` and
``@@||name^`` the same way, but match ``|name^`` against the whole URL, where
it never matches, and Adblock Plus ignores rules with ``$important``: exact
entries only take effect in DNS-level blockers.

The header uses ``!`` comments and starts with the metadata lines AdGuard
lists carry (``! Title:``, which AdGuard Home shows as the list's name, and
``! Last modified:``). Underscores are allowed: they are ordinary characters
in a pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fraudwall.exporters.base import Exporter, ExportMeta, NoOptions, comment_text, line_blocks, name_regex
from fraudwall.exporters.policy_tree import policy_nodes
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import Action, Scope

# Priority levels: the highest matching rule decides; blocks are even, exceptions odd.
BLOCK, EXCEPTION, IMPORTANT_BLOCK, IMPORTANT_EXCEPTION = range(4)


@dataclass(frozen=True, slots=True)
class _Rule:
    """One rule: its name, whether it covers the subtree, and its priority level."""

    name: str
    subtree: bool
    level: int

    @property
    def line(self) -> str:
        """The rule as written in the list."""
        anchor = "||" if self.subtree else "|"
        exception = "@@" if self.level % 2 else ""
        important = "$important" if self.level >= IMPORTANT_BLOCK else ""
        return f"{exception}{anchor}{self.name}^{important}"


def _lowest_level(*, blocks: bool, above: int) -> int:
    """The lowest level for a block (or an exception) that outranks ``above``."""
    level = above + 1
    return level if (level % 2 == 0) == blocks else level + 1


def _rules(prepared: PreparedEntries) -> tuple[list[_Rule], int]:
    """The rules in name order, and how many blocks could not be ranked high enough."""
    # For each listed name: the highest block and exception levels among the
    # subtree rules of the name and its listed ancestors, which match every name below it.
    reach: dict[str, tuple[int, int]] = {}
    rules: list[_Rule] = []
    unrankable = 0
    for node in policy_nodes(prepared):
        top_block, top_exception = reach[node.parent] if node.parent is not None else (-1, -1)
        block = next((entry for entry in node.entries if entry.action is Action.BLOCK), None)
        allow = next((entry for entry in node.entries if entry.action is Action.ALLOW), None)
        wanted: list[tuple[bool, bool]] = []  # (blocks, subtree), to be ranked in this order
        if allow is not None and allow.scope is Scope.SUBTREE:
            wanted.append((False, True))
        else:
            if block is not None and (block.scope is Scope.SUBTREE or allow is None):
                wanted.append((True, block.scope is Scope.SUBTREE))
            if allow is not None:
                wanted.append((False, False))
        floor = -1  # an exact exception beside a subtree block of its name must outrank that block
        for blocks, subtree in wanted:
            # Outrank every rule above that decides the other way; agreeing ones may stay higher.
            level = _lowest_level(blocks=blocks, above=max(top_exception if blocks else top_block, floor))
            if level > IMPORTANT_EXCEPTION:
                unrankable += 1
                continue
            rules.append(_Rule(node.name, subtree, level))
            floor = level
            if subtree and blocks:
                top_block = max(top_block, level)
            elif subtree:
                top_exception = max(top_exception, level)
        reach[node.name] = (top_block, top_exception)
    return rules, unrankable


class AdblockExporter(Exporter[NoOptions]):
    """``||name^``, ``|name^`` and ``@@`` exceptions, with ``! Title:`` metadata."""

    name = "adblock"
    render_cost = 2
    description = "AdGuard Home / adblock-style DNS list; '||name^' subtree, '|name^' exact, '@@' exceptions"
    subtree_capable = True
    allow_underscore = True
    comment_prefix = "!"
    options_type = NoOptions
    data_line = re.compile(
        rf"(?:@@)?(?:\|\||\|)(?P<owner>{name_regex(allow_underscore=True)})\^(?:\$important)?"
    )

    def header(self, prepared: PreparedEntries, meta: ExportMeta) -> list[str]:
        """AdGuard's metadata lines, then the common header without its own title line."""
        title = comment_text(meta.title) or "fraudwall blocklist"
        base = super().header(prepared, meta)
        return [
            f"! Title: {title}",
            f"! Last modified: {meta.generated_at:%Y-%m-%dT%H:%M:%SZ}",
            *base[1:],
        ]

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """How scopes and exceptions were written, with counts."""
        rules, unrankable = _rules(prepared) if prepared.allowed else ([], 0)
        important = sum(rule.level >= IMPORTANT_BLOCK for rule in rules)
        return [
            "scope: '||name^' for subtree entries, '|name^' for exact ones",
            f"allow: '@@' exceptions; allow entries: {len(prepared.allowed)}; rules raised with"
            f" $important so the closest listed name wins: {important}; blocks nested too deep"
            f" to outrank the exception above them, left out: {unrankable}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[list[str]]:
        """One rule per line, in name order."""
        if not prepared.allowed:
            # Without exceptions every rule is a plain block: no ranks to work out, and a
            # national list is millions of names, so the lines come from the name column.
            anchors = map(("|", "||").__getitem__, prepared.blocked.scopes)
            return line_blocks(map("{}{}^".format, anchors, prepared.blocked.names))
        return line_blocks(rule.line for rule in _rules(prepared)[0])

    def owner_of(self, match: re.Match[str]) -> str | None:
        """As the base, but a subtree rule's owner is ``*.name`` (as in RPZ).

        A name may carry one exact and one subtree rule (an exact exception
        beside a subtree block), so the duplicate check of
        :meth:`~fraudwall.exporters.base.Exporter.verify_lines` compares rules
        of the same kind only.
        """
        owner = super().owner_of(match)
        return f"*.{owner}" if owner is not None and "||" in match.string else owner
