"""The collapse guard: a list that would suddenly shrink, come out empty, or come from rejections only is not published.

An empty feed, a binary file read as a list, or a filter that matches nothing
would otherwise replace a good list with an empty one, and the run would exit
0; ISPs run the export from cron, so this refusal is their only protection.
The caller passes a :class:`CollapseGuard` to
:func:`~fraudwall.exporters.run.export` (or ``stage_export``,
``export_bundle``). Each format's entry count
(:meth:`~fraudwall.exporters.base.Exporter.entry_count`) is checked against
the previous generation's, as the report beside the published file records it
(:func:`previous_entries`), once the entries are prepared and before anything
is rendered; a refusal raises :class:`~fraudwall.exceptions.PublishRefused`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from fraudwall.exceptions import ConfigError
from fraudwall.exporters.publish import published_report


@dataclass(frozen=True, slots=True)
class CollapseGuard:
    """How much a published list may change from one generation to the next before it is refused.

    ``max_shrink`` is the share of the previous generation's entries a list may
    lose: 0.5 refuses a list with fewer than half the previous entries, 0
    refuses any shrink, 1 any but to nothing. Whatever the share, a list is
    refused when it would be empty where the previous one was not, or when its
    inputs yielded nothing but rejections.
    """

    max_shrink: float = 0.5

    def __post_init__(self) -> None:
        share = self.max_shrink
        # NaN fails both comparisons; bool is an int to Python, not a share.
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            raise ConfigError(f"max_shrink must be a share from 0 to 1, got {share!r}")

    def refusals(
        self, name: str, *, previous: int | None, entries: int, kept: int, rejections: Mapping[str, int],
    ) -> list[str]:
        """Why the list ``name`` must not be published, a sentence each; empty when it may be.

        ``previous`` is the previous generation's entry count (``None`` when no
        previous generation is known), ``entries`` the new one. ``kept`` is how
        many input entries passed validation, whatever the format makes of them
        (an ipset publishes none of a list of names without addresses, which is
        no rejection); ``rejections`` counts by reason the inputs refused before
        the export and rejected during it.
        """
        reasons = []
        if previous and not entries:
            reasons.append(f"{name} would be empty; the previous list had {previous}")
        elif previous and previous - entries > self._limit() * previous:
            lost = -(-100 * (previous - entries) // previous)  # rounded up: never shown as the limit itself
            reasons.append(f"{name} would shrink from {previous} to {entries} entries "
                           f"(-{lost}%, limit {self.max_shrink * 100:g}%)")
        rejected = {reason: count for reason, count in rejections.items() if count}
        if not kept and rejected:
            counts = ", ".join(f"{count} {reason}"
                               for reason, count in sorted(rejected.items(), key=lambda item: (-item[1], item[0])))
            reasons.append(f"{name}: every input was rejected ({counts})")
        return reasons

    def _limit(self) -> Fraction:
        """``max_shrink`` as the decimal it was written as: 0.9 is exactly nine tenths, so 100 to 10 is at the limit."""
        return Fraction(repr(self.max_shrink))


def previous_entries(path: Path) -> int | None:
    """The entry count of the list published at ``path``, as its report records it; ``None`` when unknown.

    Unknown when there is no report, it cannot be read, it does not belong to
    what is at ``path`` now (see :func:`~fraudwall.exporters.publish.published_report`),
    or it has no count (a report written before the count was recorded).
    """
    report = published_report(path)
    count = report.get("entries") if report is not None else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return count
