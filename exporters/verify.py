"""Verifiers: check a rendered file before it is published.

Every format gets the strict internal re-parse (:func:`verify_lines`): the file
is read back from disk and every line must be a clean comment or a full match
of the format's data-line grammar, every owner a valid name within the
format's length limit, and no owner may appear twice (PowerDNS, Unbound and
BIND all choke on some kind of duplicate). Formats with a checker of their own
also run it: RPZ goes through BIND's ``named-checkzone``, the same parser the
resolver will use.

A verifier takes ``(path, exporter, meta)`` and raises
:class:`~fraudwall.exceptions.VerificationError`; :data:`VERIFIERS` maps each
format name to its verifier.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fraudwall.exceptions import ExportError, InvalidName, VerificationError
from fraudwall.exporters.base import Exporter, ExportMeta
from fraudwall.names import normalize_name

Verifier = Callable[[Path, Exporter[Any], ExportMeta], None]

# named-checkzone reads a million-record zone in well under a minute; this only stops a hang.
CHECKZONE_TIMEOUT = 600


def verify_lines(path: Path, exporter: Exporter[Any], meta: ExportMeta) -> None:
    """Re-read ``path`` and check every line against ``exporter``'s grammar."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(f"{path}: cannot read as UTF-8: {exc}") from exc
    if "\r" in text or not text.endswith("\n"):
        raise VerificationError(f"{path}: lines must end with a single LF, including the last")
    limit = exporter.max_name_length(exporter.options(meta))
    seen: set[str] = set()
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        where = f"{path}:{number}"
        try:
            owner = exporter.parse_line(line)
        except ExportError as exc:
            raise VerificationError(f"{where}: {exc}") from exc
        if owner is None:
            continue
        if owner in seen:
            raise VerificationError(f"{where}: duplicate owner {owner}")
        seen.add(owner)
        name = owner.removeprefix("*.")
        try:
            valid = normalize_name(name, allow_underscore=exporter.allow_underscore) == name
        except InvalidName:
            valid = False
        if not valid or len(name) > limit:
            raise VerificationError(f"{where}: invalid name {name!r}")


def verify_rpz(path: Path, zone: str) -> None:
    """Load ``path`` as zone ``zone`` with BIND's ``named-checkzone``.

    ``-k fail`` turns check-names warnings into errors and ``-r fail`` does the
    same for records DNSSEC would treat as different but plain DNS as equal.
    ``-q`` is not used: its silence would hide the checker's reason.
    """
    binary = shutil.which("named-checkzone")
    if binary is None:
        raise ExportError("named-checkzone not installed (Debian package bind9-utils)")
    try:
        result = subprocess.run(
            [binary, "-k", "fail", "-r", "fail", zone, str(path)],
            capture_output=True, text=True, errors="replace", timeout=CHECKZONE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise VerificationError(f"named-checkzone timed out after {exc.timeout}s on {path}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise VerificationError(f"named-checkzone rejected {path}:\n{output}")


def verify_rpz_export(path: Path, exporter: Exporter[Any], meta: ExportMeta) -> None:
    """The re-parse, then ``named-checkzone`` under the export's zone name."""
    verify_lines(path, exporter, meta)
    verify_rpz(path, exporter.options(meta).zone)


VERIFIERS: dict[str, Verifier] = {
    "hosts": verify_lines,
    "domains": verify_lines,
    "rpz": verify_rpz_export,
}
