"""Analyse Android packages: APK bytes in, :class:`~fraudwall.models.ApkObservation` out.

The only package that imports androguard, and only for its binary XML and
resource table parsers; the zip, the signatures and the DEX string tables are
read here, tolerant of the tricks fraud apps play on stricter tools and
bounded against hostile input (:class:`ApkBudget`)::

    observations = observe_apk(data, download_url=url)    # bytes, in this process
    result = observe_file(path)                            # a file, in this process
    results = observe_files(paths, workers=4, timeout=60)  # a batch, in worker processes
    for result in ApkBatch(paths):                         # the same, each result as soon as it is ready
        ...

:func:`observe_apk` returns the APK's observation followed by those of the
APKs nested in it, or raises :class:`ApkRejected` for bytes that are no APK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fraudwall.apk_analysis.budget import ApkBudget
from fraudwall.apk_analysis.errors import ApkRejected
from fraudwall.apk_analysis.pool import ApkBatch, ApkResult, observe_file, observe_files

if TYPE_CHECKING:
    from fraudwall.apk_analysis.observe import observe_apk

__all__ = ["ApkBatch", "ApkBudget", "ApkRejected", "ApkResult", "observe_apk", "observe_file", "observe_files"]


def __getattr__(name: str) -> Any:
    # observe_apk loads androguard: a process that only starts batches (their workers observe) never pays for it.
    if name == "observe_apk":
        from fraudwall.apk_analysis.observe import observe_apk

        return observe_apk
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
