"""The text-like files an APK carries beside its code, as text for indicator search.

Fraud apps keep their servers and contacts in configuration files as often as
in code: JSON, XML, HTML, JavaScript, properties and text under ``assets/``
and ``res/raw/`` (web-shell apps are nothing but HTML and JavaScript there),
and compiled XML under ``res/xml/`` (Cordova's ``config.xml``, network
security configs naming hosts), whose string pool is all that is read. Each file is read up to the budget's
``asset_bytes``, all of them up to ``assets_total_bytes``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from fraudwall.apk_analysis.archive import Archive, Member
from fraudwall.apk_analysis.axml import is_axml
from fraudwall.apk_analysis.notes import Notes
from fraudwall.apk_analysis.string_pool import pool_strings

TEXT_FOLDERS = ("assets/", "res/raw/")
TEXT_EXTENSIONS = (
    ".json", ".xml", ".html", ".htm", ".js", ".properties", ".txt", ".cfg", ".conf", ".ini", ".yml", ".yaml",
)
COMPILED_XML_FOLDER = "res/xml/"


def text_members(archive: Archive) -> Iterator[Member]:
    """The members read as text: by folder and extension, and compiled XML under ``res/xml/``."""
    seen: set[str] = set()
    for member in archive.members:
        name, lowered = member.name, member.name.lower()
        if name in seen:
            continue
        if (lowered.startswith(TEXT_FOLDERS) and lowered.endswith(TEXT_EXTENSIONS)) or (
            lowered.startswith(COMPILED_XML_FOLDER) and lowered.endswith(".xml")
        ):
            seen.add(name)
            yield member


def asset_texts(archive: Archive, notes: Notes) -> Iterator[str]:
    """The text of each text-like member, within the budget; of compiled XML, its strings one a line."""
    budget = archive.meter.budget
    left = budget.assets_total_bytes
    for member in text_members(archive):
        if left <= 0 or archive.meter.expired():
            notes.add("budget", "assets beyond the analysis budget were not read")
            return
        content = archive.read(member, limit=min(budget.asset_bytes, left))
        left -= len(content)
        if is_axml(content):
            yield "\n".join(pool_strings(content))
        else:
            yield decode_text(content)


def decode_text(content: bytes) -> str:
    """Bytes of a text file as text: UTF-8 (or UTF-16 with a BOM), else GB18030, else UTF-8 with replacements.

    A file cut at the budget may end inside a UTF-8 character: that tail is dropped, not taken as GB18030.
    """
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", "replace")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.start >= len(content) - 3:
            return content[:error.start].decode("utf-8-sig")
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        return content.decode("utf-8", "replace")
