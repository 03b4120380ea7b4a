"""Manifest values that point into ``resources.arsc``, resolved for every locale.

A manifest writes the app's label as ``@string/app_name``, compiled to a
resource ID (``@7F0B0001``); the text lives in ``resources.arsc`` once per
locale. Fake apps carry a Chinese label for the victims and often another for
everyone else, so every locale's value is kept. The table is parsed by
androguard's ``ARSCParser`` from the bytes this package's own zip reader
produced, after :mod:`.chunks` has checked it cannot send the parser into
a runaway loop, and only when a reference has to be resolved.
"""

from __future__ import annotations

import re

from androguard.core.axml import ARSCParser

from fraudwall.apk_analysis.chunks import TABLE_TYPE, check_chunks
from fraudwall.apk_analysis.notes import Notes

#: A reference to one of the app's own resources, as androguard prints it (framework ones start @android:).
_REFERENCE = re.compile(r"@([0-9A-Fa-f]{8})")
DEFAULT_LOCALE = "\x00\x00"  # how androguard names the default configuration


class Resources:
    """The app's resource table, parsed on first use; references that cannot be resolved give nothing."""

    def __init__(self, table: bytes | None, notes: Notes) -> None:
        """``table``: the bytes of ``resources.arsc``, ``None`` when the APK has none."""
        self._table = table
        self._notes = notes
        self._parser: ARSCParser | None = None
        self._tried = False

    def _parsed(self) -> ARSCParser | None:
        if self._tried:
            return self._parser
        self._tried = True
        table = self._table
        if not table:
            return None
        check = check_chunks(table, TABLE_TYPE)
        for problem in check.problems:
            self._notes.add("arsc", f"resources.arsc: {problem}")
        if not check.safe:
            return None
        try:
            self._parser = ARSCParser(table)
        except Exception as error:  # noqa: BLE001 - androguard raises anything on hostile tables
            self._notes.add("arsc", f"resources.arsc could not be parsed ({type(error).__name__})")
        return self._parser

    def localized(self, value: str) -> tuple[tuple[str, str], ...]:
        """``(locale, text)`` pairs for a manifest value: ("", default) first, then each locale once.

        A literal is its own default; a reference is looked up in every
        configuration. Locales read ``zh-CN`` (Android's ``zh-rCN``).
        """
        match = _REFERENCE.fullmatch(value)
        if match is None:
            return (("", value),) if value and not value.startswith("@") else ()
        parser = self._parsed()
        if parser is None:
            return ()
        try:
            resolved = parser.get_resolved_res_configs(int(match.group(1), 16))
        except Exception as error:  # noqa: BLE001 - as above
            self._notes.add("arsc", f"resources.arsc: reference {value} could not be resolved ({type(error).__name__})")
            return ()
        found: dict[str, str] = {}
        for config, text in resolved:
            if isinstance(text, str) and text:
                found.setdefault(_locale(config.get_language_and_region()), text)
        ordered = sorted(found.items(), key=lambda item: item[0] != "")
        return tuple(ordered)

    def default(self, value: str) -> str:
        """The default-locale text of a manifest value (the first one when no default exists)."""
        values = self.localized(value)
        return values[0][1] if values else ""


def _locale(language_region: str) -> str:
    """androguard's ``zh-rCN`` as ``zh-CN``; the default configuration as ""."""
    if language_region == DEFAULT_LOCALE:
        return ""
    language, _, region = language_region.partition("-r")
    return f"{language}-{region}" if region else language
