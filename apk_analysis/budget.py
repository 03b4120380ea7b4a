"""Limits on the work one APK may cost, and the meter that enforces them.

An APK is hostile input: a zip bomb, a DEX claiming billions of strings, a
nested APK inside a nested APK. :class:`ApkBudget` says how far analysis goes;
:class:`Meter` counts what one :func:`~fraudwall.apk_analysis.observe_apk`
call (nested APKs included) has spent. Reaching a limit never raises: the
work stops there and the observation says so in its ``tamper`` list.
:class:`AnalysisTimeout` is how a hard time limit set around an analysis (a
worker's timer, see ``pool.py``) interrupts it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ApkBudget:
    """How much work one APK (with the APKs nested in it) may cost."""

    #: Bytes one zip member may decompress to; a bomb stops here.
    member_bytes: int = 64 * MIB
    #: Bytes all members together may decompress to.
    total_bytes: int = 256 * MIB
    #: Central directory entries read; a zip has at most 65,535 without zip64.
    members: int = 65_535
    #: DEX strings read over all ``classes*.dex``, and their bytes.
    dex_strings: int = 2_000_000
    dex_string_bytes: int = 64 * MIB
    #: Bytes of one text-like asset scanned for indicators, and of all of them.
    asset_bytes: int = 2 * MIB
    assets_total_bytes: int = 32 * MIB
    #: Values kept per kind of indicator (URLs, hosts, IPs...) in one APK.
    indicators: int = 10_000
    #: APKs nested in one APK that are observed in turn.
    nested: int = 16
    #: Wall-clock seconds for the whole call, checked between steps and inside long loops.
    seconds: float = 60.0
    #: DEX bytes handed to androguard's analysis when the full analysis is asked for (the APK and the
    #: APKs nested in it together; see ``full_analysis.py``): it costs about 65 MB of memory and 0.75 s
    #: per MB of DEX, so 24 MiB stays within a worker's default 2048 MB and, mostly, its 60 s.
    full_dex_bytes: int = 24 * MIB
    #: Wall-clock seconds the full analysis may take after the rest (all its APKs together), checked
    #: between DEX files and between classes; a worker's timeout still ends it first when shorter.
    full_seconds: float = 120.0


class AnalysisTimeout(BaseException):
    """A hard time limit around an analysis ran out (a worker's timer): the analysis is interrupted.

    A ``BaseException``, so that no ``except Exception`` in the analysis (or in
    androguard) swallows it. The full analysis catches it to keep what the
    fast path found (``full_analysis.py``); anywhere else it ends the analysis.
    """


class Meter:
    """What one analysis has spent of its :class:`ApkBudget`: decompressed bytes and time."""

    def __init__(self, budget: ApkBudget) -> None:
        self.budget = budget
        self.decompressed = 0
        self.deadline = time.monotonic() + budget.seconds

    def allowance(self, wanted: int) -> int:
        """Bytes one member may still decompress to: its own cap, or what is left of the total."""
        return max(0, min(wanted, self.budget.member_bytes, self.budget.total_bytes - self.decompressed))

    def spend(self, produced: int) -> None:
        """Count ``produced`` decompressed bytes against the total."""
        self.decompressed += produced

    @property
    def total_left(self) -> int:
        """Bytes the whole analysis may still decompress."""
        return max(0, self.budget.total_bytes - self.decompressed)

    def expired(self) -> bool:
        """True once the analysis has run past its seconds."""
        return time.monotonic() > self.deadline
