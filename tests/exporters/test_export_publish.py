"""Atomic publishing: the old file survives any failure, ``.prev`` is kept, the report is written."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import export, publish
from fraudwall.models import BlockEntry


def _reject(path: Path) -> None:
    """A verifier that refuses everything, like a checker finding a bad line."""
    raise VerificationError(f"{path}: refused")


def test_publish_writes_file_and_report(tmp_path: Path) -> None:
    """The file holds the text; the report beside it has its sha256 and the given fields."""
    path = tmp_path / "list.txt"
    result = publish("a.example.com\n", path, report={"format": "domains"})
    assert path.read_text() == "a.example.com\n"
    report = json.loads(result.report_path.read_text())
    assert result.report_path == tmp_path / "list.txt.report.json"
    assert report["format"] == "domains" and report["sha256"] == result.sha256 and report["bytes"] == 14
    assert result.previous_path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.txt", "list.txt.report.json"]


def test_previous_version_is_kept(tmp_path: Path) -> None:
    """Each publish keeps the file it replaces as ``.prev``, for a quick roll-back."""
    path = tmp_path / "list.txt"
    publish("v1\n", path)
    result = publish("v2\n", path)
    assert result.previous_path == tmp_path / "list.txt.prev"
    assert (path.read_text(), result.previous_path.read_text()) == ("v2\n", "v1\n")


def test_verify_failure_leaves_everything_untouched(tmp_path: Path) -> None:
    """A rejected build changes no byte of the file, its ``.prev`` or its report, and leaves no temp file."""
    path = tmp_path / "list.txt"
    publish("v1\n", path)
    publish("v2\n", path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    seen: list[bytes] = []

    def reject_after_reading(candidate: Path) -> None:
        seen.append(candidate.read_bytes())
        _reject(candidate)

    with pytest.raises(VerificationError):
        publish("v3\n", path, reject_after_reading)
    assert seen == [b"v3\n"]  # the verifier saw the complete new file
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_permissions_follow_the_old_file_or_the_umask(tmp_path: Path) -> None:
    """A resolver running as its own user must still read the list: no 0600 temp-file mode."""
    path = tmp_path / "list.txt"
    old_umask = os.umask(0o022)
    try:
        publish("v1\n", path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        publish("v2\n", path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)


def test_missing_directory_is_an_export_error(tmp_path: Path) -> None:
    """Publishing into a directory that does not exist fails cleanly."""
    with pytest.raises(ExportError, match="does not exist"):
        publish("x\n", tmp_path / "nope" / "list.txt")


def test_export_report_lists_rejections(tmp_path: Path, generated_at: datetime) -> None:
    """The JSON report counts rejections by reason, with samples, and the format's notes."""
    entries = [BlockEntry(name) for name in ("ok.example.com", "com.cn", "1.2.3.4", "x y.com")]
    result = export(entries, "hosts", tmp_path / "hosts", title="t", verify=True, generated_at=generated_at)
    report = json.loads(result.report_path.read_text())
    assert report["rejections"] == {"bad-character": 1, "ip-literal": 1, "public-suffix": 1}
    assert {"input": "com.cn", "reason": "public-suffix"} in report["samples"]
    assert (report["format"], report["blocked"], report["rejected"]) == ("hosts", 1, 3)
    assert report["verified"] is True
    assert report["sha256"] == result.sha256
    assert any("narrowed" in note for note in report["notes"])
