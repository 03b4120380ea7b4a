"""Counting what was turned away: bad input is normal input.

Every stage that refuses an item (a seed, a list line, a page, a name to
publish) records it here with a short, stable reason, so runs go on and
reports can say exactly what was left out and why.
"""

from __future__ import annotations

from collections import Counter

#: Characters of a rejected value kept in a sample: enough to recognise it.
SAMPLE_LENGTH = 200


class Rejections:
    """Rejected inputs counted by reason, with the first few kept as samples."""

    def __init__(self, max_samples: int = 50) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[tuple[str, str]] = []
        self.max_samples = max_samples

    def add(self, value: str, reason: str) -> None:
        self.counts[reason] += 1
        if len(self.samples) < self.max_samples:
            self.samples.append((value[:SAMPLE_LENGTH], reason))

    def merge(self, other: Rejections) -> None:
        self.counts.update(other.counts)
        room = self.max_samples - len(self.samples)
        self.samples.extend(other.samples[: max(room, 0)])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)
