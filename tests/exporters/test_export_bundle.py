"""Export folders: every format side by side in worker processes, the same files as one after the other."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError
from fraudwall.exporters import EXPORTERS
from fraudwall.exporters.bundle import FILE_NAMES, MANIFEST, SNAPSHOT, export_bundle
from fraudwall.exporters.domains import DomainsExporter
from fraudwall.exporters.parallel import DEFAULT_MAX_WORKERS, available_cpus, worker_count
from fraudwall.models import BlockEntry


def _files(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` by relative path, previous versions (``.prev``) included."""
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def test_workers_publish_the_same_folder_as_one_process(
    tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """Every format rendered in two worker processes gives byte for byte the folder one process gives."""
    formats = sorted(EXPORTERS)
    assert worker_count(2, len(formats)) == 2, "this process cannot fork workers: nothing here would be tested"
    folders = {}
    for workers in (1, 2):
        folder = tmp_path / f"workers-{workers}"
        result = export_bundle(sample_entries, formats, folder, title="fraudwall test list", verify=False,
                               generated_at=generated_at, workers=workers)
        assert [item.format for item in result.results] == formats  # in the order asked, whatever ran first
        folders[workers] = _files(folder)
    assert folders[1] == folders[2]
    assert {FILE_NAMES[name] for name in formats} <= {path.split("/")[0] for path in folders[2]}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_format_stops_the_whole_generation(
    workers: int, tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """A format that cannot be published raises its own error; every other format, the manifest, delta and
    snapshot stay as they were, and nothing staged is left behind: a generation is published whole or not at all."""
    folder = tmp_path / "out"
    export_bundle(sample_entries, ["hosts", "rpz", "misp"], folder, title="t", verify=False,
                  generated_at=generated_at, workers=workers)
    # A folder where the hosts file goes: staging it fails.
    (folder / "hosts").unlink()
    (folder / "hosts").mkdir()
    (folder / "hosts" / "keep").write_text("not a hosts file\n")
    before = _files(folder)
    with pytest.raises(ExportError, match="hosts"):
        export_bundle(sample_entries[:2], ["rpz", "misp", "hosts", "domains"], folder, title="t", verify=False,
                      generated_at=generated_at, workers=workers)
    assert _files(folder) == before
    assert sorted(path.name for path in folder.iterdir() if path.name.startswith(".")) == []
    assert json.loads((folder / MANIFEST).read_text())["generation"] == 1


@pytest.mark.parametrize("obstacle", ["delta-2.json", "hosts.prev", "hosts.report.json", "manifest.json.d"])
def test_a_folder_in_the_way_of_any_file_stops_the_generation_before_anything_is_published(
    obstacle: str, tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """A folder where a delta, a previous version or a report must go is found while staging: every file stays
    at the previous generation, whatever format or state file it blocks."""
    folder = tmp_path / "out"
    export_bundle(sample_entries, ["hosts", "rpz"], folder, title="t", verify=False, generated_at=generated_at)
    if obstacle == "manifest.json.d":  # the manifest itself replaced by a folder cannot be read: a clear error
        (folder / MANIFEST).unlink()
        (folder / MANIFEST).mkdir()
    else:
        (folder / obstacle).unlink(missing_ok=True)
        (folder / obstacle).mkdir()
    (folder / obstacle.removesuffix(".d") / "keep").write_text("x\n")
    before = _files(folder)
    with pytest.raises(ExportError, match="in the way|unreadable"):
        export_bundle(sample_entries[:2], ["hosts", "rpz"], folder, title="t", verify=False, generated_at=generated_at)
    assert _files(folder) == before
    assert [path.name for path in folder.iterdir() if path.name.startswith(".")] == []


@pytest.mark.parametrize("manifest", [
    '{"generation": null}', '{"generation": "x"}', '{"generation": 1e400}', '{"generation": -7}',
    '{"generation": true}', '[1, 2]', '{"generation": ' + "9" * 5000 + "}", '{"generation": 1000000000000}',
])
def test_a_manifest_that_is_not_ours_is_a_clear_error(
    manifest: str, tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """A previous manifest with no usable generation stops the export with a clear error, before anything is written."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MANIFEST).write_text(manifest)
    with pytest.raises(ExportError, match="move it away"):
        export_bundle(sample_entries, ["hosts"], folder, title="t", verify=False, generated_at=generated_at)
    assert sorted(path.name for path in folder.iterdir()) == [MANIFEST]


def test_an_unreadable_snapshot_is_a_clear_error(
    tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """An entries snapshot that is not UTF-8 stops the export with a clear error instead of a traceback."""
    folder = tmp_path / "out"
    export_bundle(sample_entries, ["hosts"], folder, title="t", verify=False, generated_at=generated_at)
    (folder / SNAPSHOT).write_bytes(b"\xff\n")
    before = _files(folder)
    with pytest.raises(ExportError, match="unreadable"):
        export_bundle(sample_entries, ["hosts"], folder, title="t", verify=False, generated_at=generated_at)
    assert _files(folder) == before


def test_a_second_export_into_a_folder_being_written_is_refused(
    tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime
) -> None:
    """While one export holds the folder, another is a clear error instead of a second generation N + 1."""
    folder = tmp_path / "out"
    folder.mkdir()
    held = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a running export holds
        with pytest.raises(ExportError, match="another export is writing"):
            export_bundle(sample_entries, ["hosts"], folder, title="t", verify=False, generated_at=generated_at)
    finally:
        os.close(held)
    assert export_bundle(sample_entries, ["hosts"], folder, title="t", verify=False, generated_at=generated_at).generation == 1


class _DiesExporter(DomainsExporter):
    """A format whose worker process dies while rendering, as one killed for want of memory would: half-way
    through writing its file, once the hosts file is staged by the other worker."""

    name = "dies"
    folder = Path()  # the export folder, set by the test

    def body(self, prepared, meta):  # type: ignore[no-untyped-def]
        yield "half a line"
        folder = self.folder
        deadline = time.monotonic() + 10
        while not list(folder.glob(".hosts.report.json.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.01)
        os._exit(9)


def test_a_worker_that_dies_is_an_export_error(
    tmp_path: Path, sample_entries: list[BlockEntry], generated_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that ends without a result fails the generation with a clear error naming the format; the
    format staged meanwhile is not published, and neither leaves a hidden file behind."""
    monkeypatch.setitem(EXPORTERS, "dies", _DiesExporter)
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(_DiesExporter, "folder", folder)
    with pytest.raises(ExportError, match="ended without a result.*no result for: .*dies"):
        export_bundle(sample_entries, ["hosts", "dies"], folder, title="t", verify=False,
                      generated_at=generated_at, workers=2)
    assert sorted(path.name for path in folder.iterdir()) == []


def test_worker_count_follows_the_request_and_the_formats() -> None:
    """Never more workers than formats, one per CPU (up to a few) by default, and a count below one is refused."""
    assert worker_count(8, 3) == 3
    assert worker_count(1, 16) == 1
    assert worker_count(None, 16) == min(available_cpus(), DEFAULT_MAX_WORKERS)
    assert worker_count(12, 16) == 12  # asked for: more than the default allows
    with pytest.raises(ExportError):
        worker_count(0, 4)


def test_a_process_running_other_threads_exports_in_itself() -> None:
    """No fork while another thread runs: it could hold a lock the worker would inherit, held forever."""
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert worker_count(8, 3) == 1
    finally:
        release.set()
        other.join()
    assert worker_count(8, 3) == 3
