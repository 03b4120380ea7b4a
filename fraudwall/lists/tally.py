"""What reading one file counts, how it records a rejected line, and the limits that end the reading.

Every reader (line lists, CSV and JSON feeds) counts into one :class:`Tally`
and rejects through one :class:`Rejector`; a limit reached anywhere, in the
input or in the rejections, raises :class:`ReadLimitExceeded`, which ends that
file and keeps what was read before it.
"""

from __future__ import annotations

from collections import Counter

from fraudwall.rejections import Rejections

#: Rejected lines after which a file that gave fewer items than that is no list: reading stops
#: (``mostly-rejected``), so a file of junk lines costs seconds, not hours.
MAX_REJECTED_LINES = 1_000_000


class ReadLimitExceeded(Exception):  # noqa: N818 (a reason to stop reading, like StopIteration)
    """Reading one file went past a limit: ``input-too-large``, ``compression-bomb`` or ``mostly-rejected``.

    Not an :class:`~fraudwall.exceptions.InputError`, so that no reader
    mistakes it for one bad record and reads on: it ends the file.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Tally:
    """Counts kept while one file is read: lines, items accepted, line syntaxes met, and the format."""

    __slots__ = ("lines", "accepted", "kinds", "format")

    def __init__(self) -> None:
        self.lines = 0
        self.accepted = 0
        self.kinds: Counter[str] = Counter()
        self.format = ""


class Rejector:
    """Records a rejected line of one file as ``file:line: text`` under its reason.

    Raises :class:`ReadLimitExceeded` once :data:`MAX_REJECTED_LINES` are
    rejected and the file has given fewer items than that.
    """

    __slots__ = ("count", "rejections", "tally", "where")

    def __init__(self, rejections: Rejections, where: str, tally: Tally) -> None:
        self.rejections = rejections
        self.where = where
        self.tally = tally
        self.count = 0

    def __call__(self, lineno: int, text: str, reason: str) -> None:
        self.record(lineno, text, reason)
        self.count += 1
        if self.count % MAX_REJECTED_LINES == 0 and self.tally.accepted < self.count:
            raise ReadLimitExceeded(
                "mostly-rejected", f"{self.count} lines rejected and {self.tally.accepted} read; stopped at line {lineno}")

    def record(self, lineno: int, text: str, reason: str) -> None:
        """Count a rejection, with no limit: for what ends the file."""
        self.rejections.add(f"{self.where}:{lineno}: {text}", reason)
