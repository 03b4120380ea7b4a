"""The start URL of a web-to-APK shell: the site the app is a window onto.

Shell builders (DCloud/uni-app, APICloud, GoNative/Median, Cordova) wrap a
web site into an APK; when the start page is remote, the app is a browser
pinned to one site, and that site is the indicator that matters. Where each
shell keeps it is data (``start_files`` and ``start`` in ``data/marks.toml``):
a JSON key path (``json:general.initialUrl``) or an XML element's attribute
(``xml:content@src``), in plain or compiled XML.
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from fraudwall.apk_analysis.archive import Archive
from fraudwall.apk_analysis.axml import decode_axml, is_axml
from fraudwall.apk_analysis.marks import MarkRule
from fraudwall.apk_analysis.notes import Notes

REMOTE_SCHEMES = ("http://", "https://")
#: Untrusted XML: no entities, no network, no huge trees.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def remote_start_url(archive: Archive, rule: MarkRule, notes: Notes) -> str:
    """The shell's start URL when it is remote (http or https), else ""."""
    if rule.start_files is None or not rule.start:
        return ""
    kind, _, where = rule.start.partition(":")
    for member in archive.members:
        if not rule.start_files.fullmatch(member.name):
            continue
        content = archive.read(member, limit=archive.meter.budget.asset_bytes)
        value = _json_value(content, where) if kind == "json" else _xml_value(content, where, member.name, notes)
        if value.strip().lower().startswith(REMOTE_SCHEMES):
            return value.strip()
    return ""


def _json_value(content: bytes, path: str) -> str:
    try:
        value: Any = json.loads(content.decode("utf-8-sig", "replace"))
    except ValueError:
        return ""
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def _xml_value(content: bytes, where: str, name: str, notes: Notes) -> str:
    element_name, _, attribute = where.partition("@")
    if is_axml(content):
        root = decode_axml(content, name, notes)
    else:
        try:
            root = etree.fromstring(content, _XML_PARSER)
        except etree.XMLSyntaxError:
            return ""
    if root is None:
        return ""
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == element_name:
            return element.get(attribute) or ""
    return ""
