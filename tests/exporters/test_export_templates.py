"""Line templates: the fast path of the threat-intel formats gives exactly what the slow path gives.

A list of thousands of names read from one file renders its records from one
checked template per kind of row; these tests compare that output, record by
record, with the format's own per-entry rendering, and check that a template
refuses to exist (and the format falls back) whenever it could be wrong.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.json_format import ID_NAMESPACE, record, stable_uuid
from fraudwall.exporters.misp import HASHES, MANIFEST
from fraudwall.exporters.stix import domain_pattern, indicator
from fraudwall.exporters.templates import (
    CheckedLines,
    LineTemplate,
    comma_separated,
    safe_name_pattern,
)

from fraudwall.entries import CompiledEntries, Details, EntryTable
from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.models import Action, BlockEntry

SAFE = safe_name_pattern(allow_underscore=False)


def _listed(count: int, source: str = "list:feed.txt") -> CompiledEntries:
    """``count`` exact names sharing one source, as the list compiler gives them (a table in export order)."""
    names = sorted((f"host{i:05d}.fraud{i % 7}.example" for i in range(count)),
                   key=lambda name: name.split(".")[::-1])
    return CompiledEntries(EntryTable.uniform(names, Details(sources=(source,))),
                           [BlockEntry("ok.fraud3.example", action=Action.ALLOW)])


def test_stable_uuid_is_rfc4122_uuid5() -> None:
    """The fast uuid5 gives what the standard library gives, for ASCII and non-ASCII values."""
    for kind, value in [("domain", "a.example"), ("url", "https://x.example/路径?q=1"), ("misp-event", "")]:
        assert stable_uuid(kind, value) == str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{value}"))
    assert all(stable_uuid("d", str(i)) == str(uuid.uuid5(ID_NAMESPACE, f"d:{i}")) for i in range(500))


def test_template_fills_what_the_render_gives() -> None:
    """Name slots, an id slot, and braces in the literal text all come back exactly."""
    def render(name: str, uid: str) -> str:
        return f'{{"id": "{uid}", "name": "{name}", "pattern": "[{name}]"}},'

    template = LineTemplate.build(render, lambda line: json.loads(line[:-1]), SAFE, ids=1)
    assert template is not None
    filled = template.fill(["a.example", "b.example"], [["U1", "U2"]])
    assert filled.text == render("a.example", "U1") + "\n" + render("b.example", "U2") + "\n"
    assert (filled.records, filled.lines) == (2, 2)


def test_template_of_several_lines_counts_them() -> None:
    """A record of three lines (a Suricata name's rules) fills three lines per name, ids where they stand."""
    def render(name: str, first: str, second: str) -> str:
        return f"a {name} {first}\nb {name} {second}\nc {name}"

    template = LineTemplate.build(render, lambda text: None, SAFE, ids=2)
    assert template is not None
    filled = template.fill(["x.example", "y.example"], [["1", "2"], ["3", "4"]])
    assert filled.text == render("x.example", "1", "3") + "\n" + render("y.example", "2", "4") + "\n"
    assert (filled.records, filled.lines) == (2, 6)
    assert template.fill([], [[], []]).text == ""


@pytest.mark.parametrize("render", [
    lambda name: f'"{name.upper()}"',  # the name, but not as given
    lambda name: f'"{name}" "{len(name)}"',  # something else derived from the name
    lambda name: '"fraudwall-template-a.invalid"',  # a field that holds a placeholder itself
])
def test_template_refuses_a_line_that_depends_on_the_name_otherwise(render) -> None:
    """A line that is not the name dropped into fixed text gets no template (the format renders row by row)."""
    assert LineTemplate.build(render, lambda line: None, SAFE) is None


def test_template_refuses_names_that_could_break_the_line() -> None:
    """A quote, a backslash, a newline or an underscore (where the format forbids it) is never filled in."""
    template = LineTemplate.build(lambda name: f'"{name}"', json.loads, SAFE)
    assert template is not None
    for bad in ['a".example', "a\\.example", "a\n.example", "a_b.example", "A.example"]:
        with pytest.raises(ExportError, match="invalid name"):
            template.fill(["fine.example", bad])


def test_template_checks_the_rendered_line() -> None:
    """The format's checker runs on the placeholder lines: a render it rejects fails the export."""
    with pytest.raises(json.JSONDecodeError):
        LineTemplate.build(lambda name: f'{{"name": {name}}}', json.loads, SAFE)


def test_comma_separated_drops_only_the_last_comma() -> None:
    """Lines and batches keep their commas except the very last line of all."""
    def text(pieces: list[str | CheckedLines]) -> str:
        return "".join(piece.text if isinstance(piece, CheckedLines) else piece + "\n" for piece in pieces)

    batch = CheckedLines("b,\nc,\n", 2, 2)
    assert text(list(comma_separated(["a,", batch, CheckedLines("", 0, 0), "d,"]))) == "a,\nb,\nc,\nd\n"
    assert text(list(comma_separated(["a,", batch, CheckedLines("", 0, 0)]))) == "a,\nb,\nc\n"
    with pytest.raises(ExportError):
        list(comma_separated(["a"]))
    with pytest.raises(ExportError):
        list(comma_separated([CheckedLines("b\n", 1, 1)]))


def test_json_fast_path_matches_the_records(meta: ExportMeta) -> None:
    """Every line of a 3,000-name JSON export is the record of its entry, in export order."""
    exporter = get_exporter("json")
    prepared = exporter.prepare(_listed(3000), meta)
    lines = exporter.render_prepared(prepared, meta).splitlines()[1:-1]
    expected = sorted([*prepared.blocked, *prepared.allowed], key=lambda e: (e.name.split(".")[::-1], e.action))
    assert [json.loads(line.removesuffix(",")) for line in lines] == [record(entry) for entry in expected]


def test_stix_fast_path_matches_the_indicators(meta: ExportMeta) -> None:
    """Every indicator of a 3,000-name STIX export is the one the per-entry code builds, ids included."""
    exporter = get_exporter("stix")
    prepared = exporter.prepare(_listed(3000), meta)
    lines = exporter.render_prepared(prepared, meta).splitlines()[2:-1]
    expected = [indicator(entry, domain_pattern(entry, []), 0, meta.generated_at) for entry in prepared.blocked
                if entry.name != "ok.fraud3.example"]
    assert [json.loads(line.removesuffix(",")) for line in lines] == expected


def test_misp_fast_path_publishes_a_consistent_feed(meta: ExportMeta, tmp_path: Path) -> None:
    """A 3,000-name MISP feed passes the folder verification (event, hashes.csv and manifest agree),
    and its attribute ids are uuid5s of event and value, as the per-entry code makes them."""
    out = tmp_path / "misp"
    export(_listed(3000), "misp", out, title="big", verify=True, generated_at=meta.generated_at)
    event_file = next(path for path in out.iterdir() if path.name not in (MANIFEST, HASHES))
    event = json.loads(event_file.read_text())["Event"]
    assert len(event["Attribute"]) == 3000
    assert all(a["uuid"] == stable_uuid("misp-attribute", f"{event['uuid']}:{a['value']}")
               for a in event["Attribute"])
    assert len((out / HASHES).read_text().splitlines()) == 3000


@pytest.mark.parametrize("name", ["json", "csv", "stix"])
def test_written_documents_verify_line_by_line(name: str, meta: ExportMeta, tmp_path: Path) -> None:
    """A big export verifies on re-reading, and a record broken by hand in the middle does not."""
    out = tmp_path / f"list.{name}"
    export(_listed(2000), name, out, title="big", verify=True, generated_at=meta.generated_at)
    lines = out.read_text().split("\n")
    lines[1000] = re.sub(r"host\d+\.fraud\d\.example", 'evil".example', lines[1000], count=1)
    out.write_text("\n".join(lines))
    with pytest.raises(VerificationError, match="invalid name|not JSON|not CSV|pattern"):
        get_exporter(name).verify(out, meta)
