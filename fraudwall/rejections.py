"""Counting what was turned away: bad input is normal input.

Every stage that refuses an item (a seed, a list line, a page, a name to
publish) records it here with a short, stable reason, so runs go on and
reports can say exactly what was left out and why.
"""

from __future__ import annotations

from collections import Counter

#: Characters of a rejected value kept in a sample: enough to recognise it.
SAMPLE_LENGTH = 200


def readable(value: str) -> str:
    """``value`` safe to print or store: every character that is not printable escaped.

    A hostile input's sample must not drive a terminal (escape sequences), end
    a line of a log, or stop a UTF-8 report from being written: bytes that were
    not UTF-8 (read as lone surrogates) show as ``\\xNN``, other controls and
    separators as Python writes them (``\\n``, ``\\x1b``, ``\\u2028``).
    Printable text, Chinese included, stays as it is.
    """
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else _escaped(char) for char in value)


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as surrogateescape decodes it
        return f"\\x{code - 0xDC00:02x}"
    return ascii(char)[1:-1]


class Rejections:
    """Rejected inputs counted by reason, with the first few kept as samples."""

    def __init__(self, max_samples: int = 50) -> None:
        self.counts: Counter[str] = Counter()
        self.samples: list[tuple[str, str]] = []
        self.max_samples = max_samples

    def add(self, value: str, reason: str) -> None:
        self.counts[reason] += 1
        if len(self.samples) < self.max_samples:
            self.samples.append((readable(value[:SAMPLE_LENGTH]), reason))

    def merge(self, other: Rejections) -> None:
        self.counts.update(other.counts)
        room = self.max_samples - len(self.samples)
        self.samples.extend(other.samples[: max(room, 0)])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)
