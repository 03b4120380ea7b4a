"""MISP feed export: the folder a MISP instance's feed fetcher reads ("MISP Feed" format).

The folder holds three files, the same ones PyMISP's feed generator writes:

- ``manifest.json``: ``{event uuid: event summary}`` (org, tags, info, date,
  analysis, threat level, timestamp); MISP reads it first and fetches an event
  only when its timestamp is newer than the copy it has;
- ``<event uuid>.json``: ``{"Event": {...}}``, one event per export title with
  every indicator as an ``Attribute``, one per line;
- ``hashes.csv``: ``md5(attribute value),event uuid`` per attribute, which MISP
  uses to correlate feeds without downloading the events.

Attributes for the entries, all in category ``Network activity``:

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

Then one attribute per indicator fraudwall publishes beside the entries, by
the JSON export's record type and value (:data:`INDICATOR_FORMS`; category
and ``to_ids`` are MISP's own defaults for the type, its ``describeTypes``
"sane defaults", unless said otherwise):

- an address is ``ip-dst`` with ``to_ids`` true: fraudwall judged the address
  itself. Where a published name also resolved to it, that is said in its
  comment rather than in a second, context-only ``ip-dst`` (MISP attribute
  values are unique in an event);
- an APK's hash is ``sha256`` (``Payload delivery``);
- a signing certificate's hash is ``x509-fingerprint-sha256``, in
  ``Payload delivery`` rather than its default ``Network activity``: it names
  who signed an app, not a TLS server;
- a wallet is ``btc`` for a Bitcoin address (its base58 and bech32 forms; a
  Bitcoin Cash legacy address looks the same and goes as ``btc`` too), ``xmr``
  for a Monero one (both ``Financial fraud``, ``to_ids`` true); MISP has no type
  for other chains (TRON, Ethereum: USDT's), so those are ``text`` in
  ``Financial fraud``, ``to_ids`` false as ``text`` is by default;
- a chat handle is ``text`` in ``Social network`` (MISP has types for Jabber,
  Twitter and GitHub ids only), ``to_ids`` false.

The comment says what the indicator is, its categories, confidence, sources,
what goes with it (an app's package, label, certificate and download URL;
where a wallet or handle was seen) and the evidence reference. An indicator
whose value another attribute of the event already has (a handle spelt like a
blocked name) is rejected as ``misp-duplicate-value``.

Ids are uuid5 (:data:`~fraudwall.exporters.json_format.ID_NAMESPACE`): the event's
from the title, each attribute's from the event and its value, so MISP updates
the same event and attributes on every fetch instead of piling up copies. (An
entry that leaves the list is simply absent from the next event; marking it
``deleted`` for MISP would need the previous event, which this format does not
read yet.) Names MISP would refuse as a domain
(its check wants a last label of two or more letters, digits or hyphens) are
rejected as ``misp-invalid-domain``.

The event is checked as it is rendered (its shape, every attribute valid for
its type), attribute by attribute or, for the runs of a long list that share
their details, by template (:mod:`~fraudwall.exporters.templates`); the
manifest and hashes.csv come from the same plan. :meth:`MispExporter.verify`
re-reads the published folder line by line and checks the three files
against each other.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import itertools
import json
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TextIO

from fraudwall.entries import SUBTREE, find
from fraudwall.exceptions import ExportError, InvalidName, VerificationError
from fraudwall.exporters.base import LINES_PER_CHUNK, ExportMeta, FolderExporter, NoOptions, comment_text
from fraudwall.exporters.json_format import (
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
from fraudwall.exporters.templates import CheckedLines, comma_separated, safe_name_pattern, table_lines
from fraudwall.exporters.validation import PreparedEntries, indicator_refusal, name_sort_key, publishable_address
from fraudwall.models import BlockEntry, Indicator, Scope, SubjectKind
from fraudwall.names import normalize_name

try:
    # CPython's own MD5 makes a hash object for a short value at a third of the cost of OpenSSL's
    # (hashlib.md5), and hashes.csv needs one per attribute. Some builds leave it out.
    from _md5 import md5 as _MD5
except ImportError:  # pragma: no cover (depends on how Python was built)
    _MD5 = functools.partial(hashlib.md5, usedforsecurity=False)  # a checksum MISP correlates by, not a secret

MANIFEST = "manifest.json"
HASHES = "hashes.csv"
CATEGORY = "Network activity"
ORG = {"name": "fraudwall", "uuid": stable_uuid("misp-org", "fraudwall")}
# MISP's analysis "completed"; threat level "undefined": fraudwall rates entries (confidence), not events.
ANALYSIS, THREAT_LEVEL = 2, 4
NAME_TYPES = frozenset({"domain", "hostname"})
#: An indicator's attribute by kind: type, category and to_ids (a wallet's type depends on its chain:
#: :func:`wallet_type`). See the module docstring for why.
INDICATOR_FORMS: dict[SubjectKind, tuple[str, str, bool]] = {
    SubjectKind.IP: ("ip-dst", CATEGORY, True),
    SubjectKind.APK: ("sha256", "Payload delivery", True),
    SubjectKind.CERTIFICATE: ("x509-fingerprint-sha256", "Payload delivery", True),
    SubjectKind.HANDLE: ("text", "Social network", False),
}
WALLET_FORMS: dict[str, tuple[str, str, bool]] = {
    "btc": ("btc", "Financial fraud", True),
    "xmr": ("xmr", "Financial fraud", True),
    "text": ("text", "Financial fraud", False),
}
#: Every attribute type the feed writes, with the categories it may have.
ATTRIBUTE_CATEGORIES: dict[str, frozenset[str]] = {
    **{kind: frozenset({CATEGORY}) for kind in (*NAME_TYPES, "url", "ip-dst")},
    "sha256": frozenset({"Payload delivery"}),
    "x509-fingerprint-sha256": frozenset({"Payload delivery"}),
    "btc": frozenset({"Financial fraud"}),
    "xmr": frozenset({"Financial fraud"}),
    "text": frozenset({"Financial fraud", "Social network"}),
}
DUPLICATE_REJECTION = "misp-duplicate-value"
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
# The same check for a name every format has validated (lowercase labels of letters, digits, hyphens and
# underscores, none empty): what is left to ask is its last label, found by one search at C speed.
_MISP_LAST_LABEL = re.compile(r"\.[a-z0-9-]{2,}\Z")
_TAG_VALUE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_NAME_CHECK = safe_name_pattern(allow_underscore=True)
EVENT_CLOSING = "]}}"  # the last line of the event file: the attribute list, the event, the document
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Bitcoin's address forms: base58 P2PKH and P2SH (1..., 3...; 26 to 34 characters) and bech32 segwit (bc1...).
_BITCOIN = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25,33}|bc1[02-9ac-hj-np-z]{11,71}")
# Monero's standard addresses and subaddresses: 95 base58 characters from 4 or 8.
_MONERO = re.compile(r"[48][1-9A-HJ-NP-Za-km-z]{94}")
_KIND_WORDS = {
    SubjectKind.IP: "IP address judged fraudulent",
    SubjectKind.APK: "fraud app, the APK file's SHA-256",
    SubjectKind.CERTIFICATE: "certificate signing fraud apps, its SHA-256",
    SubjectKind.WALLET: "cryptocurrency wallet address used in fraud",
    SubjectKind.HANDLE: "chat handle used in fraud (Telegram, WhatsApp, QQ...)",
}


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


def wallet_type(address: str) -> str:
    """MISP's attribute type for a wallet address: ``btc``, ``xmr``, or ``text`` for a chain MISP has no type for."""
    if _BITCOIN.fullmatch(address):
        return "btc"
    return "xmr" if _MONERO.fullmatch(address) else "text"


def indicator_form(subject: Indicator) -> tuple[str, str, bool]:
    """The attribute type, category and to_ids of ``subject``."""
    if subject.kind is SubjectKind.WALLET:
        return WALLET_FORMS[wallet_type(subject.value)]
    return INDICATOR_FORMS[subject.kind]


def misp_time(value: datetime) -> str:
    """An attribute's first/last seen as PyMISP writes it (ISO 8601, ``+00:00``)."""
    return utc(value).replace(microsecond=0).isoformat()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the event holds beyond one plain attribute per blocked row, and what the notes count.

    Most rows of a national list are plain: their attributes are filled from a
    template. The few that are not (names an allow covers, subtrees narrowed
    by an allowed name below them) are found from the allowed names by binary
    search in the blocked table. Addresses and tags are collected once per run
    of rows that share their details.
    """

    omitted: frozenset[int]  # blocked rows whose name is allowed: no attribute
    narrowed: frozenset[int]  # subtree rows written as hostname: allowed names below them
    addresses: dict[str, tuple[int, list[str]]]  # address -> (values seen for, the first five in order)
    addresses_left_out: int
    tags: frozenset[str]
    # Resolved addresses that are IP indicators too: said in the indicator's comment, no attribute of their own.
    indicated: dict[str, tuple[int, list[str]]]


def _plan(prepared: PreparedEntries) -> _Plan:
    """The event's plan: special rows, resolved addresses, category tags."""
    table = prepared.blocked
    touched = allowed_rows(prepared)
    omitted = touched.equal
    seen_for: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    left_out = 0
    tags: set[str] = set()

    def note(entry: BlockEntry, shown: list[str], count: int) -> None:
        """``count`` attributes with ``entry``'s details, of which ``shown`` are the first values."""
        nonlocal left_out
        tags.update(category_tags([str(category) for category in entry.categories]))
        for raw in entry.addresses:
            address = global_address(str(raw))
            if address is None:
                left_out += count
            else:
                counts[address] += count
                seen_for.setdefault(address, []).extend(shown)

    for run in uniform_runs(table, range(len(table))):
        rows = [row for row in run if row not in omitted] if omitted else run
        if rows:  # a comment shows five of the names an address was seen for, and counts the rest
            note(table[rows[0]], [table.names[row] for row in rows[:5]], len(rows))
    for entry in prepared.urls:
        note(entry, [entry.url], 1)
    for subject in prepared.indicators:
        tags.update(category_tags([str(category) for category in subject.categories]))
    addresses = {address: (counts[address], sorted(set(values), key=name_sort_key)[:5])
                 for address, values in seen_for.items()}
    ips = {subject.value for subject in prepared.indicators if subject.kind is SubjectKind.IP}
    indicated = {address: addresses.pop(address) for address in ips & addresses.keys()}
    return _Plan(omitted, frozenset(touched.above), addresses, left_out, frozenset(tags), indicated)


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
    return "; ".join([f"fraudwall: {scope}", *_details(entry), *(f"evidence: {ref}" for ref in evidence_refs(entry))])


def _indicator_comment(subject: Indicator, resolved: tuple[int, list[str]] | None) -> str:
    """What the indicator is, its details, what goes with it, where a published name resolved to it."""
    parts = [f"fraudwall: {_KIND_WORDS[subject.kind]}", *_details(subject)]
    parts += [item.replace(":", ": ", 1) for item in context_items(subject.context)]
    parts += [f"evidence: {ref}" for ref in indicator_evidence(subject)]
    if resolved is not None:
        parts.append(f"also seen resolving for {_listed(*resolved)}")
    return "; ".join(parts)


def _details(subject: BlockEntry | Indicator) -> list[str]:
    """Categories, confidence and sources, as comment parts."""
    parts = []
    categories = [category for category in subject.categories if category]
    if categories:
        parts.append("categories: " + ", ".join(categories))
    parts.append(f"confidence: {confidence(subject.confidence):g}")
    sources = [source for source in subject.sources if source]
    if sources:
        parts.append("sources: " + ", ".join(sources))
    return parts


def _listed(count: int, shown: list[str]) -> str:
    """The first values an address was seen for, and how many more."""
    return ", ".join(shown) + (f" and {count - len(shown)} more" if count > len(shown) else "")


def attribute_uuid(event_uuid: str, value: str) -> str:
    """An attribute's UUID: from the event and the value alone (not the type), so a scope change updates it."""
    return stable_uuid("misp-attribute", f"{event_uuid}:{value}")


def _attribute(event_uuid: str, kind: str, value: str, comment: str, timestamp: str, *,
               to_ids: bool, entry: BlockEntry | Indicator | None = None, uid: str | None = None,
               category: str = CATEGORY) -> dict[str, Any]:
    """One attribute with its keys in the order PyMISP writes them to a feed (``uid``: its UUID, if known)."""
    item: dict[str, Any] = {"category": category, "comment": comment, "disable_correlation": False}
    if entry is not None and entry.first_seen is not None:
        item["first_seen"] = misp_time(entry.first_seen)
    # MISP refuses a last_seen before the first_seen.
    if entry is not None and entry.last_seen is not None and (
            entry.first_seen is None or utc(entry.last_seen) >= utc(entry.first_seen)):
        item["last_seen"] = misp_time(entry.last_seen)
    item.update({
        "timestamp": timestamp, "to_ids": to_ids, "type": kind,
        "uuid": uid or attribute_uuid(event_uuid, value), "value": value,
    })
    tags = category_tags([str(category) for category in entry.categories]) if entry is not None else []
    if tags:
        item["Tag"] = [tag(name) for name in tags]
    return item


class MispExporter(FolderExporter[NoOptions]):
    """A MISP feed folder: manifest.json, one event, hashes.csv."""

    name = "misp"
    render_cost = 4
    description = ("MISP feed folder (manifest.json, one event, hashes.csv): hostname, domain, url, ip-dst attributes;"
                   " sha256, x509-fingerprint-sha256, btc, xmr, text for hashes, wallets and handles")
    subtree_capable = True  # domain attributes: MISP's exports block the name and everything below
    url_capable = True
    indicator_kinds = frozenset(RECORD_TYPES)
    allow_underscore = True  # MISP's domain check accepts underscores
    options_type = NoOptions
    _planned: tuple[PreparedEntries, _Plan] | None = None  # see plan()

    def plan(self, prepared: PreparedEntries) -> _Plan:
        """:func:`_plan` of ``prepared``, worked out once: the notes, the event and hashes.csv all read it."""
        if self._planned is None or self._planned[0] is not prepared:
            self._planned = (prepared, _plan(prepared))
        return self._planned[1]

    def prepare(self, entries: Sequence[BlockEntry], meta: ExportMeta) -> PreparedEntries:
        """Validate as every format does, then reject names MISP itself would refuse, and indicators
        whose value another attribute has (see the module docstring)."""
        prepared = super().prepare(entries, meta)
        names = prepared.blocked.names
        refused = list(itertools.compress(range(len(names)), map(operator.not_, map(_MISP_LAST_LABEL.search, names))))
        prepared = reject_entries(prepared, refused, [], "misp-invalid-domain")
        taken = {entry.url for entry in prepared.urls}
        duplicates = []
        for subject in prepared.indicators:
            if subject.value in taken or find(prepared.blocked.names, subject.value) is not None:
                duplicates.append(subject)
            taken.add(subject.value)
        return reject_entries(prepared, [], [], DUPLICATE_REJECTION, duplicates)

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """Count the narrowed subtrees, the names left out and the addresses left out."""
        plan = self.plan(prepared)
        domains = prepared.blocked.subtree_count() - sum(
            prepared.blocked.scopes[row] == SUBTREE for row in plan.omitted) - len(plan.narrowed)
        return [
            f"scope: subtree entries as domain attributes: {domains},"
            f" exact entries as hostname attributes; subtree entries narrowed to hostname"
            f" (an allowed name below them): {len(plan.narrowed)}",
            f"allow: not expressible in a MISP event; blocked names equal to an allowed one,"
            f" omitted: {len(plan.omitted)}",
            f"urls: url attributes: {len(prepared.urls)}",
            f"addresses: ip-dst attributes (to_ids false): {len(plan.addresses)},"
            f" addresses not globally routable or not valid, left out: {plan.addresses_left_out}",
            _indicator_note(prepared, plan),
        ]

    def event_head(self, plan: _Plan, meta: ExportMeta) -> dict[str, Any]:
        """The event without its attributes, keys in the order PyMISP writes a feed event."""
        info = comment_text(meta.title) or "fraudwall blocklist"
        timestamp = str(int(meta.generated_at.timestamp()))
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
            "uuid": stable_uuid("misp-event", info),
            "Orgc": dict(ORG),
            "Tag": [tag(name) for name in ["fraudwall", *sorted(plan.tags)]],
        }

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | CheckedLines]:
        """The event file: its fields on the first line, one attribute per line, the closing line."""
        plan = self.plan(prepared)
        head = self.event_head(plan, meta)
        # The event object without its closing brace: the attributes follow it, one per line.
        yield '{"Event": ' + dumps(head)[:-1] + ', "Attribute": ['
        yield from comma_separated(self._attribute_lines(prepared, plan, head))
        yield EVENT_CLOSING

    def _attribute_lines(
        self, prepared: PreparedEntries, plan: _Plan, head: Mapping[str, Any],
    ) -> Iterator[str | CheckedLines]:
        """The attributes, each line ending in a comma: names in table order, then :meth:`_tail_attributes`."""
        table = prepared.blocked
        event_uuid, timestamp = head["uuid"], head["timestamp"]

        def line(entry: BlockEntry, uid: str | None = None, *, narrow: bool = False) -> str:
            kind = "domain" if entry.scope is Scope.SUBTREE and not narrow else "hostname"
            return dumps(_attribute(event_uuid, kind, entry.name, _comment(entry, kind, narrow), timestamp,
                                    to_ids=True, entry=entry, uid=uid)) + ","

        uuid_of = stable_uuids(f"misp-attribute:{event_uuid}:")  # attribute_uuid(), the prefix hashed once

        def uuids(names: Sequence[str]) -> list[list[str]]:
            return [list(map(uuid_of, names))]

        for rows, special in cut_at(len(table), plan.omitted | plan.narrowed):
            yield from table_lines(table, uniform_runs(table, rows), line, _check_attribute_line,
                                   _NAME_CHECK, ids=uuids, id_count=1)
            if special in plan.narrowed:
                yield line(table[special], narrow=True)
        yield from (dumps(item) + "," for item in self._tail_attributes(prepared, plan, head))

    def _tail_attributes(self, prepared: PreparedEntries, plan: _Plan, head: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The attributes after the names: URLs, resolved addresses, then indicators by record type and value."""
        event_uuid, timestamp = head["uuid"], head["timestamp"]
        items = [_attribute(event_uuid, "url", entry.url, _comment(entry, "url", False), timestamp, to_ids=True,
                            entry=entry) for entry in prepared.urls]
        # IPv4 before IPv6 (ip_address objects of different versions do not compare).
        for address in sorted(plan.addresses, key=lambda text: (ip_address(text).version, ip_address(text))):
            comment = (f"fraudwall: address seen resolving for {_listed(*plan.addresses[address])};"
                       " context only, not a block (may be shared hosting)")
            items.append(_attribute(event_uuid, "ip-dst", address, comment, timestamp, to_ids=False))
        for subject in sorted(prepared.indicators, key=lambda item: (RECORD_TYPES[item.kind], item.value)):
            kind, category, to_ids = indicator_form(subject)
            comment = _indicator_comment(subject, plan.indicated.get(subject.value))
            items.append(_attribute(event_uuid, kind, subject.value, comment, timestamp, to_ids=to_ids,
                                    entry=subject, category=category))
        return items

    def hash_lines(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str]:
        """hashes.csv in pieces: ``md5(value),event uuid`` per attribute, in the event's order."""
        plan = self.plan(prepared)
        head = self.event_head(plan, meta)
        suffix = "," + head["uuid"] + "\n"
        table = prepared.blocked
        for rows, _ in cut_at(len(table), plan.omitted):
            for first in range(rows.start, rows.stop, LINES_PER_CHUNK):
                names = table.names[first:min(first + LINES_PER_CHUNK, rows.stop)]
                # md5 of each name and the lines joined, all at C speed
                yield suffix.join(map(_HEX, map(_MD5, map(str.encode, names)))) + suffix
        yield "".join(_md5_line(item["value"], suffix) for item in self._tail_attributes(prepared, plan, head))

    def render_files(self, prepared: PreparedEntries, meta: ExportMeta) -> dict[str, Iterable[str]]:
        """The event (checked as it is rendered), hashes.csv and the manifest, from the same plan."""
        head = self.event_head(self.plan(prepared), meta)
        return {
            MANIFEST: dumps(manifest(head)) + "\n",
            f"{head['uuid']}.json": self.render_chunks(prepared, meta),
            HASHES: self.hash_lines(prepared, meta),
        }

    def checker(self, meta: ExportMeta) -> EventChecker:
        """The event file line by line."""
        return EventChecker()

    def verify(self, path: Path, meta: ExportMeta) -> None:
        """Re-read the folder: every file parses, and manifest, event and hashes agree.

        The event is read line by line; each attribute's md5 is compared with
        the next line of hashes.csv as it goes, so memory stays flat.
        """
        try:
            names = sorted(child.name for child in path.iterdir())
            events = [name for name in names if name not in (MANIFEST, HASHES)]
            if MANIFEST not in names or HASHES not in names or len(events) != 1:
                raise ExportError(f"the folder must hold {MANIFEST}, {HASHES} and one event file, not {names}")
            with (path / HASHES).open(encoding="utf-8", newline="") as hashes:
                checker = EventChecker(hashes)
                self.verify_records(path / events[0], meta, checker)
                if hashes.read():
                    raise ExportError(f"{HASHES} lists more attributes than the event has")
            head = checker.head
            if events[0] != f"{head['uuid']}.json":
                raise ExportError(f"event file {events[0]} does not carry event {head['uuid']}")
            try:
                listed = json.loads((path / MANIFEST).read_bytes().decode("utf-8"))
            except json.JSONDecodeError as exc:
                raise ExportError(f"{MANIFEST} is not JSON: {exc}") from exc
            if listed != manifest(head):
                raise ExportError(f"{MANIFEST} does not match the event")
        except (OSError, UnicodeDecodeError) as exc:
            raise VerificationError(f"{path}: cannot read the feed folder: {exc}") from exc
        except ExportError as exc:
            raise VerificationError(f"{path}: {exc}") from exc


_HEX = operator.methodcaller("hexdigest")


def _indicator_note(prepared: PreparedEntries, plan: _Plan) -> str:
    """The notes' line on the indicator attributes, counted by type."""
    counts = Counter(indicator_form(subject)[0] for subject in prepared.indicators)
    listed = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
    return (f"indicators: attributes after the names, URLs and addresses: {counts.total()}"
            + (f" ({listed})" if listed else "") + "; text (handles, wallets of chains without a MISP type)"
            f" has to_ids false; resolved addresses folded into an ip-dst indicator: {len(plan.indicated)};"
            f" rejected as {DUPLICATE_REJECTION}: {prepared.rejections[DUPLICATE_REJECTION]}")


def _md5_line(value: str, suffix: str) -> str:
    """One line of hashes.csv."""
    return _HEX(_MD5(value.encode())) + suffix


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


class EventChecker(JsonLinesChecker):
    """The event file line by line: its head, every attribute valid and unique, the closing line.

    Given ``hashes`` (hashes.csv, open), each attribute's line there is read
    and compared as the attribute goes by.
    """

    closing = EVENT_CLOSING

    def __init__(self, hashes: TextIO | None = None) -> None:
        super().__init__()
        self.hashes = hashes
        self.head: dict[str, Any] = {}
        self.uuids: set[str] = set()
        self.values: set[str] = set()

    def opening(self, line: str) -> None:
        """The event's fields and the opening of its attribute list."""
        try:
            document = json.loads(line + EVENT_CLOSING)
        except json.JSONDecodeError as exc:
            raise ExportError(f"the first line is not the event's head: {exc}") from exc
        if not isinstance(document, dict) or list(document) != ["Event"] or not isinstance(document["Event"], dict):
            raise ExportError('the event file must be {"Event": {...}}')
        event = document["Event"]
        if list(event) != list(EVENT_KEYS) or event["Attribute"] != []:
            raise ExportError(f"event keys are {list(event)}, expected {list(EVENT_KEYS)}, attributes one per line")
        if not _UUID.fullmatch(str(event["uuid"])) or event["Orgc"] != ORG:
            raise ExportError("bad event uuid or organisation")
        del event["Attribute"]
        self.head = event

    def element(self, text: str) -> None:
        """One attribute: valid, unique, and listed in hashes.csv."""
        try:
            attribute = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExportError(f"attribute line is not JSON: {exc}: {text[:120]!r}") from exc
        _check_attribute(attribute)
        if attribute["uuid"] in self.uuids or attribute["value"] in self.values:
            raise ExportError(f"duplicate attribute {attribute['value']!r}")
        self.uuids.add(attribute["uuid"])
        self.values.add(attribute["value"])
        if self.hashes is not None and self.hashes.readline() != _md5_line(attribute["value"], f",{self.head['uuid']}\n"):
            raise ExportError(f"{HASHES} does not match the event's attribute {attribute['value']!r}")

    def checked(self, lines: CheckedLines) -> None:
        """Attributes from a checked template, for distinct names of the table."""
        if self.hashes is not None:
            raise ExportError("a written event is checked attribute by attribute")
        super().checked(lines)


def _check_attribute_line(line: str) -> None:
    """One attribute line, as the event checker checks it."""
    try:
        attribute = json.loads(line.removesuffix(","))
    except json.JSONDecodeError as exc:
        raise ExportError(f"attribute line is not JSON: {exc}") from exc
    _check_attribute(attribute)


def _check_attribute(attribute: object) -> None:
    """One attribute: known keys, type and category, and a value (and to_ids) valid for its type."""
    if not isinstance(attribute, dict) or set(attribute) - set(ATTRIBUTE_KEYS):
        raise ExportError(f"unexpected attribute {str(attribute)[:120]}")
    kind, value = attribute.get("type"), attribute.get("value")
    if attribute.get("category") not in ATTRIBUTE_CATEGORIES.get(str(kind), ()) or not isinstance(value, str):
        raise ExportError(f"bad type or category in attribute {str(attribute)[:120]}")
    if not _UUID.fullmatch(str(attribute.get("uuid"))) or not isinstance(attribute.get("to_ids"), bool):
        raise ExportError(f"bad uuid or to_ids in attribute {value!r}")
    if not _valid_value(kind, value, attribute["to_ids"]):
        raise ExportError(f"invalid {kind} attribute value {value!r} (to_ids {attribute['to_ids']})")


def _valid_value(kind: str, value: str, to_ids: bool) -> bool:
    """Whether ``value`` is one this feed writes as a ``kind`` attribute with ``to_ids``."""
    if kind in NAME_TYPES:
        try:
            return normalize_name(value, allow_underscore=True) == value and bool(_MISP_DOMAIN.fullmatch(value))
        except InvalidName:
            return False
    if kind == "url":
        return to_ids and value.startswith(("http://", "https://")) and value.isprintable() and " " not in value
    if kind == "ip-dst":  # an IP indicator, or a resolved address given as context only
        return value == (str(publishable_address(value)[1]) if to_ids else global_address(value))
    if kind in ("sha256", "x509-fingerprint-sha256"):
        return to_ids and bool(_SHA256.fullmatch(value))
    if kind in ("btc", "xmr"):
        return to_ids and wallet_type(value) == kind
    # text: a wallet of a chain MISP has no type for, or a handle; both are checked alike
    return not to_ids and indicator_refusal(Indicator(SubjectKind.HANDLE, value)) is None
