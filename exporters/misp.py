"""MISP feed export: the folder a MISP instance's feed fetcher reads ("MISP Feed" format).

The folder holds three files, the same ones PyMISP's feed generator writes:

- ``manifest.json``: ``{event uuid: event summary}`` (org, tags, info, date,
  analysis, threat level, timestamp); MISP reads it first and fetches an event
  only when its timestamp is newer than the copy it has;
- ``<event uuid>.json``: ``{"Event": {...}}``, one event per export title with
  every indicator as an ``Attribute``, one per line;
- ``hashes.csv``: ``md5(attribute value),event uuid`` per attribute, which MISP
  uses to correlate feeds without downloading the events.

Attributes, all in category ``Network activity``:

- a blocked name is ``hostname`` for EXACT scope and ``domain`` for SUBTREE,
  because that is how MISP's own exports read them (its RPZ export writes
  ``name`` for a hostname and ``name`` plus ``*.name`` for a domain). MISP has no
  exceptions, so a subtree entry with an allowed name below it is narrowed to
  ``hostname`` and a blocked name equal to an allowed one is left out; both are
  counted. Allow entries themselves are not attributes;
- a URL-level entry is ``url``;
- the addresses a published name resolved to are ``ip-dst`` with ``to_ids``
  false: context for analysts, never sent to a firewall by MISP's exports, since
  a fraud site's address is often shared hosting. Addresses that are not
  globally routable (sinkholes, loopback, private ranges) say nothing and are
  left out, counted.

Names and URLs have ``to_ids`` true. The comment says scope, categories,
confidence, sources and the evidence reference; categories that are simple
tokens also become tags (``fraudwall:category="investment"``).

Ids are uuid5 (:data:`~fraudwall.exporters.json_format.ID_NAMESPACE`): the event's
from the title, each attribute's from the event and its value, so MISP updates
the same event and attributes on every fetch instead of piling up copies. (An
entry that leaves the list is simply absent from the next event; marking it
``deleted`` for MISP would need the previous event, which this format does not
read yet.) Names MISP would refuse as a domain
(its check wants a last label of two or more letters, digits or hyphens) are
rejected as ``misp-invalid-domain``.

Rendering checks the event (its shape, every attribute valid for its type) and
derives the manifest and hashes.csv from it; :meth:`MispExporter.verify` re-reads
the published folder and checks the three files against each other.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fraudwall.exceptions import ExportError, InvalidName, VerificationError
from fraudwall.exporters.base import ExportMeta, FolderExporter, NoOptions, comment_text
from fraudwall.exporters.json_format import confidence, dumps, evidence_refs, reject_entries, stable_uuid, utc
from fraudwall.exporters.validation import PreparedEntries, name_sort_key
from fraudwall.models import BlockEntry, Scope
from fraudwall.names import normalize_name

MANIFEST = "manifest.json"
HASHES = "hashes.csv"
CATEGORY = "Network activity"
ORG = {"name": "fraudwall", "uuid": stable_uuid("misp-org", "fraudwall")}
# MISP's analysis "completed"; threat level "undefined": fraudwall rates entries (confidence), not events.
ANALYSIS, THREAT_LEVEL = 2, 4
NAME_TYPES = frozenset({"domain", "hostname"})
ATTRIBUTE_TYPES = NAME_TYPES | {"url", "ip-dst"}
ATTRIBUTE_KEYS = (
    "category", "comment", "disable_correlation", "first_seen", "last_seen",
    "timestamp", "to_ids", "type", "uuid", "value", "Tag",
)
EVENT_KEYS = (
    "analysis", "date", "extends_uuid", "info", "protected", "publish_timestamp", "published",
    "threat_level_id", "timestamp", "uuid", "Orgc", "Tag", "Attribute",
)
# MISP's own domain and hostname check (AttributeValidationTool::isDomainValid).
_MISP_DOMAIN = re.compile(r"[A-Z0-9.\-_]+\.[A-Z0-9\-]{2,}", re.IGNORECASE)
_TAG_VALUE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def tag(name: str) -> dict[str, Any]:
    """A MISP tag object with the fields (and PyMISP's defaults) a feed carries."""
    return {"colour": "#ffffff", "local": False, "name": name, "relationship_type": ""}


def category_tags(categories: Sequence[str]) -> list[str]:
    """Machine tags for the categories that are simple tokens (the others stay in the comment)."""
    return [f'fraudwall:category="{category}"' for category in categories if _TAG_VALUE.fullmatch(category)]


def global_address(raw: str) -> str | None:
    """``raw`` as MISP writes an IP (IPv6 compressed), or ``None`` unless it is a globally routable address."""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if not address.is_global or getattr(address, "scope_id", None):
        return None
    return str(address)


def misp_time(value: datetime) -> str:
    """An attribute's first/last seen as PyMISP writes it (ISO 8601, ``+00:00``)."""
    return utc(value).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class _Plan:
    """The attributes of the event, and what the notes count."""

    attributes: tuple[dict[str, Any], ...]
    narrowed: int
    omitted_allowed: int
    addresses_left_out: int


def _comment(entry: BlockEntry, kind: str, narrowed: bool) -> str:
    """What the attribute stands for, in words an analyst reads in MISP."""
    if entry.url:
        scope = "this URL"
    elif kind == "domain":
        scope = "scope subtree: this name and every name below it"
    elif narrowed:
        scope = "scope subtree narrowed to this name only: allowed names below it"
    else:
        scope = "scope exact: this name only"
    parts = [f"fraudwall: {scope}"]
    categories = [category for category in entry.categories if category]
    if categories:
        parts.append("categories: " + ", ".join(categories))
    parts.append(f"confidence: {confidence(entry.confidence):g}")
    sources = [source for source in entry.sources if source]
    if sources:
        parts.append("sources: " + ", ".join(sources))
    parts += [f"evidence: {ref}" for ref in evidence_refs(entry)]
    return "; ".join(parts)


def _attribute(event_uuid: str, kind: str, value: str, comment: str, timestamp: str, *,
               to_ids: bool, entry: BlockEntry | None = None) -> dict[str, Any]:
    """One attribute with its keys in the order PyMISP writes them to a feed."""
    item: dict[str, Any] = {"category": CATEGORY, "comment": comment, "disable_correlation": False}
    if entry is not None and entry.first_seen is not None:
        item["first_seen"] = misp_time(entry.first_seen)
    # MISP refuses a last_seen before the first_seen.
    if entry is not None and entry.last_seen is not None and (
            entry.first_seen is None or utc(entry.last_seen) >= utc(entry.first_seen)):
        item["last_seen"] = misp_time(entry.last_seen)
    item.update({
        "timestamp": timestamp, "to_ids": to_ids, "type": kind,
        # The value alone (not the type) names the attribute, so a scope change updates it in place.
        "uuid": stable_uuid("misp-attribute", f"{event_uuid}:{value}"), "value": value,
    })
    tags = category_tags([str(category) for category in entry.categories]) if entry is not None else []
    if tags:
        item["Tag"] = [tag(name) for name in tags]
    return item


def _plan(prepared: PreparedEntries, event_uuid: str, timestamp: str) -> _Plan:
    """The event's attributes: names, URLs, then the resolved addresses."""
    allowed = prepared.allowed_names
    allowed_ancestors = {
        ".".join(labels[cut:]) for labels in (name.split(".") for name in allowed) for cut in range(1, len(labels))
    }
    attributes: list[dict[str, Any]] = []
    addresses: dict[str, list[str]] = {}
    narrowed = omitted = left_out = 0
    for entry in (*prepared.blocked, *prepared.urls):
        if entry.url:
            attributes.append(_attribute(event_uuid, "url", entry.url, _comment(entry, "url", False), timestamp,
                                         to_ids=True, entry=entry))
        elif entry.name in allowed:
            omitted += 1
            continue
        else:
            narrow = entry.scope is Scope.SUBTREE and entry.name in allowed_ancestors
            narrowed += narrow
            kind = "domain" if entry.scope is Scope.SUBTREE and not narrow else "hostname"
            attributes.append(_attribute(event_uuid, kind, entry.name, _comment(entry, kind, narrow), timestamp,
                                         to_ids=True, entry=entry))
        for raw in entry.addresses:
            address = global_address(str(raw))
            if address is None:
                left_out += 1
            else:
                addresses.setdefault(address, []).append(entry.url or entry.name)
    # IPv4 before IPv6 (ip_address objects of different versions do not compare).
    for address in sorted(addresses, key=lambda text: (ipaddress.ip_address(text).version, ipaddress.ip_address(text))):
        seen_for = sorted(set(addresses[address]), key=name_sort_key)
        shown = ", ".join(seen_for[:5]) + (f" and {len(seen_for) - 5} more" if len(seen_for) > 5 else "")
        comment = f"fraudwall: address seen resolving for {shown}; context only, not a block (may be shared hosting)"
        attributes.append(_attribute(event_uuid, "ip-dst", address, comment, timestamp, to_ids=False))
    return _Plan(tuple(attributes), narrowed, omitted, left_out)


class MispExporter(FolderExporter[NoOptions]):
    """A MISP feed folder: manifest.json, one event, hashes.csv."""

    name = "misp"
    description = "MISP feed folder (manifest.json, one event, hashes.csv): hostname, domain, url, ip-dst attributes"
    subtree_capable = True  # domain attributes: MISP's exports block the name and everything below
    url_capable = True
    allow_underscore = True  # MISP's domain check accepts underscores
    options_type = NoOptions

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate as every format does, then reject names MISP itself would refuse."""
        prepared = super().prepare(entries, meta)
        refused = {entry for entry in prepared.blocked if not _MISP_DOMAIN.fullmatch(entry.name)}
        return reject_entries(prepared, refused, "misp-invalid-domain")

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count the narrowed subtrees, the names left out and the addresses left out."""
        plan = _plan(prepared, "", "0")
        kinds = [attribute["type"] for attribute in plan.attributes]
        return [
            f"scope: subtree entries as domain attributes: {kinds.count('domain')},"
            f" exact entries as hostname attributes; subtree entries narrowed to hostname"
            f" (an allowed name below them): {plan.narrowed}",
            f"allow: not expressible in a MISP event; blocked names equal to an allowed one,"
            f" omitted: {plan.omitted_allowed}",
            f"urls: url attributes: {kinds.count('url')}",
            f"addresses: ip-dst attributes (to_ids false): {kinds.count('ip-dst')},"
            f" addresses not globally routable or not valid, left out: {plan.addresses_left_out}",
        ]

    def event(self, prepared: PreparedEntries, meta: ExportMeta) -> dict[str, Any]:
        """The event, keys in the order PyMISP writes a feed event."""
        info = comment_text(meta.title) or "fraudwall blocklist"
        event_uuid = stable_uuid("misp-event", info)
        timestamp = str(int(meta.generated_at.timestamp()))
        plan = _plan(prepared, event_uuid, timestamp)
        category_names = {item["name"] for attribute in plan.attributes for item in attribute.get("Tag", [])}
        tags = ["fraudwall", *sorted(category_names)]
        return {
            "analysis": str(ANALYSIS),
            "date": meta.generated_at.date().isoformat(),
            "extends_uuid": "",
            "info": info,
            "protected": False,
            "publish_timestamp": timestamp,
            "published": True,
            "threat_level_id": str(THREAT_LEVEL),
            "timestamp": timestamp,
            "uuid": event_uuid,
            "Orgc": dict(ORG),
            "Tag": [tag(name) for name in tags],
            "Attribute": list(plan.attributes),
        }

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """The event file: its fields on the first line, one attribute per line, the closing line."""
        event = self.event(prepared, meta)
        attributes = event.pop("Attribute")
        # The event object without its closing brace: the attributes follow it, one per line.
        yield '{"Event": ' + dumps(event)[:-1] + ', "Attribute": ['
        for number, attribute in enumerate(attributes, start=1):
            yield dumps(attribute) + ("," if number < len(attributes) else "")
        yield "]}}"

    def render_files(self, prepared: PreparedEntries, meta: ExportMeta) -> dict[str, str]:
        """The event (checked as :meth:`render_prepared` checks it), and the manifest and
        hashes.csv derived from the event as parsed back, so the three agree by construction;
        :meth:`verify` checks that they still do on disk."""
        text = self.render_prepared(prepared, meta)
        event = json.loads(text)["Event"]
        return {
            MANIFEST: dumps(manifest(event)) + "\n",
            f"{event['uuid']}.json": text,
            HASHES: "".join(f"{line}\n" for line in hash_lines(event)),
        }

    def check(self, text: str, meta: ExportMeta) -> None:
        """The event file alone: its shape and every attribute."""
        check_event(text)

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Re-read the folder: every file parses, and manifest, event and hashes agree."""
        try:
            names = sorted(child.name for child in path.iterdir())
            files = {name: (path / name).read_bytes().decode("utf-8") for name in names}
        except (OSError, UnicodeDecodeError) as exc:
            raise VerificationError(f"{path}: cannot read the feed folder: {exc}") from exc
        try:
            check_files(files)
        except ExportError as exc:
            raise VerificationError(f"{path}: {exc}") from exc


def manifest(event: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest for one event, as PyMISP's ``MISPEvent.manifest`` writes it."""
    return {
        event["uuid"]: {
            "Orgc": event["Orgc"],
            "Tag": event["Tag"],
            "info": event["info"],
            "date": event["date"],
            "analysis": int(event["analysis"]),
            "threat_level_id": int(event["threat_level_id"]),
            "timestamp": int(event["timestamp"]),
        }
    }


def hash_lines(event: Mapping[str, Any]) -> list[str]:
    """``md5,event uuid`` for every attribute, in attribute order (PyMISP's ``hashes.csv``)."""
    return [f"{hashlib.md5(attribute['value'].encode()).hexdigest()},{event['uuid']}"
            for attribute in event["Attribute"]]


def check_event(text: str) -> dict[str, Any]:
    """The event of an event file, after checking its shape and every attribute; :class:`ExportError` if not."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"event file is not JSON: {exc}") from exc
    if not isinstance(document, dict) or list(document) != ["Event"] or not isinstance(document["Event"], dict):
        raise ExportError('the event file must be {"Event": {...}}')
    event = document["Event"]
    if list(event) != list(EVENT_KEYS):
        raise ExportError(f"event keys are {list(event)}, expected {list(EVENT_KEYS)}")
    if not _UUID.fullmatch(str(event["uuid"])) or event["Orgc"] != ORG:
        raise ExportError("bad event uuid or organisation")
    if not isinstance(event["Attribute"], list):
        raise ExportError("Attribute must be a list")
    uuids: set[str] = set()
    values: set[str] = set()
    for attribute in event["Attribute"]:
        _check_attribute(attribute)
        if attribute["uuid"] in uuids or attribute["value"] in values:
            raise ExportError(f"duplicate attribute {attribute['value']!r}")
        uuids.add(attribute["uuid"])
        values.add(attribute["value"])
    return event


def _check_attribute(attribute: object) -> None:
    """One attribute: known keys, type and category, and a value valid for its type."""
    if not isinstance(attribute, dict) or set(attribute) - set(ATTRIBUTE_KEYS):
        raise ExportError(f"unexpected attribute {str(attribute)[:120]}")
    kind, value = attribute.get("type"), attribute.get("value")
    if kind not in ATTRIBUTE_TYPES or attribute.get("category") != CATEGORY or not isinstance(value, str):
        raise ExportError(f"bad type or category in attribute {str(attribute)[:120]}")
    if not _UUID.fullmatch(str(attribute.get("uuid"))) or not isinstance(attribute.get("to_ids"), bool):
        raise ExportError(f"bad uuid or to_ids in attribute {value!r}")
    if kind in NAME_TYPES:
        try:
            valid = normalize_name(value, allow_underscore=True) == value and bool(_MISP_DOMAIN.fullmatch(value))
        except InvalidName:
            valid = False
    elif kind == "url":
        valid = value.startswith(("http://", "https://")) and value.isprintable() and " " not in value
    else:
        valid = global_address(value) == value and attribute["to_ids"] is False
    if not valid:
        raise ExportError(f"invalid {kind} attribute value {value!r}")


def check_files(files: Mapping[str, str]) -> None:
    """The feed folder's files: exactly manifest, one event and hashes, all agreeing."""
    events = [name for name in files if name not in (MANIFEST, HASHES)]
    if MANIFEST not in files or HASHES not in files or len(events) != 1:
        raise ExportError(f"the folder must hold {MANIFEST}, {HASHES} and one event file, not {sorted(files)}")
    event = check_event(files[events[0]])
    if events[0] != f"{event['uuid']}.json":
        raise ExportError(f"event file {events[0]} does not carry event {event['uuid']}")
    try:
        listed = json.loads(files[MANIFEST])
    except json.JSONDecodeError as exc:
        raise ExportError(f"{MANIFEST} is not JSON: {exc}") from exc
    if listed != manifest(event):
        raise ExportError(f"{MANIFEST} does not match the event")
    if files[HASHES] != "".join(f"{line}\n" for line in hash_lines(event)):
        raise ExportError(f"{HASHES} does not match the event's attributes")
