"""The policy tree: what the block and allow entries decide for each listed name and for the names below it.

The rule every name-matching format must reproduce is "the closest listed name
wins": a name with entries of its own is blocked unless an allow entry is for
it (the exception wins); any other name gets what its closest listed ancestor
gives the names below it, and resolves as usual when there is none. A listed
name gives its subtree what a subtree entry says (an allow before a block);
without one it passes on what it inherited. :func:`policy_nodes` walks the
listed names parents first and states both halves of each decision:
``blocks_self`` for the name and ``blocks_below`` for the names below it.

Why formats write both halves out instead of leaving inheritance to the
consumer: consumers do not agree on how a rule reaches the names below it.
For a response policy zone (RPZ):

- BIND, PowerDNS Recursor and Knot Resolver read the zone as the RPZ draft
  does: an owner equal to the query name decides; otherwise the ``*.`` owner
  of the closest ancestor that has one (the longest match) decides. An exact
  owner therefore beats a wildcard, and a wildcard further up still reaches
  names below an owner that has none. BIND (9.18, measured) adds one rule of
  DNS wildcards: a name that exists in the zone only as an empty non-terminal,
  an ancestor of owners with no record of its own, matches no wildcard at all.
- Unbound (services/rpz.c) looks the query name up in its zone tree: an
  owner equal to it decides; otherwise it takes the owner that sorts just
  before the query name (canonical DNS order) and tries only the ``*.`` of
  the closest name that owner and the query name share. If that wildcard is
  missing, no rule applies, even where a wildcard further up would match.
  Measured on Unbound 1.17.1 with a zone holding ``*.t.example CNAME .`` and
  one more owner below ``t.example``: an exact ``x.t.example CNAME .`` let
  ``y.x.t.example`` resolve, and an ``a.b.t.example`` passthru let its
  sibling ``c.b.t.example`` resolve.

All readings give the same answers when every wildcard the tree needs is in
the zone: ``*.name`` for each listed name whose subtree is blocked, allowed or
inherited, and ``*.between`` (blocked) for each unlisted name between a
blocked subtree and a listed name below it, with ``between`` itself blocked
by a record of its own, so it is no empty non-terminal. (A blocked name that a
blocked subtree covers, with no exception below it, can be left out whole: it
then is one of the unlisted names the subtree's wildcard answers.) Whichever wildcard a resolver then
picks, it is the closest listed name's decision for the names below it.
dnsmasq, Unbound ``local-zone`` and ABP lists match patterns of their own and
use the same two halves to decide where a name and its subtree need separate
lines.

Lists hold millions of names, so the walk itself (:func:`policy_rows`) reads
the name and scope columns and makes no entry objects; :func:`policy_nodes`
adds the entries for formats that want them. Most names of a big list are
plain blocks (exact, with no subtree entry or exception on them or above
them), whose policy needs no walk at all: :func:`policy_spans` separates them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from fraudwall.entries import SUBTREE, sort_key, union
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry

# policy_spans() splits a list only when fewer than one name in this many is a
# subtree entry or an exception: finding each one's subtree costs a binary search,
# which pays off against a walk of every name only when they are few.
SPLIT_RATIO = 32


@dataclass(frozen=True, slots=True)
class PolicyNode:
    """What the entries for one listed name ask for: the name itself, and the names below it.

    ``blocks_below`` holds for every name below ``name`` that has no listed name
    of its own in between. Without a subtree entry on ``name`` it is
    ``inherited``: what ``parent``, the closest listed ancestor (``None`` if
    there is none), gives the names below it. ``entries`` are the entries for
    ``name``: at most one block and one allow.
    """

    name: str
    blocks_self: bool
    blocks_below: bool
    inherited: bool
    parent: str | None
    entries: tuple[BlockEntry, ...]


class PolicyRow(NamedTuple):
    """A :class:`PolicyNode` by row numbers instead of entries, for walking millions of names."""

    name: str
    block: int  # the row of the name's block entry in ``prepared.blocked``; -1 if it has none
    allow: int  # the row of its allow entry in ``prepared.allowed``; -1 if it has none
    subtree: bool  # whether one of its entries has the SUBTREE scope
    blocks_below: bool
    inherited: bool
    parent: str | None


def policy_rows(prepared: PreparedEntries) -> Iterator[PolicyRow]:
    """Every listed name, parents before children, under "the closest listed name wins" (module docstring).

    The name is blocked itself exactly when ``allow`` is -1 (the exception wins).
    """
    block_scopes, allow_scopes = prepared.blocked.scopes, prepared.allowed.scopes
    # Both tables are in export order, where a name's subtree follows it without a
    # gap, so the listed ancestors of the current name are exactly this stack of
    # (".name", name, blocks_below).
    stack: list[tuple[str, str, bool]] = []
    for name, block, allow in union(prepared.blocked, prepared.allowed):
        while stack and not name.endswith(stack[-1][0]):
            stack.pop()
        _, parent, inherited = stack[-1] if stack else (None, None, False)
        allow_subtree = allow >= 0 and allow_scopes[allow] == SUBTREE
        block_subtree = block >= 0 and block_scopes[block] == SUBTREE
        blocks_below = False if allow_subtree else True if block_subtree else inherited
        stack.append((f".{name}", name, blocks_below))
        yield PolicyRow(name, block, allow, allow_subtree or block_subtree, blocks_below, inherited, parent)


def policy_nodes(prepared: PreparedEntries) -> Iterator[PolicyNode]:
    """:func:`policy_rows` with the entries for each name (block first, then allow)."""
    blocked, allowed = prepared.blocked, prepared.allowed
    for row in policy_rows(prepared):
        entries = tuple(table[index] for table, index in ((blocked, row.block), (allowed, row.allow)) if index >= 0)
        yield PolicyNode(row.name, row.allow < 0, row.blocks_below, row.inherited, row.parent, entries)


class PolicySpan(NamedTuple):
    """A run of plain blocks, then a part of the tree to walk; both in export order, either may be empty."""

    plain: Sequence[str]  # exact blocks with no subtree entry or exception on them or above them
    tree: PreparedEntries  # subtree entries and exceptions with every listed name below them


def policy_spans(prepared: PreparedEntries) -> Iterator[PolicySpan]:
    """The listed names in export order, split into plain blocks and the parts of the tree around the rest.

    A plain block is blocked itself and gives nothing to the names below it, so
    formats write it straight from the name column. Each ``tree`` is a subtree
    entry or exception with the names below it (touching ones merged), for
    :func:`policy_rows`. Walked without the plain blocks, a tree's rows keep
    their decisions: a plain block is never a closest ancestor that passes a
    policy down, so only ``parent`` may read ``None`` where it was one. A list
    with many subtree entries or exceptions (:data:`SPLIT_RATIO`) comes as one
    tree, and one without any as one run of plain blocks.
    """
    blocked, allowed = prepared.blocked, prepared.allowed
    names = blocked.names
    if (blocked.subtree_count() + len(allowed)) * SPLIT_RATIO > len(names):
        yield PolicySpan((), prepared)
        return
    # Rows [start, end) of blocked that each subtree entry or exception covers, itself included.
    covered: list[tuple[int, int]] = []
    for row in blocked.subtree_rows():
        covered.append((row, _end_of_subtree(names, names[row], row + 1)))
    positions: list[int] = []  # where each exception's name is, or would be, among the blocks
    for name in allowed.names:
        at = bisect.bisect_left(names, sort_key(name), key=sort_key)
        positions.append(at)
        covered.append((at, _end_of_subtree(names, name, at + 1 if at < len(names) and names[at] == name else at)))
    done = taken = 0  # blocked rows and exceptions given so far
    for start, end in _merged(covered):
        # An exception's own span starts where it would be, so each one lies in exactly one merged span.
        allow_end = bisect.bisect_right(positions, end)
        tree = replace(prepared, blocked=blocked[start:end], allowed=allowed[taken:allow_end])
        yield PolicySpan(names[done:start], tree)
        done, taken = end, allow_end
    rest = replace(prepared, blocked=blocked[len(names):], allowed=allowed[taken:])  # no exception is left
    yield PolicySpan(names[done:] if done else names, rest)


def _end_of_subtree(names: Sequence[str], name: str, start: int) -> int:
    """The row after the last name below ``name`` in ``names`` (export order), from row ``start`` on."""
    # The keys of the names below are the name's key, a space and more labels; "!" sorts right after the space.
    return bisect.bisect_left(names, sort_key(name) + "!", lo=start, key=sort_key)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, with the ones that overlap or touch joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
