"""STIX 2.1 export: a bundle of ``indicator`` objects, for threat-intel platforms and TAXII servers.

The bundle holds one ``identity`` (fraudwall, the ``created_by_ref`` of every
indicator) and one indicator per blocked name or URL, one object per line::

    {"type": "bundle", "id": "bundle--...", "objects": [
    {"type": "identity", ..., "name": "fraudwall", "identity_class": "system"},
    {"type": "indicator", ..., "pattern": "[domain-name:value = 'kefu-refund.example.com']", ...}
    ]}

Patterns (STIX patterning, ``pattern_type: stix``):

- EXACT name: ``[domain-name:value = 'x']``;
- SUBTREE name: ``[domain-name:value = 'x' OR domain-name:value LIKE '%.x']``.
  ``LIKE`` takes ``_`` as "any character", so names with underscores would
  match more than they say: this format rejects them (reason ``underscore``);
- URL: ``[url:value = '...']``, with ``\\`` and ``'`` escaped by a backslash.

Allow entries are exceptions, not indicators. A blocked name that is also
allowed gets no indicator; a subtree indicator with allowed names below it
leaves them out of its own pattern, e.g. ``[(domain-name:value = 'x' OR
domain-name:value LIKE '%.x') AND domain-name:value != 'ok.x']`` (and ``NOT
LIKE '%.ok.x'`` for an allowed subtree), so no consumer ever matches an
allowed name through it. Blocked names below an allowed one keep their own
indicator: the more specific name wins, as in RPZ.

Ids are uuid5 from :data:`~fraudwall.exporters.json_format.ID_NAMESPACE` and the
indicated thing (``domain:NAME`` or ``url:URL``), so every export gives an
indicator the same id and a platform updates it instead of adding a duplicate
(STIX suggests, not requires, UUIDv4; the validator warns). ``created`` and
``valid_from`` are the entry's first sighting (the generation time when
unknown), ``modified`` its last sighting when later, ``valid_until`` its
expiry. An entry whose expiry is not after its ``valid_from`` cannot be a
valid indicator: it is rejected as ``expired`` and counted in the report. ``confidence`` is 0-100;
``labels`` are the categories; ``indicator_types`` map them onto STIX's
vocabulary (:data:`INDICATOR_TYPES`). Evidence references go into
``external_references``; resolved addresses are not published here (an
address of shared hosting is not an indicator of fraud; the CSV, JSON and MISP
exports carry them).

Rendering writes plain JSON and checks its structure (cheap, for millions of
indicators); :meth:`StixExporter.verify` also parses the whole bundle with the
``stix2`` library (``allow_custom=False``), which validates every property and
every pattern, at about half a millisecond per indicator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters.base import DocumentExporter, ExportMeta, NoOptions, name_regex
from fraudwall.exporters.json_format import (
    confidence,
    dumps,
    evidence_refs,
    reject_entries,
    stable_uuid,
    utc,
)
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import BlockEntry, Category, Scope

IDENTITY_ID = f"identity--{stable_uuid('identity', 'fraudwall')}"
# The identity never changes, so neither may its timestamps (STIX versions objects by "modified").
IDENTITY_TIME = "2024-01-01T00:00:00.000Z"

#: fraudwall categories onto STIX 2.1 ``indicator-type-ov``; any other category is malicious-activity.
INDICATOR_TYPES: dict[str, str] = {
    **{str(category): "malicious-activity" for category in Category},
    str(Category.SUSPICIOUS_URL): "anomalous-activity",  # the shape of a name alone
}
#: Entries without categories (names read from lists): on a blocklist, but of unknown kind.
UNCATEGORISED = "unknown"

_NAME = name_regex(allow_underscore=False)
_EXACT_OR_SUBTREE = re.compile(
    rf"\[domain-name:value = '(?P<name>{_NAME})'(?: OR domain-name:value LIKE '%\.(?P=name)')?\]"
)
_SUBTREE_WITH_EXCLUSIONS = re.compile(
    rf"\[\(domain-name:value = '(?P<name>{_NAME})' OR domain-name:value LIKE '%\.(?P=name)'\)"
    rf"(?: AND domain-name:value (?:!= '{_NAME}'|NOT LIKE '%\.{_NAME}'))+\]"
)
_INDICATOR_KEYS = (
    "type", "spec_version", "id", "created_by_ref", "created", "modified", "name", "description",
    "indicator_types", "pattern", "pattern_type", "pattern_version", "valid_from", "valid_until",
    "labels", "confidence", "external_references",
)
_ID = re.compile(r"(?P<type>[a-z-]+)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def stix_time(value: datetime) -> str:
    """A STIX timestamp: UTC, millisecond precision (what ``created`` and ``modified`` require)."""
    value = utc(value)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def pattern_string(value: str) -> str:
    """``value`` as a quoted STIX pattern string: ``\\`` and ``'`` escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def domain_pattern(entry: BlockEntry, allowed_below: list[BlockEntry]) -> str:
    """The pattern for a blocked name, leaving out the allowed names below it."""
    match = f"domain-name:value = {pattern_string(entry.name)}"
    if entry.scope is not Scope.SUBTREE:
        return f"[{match}]"
    match += f" OR domain-name:value LIKE {pattern_string('%.' + entry.name)}"
    exclusions = []
    for allow in allowed_below:
        exclusions.append(f"domain-name:value != {pattern_string(allow.name)}")
        if allow.scope is Scope.SUBTREE:
            exclusions.append(f"domain-name:value NOT LIKE {pattern_string('%.' + allow.name)}")
    if not exclusions:
        return f"[{match}]"
    # AND binds tighter than OR in STIX patterns: the subtree needs its parentheses.
    return f"[({match}) AND {' AND '.join(exclusions)}]"


@dataclass(frozen=True, slots=True)
class _Plan:
    """The indicators to write, and what the notes count."""

    indicators: tuple[tuple[BlockEntry, str, int], ...]  # (entry, pattern, allowed names excluded)
    subtrees: int
    exclusions: int
    omitted_allowed: int


def _plan(prepared: PreparedEntries) -> _Plan:
    """Which entries become indicators, with which pattern (see the module docstring)."""
    allowed = prepared.allowed_names
    subtree_names = {entry.name for entry in prepared.blocked if entry.scope is Scope.SUBTREE}
    below: dict[str, list[BlockEntry]] = {}
    for allow in prepared.allowed:
        labels = allow.name.split(".")
        for cut in range(1, len(labels)):
            ancestor = ".".join(labels[cut:])
            if ancestor in subtree_names:
                below.setdefault(ancestor, []).append(allow)
    indicators: list[tuple[BlockEntry, str, int]] = []
    subtrees = exclusions = omitted = 0
    for entry in (*prepared.blocked, *prepared.urls):
        if entry.url:
            indicators.append((entry, f"[url:value = {pattern_string(entry.url)}]", 0))
        elif entry.name in allowed:
            omitted += 1
        else:
            excluded = below.get(entry.name, [])
            subtrees += entry.scope is Scope.SUBTREE
            exclusions += len(excluded)
            indicators.append((entry, domain_pattern(entry, excluded), len(excluded)))
    return _Plan(tuple(indicators), subtrees, exclusions, omitted)


def _description(entry: BlockEntry, excluded: int) -> str:
    """A sentence on what the indicator blocks and where it came from."""
    if entry.url:
        text = f"fraudwall blocks the URL {entry.url}."
    elif entry.scope is Scope.SUBTREE:
        text = f"fraudwall blocks {entry.name} and every name below it"
        text += f", except {excluded} allowed name(s) below it." if excluded else "."
    else:
        text = f"fraudwall blocks {entry.name} (this name only)."
    sources = [source for source in entry.sources if source]
    return f"{text} Sources: {', '.join(sources)}." if sources else text


def indicator(entry: BlockEntry, pattern: str, excluded: int, generated_at: datetime) -> dict[str, Any]:
    """The STIX indicator for ``entry``, properties in the order the stix2 library writes them."""
    created = utc(entry.first_seen or generated_at)
    modified = max(created, utc(entry.last_seen)) if entry.last_seen else created
    categories = [str(category) for category in entry.categories if category]
    types = sorted({INDICATOR_TYPES.get(category, "malicious-activity") for category in categories})
    value = entry.url or entry.name
    item: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{stable_uuid('url' if entry.url else 'domain', value)}",
        "created_by_ref": IDENTITY_ID,
        "created": stix_time(created),
        "modified": stix_time(modified),
        "name": value,
        "description": _description(entry, excluded),
        "indicator_types": types or [UNCATEGORISED],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stix_time(created),
    }
    if entry.expires is not None:
        item["valid_until"] = stix_time(entry.expires)
    if categories:
        item["labels"] = categories
    item["confidence"] = round(confidence(entry.confidence) * 100)
    refs = evidence_refs(entry)
    if refs:
        item["external_references"] = [{"source_name": "fraudwall", "external_id": ref} for ref in refs]
    return item


def identity() -> dict[str, Any]:
    """fraudwall as the STIX identity that creates every indicator."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": IDENTITY_ID,
        "created": IDENTITY_TIME,
        "modified": IDENTITY_TIME,
        "name": "fraudwall",
        "description": "fraudwall finds fraud infrastructure and publishes blocklists and threat-intel exports.",
        "identity_class": "system",
    }


class StixExporter(DocumentExporter[NoOptions]):
    """A STIX 2.1 bundle: fraudwall's identity and one indicator per blocked name or URL."""

    name = "stix"
    description = "STIX 2.1 bundle of indicators (domain-name and url patterns), deterministic ids"
    subtree_capable = True
    url_capable = True
    allow_underscore = False  # LIKE's "_" wildcard would widen a subtree pattern
    options_type = NoOptions

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate as every format does, then reject block entries that expire before they are valid.

        ``valid_until`` must be later than ``valid_from`` (the first sighting, or
        the generation time when unknown); such an entry is rejected as
        ``expired``, counted and sampled in the report like any bad entry.
        """
        prepared = super().prepare(entries, meta)
        expired = {
            entry for entry in (*prepared.blocked, *prepared.urls)
            if entry.expires is not None and utc(entry.expires) <= utc(entry.first_seen or meta.generated_at)
        }
        return reject_entries(prepared, expired, "expired")

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count subtree patterns, exclusions and names left out."""
        plan = _plan(prepared)
        return [
            f"scope: subtree entries as name OR LIKE '%.name': {plan.subtrees}",
            f"allow: not indicators; allowed names left out of the subtree patterns above them: {plan.exclusions},"
            f" blocked names equal to an allowed one and omitted: {plan.omitted_allowed}",
            f"urls: url indicators: {sum(1 for entry, _, _ in plan.indicators if entry.url)}",
            "addresses: resolved addresses are not published as STIX indicators",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """The bundle's opening line, the identity, one line per indicator, the closing line."""
        plan = _plan(prepared)
        bundle_id = f"bundle--{stable_uuid('bundle', meta.generated_at.isoformat())}"
        yield f'{{"type": "bundle", "id": "{bundle_id}", "objects": ['
        yield dumps(identity()) + ("," if plan.indicators else "")
        for number, (entry, pattern, excluded) in enumerate(plan.indicators, start=1):
            line = dumps(indicator(entry, pattern, excluded, meta.generated_at))
            yield line + ("," if number < len(plan.indicators) else "")
        yield "]}"

    def check(self, text: str, meta: ExportMeta) -> None:
        """The bundle's structure, and every indicator's pattern within the shapes this format writes."""
        try:
            bundle = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(f"not JSON: {exc}") from exc
        if not isinstance(bundle, dict) or list(bundle) != ["type", "id", "objects"] or bundle["type"] != "bundle":
            raise ExportError("not a STIX bundle with type, id and objects")
        objects = bundle["objects"]
        if not isinstance(objects, list) or not objects or objects[0] != identity():
            raise ExportError("the bundle must start with fraudwall's identity")
        seen: set[str] = set()
        for item in objects[1:]:
            self._check_indicator(item)
            if item["id"] in seen:
                raise ExportError(f"duplicate id {item['id']}")
            seen.add(item["id"])

    @staticmethod
    def _check_indicator(item: object) -> None:
        """One indicator: known keys only, fraudwall's, and a pattern of one of the written shapes."""
        if not isinstance(item, dict) or item.get("type") != "indicator":
            raise ExportError(f"not an indicator: {str(item)[:120]}")
        unknown = set(item) - set(_INDICATOR_KEYS)
        if unknown or item.get("created_by_ref") != IDENTITY_ID or item.get("pattern_type") != "stix":
            raise ExportError(f"{item.get('id')}: unexpected properties or creator")
        match = _ID.fullmatch(str(item.get("id")))
        if match is None or match["type"] != "indicator":
            raise ExportError(f"bad indicator id {item.get('id')!r}")
        pattern, name = str(item.get("pattern")), item.get("name")
        domain = _EXACT_OR_SUBTREE.fullmatch(pattern) or _SUBTREE_WITH_EXCLUSIONS.fullmatch(pattern)
        if domain is not None:
            ok = domain["name"] == name
        else:  # a URL indicator's pattern is its name, quoted: nothing else can hide in it
            ok = pattern == f"[url:value = {pattern_string(str(name))}]"
        if not ok:
            raise ExportError(f"{item['id']}: pattern {pattern[:120]!r} is not one this format writes for {name!r}")

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The structural check, then the whole bundle through ``stix2.parse(..., allow_custom=False)``."""
        super().verify(path, meta)
        # Imported here: stix2 takes a tenth of a second to import and only verification needs it.
        import stix2
        import stix2.exceptions

        try:
            stix2.parse(path.read_text(encoding="utf-8"), allow_custom=False, version="2.1")
        except (stix2.exceptions.STIXError, ValueError) as exc:
            raise VerificationError(f"{path}: stix2 rejected the bundle: {exc}") from exc
