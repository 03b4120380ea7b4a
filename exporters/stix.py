"""STIX 2.1 export: a bundle of ``indicator`` objects, for threat-intel platforms and TAXII servers.

The bundle holds one ``identity`` (fraudwall, the ``created_by_ref`` of every
indicator) and one indicator per blocked name or URL, then one per
indicator fraudwall publishes beside the entries (addresses, hashes, handles),
one object per line::

    {"type": "bundle", "id": "bundle--...", "objects": [
    {"type": "identity", ..., "name": "fraudwall", "identity_class": "system"},
    {"type": "indicator", ..., "pattern": "[domain-name:value = 'kefu-refund.example.com']", ...}
    ]}

Patterns (STIX patterning, ``pattern_type: stix``):

- EXACT name: ``[domain-name:value = 'x']``;
- SUBTREE name: ``[domain-name:value = 'x' OR domain-name:value LIKE '%.x']``.
  ``LIKE`` takes ``_`` as "any character", so names with underscores would
  match more than they say: this format rejects them (reason ``underscore``);
- URL: ``[url:value = '...']``, with ``\\`` and ``'`` escaped by a backslash;
- IP address: ``[ipv4-addr:value = '203.0.113.7']`` or ``[ipv6-addr:value = '2001:db8::5']``;
- APK: ``[file:hashes.'SHA-256' = '...']``, the APK file's hash;
- signing certificate: ``[x509-certificate:hashes.'SHA-256' = '...']``;
- chat handle: ``[user-account:account_login = '...']``, escaped as a URL is. No
  ``account_type``: ``@name`` is written alike on Telegram, WhatsApp and X,
  and a guessed platform would make the pattern miss the account where it is;
- wallet: STIX 2.1 has no object for a cryptocurrency address. A pattern on a
  custom type (OpenCTI's ``cryptocurrency-wallet:value``) passes ``stix2`` and
  the validator's defaults, but it is custom content (the validator's
  ``strict_types`` refuses it) that a STIX platform without that extension
  cannot match: wallets are left out, rejected as ``no-stix-object-for-wallet``
  and counted (the CSV, JSON and MISP exports carry them).

Allow entries are exceptions, not indicators. A blocked name that is also
allowed gets no indicator; a subtree indicator with allowed names below it
leaves them out of its own pattern, e.g. ``[(domain-name:value = 'x' OR
domain-name:value LIKE '%.x') AND domain-name:value != 'ok.x']`` (and ``NOT
LIKE '%.ok.x'`` for an allowed subtree), so no consumer ever matches an
allowed name through it. Blocked names below an allowed one keep their own
indicator: the more specific name wins, as in RPZ.

Ids are uuid5 from :data:`~fraudwall.exporters.json_format.ID_NAMESPACE` and the
indicated thing (``domain:NAME``, ``url:URL``, or the JSON export's record type
and value, e.g. ``apk-sha256:HASH``), so every export gives an
indicator the same id and a platform updates it instead of adding a duplicate
(STIX suggests, not requires, UUIDv4; the validator warns). ``created`` and
``valid_from`` are the entry's first sighting (the generation time when
unknown), ``modified`` its last sighting when later, ``valid_until`` its
expiry. An entry whose expiry is not after its ``valid_from`` cannot be a
valid indicator: it is rejected as ``expired`` and counted in the report. ``confidence`` is 0-100;
``labels`` are the categories; ``indicator_types`` map them onto STIX's
vocabulary (:data:`INDICATOR_TYPES`). Evidence references go into
``external_references``; what goes with an indicator (an app's package,
label, certificate and download URL; where a handle was seen) into its
``description``. Resolved addresses are not published here (an address of
shared hosting is not an indicator of fraud; the CSV, JSON and MISP exports
carry them); addresses fraudwall judged themselves are, as IP indicators.

Rendering writes plain JSON and checks its structure (cheap, for millions of
indicators); :meth:`StixExporter.verify` also parses the whole bundle with the
``stix2`` library (``allow_custom=False``), which validates every property and
every pattern, in batches on every core.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fraudwall.entries import SUBTREE, Details
from fraudwall.exceptions import ExportError
from fraudwall.exporters.base import DocumentExporter, ExportMeta, NoOptions, name_regex
from fraudwall.exporters.json_format import (
    CLOSING,
    RECORD_TYPES,
    JsonLinesChecker,
    confidence,
    context_items,
    dumps,
    evidence_refs,
    indicator_evidence,
    reject_entries,
    stable_uuid,
    stable_uuids,
    utc,
)
from fraudwall.exporters.record_order import allowed_rows, cut_at, uniform_runs
from fraudwall.exporters.stix_library import LibraryCheck
from fraudwall.exporters.templates import CheckedLines, comma_separated, safe_name_pattern, table_lines
from fraudwall.exporters.validation import PreparedEntries, publishable_address
from fraudwall.models import BlockEntry, Category, Indicator, Scope, SubjectKind

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
_ADDRESS = re.compile(r"\[(?P<type>ipv4-addr|ipv6-addr):value = '(?P<name>[0-9a-f.:]+)'\]")
_HASH = re.compile(r"\[(?:file|x509-certificate):hashes\.'SHA-256' = '(?P<name>[0-9a-f]{64})'\]")
#: The patterns of the indicator kinds STIX 2.1 has an object for, but addresses (``{}``: the quoted value).
_QUOTED_PATTERNS = {
    SubjectKind.APK: "[file:hashes.'SHA-256' = {}]",
    SubjectKind.CERTIFICATE: "[x509-certificate:hashes.'SHA-256' = {}]",
    SubjectKind.HANDLE: "[user-account:account_login = {}]",
}
#: The indicator kinds the bundle carries: all but wallets (see the module docstring).
STIX_KINDS = frozenset({SubjectKind.IP, *_QUOTED_PATTERNS})
WALLET_REJECTION = "no-stix-object-for-wallet"
_KIND_TEXTS = {
    SubjectKind.IP: "Blocked by fraudwall: this IP address.",
    SubjectKind.APK: "Fraud app found by fraudwall: the APK file with this SHA-256.",
    SubjectKind.CERTIFICATE: "Found by fraudwall signing fraud apps: the certificate with this SHA-256.",
    SubjectKind.HANDLE: "Found by fraudwall in fraud: this chat handle (Telegram, WhatsApp, QQ...).",
}
_INDICATOR_KEYS = (
    "type", "spec_version", "id", "created_by_ref", "created", "modified", "name", "description",
    "indicator_types", "pattern", "pattern_type", "pattern_version", "valid_from", "valid_until",
    "labels", "confidence", "external_references",
)
_NAME_CHECK = safe_name_pattern(allow_underscore=False)
_OPENING = re.compile(r'\{"type": "bundle", "id": "bundle--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",'
                      r' "objects": \[')
_ID = re.compile(r"(?P<type>[a-z-]+)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def stix_time(value: datetime) -> str:
    """A STIX timestamp: UTC, millisecond precision (what ``created`` and ``modified`` require)."""
    value = utc(value)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def pattern_string(value: str) -> str:
    """``value`` as a quoted STIX pattern string: ``\\`` and ``'`` escaped with a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def domain_pattern(entry: BlockEntry, allowed_below: Sequence[BlockEntry]) -> str:
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
    """Which blocked rows need more than the plain pattern, and what the notes count.

    Most rows of a national list are plain: their indicator is filled from a
    template. The few that are not are found from the allowed names (binary
    search in the blocked table) and rendered one by one.
    """

    omitted: frozenset[int]  # blocked rows whose name is allowed: no indicator
    exclusions: dict[int, list[BlockEntry]]  # subtree rows with allowed names below them
    subtrees: int

    @property
    def excluded(self) -> int:
        """Allowed names left out of the subtree patterns above them."""
        return sum(map(len, self.exclusions.values()))


def _plan(prepared: PreparedEntries) -> _Plan:
    """Which entries become indicators, with which pattern (see the module docstring)."""
    table = prepared.blocked
    touched = allowed_rows(prepared)
    subtrees = table.subtree_count() - sum(table.scopes[row] == SUBTREE for row in touched.equal)
    return _Plan(touched.equal, touched.above, subtrees)


def _description(entry: BlockEntry, excluded: int) -> str:
    """A sentence on what the indicator blocks and where it came from."""
    # The name itself is in the indicator's name and pattern already: a list of millions says it once.
    if entry.url:
        text = "Blocked by fraudwall: this URL."
    elif entry.scope is Scope.SUBTREE:
        text = "Blocked by fraudwall: this name and every name below it"
        text += f", except {excluded} allowed name(s) below it." if excluded else "."
    else:
        text = "Blocked by fraudwall: this name only."
    sources = [source for source in entry.sources if source]
    return f"{text} Sources: {', '.join(sources)}." if sources else text


def indicator(
    entry: BlockEntry, pattern: str, excluded: int, generated_at: datetime, uid: str | None = None,
) -> dict[str, Any]:
    """The STIX indicator for ``entry``, properties in the order the stix2 library writes them.

    ``uid`` is the id's UUID, :func:`indicator_uuid` of the entry unless given.
    """
    item = _indicator_object(
        entry, uid or indicator_uuid(entry), entry.url or entry.name, _description(entry, excluded), pattern,
        generated_at,
    )
    if entry.expires is not None:
        item["valid_until"] = stix_time(entry.expires)
    return _with_tail(item, entry, evidence_refs(entry))


def intel_indicator(subject: Indicator, generated_at: datetime) -> dict[str, Any]:
    """The STIX indicator for one of ``prepared.indicators`` (not a wallet: see the module docstring)."""
    uid = stable_uuid(RECORD_TYPES[subject.kind], subject.value)
    item = _indicator_object(subject, uid, subject.value, _indicator_description(subject),
                             intel_pattern(subject), generated_at)
    return _with_tail(item, subject, indicator_evidence(subject))


def intel_pattern(subject: Indicator) -> str:
    """The pattern matching ``subject``: its value as the value of the STIX object for its kind."""
    if subject.kind is SubjectKind.IP:
        family = "ipv6-addr" if ":" in subject.value else "ipv4-addr"
        return f"[{family}:value = {pattern_string(subject.value)}]"
    return _QUOTED_PATTERNS[subject.kind].format(pattern_string(subject.value))


def _indicator_object(
    subject: BlockEntry | Indicator, uid: str, value: str, description: str, pattern: str, generated_at: datetime,
) -> dict[str, Any]:
    """An indicator's properties up to ``valid_from``: valid from the first sighting, modified at the last."""
    created = utc(subject.first_seen or generated_at)
    modified = max(created, utc(subject.last_seen)) if subject.last_seen else created
    types = sorted({INDICATOR_TYPES.get(category, "malicious-activity") for category in _categories(subject)})
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uid}",
        "created_by_ref": IDENTITY_ID,
        "created": stix_time(created),
        "modified": stix_time(modified),
        "name": value,
        "description": description,
        "indicator_types": types or [UNCATEGORISED],
        "pattern": pattern,
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stix_time(created),
    }


def _with_tail(item: dict[str, Any], subject: BlockEntry | Indicator, refs: list[str]) -> dict[str, Any]:
    """``item`` with its labels, confidence and evidence references, the properties after ``valid_until``."""
    categories = _categories(subject)
    if categories:
        item["labels"] = categories
    item["confidence"] = round(confidence(subject.confidence) * 100)
    if refs:
        item["external_references"] = [{"source_name": "fraudwall", "external_id": ref} for ref in refs]
    return item


def _categories(subject: BlockEntry | Indicator) -> list[str]:
    """The categories that say something (non-empty), as strings."""
    return [str(category) for category in subject.categories if category]


def _indicator_description(subject: Indicator) -> str:
    """What the indicator is, what goes with it (an app's package, label, download URL...) and its sources."""
    text = _KIND_TEXTS[subject.kind]
    context = [item.replace(":", ": ", 1) for item in context_items(subject.context)]
    if context:
        text += f" Context: {'; '.join(context)}."
    sources = [source for source in subject.sources if source]
    return f"{text} Sources: {', '.join(sources)}." if sources else text


def indicator_uuid(entry: BlockEntry) -> str:
    """The UUID of the indicator for ``entry``: the same in every export."""
    return stable_uuid("url" if entry.url else "domain", entry.url or entry.name)


_domain_uuid = stable_uuids("domain:")


def _domain_uuids(names: Sequence[str]) -> list[list[str]]:
    """:func:`indicator_uuid` of name-level entries, as a template's one column of ids."""
    return [list(map(_domain_uuid, names))]


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
    render_cost = 4
    description = ("STIX 2.1 bundle of indicators (domain-name, url, ipv4/ipv6-addr, file and x509-certificate"
                   " hash, user-account patterns), deterministic ids")
    subtree_capable = True
    url_capable = True
    indicator_kinds = STIX_KINDS
    allow_underscore = False  # LIKE's "_" wildcard would widen a subtree pattern
    options_type = NoOptions

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate as every format does, then reject block entries that expire before they are valid, and wallets.

        ``valid_until`` must be later than ``valid_from`` (the first sighting, or
        the generation time when unknown); such an entry is rejected as
        ``expired``, counted and sampled in the report like any bad entry.
        Checked once per run of rows that share their details. Wallets have no
        STIX object (see the module docstring): rejected as
        ``no-stix-object-for-wallet``.
        """
        prepared = super().prepare(entries, meta)
        table = prepared.blocked

        def expired(details: Details | BlockEntry) -> bool:
            return details.expires is not None and (
                utc(details.expires) <= utc(details.first_seen or meta.generated_at))

        rows = [row for run in uniform_runs(table, range(len(table))) if expired(table.details[run.start])
                for row in run]
        prepared = reject_entries(prepared, rows, [entry for entry in prepared.urls if expired(entry)], "expired")
        wallets = [item for item in prepared.indicators if item.kind not in STIX_KINDS]
        return reject_entries(prepared, [], [], WALLET_REJECTION, wallets)

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count subtree patterns, exclusions and names left out."""
        plan = _plan(prepared)
        return [
            f"scope: subtree entries as name OR LIKE '%.name': {plan.subtrees}",
            f"allow: not indicators; allowed names left out of the subtree patterns above them: {plan.excluded},"
            f" blocked names equal to an allowed one and omitted: {len(plan.omitted)}",
            f"urls: url indicators: {len(prepared.urls)}",
            "addresses: resolved addresses are not published as STIX indicators",
            f"indicators: address, hash and handle indicators after the names and URLs: {len(prepared.indicators)};"
            f" wallets (no STIX 2.1 object) rejected as {WALLET_REJECTION}: {prepared.rejections[WALLET_REJECTION]}",
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | CheckedLines]:
        """The bundle's opening line, the identity, one line per indicator, the closing line."""
        bundle_id = f"bundle--{stable_uuid('bundle', meta.generated_at.isoformat())}"
        yield f'{{"type": "bundle", "id": "{bundle_id}", "objects": ['
        yield from comma_separated(itertools.chain(
            [dumps(identity()) + ","], self._indicator_lines(prepared, meta.generated_at)))
        yield CLOSING

    def _indicator_lines(self, prepared: PreparedEntries, generated_at: datetime) -> Iterator[str | CheckedLines]:
        """The indicators, each line ending in a comma: blocked names in table order, URLs, then the
        indicators beside the entries, by type and value (as the JSON export lists them)."""
        plan = _plan(prepared)
        table = prepared.blocked

        def line(entry: BlockEntry, uid: str | None = None, excluded: Sequence[BlockEntry] = ()) -> str:
            pattern = domain_pattern(entry, excluded)
            return dumps(indicator(entry, pattern, len(excluded), generated_at, uid)) + ","

        for rows, special in cut_at(len(table), plan.omitted | plan.exclusions.keys()):
            yield from table_lines(
                table, uniform_runs(table, rows), line, self._check_line, _NAME_CHECK,
                ids=_domain_uuids, id_count=1,
            )
            if special in plan.exclusions:
                yield line(table[special], excluded=plan.exclusions[special])
        for entry in prepared.urls:
            pattern = f"[url:value = {pattern_string(entry.url)}]"
            yield dumps(indicator(entry, pattern, 0, generated_at)) + ","
        for subject in sorted(prepared.indicators, key=lambda item: (RECORD_TYPES[item.kind], item.value)):
            yield dumps(intel_indicator(subject, generated_at)) + ","

    @staticmethod
    def _check_line(line: str) -> None:
        """One indicator line, as the bundle checker checks it."""
        _check_indicator(_parse_object(line.removesuffix(",")))

    def checker(self, meta: ExportMeta) -> StixChecker:
        """The bundle line by line."""
        return StixChecker()

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """The structural check, then every object through ``stix2.parse(..., allow_custom=False)``.

        The library checks every property and every pattern, at most of a
        millisecond per indicator, in batches on every core
        (:mod:`~fraudwall.exporters.stix_library`); memory stays flat however
        long the bundle.
        """
        checker = StixChecker(library_check=True)
        try:
            self.verify_records(path, meta, checker)
        finally:
            if checker.library is not None:
                checker.library.close()


def _parse_object(text: str) -> object:
    """One bundle object from its line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"not JSON: {exc}: {text[:120]!r}") from exc


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
    if not _pattern_fits(pattern, name):
        raise ExportError(f"{item['id']}: pattern {pattern[:120]!r} is not one this format writes for {name!r}")


def _pattern_fits(pattern: str, name: object) -> bool:
    """True when ``pattern`` has one of the shapes this format writes, for the indicator called ``name``."""
    domain = _EXACT_OR_SUBTREE.fullmatch(pattern) or _SUBTREE_WITH_EXCLUSIONS.fullmatch(pattern)
    if domain is not None:
        return domain["name"] == name
    address = _ADDRESS.fullmatch(pattern)
    if address is not None:  # one publishable address, written one way, of the pattern's family
        parsed = publishable_address(address["name"])[1]
        family = None if parsed is None else ("ipv4-addr" if parsed.version == 4 else "ipv6-addr")
        return address["name"] == name == str(parsed) and address["type"] == family
    hashed = _HASH.fullmatch(pattern)
    if hashed is not None:
        return hashed["name"] == name
    # A URL's or a handle's pattern is its name, quoted: nothing else can hide in it.
    quoted = pattern_string(str(name))
    return isinstance(name, str) and pattern in (f"[url:value = {quoted}]", f"[user-account:account_login = {quoted}]")


class StixChecker(JsonLinesChecker):
    """The bundle line by line: opening, fraudwall's identity, indicators with unique ids, closing.

    With ``library_check`` every object also goes through the ``stix2``
    library, as a consumer would parse it.
    """

    def __init__(self, *, library_check: bool = False) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.library = LibraryCheck() if library_check else None

    def opening(self, line: str) -> None:
        """The bundle's type and id, and its objects array opening."""
        if not _OPENING.fullmatch(line):
            raise ExportError("not a STIX bundle with type, id and objects")

    def element(self, text: str) -> None:
        """The identity first, then indicators."""
        item = _parse_object(text)
        if self.elements == 0:
            if item != identity():
                raise ExportError("the bundle must start with fraudwall's identity")
        else:
            _check_indicator(item)
            if item["id"] in self.ids:
                raise ExportError(f"duplicate id {item['id']}")
            self.ids.add(item["id"])
        if self.library is not None:
            self.library.add(text)

    def checked(self, lines: CheckedLines) -> None:
        """Indicators from a checked template (their ids are distinct names' uuid5s)."""
        if self.elements == 0:
            raise ExportError("the bundle must start with fraudwall's identity")
        super().checked(lines)

    def end(self) -> None:
        """The bundle closed, and it holds the identity."""
        super().end()
        if self.elements == 0:
            raise ExportError("the bundle must start with fraudwall's identity")
        if self.library is not None:
            self.library.finish()
