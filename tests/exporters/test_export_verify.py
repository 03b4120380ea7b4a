"""The strict re-parse verifier: a file changed or broken after rendering is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudwall.exceptions import VerificationError
from fraudwall.exporters import ExportMeta, get_exporter
from fraudwall.models import BlockEntry

GOOD = [BlockEntry("a.example.com"), BlockEntry("b.example.com")]


@pytest.mark.parametrize("fmt", ["hosts", "domains", "rpz"])
def test_rendered_files_pass(fmt: str, tmp_path: Path, meta: ExportMeta) -> None:
    """What the exporter renders, the verifier accepts."""
    exporter = get_exporter(fmt)
    path = tmp_path / "out"
    path.write_text(exporter.render(GOOD, meta))
    exporter.verify_lines(path, meta)


@pytest.mark.parametrize(
    ("fmt", "tamper", "message"),
    [
        ("hosts", lambda text: text + "$INCLUDE /etc/passwd\n", "invalid line"),
        ("hosts", lambda text: text + "0.0.0.0 a_b.example.com\n", "invalid line"),
        ("domains", lambda text: text + "a.example.com\n", "duplicate owner"),
        ("domains", lambda text: text.replace("\n", "\r\n"), "single LF"),
        ("domains", lambda text: text.rstrip("\n"), "single LF"),
        ("domains", lambda text: text + ".".join(["a" * 63] * 4) + "\n", "invalid name"),
        ("domains", lambda text: text + "# note\x1b[2J\n", "invalid line"),
        ("rpz", lambda text: text + "a.example.com CNAME rpz-passthru.\n", "duplicate owner"),
        ("rpz", lambda text: text + "x.example.com A 192.0.2.1\n", "invalid line"),
    ],
)
def test_tampered_files_are_refused(
    fmt: str, tamper, message: str, tmp_path: Path, meta: ExportMeta
) -> None:
    """Directives, duplicates, CRLF, a missing final newline, overlong names, escapes: all refused."""
    exporter = get_exporter(fmt)
    path = tmp_path / "out"
    path.write_bytes(tamper(exporter.render(GOOD, meta)).encode())
    with pytest.raises(VerificationError, match=message):
        exporter.verify_lines(path, meta)


def test_non_utf8_is_refused(tmp_path: Path, meta: ExportMeta) -> None:
    """Bytes that are not UTF-8 are refused before any line is looked at."""
    path = tmp_path / "out"
    path.write_bytes(b"# \xff\n")
    with pytest.raises(VerificationError, match="UTF-8"):
        get_exporter("domains").verify_lines(path, meta)
