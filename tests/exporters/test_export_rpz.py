"""RPZ specifics: BIND's own checker, the serial across exports, zone-name limits, options."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fraudwall.exceptions import ExportError, VerificationError
from fraudwall.exporters import ExportMeta, export, get_exporter
from fraudwall.exporters.rpz import next_serial, read_serial, serial_is_greater
from fraudwall.exporters.verify import verify_rpz
from fraudwall.models import BlockEntry, Scope


def _serial(path: Path) -> int:
    """The SOA serial written in ``path``."""
    match = re.search(r"^@ IN SOA \S+ \S+ (\d+) ", path.read_text(), re.MULTILINE)
    assert match is not None
    return int(match.group(1))


def test_named_checkzone_is_installed() -> None:
    """The real checker must be there: ``make test`` installs bind9-utils, so a miss is a failure."""
    assert shutil.which("named-checkzone"), "named-checkzone missing: apt install bind9-utils"


@pytest.mark.parametrize("zone", ["fraudwall.rpz", "rpz.isp.example.net"])
def test_named_checkzone_accepts_the_zone(
    zone: str, tmp_path: Path, meta: ExportMeta, sample_entries: list[BlockEntry]
) -> None:
    """BIND loads the rendered zone (subtrees, passthru, underscores, IDN) under any zone name."""
    path = tmp_path / "fraud.rpz"
    path.write_text(get_exporter("rpz").render(sample_entries, meta), encoding="utf-8")
    verify_rpz(path, zone)


def test_named_checkzone_failure_carries_its_output(tmp_path: Path) -> None:
    """A zone BIND refuses raises VerificationError with BIND's reason in the message."""
    path = tmp_path / "broken.rpz"
    path.write_text(
        "$TTL 300\n@ IN SOA localhost. hostmaster.localhost. 1 3600 600 2419200 300\n"
        "@ IN NS localhost.\nbad.example.com CNAME .\nbad.example.com A 192.0.2.1\n"
    )
    with pytest.raises(VerificationError, match="CNAME and other data"):
        verify_rpz(path, "fraudwall.rpz")


def test_missing_checker_is_an_export_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without named-checkzone the export fails as not installed, not as a bad zone."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExportError, match="named-checkzone not installed") as info:
        verify_rpz(tmp_path / "any.rpz", "fraudwall.rpz")
    assert type(info.value) is ExportError


def test_serial_increases_on_every_export_to_the_same_path(tmp_path: Path, generated_at: datetime) -> None:
    """Two exports in the same second still get increasing serials; a later one uses its time."""
    path = tmp_path / "fraud.rpz"
    entries = [BlockEntry("a.example.com")]
    export(entries, "rpz", path, title="t", verify=True, generated_at=generated_at)
    first = _serial(path)
    export(entries, "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert first == int(generated_at.timestamp())
    assert _serial(path) == first + 1
    later = generated_at + timedelta(hours=1)
    export(entries, "rpz", path, title="t", verify=True, generated_at=later)
    assert _serial(path) == int(later.timestamp())


def test_serial_continues_a_larger_previous_serial(tmp_path: Path, generated_at: datetime) -> None:
    """A zone once numbered YYYYMMDDnn keeps counting up instead of jumping back to a timestamp."""
    path = tmp_path / "fraud.rpz"
    export([], "rpz", path, title="t", verify=True, generated_at=generated_at, serial=2024112501)
    export([], "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert _serial(path) == 2024112502


def test_serial_follows_rfc_1982_arithmetic(generated_at: datetime) -> None:
    """Serials compare modulo 2**32: past 2**32 - 1 comes 0, and a timestamp may count as greater."""
    assert serial_is_greater(0, 2**32 - 1) and not serial_is_greater(5, 5)
    assert not serial_is_greater(2**31 + 5, 5)  # half the circle away is not "after"
    near_end = datetime.fromtimestamp(2**32 - 10, tz=UTC)
    assert next_serial(2**32 - 1, near_end) == 0
    # 2024's timestamp is "after" 4294967295 in serial arithmetic, so it is used as is.
    assert next_serial(2**32 - 1, generated_at) == int(generated_at.timestamp())
    assert next_serial(None, generated_at) == int(generated_at.timestamp())


def test_foreign_file_at_the_path_is_not_overwritten(tmp_path: Path, generated_at: datetime) -> None:
    """A file without fraudwall's SOA has an unknown serial; guessing could send it backwards."""
    path = tmp_path / "fraud.rpz"
    path.write_text("hello\n")
    with pytest.raises(ExportError, match="no fraudwall SOA"):
        export([], "rpz", path, title="t", verify=True, generated_at=generated_at)
    assert path.read_text() == "hello\n"
    assert read_serial(tmp_path / "absent.rpz") is None


def test_names_too_long_for_the_zone_are_rejected(tmp_path: Path, meta: ExportMeta) -> None:
    """Owner plus ``*.`` plus ``.zone`` must fit 253 characters, or BIND refuses the whole zone."""
    limit = 253 - len("fraudwall.rpz") - 3
    prefix = ".".join(["a" * 63] * 3)
    longest = f"{prefix}.{'b' * (limit - len(prefix) - 5)}.com"
    too_long = f"{prefix}.{'b' * (limit - len(prefix) - 4)}.com"
    assert (len(longest), len(too_long)) == (limit, limit + 1)
    exporter = get_exporter("rpz")
    entries = [BlockEntry(longest, scope=Scope.SUBTREE), BlockEntry(too_long)]
    prepared = exporter.prepare(entries, meta)
    assert prepared.rejections == {"too-long-for-format": 1}
    path = tmp_path / "long.rpz"
    path.write_text(exporter.render_prepared(prepared, meta))
    verify_rpz(path, "fraudwall.rpz")


@pytest.mark.parametrize(
    "options",
    [{"zone": "not a zone"}, {"zone": "rpz"}, {"ttl": -1}, {"ttl": True}, {"ttl": "300"}, {"serial": 2**32}],
)
def test_bad_options_are_export_errors(options: dict[str, object], generated_at: datetime) -> None:
    """Options reach a zone file, so each one is checked before rendering."""
    with pytest.raises(ExportError):
        get_exporter("rpz").render([], ExportMeta("t", generated_at, options))
