"""Every occurrence of many strings in one pass, each string standing for a value of the caller's.

Term sets, the YAML rules' required literals and the brands' host-name tokens are
each looked for with one Aho-Corasick automaton (ahocorasick-rs) rather than
one search per string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

import ahocorasick_rs

V = TypeVar("V")


class StringIndex(Generic[V]):
    """An automaton over the keys of ``entries`` (none empty); an occurrence of a key reports its value."""

    def __init__(self, entries: Mapping[str, V]) -> None:
        self._values = tuple(entries.values())
        self._automaton = ahocorasick_rs.AhoCorasick(list(entries))

    def occurrences(self, string: str) -> list[tuple[V, int]]:
        """``(value, start)`` of every occurrence of every key in ``string``, overlapping ones included, by
        end position: one key's occurrences come in the order of their starts."""
        values = self._values
        return [(values[number], start)
                for number, start, _ in self._automaton.find_matches_as_indexes(string, overlapping=True)]
