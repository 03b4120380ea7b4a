"""The one error APK analysis raises: bytes that are not an APK at all.

Everything short of that (a tampered zip, a manifest that will not parse, a
signature that does not verify) is data, recorded in the observation's
``tamper`` list; only input with nothing to observe is turned away.
"""

from __future__ import annotations

from fraudwall.exceptions import InputError


class ApkRejected(InputError):
    """The input is not an APK: empty, not a zip, truncated beyond recovery, or a zip with no app in it.

    ``reason`` is a short English sentence, e.g. ``"not a zip archive (starts
    with 89504e47)"``. Like every :class:`~fraudwall.exceptions.InputError` it
    exits with the data error code (3) when it reaches the CLI.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
