"""The collapse guard: a list that would shrink past the limit, come out empty, or come from rejections only
is refused, and nothing published changes; what it allowed is recorded in the report and the manifest."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from fraudwall.exceptions import ConfigError, PublishRefused
from fraudwall.exporters import CollapseGuard, export
from fraudwall.exporters.bundle import MANIFEST, export_bundle
from fraudwall.exporters.parallel import worker_count
from fraudwall.models import BlockEntry
from fraudwall.rejections import Rejections

GUARD = CollapseGuard()
FOLDER_FORMATS = ["hosts", "rpz", "ipset", "squid-url", "misp"]


def _names(count: int) -> list[BlockEntry]:
    """``count`` distinct blocked names."""
    return [BlockEntry(f"refund-{i}.example.com") for i in range(count)]


def _with_addresses_and_urls(count: int, *, addresses: bool = True) -> list[BlockEntry]:
    """``count`` blocked names, each (``addresses``) with an address of its own, and as many phishing URLs."""
    return [
        entry
        for i in range(count)
        for entry in (
            BlockEntry(f"refund-{i}.example.com", addresses=(f"2001:db8::{i + 1:x}",) if addresses else ()),
            BlockEntry(f"pages-{i}.example.net", url=f"https://pages-{i}.example.net/login"),
        )
    ]


def _files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by relative path, hidden and previous versions included."""
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def _report(path: Path) -> dict[str, object]:
    """The report published beside ``path``."""
    return json.loads(path.with_name(f"{path.name}.report.json").read_text(encoding="utf-8"))


@pytest.fixture
def hosts(tmp_path: Path, generated_at: datetime) -> Path:
    """A hosts file published twice from 276 names under the guard, so it has a report and a ``.prev``."""
    path = tmp_path / "hosts"
    for _ in range(2):
        export(_names(276), "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    return path


def test_a_list_that_would_collapse_is_refused_and_nothing_published_changes(
    hosts: Path, generated_at: datetime
) -> None:
    """276 entries, then 3: refused with the numbers, and the file, its report and its ``.prev`` stay byte for
    byte as they were, with nothing staged left behind."""
    before = _files(hosts.parent)
    assert {"hosts", "hosts.prev", "hosts.report.json"} <= before.keys()
    with pytest.raises(PublishRefused) as refused:
        export(_names(3), "hosts", hosts, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    assert refused.value.reasons == ["hosts would shrink from 276 to 3 entries (-99%, limit 50%)"]
    assert _files(hosts.parent) == before


def test_without_a_guard_the_collapsed_list_is_published(hosts: Path, generated_at: datetime) -> None:
    """``collapse=None`` (what ``--allow-shrink`` asks for) publishes the 3 entries, and its report says the guard
    did not run."""
    result = export(_names(3), "hosts", hosts, title="t", verify=False, generated_at=generated_at, collapse=None)
    assert (result.entries, result.previous_entries) == (3, None)
    report = _report(hosts)
    assert (report["entries"], report["previous_entries"], report["max_shrink"]) == (3, None, None)
    assert hosts.read_text().count("0.0.0.0 refund-") == 3


def test_a_shrink_of_exactly_the_limit_is_published_and_recorded(hosts: Path, generated_at: datetime) -> None:
    """Losing half of 276 is within a 50% limit: 138 entries are published, and the report records the previous
    count the guard compared them with; one entry fewer is past the limit."""
    with pytest.raises(PublishRefused, match=r"from 276 to 137 entries \(-51%, limit 50%\)"):
        export(_names(137), "hosts", hosts, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    result = export(_names(138), "hosts", hosts, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    assert (result.entries, result.previous_entries) == (138, 276)
    report = _report(hosts)
    assert (report["entries"], report["previous_entries"], report["max_shrink"]) == (138, 276, 0.5)


@pytest.mark.parametrize("max_shrink", [0.5, 1.0])
def test_an_empty_list_after_a_non_empty_one_is_refused(
    max_shrink: float, hosts: Path, generated_at: datetime
) -> None:
    """An empty list where the previous one had entries is refused, even with a limit that allows any shrink."""
    before = _files(hosts.parent)
    with pytest.raises(PublishRefused) as refused:
        export([], "hosts", hosts, title="t", verify=False, generated_at=generated_at,
               collapse=CollapseGuard(max_shrink))
    assert refused.value.reasons == ["hosts would be empty; the previous list had 276"]
    assert _files(hosts.parent) == before


def test_a_first_export_from_rejections_only_is_refused(tmp_path: Path, generated_at: datetime) -> None:
    """With no previous generation, a list whose inputs were all refused before the export (a binary file) or
    rejected during it (a public suffix) is refused, and nothing is written."""
    path = tmp_path / "hosts"
    refused = Rejections()
    refused.add("feed.bin", "binary-file")
    with pytest.raises(PublishRefused) as raised:
        export([BlockEntry("com.cn")], "hosts", path, title="t", verify=False, generated_at=generated_at,
               refused=refused, collapse=GUARD)
    assert raised.value.reasons == ["hosts: every input was rejected (1 binary-file, 1 public-suffix)"]
    assert list(tmp_path.iterdir()) == []


def test_a_first_export_of_an_empty_list_without_rejections_is_published(
    tmp_path: Path, generated_at: datetime
) -> None:
    """A new deployment may start from nothing: an empty list with nothing rejected and no previous generation
    is published, and the next run has a count to compare with."""
    path = tmp_path / "hosts"
    result = export([], "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    assert (result.entries, result.previous_entries) == (0, None)
    assert (_report(path)["entries"], _report(path)["previous_entries"]) == (0, None)
    result = export(_names(5), "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    assert (result.entries, result.previous_entries) == (5, 0)


@pytest.mark.parametrize("damage", ["file-replaced", "report-removed", "report-not-json", "report-without-count"])
def test_a_report_that_does_not_belong_to_the_file_means_no_previous_count(
    damage: str, hosts: Path, generated_at: datetime
) -> None:
    """A report whose sha256 is not the file's (the file replaced by hand, or a crash between the two renames), a
    missing or unreadable report, or one without a count: the previous count is unknown, so only an input of
    rejections alone would be refused, and 3 entries are published."""
    report_path = hosts.with_name("hosts.report.json")
    if damage == "file-replaced":
        hosts.write_text("0.0.0.0 refund-0.example.com\n")
    elif damage == "report-removed":
        report_path.unlink()
    elif damage == "report-not-json":
        report_path.write_bytes(b"\xff{")
    else:
        report = json.loads(report_path.read_text())
        del report["entries"]
        report_path.write_text(json.dumps(report))
    result = export(_names(3), "hosts", hosts, title="t", verify=False, generated_at=generated_at, collapse=GUARD)
    assert (result.entries, result.previous_entries) == (3, None)


@pytest.mark.parametrize(("max_shrink", "at_limit"), [(0.9, 10), (0.7, 30)])
def test_a_custom_limit_is_applied_exactly(
    max_shrink: float, at_limit: int, tmp_path: Path, generated_at: datetime
) -> None:
    """With ``max_shrink=0.9`` a list of 100 may lose 90 entries, not 91 (and with 0.7, 70): exactly at the
    limit it is published, whichever way the float stored for the share rounds (0.7 is a little under seven
    tenths), and the report records the limit."""
    path = tmp_path / "hosts"
    guard = CollapseGuard(max_shrink=max_shrink)
    export(_names(100), "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=guard)
    with pytest.raises(PublishRefused) as refused:
        export(_names(at_limit - 1), "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=guard)
    assert refused.value.reasons == [
        f"hosts would shrink from 100 to {at_limit - 1} entries (-{101 - at_limit}%, limit {100 - at_limit}%)"]
    result = export(_names(at_limit), "hosts", path, title="t", verify=False, generated_at=generated_at, collapse=guard)
    assert (result.entries, result.previous_entries) == (at_limit, 100)
    assert _report(path)["max_shrink"] == max_shrink


@pytest.mark.parametrize("max_shrink", [-0.1, 1.5, math.nan, True, "0.5"])
def test_a_limit_that_is_not_a_share_is_a_config_error(max_shrink: object) -> None:
    """``max_shrink`` is a share from 0 to 1: anything else is refused when the guard is made, not when it runs."""
    with pytest.raises(ConfigError, match="max_shrink"):
        CollapseGuard(max_shrink)  # type: ignore[arg-type]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_folder_is_refused_as_a_whole_naming_each_format(
    workers: int, tmp_path: Path, generated_at: datetime
) -> None:
    """In an export folder every format is checked before any is rendered: one refusal names each collapsing
    format with its own count (names, addresses, URLs), and no format, report, manifest, delta or snapshot
    changes; the generation does not advance, in one process or in workers."""
    assert worker_count(workers, len(FOLDER_FORMATS)) == workers, "this process cannot fork workers"
    folder = tmp_path / "out"
    for _ in range(2):
        export_bundle(_with_addresses_and_urls(276), FOLDER_FORMATS, folder, title="t", verify=False,
                      generated_at=generated_at, workers=workers, collapse=GUARD)
    before = _files(folder)
    with pytest.raises(PublishRefused) as refused:
        export_bundle(_with_addresses_and_urls(3), FOLDER_FORMATS, folder, title="t", verify=False,
                      generated_at=generated_at, workers=workers, collapse=GUARD)
    assert refused.value.reasons == [
        "hosts would shrink from 276 to 3 entries (-99%, limit 50%)",
        "rpz would shrink from 276 to 3 entries (-99%, limit 50%)",
        "ipset would shrink from 276 to 3 entries (-99%, limit 50%)",
        "squid-url would shrink from 276 to 3 entries (-99%, limit 50%)",
        "misp would shrink from 552 to 6 entries (-99%, limit 50%)",
    ]
    assert _files(folder) == before
    assert json.loads((folder / MANIFEST).read_text())["generation"] == 2


@pytest.mark.parametrize("workers", [1, 2])
def test_a_format_that_collapses_alone_stops_the_folder_and_the_manifest_records_the_counts(
    workers: int, tmp_path: Path, generated_at: datetime
) -> None:
    """Each format counts what it publishes: names that lose their addresses empty the ipset alone, which
    stops the whole folder. Once allowed, the manifest records every file's count beside the previous one."""
    folder = tmp_path / "out"
    export_bundle(_with_addresses_and_urls(276), FOLDER_FORMATS, folder, title="t", verify=False,
                  generated_at=generated_at, workers=workers, collapse=GUARD)
    before = _files(folder)
    with pytest.raises(PublishRefused) as refused:
        export_bundle(_with_addresses_and_urls(276, addresses=False), FOLDER_FORMATS, folder, title="t",
                      verify=False, generated_at=generated_at, workers=workers, collapse=GUARD)
    assert refused.value.reasons == ["ipset would be empty; the previous list had 276"]
    assert _files(folder) == before
    result = export_bundle(_with_addresses_and_urls(200), FOLDER_FORMATS, folder, title="t", verify=False,
                           generated_at=generated_at, workers=workers, collapse=GUARD)
    assert result.generation == 2
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["max_shrink"] == 0.5
    assert {item["format"]: (item["entries"], item["previous_entries"]) for item in manifest["files"]} == {
        "hosts": (200, 276), "rpz": (200, 276), "ipset": (200, 276), "squid-url": (200, 276), "misp": (400, 552),
    }


def test_a_format_with_nothing_to_publish_from_good_input_is_no_collapse(
    tmp_path: Path, generated_at: datetime
) -> None:
    """Names without addresses or URLs give an empty ipset and squid-url: with a rejected name among them that is
    not "every input rejected", so the folder is published, first time and every time after."""
    folder = tmp_path / "out"
    entries = [*_names(10), BlockEntry("com.cn")]
    for generation in (1, 2):
        result = export_bundle(entries, FOLDER_FORMATS, folder, title="t", verify=False, generated_at=generated_at,
                               collapse=GUARD)
        assert result.generation == generation
    counts = {item.format: (item.entries, item.previous_entries, item.rejected) for item in result.results}
    assert counts["ipset"] == counts["squid-url"] == (0, 0, 1)
    assert counts["hosts"] == (10, 10, 1)
