"""Binary XML (AXML) to an lxml element, through androguard's ``AXMLPrinter``, safely.

``AndroidManifest.xml`` and every XML file under ``res/`` are compiled to
AXML. The bytes come from this package's zip reader; :mod:`.chunks` checks
them first, and its findings (a zero-size chunk, a declared size that does not
match, an unusual outer type) are the tamper signs; a file that could send
androguard into a runaway loop is not handed to it. androguard logs through
loguru and is very chatty: its logging is switched off here, once.
"""

from __future__ import annotations

from androguard.core.axml import AXMLPrinter
from loguru import logger
from lxml import etree

from fraudwall.apk_analysis.chunks import XML_TYPE, check_chunks
from fraudwall.apk_analysis.notes import Notes

AXML_MAGIC = b"\x03\x00\x08\x00"

logger.disable("androguard")


def is_axml(data: bytes) -> bool:
    """True when ``data`` starts like compiled XML (the usual outer chunk header)."""
    return data.startswith(AXML_MAGIC)


def decode_axml(data: bytes, name: str, notes: Notes) -> etree._Element | None:
    """The XML tree of compiled XML file ``name``, or ``None``; problems are added to ``notes``."""
    check = check_chunks(data, XML_TYPE)
    for problem in check.problems:
        notes.add("axml", f"{name}: {problem}")
    if not check.safe:
        notes.add("axml", f"{name}: not parsed (malformed beyond what Android reads)")
        return None
    try:
        printer = AXMLPrinter(data)
    except Exception as error:  # noqa: BLE001 - androguard raises anything on hostile AXML
        notes.add("axml", f"{name} could not be parsed ({type(error).__name__})")
        return None
    if printer.is_packed():
        notes.add("axml", f"{name}: names or values malformed the way packers write them")
    root = printer.get_xml_obj()
    if root is None or not printer.is_valid():
        notes.add("axml", f"{name} could not be fully parsed")
    return root
