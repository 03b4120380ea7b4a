"""JSON threat-intel export: every entry, name-level and URL-level, and every indicator, with all they carry.

One UTF-8 document::

    {"title": ..., "generated_at": "2024-11-25T08:00:00Z", "count": 3, "entries": [
    {"type": "domain", "value": "kefu-refund.example.com", "name": ..., "scope": "exact", ...},
    {"type": "url", "value": "https://icbc-verify.github.io/login.html?step=2", ...},
    {"type": "apk-sha256", "value": "2d71...4881", "name": "", ..., "context": ["package:com.x", ...]}
    ]}

One record per line, keys in a fixed order. The entries come first, in the
order of :func:`~fraudwall.exporters.validation.prepare` (reversed labels, then
URL, then action); the indicators follow, by type and value; so two exports
differ exactly where their records do. ``count`` counts them all. The fields,
the same as the CSV export's columns (:func:`record` and
:func:`indicator_record` build both):

- ``type``: ``domain`` or ``url`` for an entry; for an indicator ``ip``,
  ``apk-sha256`` (an APK file's SHA-256), ``certificate-sha256`` (an APK
  signing certificate's), ``wallet`` (a cryptocurrency address) or ``handle``
  (a chat handle: Telegram, WhatsApp, QQ...);
- ``value``: the name, the URL or the indicator itself;
- ``name``: the name (a URL's host); empty for an indicator. An indicator has
  no name, and giving it one (an APK's download host, say) would turn it into
  a rule for that name for any script that reads ``name``: a download host is
  often shared, and a hash never becomes a name entry. The host is in
  ``context`` instead;
- ``scope``: ``exact`` or ``subtree`` (an indicator is ``exact``);
- ``action``: ``block`` or ``allow``. An allow entry is an exception: for its name
  (and, with ``subtree``, the names below it) it wins over a block entry, the
  most specific name deciding, as in RPZ. Both are listed when a name has both.
  Indicators are ``block``;
- ``categories``, ``sources``, ``addresses``: lists of strings; empty strings
  carry nothing and are left out (an indicator has no ``addresses``: an
  ``ip`` is its own value);
- ``confidence``: a number in [0, 1] (out-of-range input is clamped);
- ``first_seen``, ``last_seen``, ``expires``: ISO 8601 UTC (``...Z``) or ``null``;
  naive times are taken as UTC, as the store writes them (indicators do not expire);
- ``evidence``: references to the evidence behind the record in the fraudwall
  store that produced it (see :func:`evidence_refs`);
- ``context``: what goes with an indicator, as ``key:value`` strings (the key
  a lowercase token, the value anything): ``package``, ``label``,
  ``certificate``, ``download_url`` and ``download_host`` of an APK,
  ``seen_in`` for the page or app that carried a wallet or a handle. Empty
  for entries.

The helpers the four intel formats share (:func:`record`, :func:`evidence_refs`,
:func:`stable_uuid`, :func:`dumps`, the time formats) live here too.

Names are A-labels, URLs normalised, addresses written one way, hashes
lowercase (see :mod:`~fraudwall.exporters.validation`); the title is cleaned
like a comment line. Characters that are not printable (controls, line and
paragraph separators, bidi overrides) are written as ``\\uXXXX`` escapes, so a
hostile source string can neither break the one record per line layout nor
hide text from a reader; everything else (CJK labels included) is written as
it is.
"""

from __future__ import annotations

import abc
import hashlib
import itertools
import json
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fraudwall.exceptions import ExportError, InvalidName
from fraudwall.entries import sort_key
from fraudwall.exporters.base import DocumentChecker, DocumentExporter, ExportMeta, NoOptions, comment_text
from fraudwall.exporters.record_order import export_order, uniform_runs
from fraudwall.exporters.templates import CheckedLines, comma_separated, safe_name_pattern, table_lines
from fraudwall.exporters.validation import SAMPLES_PER_REASON, PreparedEntries, indicator_refusal, publishable_address
from fraudwall.models import Action, BlockEntry, Indicator, Scope, SubjectKind
from fraudwall.names import normalize_name, url_host

#: The fields of one record, in the order they are written (JSON keys, CSV columns).
FIELDS = (
    "type", "value", "name", "scope", "action", "categories", "confidence",
    "first_seen", "last_seen", "expires", "sources", "addresses", "evidence", "context",
)
LIST_FIELDS = frozenset({"categories", "sources", "addresses", "evidence", "context"})
TIME_FIELDS = ("first_seen", "last_seen", "expires")
TOP_FIELDS = ("title", "generated_at", "count", "entries")
CLOSING = "]}"  # the last line: the entries array and the document end
SCOPES = frozenset(str(scope) for scope in Scope)
ACTIONS = frozenset(str(action) for action in Action)
#: The record type of each indicator kind.
RECORD_TYPES: dict[SubjectKind, str] = {
    SubjectKind.IP: "ip", SubjectKind.APK: "apk-sha256", SubjectKind.CERTIFICATE: "certificate-sha256",
    SubjectKind.WALLET: "wallet", SubjectKind.HANDLE: "handle",
}
_KINDS = {record_type: kind for kind, record_type in RECORD_TYPES.items()}
ENTRY_TYPES = frozenset({"domain", "url"})

#: fraudwall's namespace for name-based (uuid5) ids in STIX and MISP: the same
#: indicator gets the same id in every export. Never change it: every id would change.
ID_NAMESPACE = uuid.UUID("71319330-dc54-4213-8b7f-af9469793d10")

_NAMESPACE_SHA1 = hashlib.sha1(ID_NAMESPACE.bytes, usedforsecurity=False)
# The first hex digit of a uuid's fourth group carries the RFC 4122 variant: bits 10xx.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# Candidates for escaping: everything but printable ASCII (json.dumps has escaped the C0 controls;
# _escape_unprintable keeps the printable ones, CJK included, as they are).
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
_CONTEXT_KEY = re.compile(r"[a-z][a-z0-9_]*")


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive time is taken as UTC already."""
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 UTC to the second (``2024-11-25T08:00:00Z``), or ``None``."""
    return None if value is None else f"{utc(value):%Y-%m-%dT%H:%M:%SZ}"


def dumps(value: object) -> str:
    """Compact, deterministic JSON on one line: UTF-8 text, unprintable characters escaped."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    return _UNPRINTABLE.sub(_escape_unprintable, text)


def _escape_unprintable(match: re.Match[str]) -> str:
    """A ``\\uXXXX`` escape (a surrogate pair above the BMP) for an unprintable character."""
    char = match.group()
    if char.isprintable():
        return char
    return json.dumps(char)[1:-1]  # ensure_ascii (the default) writes exactly that escape


def stable_uuid(kind: str, value: str) -> str:
    """The uuid5 of ``kind:value`` in :data:`ID_NAMESPACE`, e.g. ``stable_uuid("domain", name)``."""
    return stable_uuids(f"{kind}:")(value)


def stable_uuids(prefix: str) -> Callable[[str], str]:
    """A function giving the uuid5 of ``prefix + value`` in :data:`ID_NAMESPACE`, for many values.

    What ``str(uuid.uuid5(ID_NAMESPACE, prefix + value))`` gives (RFC 4122:
    SHA-1 of namespace and name, version and variant bits set), at a third of
    its cost, the prefix hashed once: millions of indicators each need one.
    """
    start = _NAMESPACE_SHA1.copy()
    start.update(prefix.encode())

    def uuid_of(value: str) -> str:
        digest = start.copy()
        digest.update(value.encode())
        x = digest.hexdigest()
        return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"

    return uuid_of


def evidence_refs(entry: BlockEntry) -> list[str]:
    """Where the evidence behind ``entry`` is, in the fraudwall store that exported it.

    Entries from detectors (a ``detector:NAME`` source) have verdicts in the
    store, with their findings and evidence snippets: a name-level entry under
    ``fraudwall:verdicts?host=NAME`` (every page verdict of that host), a
    URL-level one under ``fraudwall:verdicts?subject=URL`` (the page's own
    verdict; the URL percent-encoded). Entries read from lists have none: their
    sources name the list.
    """
    if not _from_detectors(entry.sources):
        return []
    if entry.url:
        return [_subject_ref(entry.url)]
    return [f"fraudwall:verdicts?host={entry.name}"]


def indicator_evidence(indicator: Indicator) -> list[str]:
    """Where the evidence behind ``indicator`` is: its verdict, ``fraudwall:verdicts?subject=VALUE``
    (percent-encoded), when a detector found it (see :func:`evidence_refs`)."""
    return [_subject_ref(indicator.value)] if _from_detectors(indicator.sources) else []


def _from_detectors(sources: Iterable[str]) -> bool:
    """True when a ``detector:NAME`` source is among ``sources``: the store has a verdict to point to."""
    return any(str(source).startswith("detector:") for source in sources)


def _subject_ref(subject: str) -> str:
    """The reference to ``subject``'s own verdict."""
    return f"fraudwall:verdicts?subject={quote(subject, safe='')}"


def context_items(context: Iterable[tuple[str, str]]) -> list[str]:
    """An indicator's ``(key, value)`` pairs as ``key:value`` strings, in their order.

    A pair with an empty value says nothing, and one whose key is not a
    lowercase token could not be read back (the key ends at the first ``:``):
    both are left out. The store writes neither.
    """
    return [f"{key}:{value}" for key, value in context if value and _CONTEXT_KEY.fullmatch(str(key))]


def confidence(value: float) -> float:
    """``value`` as a float in [0, 1]; NaN (no information) becomes 0."""
    number = float(value)
    return 0.0 if math.isnan(number) else min(max(number, 0.0), 1.0)


def record(entry: BlockEntry) -> dict[str, Any]:
    """One prepared entry as the intel formats' record, fields in :data:`FIELDS` order."""
    return {
        "type": "url" if entry.url else "domain",
        "value": entry.url or entry.name,
        "name": entry.name,
        "scope": str(entry.scope),
        "action": str(entry.action),
        "categories": [str(item) for item in entry.categories if item],
        "confidence": confidence(entry.confidence),
        "first_seen": iso_time(entry.first_seen),
        "last_seen": iso_time(entry.last_seen),
        "expires": iso_time(entry.expires),
        "sources": [str(item) for item in entry.sources if item],
        "addresses": [str(item) for item in entry.addresses if item],
        "evidence": evidence_refs(entry),
        "context": [],
    }


def indicator_record(indicator: Indicator) -> dict[str, Any]:
    """One prepared indicator as the intel formats' record, fields in :data:`FIELDS` order (see the module doc)."""
    return {
        "type": RECORD_TYPES[indicator.kind],
        "value": indicator.value,
        "name": "",
        "scope": str(Scope.EXACT),
        "action": str(Action.BLOCK),
        "categories": [str(item) for item in indicator.categories if item],
        "confidence": confidence(indicator.confidence),
        "first_seen": iso_time(indicator.first_seen),
        "last_seen": iso_time(indicator.last_seen),
        "expires": None,
        "sources": [str(item) for item in indicator.sources if item],
        "addresses": [],
        "evidence": indicator_evidence(indicator),
        "context": context_items(indicator.context),
    }


def indicator_records(prepared: PreparedEntries) -> list[dict[str, Any]]:
    """The records of ``prepared.indicators``, by type and value: the order :class:`RecordSequence` checks."""
    records = [indicator_record(indicator) for indicator in prepared.indicators]
    return sorted(records, key=lambda item: (item["type"], item["value"]))


def reject_entries(
    prepared: PreparedEntries, rows: Collection[int], urls: Collection[BlockEntry], reason: str,
    indicators: Collection[Indicator] = (),
) -> PreparedEntries:
    """``prepared`` without the blocked ``rows`` (indexes into ``prepared.blocked``), the URL entries
    ``urls`` and the ``indicators``, counted and sampled under ``reason``.

    For a format's own limits beyond the shared validation, so the report
    accounts for every entry the format could not publish. The table keeps
    its columns: dropping a few rows of millions copies them once.
    """
    if not rows and not urls and not indicators:
        return prepared
    names = prepared.blocked.names
    samples = sorted([names[row] for row in rows] + [entry.url for entry in urls]
                     + [f"{indicator.kind}:{indicator.value}" for indicator in indicators])
    return replace(
        prepared,
        blocked=prepared.blocked.without(rows),
        urls=tuple(entry for entry in prepared.urls if entry not in urls),
        indicators=tuple(indicator for indicator in prepared.indicators if indicator not in indicators),
        rejections=prepared.rejections + Counter({reason: len(rows) + len(urls) + len(indicators)}),
        samples=prepared.samples + tuple((value, reason) for value in samples[:SAMPLES_PER_REASON]),
    )


def check_record(item: Mapping[str, Any], *, allow_underscore: bool) -> None:
    """Raise :class:`ExportError` unless ``item`` is a well-formed record (an entry's or an indicator's)."""
    if list(item) != list(FIELDS):
        raise ExportError(f"record fields are {list(item)}, expected {list(FIELDS)}")
    kind, value = item["type"], item["value"]
    if item["scope"] not in SCOPES or item["action"] not in ACTIONS:
        raise ExportError(f"bad scope or action in the record for {value!r}")
    if kind in ENTRY_TYPES:
        _check_entry_record(item, allow_underscore=allow_underscore)
    elif kind in _KINDS:
        _check_indicator_record(item)
    else:
        raise ExportError(f"bad type {kind!r} in the record for {value!r}")
    number = item["confidence"]
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 <= number <= 1:
        raise ExportError(f"confidence {number!r} of {value!r} is not a number in [0, 1]")
    for key in TIME_FIELDS:
        if item[key] is not None and not (isinstance(item[key], str) and _TIME.fullmatch(item[key])):
            raise ExportError(f"{key} {item[key]!r} of {value!r} is not an ISO 8601 UTC time")
    for key in LIST_FIELDS:
        if not isinstance(item[key], list) or not all(isinstance(x, str) and x for x in item[key]):
            raise ExportError(f"{key} of {value!r} is not a list of non-empty strings")
    if not all(_CONTEXT_KEY.fullmatch(key) and rest for key, _, rest in (x.partition(":") for x in item["context"])):
        raise ExportError(f"context of {value!r} is not a list of key:value strings")


def _check_entry_record(item: Mapping[str, Any], *, allow_underscore: bool) -> None:
    """A domain or URL record: a valid name, the value that goes with it, no context."""
    kind, value, name = item["type"], item["value"], item["name"]
    try:
        # A URL record's name is its host: a name, or a public IPv4 address.
        normalize = url_host if kind == "url" else normalize_name
        valid_name = isinstance(name, str) and normalize(name, allow_underscore=allow_underscore) == name
    except InvalidName:
        valid_name = False
    if not valid_name:
        raise ExportError(f"invalid name {name!r}")
    if kind == "domain" and value != name:
        raise ExportError(f"domain record value {value!r} differs from its name {name!r}")
    if kind == "url" and not (isinstance(value, str) and value.startswith(("http://", "https://"))
                              and value.isprintable() and " " not in value):
        raise ExportError(f"invalid URL {value!r}")
    if item["context"]:
        raise ExportError(f"entry record {value!r} has a context")


def _check_indicator_record(item: Mapping[str, Any]) -> None:
    """An indicator record: no name, an exact block, a value its kind allows (as :func:`prepare` wrote it)."""
    value = item["value"]
    if item["name"] != "" or item["scope"] != str(Scope.EXACT) or item["action"] != str(Action.BLOCK):
        raise ExportError(f"indicator record {value!r} must have no name and be an exact block")
    if item["expires"] is not None or item["addresses"]:
        raise ExportError(f"indicator record {value!r} has an expiry or addresses")
    kind = _KINDS[item["type"]]
    reason = indicator_refusal(Indicator(kind, value)) if isinstance(value, str) else "not-a-string"
    if reason is None and kind is SubjectKind.IP and str(publishable_address(value)[1]) != value:
        reason = "not-canonical"
    if reason is not None:
        raise ExportError(f"invalid {item['type']} indicator {str(value)[:120]!r}: {reason}")


def parse_record_line(line: str, *, allow_underscore: bool) -> dict[str, Any]:
    """The record on one line of a JSON export (a trailing ``,`` allowed), checked by :func:`check_record`."""
    try:
        item = json.loads(line.removesuffix(","))
    except json.JSONDecodeError as exc:
        raise ExportError(f"entry line is not JSON: {exc}: {line[:120]!r}") from exc
    if not isinstance(item, dict):
        raise ExportError(f"entry {line[:120]!r} is not an object")
    check_record(item, allow_underscore=allow_underscore)
    return item


class RecordSequence:
    """Records must come in export order, each once: strictly increasing keys.

    Entries first, by name (:func:`~fraudwall.entries.sort_key`), URL and
    action; then indicators, by type and value. Checked one record at a time in
    constant memory; a batch from a checked template (:meth:`skip`) is in
    order by construction and resets the comparison.
    """

    def __init__(self) -> None:
        self._previous: tuple[int, str, str, str] | None = None

    def add(self, item: Mapping[str, Any]) -> None:
        """The next record; :class:`ExportError` if it is out of order or repeats one."""
        if item["type"] in ENTRY_TYPES:
            key = (0, sort_key(item["name"]), item["value"] if item["type"] == "url" else "", item["action"])
        else:
            key = (1, item["type"], item["value"], "")
        if self._previous is not None and key <= self._previous:
            raise ExportError(f"{item['action']} record for {item['value']!r} out of order or repeated")
        self._previous = key

    def skip(self) -> None:
        """Records the checker did not see came in between."""
        self._previous = None


class JsonLinesChecker(DocumentChecker):
    """A JSON document written as an opening line, one array element per line, and a closing line.

    The layout all the JSON formats share (JSON, the STIX bundle, the MISP
    event): elements separated by a comma at the end of their line, none after
    the last. Subclasses check the opening line and each element.
    """

    closing: str = CLOSING

    def __init__(self) -> None:
        self.opened = False
        self.closed = False
        self.elements = 0
        self.comma = False

    @abc.abstractmethod
    def opening(self, line: str) -> None:
        """Check the first line."""

    @abc.abstractmethod
    def element(self, text: str) -> None:
        """Check one element (its line without the separating comma)."""

    def line(self, line: str) -> None:
        """Check the next line."""
        if self.closed:
            raise ExportError("text after the end of the document")
        if not self.opened:
            self.opening(line)
            self.opened = True
        elif line == self.closing:
            if self.elements and self.comma:
                raise ExportError("the last element must not end with a comma")
            self.closed = True
        else:
            self._separator()
            self.comma = line.endswith(",")
            self.element(line.removesuffix(","))
            self.elements += 1

    def _separator(self) -> None:
        if self.elements and not self.comma:
            raise ExportError("elements must be separated by commas")

    def checked(self, lines: CheckedLines) -> None:
        """A batch of elements from a checked template."""
        if not self.opened or self.closed:
            raise ExportError("elements outside the document's array")
        self._separator()
        self.elements += lines.records
        self.comma = lines.text.endswith(",\n")

    def end(self) -> None:
        """The document closed."""
        if not self.closed:
            raise ExportError("the document is not closed")


class JsonChecker(JsonLinesChecker):
    """The JSON export line by line: head, records (entries then indicators, in order), the closing line, the count."""

    def __init__(self, *, allow_underscore: bool) -> None:
        super().__init__()
        self.allow_underscore = allow_underscore
        self.count: int | None = None
        self.order = RecordSequence()

    def opening(self, line: str) -> None:
        """The head: title, generation time, count, and the entries array opening."""
        try:
            head = json.loads(line + CLOSING)
        except json.JSONDecodeError as exc:
            raise ExportError(f"the first line is not the document's head: {exc}") from exc
        if not isinstance(head, dict) or list(head) != list(TOP_FIELDS) or head["entries"] != []:
            raise ExportError(f"the document's keys must be {list(TOP_FIELDS)}, entries one per line")
        if not isinstance(head["title"], str) or not _TIME.fullmatch(str(head["generated_at"])):
            raise ExportError("title must be a string and generated_at an ISO 8601 UTC time")
        if isinstance(head["count"], bool) or not isinstance(head["count"], int) or head["count"] < 0:
            raise ExportError(f"count {head['count']!r} is not a number of entries")
        self.count = head["count"]

    def element(self, text: str) -> None:
        """One record, valid and after the one before."""
        self.order.add(parse_record_line(text, allow_underscore=self.allow_underscore))

    def checked(self, lines: CheckedLines) -> None:
        """Records from a checked template: in order by construction."""
        super().checked(lines)
        self.order.skip()

    def end(self) -> None:
        """The document closed, with as many entries as its head says."""
        super().end()
        if self.count != self.elements:
            raise ExportError(f"count {self.count} does not match the {self.elements} entries")


def indicator_note(prepared: PreparedEntries) -> str:
    """The intel formats' note on the indicators they publish, counted by record type."""
    counts = Counter(RECORD_TYPES[indicator.kind] for indicator in prepared.indicators)
    listed = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
    return f"indicators: records after the entries, by type and value: {counts.total()}" + (
        f" ({listed})" if listed else "")


def record_lines(
    prepared: PreparedEntries, render: Callable[[BlockEntry], str], check: Callable[[str], None],
    name_check: re.Pattern[str],
) -> Iterator[str | CheckedLines]:
    """One line per prepared entry, in export order: the intel formats' records, blocked runs from templates."""
    table = prepared.blocked
    for part in export_order(prepared):
        if isinstance(part, BlockEntry):
            yield render(part)
        else:
            yield from table_lines(table, uniform_runs(table, part), render, check, name_check)


class JsonExporter(DocumentExporter[NoOptions]):
    """The whole export as one JSON document, one record per line."""

    name = "json"
    description = ("JSON document: every entry (names and URLs) and indicator (addresses, hashes, wallets, handles)"
                   " with scope, action, dates, sources, evidence, context")
    subtree_capable = True  # the scope is data: the consumer applies it
    url_capable = True
    indicator_kinds = frozenset(RECORD_TYPES)
    # Data, not a resolver's syntax: carry underscore names (valid in DNS) and let the consumer decide.
    allow_underscore = True
    options_type = NoOptions

    def notes(self, prepared: PreparedEntries) -> list[str]:
        """How scope and allow entries are expressed."""
        return [
            "scope: kept as data, field scope (exact or subtree)",
            f"allow: entries with action allow, exceptions to blocks; allow entries: {len(prepared.allowed)}",
            f"urls: URL-level entries, type url: {len(prepared.urls)}",
            indicator_note(prepared),
        ]

    def body(self, prepared: PreparedEntries, meta: ExportMeta) -> Iterator[str | CheckedLines]:
        """The opening line with title, time and count, one line per entry and indicator, the closing line."""
        head = {
            "title": comment_text(meta.title) or "fraudwall blocklist",
            "generated_at": iso_time(meta.generated_at),
            "count": len(prepared.blocked) + len(prepared.allowed) + len(prepared.urls) + len(prepared.indicators),
        }
        # The head object without its closing brace: the records follow it, one per line.
        yield dumps(head)[:-1] + ', "entries": ['
        name_check = safe_name_pattern(allow_underscore=self.allow_underscore)
        entries = record_lines(
            prepared, lambda entry: dumps(record(entry)) + ",",
            lambda line: parse_record_line(line, allow_underscore=self.allow_underscore), name_check,
        )
        indicators = (dumps(item) + "," for item in indicator_records(prepared))
        yield from comma_separated(itertools.chain(entries, indicators))
        yield CLOSING

    def checker(self, meta: ExportMeta) -> JsonChecker:
        """Head, records, closing line and count, line by line."""
        return JsonChecker(allow_underscore=self.allow_underscore)
