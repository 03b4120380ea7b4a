"""Tamper signs, collected as short strings and capped per kind.

A hostile archive can hold 65,535 duplicate names; the observation keeps the
first few of each kind and a count of the rest, so one trick cannot flood it.
"""

from __future__ import annotations

from collections import Counter

#: Messages kept per kind; the rest are counted.
PER_KIND = 5


class Notes:
    """Tamper messages in the order met, at most :data:`PER_KIND` of each kind."""

    def __init__(self) -> None:
        self._messages: list[str] = []
        self._counts: Counter[str] = Counter()

    def add(self, kind: str, message: str) -> None:
        """Record ``message`` unless ``kind`` already has its share (then it is only counted)."""
        self._counts[kind] += 1
        if self._counts[kind] <= PER_KIND and message not in self._messages:
            self._messages.append(message)

    def result(self) -> tuple[str, ...]:
        """The messages, then one line per kind that went over its share."""
        extra = [f"... and {count - PER_KIND} more {kind} signs" for kind, count in self._counts.items()
                 if count > PER_KIND]
        return tuple(self._messages + extra)
